package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// campaign validate reads what a run would: an object source is looked up
// in the configured store (HEAD), the campaign's page and rendering pass
// interface B's rules, and the first rows of each source pass the rules
// every job passes, each bad row named by its run row (0-based) and its
// file line (1-based, header included).
func TestCampaignValidateSources(t *testing.T) {
	w, s3srv := smallWorld(t, wechattest.Options{})
	ctx := context.Background()
	st, err := storage.Open(ctx, "s3://codes/e2e", s3srv.Options())
	require.NoError(t, err)
	rows := "scene\na1\nthis-scene-is-far-too-long-for-wechat-0123456789\na3\nbad scene\n"
	require.NoError(t, st.Put(ctx, "inputs/rows.csv", []byte(rows), storage.PutOptions{}))
	require.NoError(t, st.Put(ctx, "inputs/good.csv", []byte("scene\ng1\ng2\n"), storage.PutOptions{}))
	local := filepath.Join(w.dir, "local.txt")
	require.NoError(t, os.WriteFile(local, []byte("l1\nl2\nl3 has spaces\n"), 0o600))

	c := func(name, rest string) string {
		return "  - name: " + name + "\n    app: " + e2eApp + "\n    page: pages/coupon/index\n" + rest
	}
	file := filepath.Join(w.dir, "campaigns.yaml")
	require.NoError(t, os.WriteFile(file, []byte("campaigns:\n"+
		c("missing", "    source:\n      object: s3://codes/e2e/inputs/none.csv\n")+
		c("badrows", "    source:\n      object: s3://codes/e2e/inputs/rows.csv\n")+
		c("good", "    source:\n      object: s3://codes/e2e/inputs/good.csv\n")+
		c("localrows", "    source:\n      file: "+local+"\n")+
		c("gen", "    source:\n      generator: {pattern: \"g{n}\", from: 1, to: 5000}\n")), 0o600))
	w.set("WXACODE_CAMPAIGNS_FILE", file)

	r := w.run("campaign", "validate")
	t.Logf("$ wxacode campaign validate\n%s", r)
	require.Equal(t, 2, r.code, r)
	for _, want := range []string{
		`campaign "missing": source.object: no such object in the store (key inputs/none.csv)`,
		`campaign "badrows": source row 1: line 3: scene "this-scene-is-far-too-long-for-wechat-0123456789": `,
		`campaign "badrows": source row 3: line 5: scene "bad scene": `,
		`campaign "localrows": source row 2: line 3: scene "l3 has spaces": `,
	} {
		require.Contains(t, r.stdout, want)
	}
	for _, fine := range []string{`"good"`, `"gen"`, "row 0:", "row 2: line 4"} {
		require.NotContains(t, r.stdout, fine)
	}
	require.Equal(t, 4, strings.Count(r.stdout, file+": "), "one line per problem:\n%s", r.stdout)
	require.Zero(t, codeCalls(w.fake), "validate calls no WeChat interface")

	// The page and rendering pass interface B's rules.
	require.NoError(t, os.WriteFile(file, []byte("campaigns:\n"+
		"  - name: slash\n    app: "+e2eApp+"\n    page: /pages/coupon/index\n    source:\n      generator: {pattern: \"s{n}\", from: 1, to: 2}\n"+
		"  - name: narrow\n    app: "+e2eApp+"\n    width: 100\n    source:\n      generator: {pattern: \"n{n}\", from: 1, to: 2}\n"), 0o600))
	r = w.run("campaign", "validate")
	t.Logf("$ wxacode campaign validate\n%s", r)
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stdout, file+`: campaign "slash": page "/pages/coupon/index": must not start with '/'`)
	require.Contains(t, r.stdout, file+`: campaign "narrow": width "100": must be 280 to 1280 pixels`)

	// Only the good ones: all valid.
	require.NoError(t, os.WriteFile(file, []byte("campaigns:\n"+c("good", "    source:\n      object: s3://codes/e2e/inputs/good.csv\n")+
		c("gen", "    source:\n      generator: {pattern: \"g{n}\", from: 1, to: 5000}\n")), 0o600))
	out := w.ok("campaign", "validate")
	require.Contains(t, out, "2 campaigns, all valid (the first 1000 rows of each source checked)")
}
