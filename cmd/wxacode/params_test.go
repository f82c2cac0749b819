package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/scenes"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// paramsRows writes n parameter rows (long Unicode among them) as one JSON
// object per line, the first row repeated with its keys in another order.
func paramsRows(t *testing.T, dir string, n int) (string, []map[string]any) {
	var b strings.Builder
	var rows []map[string]any
	for i := range n {
		row := map[string]any{"coupon": i, "shop": "上海市静安区南京西路" + strings.Repeat("店", i%7), "note": strings.Repeat("🎫", i%40)}
		rows = append(rows, row)
		line, _ := json.Marshal(row)
		b.Write(append(line, '\n'))
	}
	fmt.Fprintf(&b, `{"note":%q,"shop":%q,"coupon":0}`+"\n", rows[0]["note"], rows[0]["shop"])
	p := filepath.Join(dir, "params.jsonl")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o600))
	return p, rows
}

// TestParamsEnqueueCampaignAndResolver: rows of arbitrary parameters get
// short scenes (identical rows the same one), the codes are generated for
// those scenes, the resolver serves each row's parameters back, the
// mapping survives export and import into another Redis, and a campaign
// over parameter rows lists each row's scene and parameters in its
// manifest.
func TestParamsEnqueueCampaignAndResolver(t *testing.T) {
	const n = 120
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rig := newCampaignRig(t, "wxP", wechattest.Options{Pages: []string{"pages/ok"}, RateLimit: -1}, 20000,
		"campaigns:\n  - name: posters\n    app: wxP\n    page: pages/ok\n    source:\n      file: DIR/params.txt\n      format: params\n")
	input, rows := paramsRows(t, rig.dir, n)
	out := rig.ok("enqueue", "--params", "--scene-prefix", "c", "--page", "pages/ok", input)
	require.Contains(t, out, fmt.Sprintf("enqueued %d", n))
	require.Contains(t, out, "duplicate 1")
	stop := rig.startWorker(t)

	st, err := scenes.New(rig.rs.Client(t), scenes.Config{Prefix: "c"})
	require.NoError(t, err)
	issued := map[string]bool{}
	for _, row := range rows {
		p, _ := json.Marshal(row)
		scene, err := st.Issue(ctx, p)
		require.NoError(t, err)
		require.Regexp(t, `^c[0-9A-Za-z]{10}$`, scene)
		issued[scene] = true
	}
	require.Len(t, issued, n, "distinct rows, distinct scenes")

	// The resolver, as the mini-program calls it.
	resolver := rig.world.start("scenes", "serve", "--listen", "127.0.0.1:0")
	base := resolver.waitFor(`scene resolver on (http://\S+)/s/\{scene\}`, 30*time.Second)
	defer resolver.stop(30 * time.Second)
	k := 0
	for scene := range issued {
		if k++; k > 30 {
			break
		}
		resp, err := http.Get(base + "/s/" + scene)
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
		again, _ := json.Marshal(got)
		s2, err := st.Issue(ctx, again)
		require.NoError(t, err)
		require.Equal(t, scene, s2, "the resolver answers the parameters of exactly this scene")
	}
	resp, err := http.Get(base + "/s/cNEVERISSUED")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 404, resp.StatusCode)

	waitAllStored(t, ctx, rig, "wxP", n)
	for scene := range issued {
		data, err := os.ReadFile(filepath.Join(rig.dir, "codes", "wxP", "pages~2Fok", scene+".jpg"))
		require.NoError(t, err)
		c, err := wechattest.DecodeImage(data)
		require.NoError(t, err)
		require.Equal(t, scene, c.Scene)
	}

	// Export, import into a fresh Redis: the same answers.
	exp := filepath.Join(rig.dir, "scenes.jsonl")
	rig.ok("scenes", "export", exp)
	rs2 := redistest.Start(t)
	// The global --redis-url after the subcommand.
	out = rig.ok("scenes", "import", "--redis-url", rs2.URL(), exp)
	require.Contains(t, out, fmt.Sprintf("%d added, 0 unchanged, 0 conflicts", n))
	r := rig.run("--redis-url", rs2.URL(), "scenes", "import", exp)
	require.Equal(t, 0, r.code, "the same import again changes nothing: %s", r)
	require.Contains(t, r.stdout, fmt.Sprintf("0 added, %d unchanged", n))
	st2, err := scenes.New(rs2.Client(t), scenes.Config{})
	require.NoError(t, err)
	for scene := range issued {
		a, err := st.Lookup(ctx, scene)
		require.NoError(t, err)
		b, err := st2.Lookup(ctx, scene)
		require.NoError(t, err)
		require.JSONEq(t, string(a), string(b))
	}

	// A campaign over parameter rows: the manifest keeps scene and params.
	lines, err := os.ReadFile(input)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(rig.dir, "params.txt"), lines, 0o600))
	id := rig.start(t, ctx, "posters")
	rst := runs.NewStore(rig.rs.Client(t), "")
	waitRun(t, ctx, rst, id, func(runs.Counts) bool { return false })
	stop()
	manifest := readJSONL(t, filepath.Join(rig.dir, "codes", runs.ManifestKey(id, 0)))
	require.Len(t, manifest, n+1)
	for i, m := range manifest {
		require.Contains(t, []any{"stored", "skipped"}, m["status"], "row %d", i)
		p, _ := json.Marshal(m["params"])
		s, err := st.Issue(ctx, p)
		require.NoError(t, err)
		require.Equal(t, s, m["scene"], "row %d: the manifest's scene is the one issued for its params", i)
	}
}

// waitAllStored waits until the app's ledger holds n stored codes.
func waitAllStored(t *testing.T, ctx context.Context, rig *campaignRig, app string, n int64) {
	t.Helper()
	l := jobs.NewLedger(rig.rs.Client(t), "")
	for {
		tot, err := l.Totals(ctx, app)
		require.NoError(t, err)
		if tot["stored"] >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not all stored: %v", tot)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
