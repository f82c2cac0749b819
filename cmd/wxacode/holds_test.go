package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/wechat/wechattest"
)

// TestAccountHoldAcrossWorkers: two worker processes on one private Redis,
// the fake answering 48001 to every interface B call. After the first
// 48001 the app is held for the fleet: the fake gets at most one call per
// worker (the one each had in flight before it saw the hold) and none
// after, also across a worker restart; no job fails; `wxacode holds`
// lists the hold and `wxacode status` warns. Once the fake is healed,
// `wxacode holds release APP` lets both workers store every code.
func TestAccountHoldAcrossWorkers(t *testing.T) {
	const jobsN = 30
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w := newWorld(t).withRedis().withFake(e2eApp, e2eSecret, wechattest.Options{
		Pages: []string{"pages/coupon/index"}, CodeErrors: map[string]int{e2eApp: 48001}})
	var in strings.Builder
	for i := range jobsN {
		fmt.Fprintf(&in, "h%d\n", i)
	}
	input := filepath.Join(w.dir, "scenes.txt")
	require.NoError(t, os.WriteFile(input, []byte(in.String()), 0o600))
	require.Contains(t, w.ok("enqueue", "--app", e2eApp, "--page", "pages/coupon/index", input), fmt.Sprintf("enqueued %d", jobsN))
	calls := func() int64 { return w.fake.Stats().Endpoints["/wxa/getwxacodeunlimit"] }

	startWorker := func() *proc {
		p := w.start("worker", "--concurrency", "1", "--held-retry", "2s", "--max-hold", "1s", "--check-quota=false")
		p.waitFor(`worker started`, 30*time.Second)
		return p
	}
	ws := []*proc{startWorker(), startWorker()}
	ws[0].waitFor(`ALERT|already held`, time.Minute)
	time.Sleep(5 * time.Second) // past the 2 s refresh and two rounds of --held-retry
	held := calls()
	require.GreaterOrEqual(t, held, int64(1))
	require.LessOrEqual(t, held, int64(2), "at most the call each worker had in flight before it saw the hold")

	ws[1].stop(time.Minute) // a restart does not release the hold
	ws[1] = startWorker()
	time.Sleep(6 * time.Second)
	require.Equal(t, held, calls(), "no call while held, by any worker, after a restart too")
	tot := ledgerTotals(t, ctx, w.rs)
	require.Zero(t, tot["failed"], "held jobs are handed back, not failed: %v", tot)
	require.Zero(t, tot["stored"])

	list := w.ok("holds")
	require.Regexp(t, `APP\s+CAUSE\s+ERRCODE\s+SINCE\s+UNTIL`, list)
	require.Regexp(t, e2eApp+`\s+account\s+48001\s+\S+\s+until released`, list)
	st := w.run("status")
	require.Equal(t, 0, st.code, "%s", st)
	require.Contains(t, st.stderr, "warning: app "+e2eApp+" is held for the fleet (account, errcode 48001")
	gen := w.run("gen", "--scene", "g1", "--page", "pages/coupon/index", "-o", filepath.Join(w.dir, "g1.jpg"))
	require.Equal(t, 1, gen.code, "%s", gen)
	require.Contains(t, gen.stderr, "app "+e2eApp+" is held for the fleet")
	require.Equal(t, held, calls(), "gen sent nothing for the held app")

	r := w.run("holds", "release", "wx00000000000000ff")
	require.Equal(t, 2, r.code, "%s", r)
	require.Contains(t, r.stderr, "app wx00000000000000ff is not held")

	w.fake.Update(func(o *wechattest.Options) { o.CodeErrors = nil })
	require.Contains(t, w.ok("holds", "release", e2eApp), "released "+e2eApp)
	waitAllDone(t, ctx, w.rs, jobsN)
	tot = ledgerTotals(t, ctx, w.rs)
	require.EqualValues(t, jobsN, tot["stored"], "%v", tot)
	require.Zero(t, tot["failed"])
	require.NotContains(t, w.ok("holds"), e2eApp)
	stopAll(ws)
	alerts := 0
	for _, p := range ws {
		alerts += strings.Count(p.out.String(), "ALERT: ")
	}
	require.LessOrEqual(t, alerts, 1, "one ALERT for the fleet")
	t.Logf("interface B calls: %d while held (of %d jobs), %d in all; ALERT lines in the running workers' logs: %d", held, jobsN, calls(), alerts)
	require.Equal(t, int64(jobsN)+held, calls(), "after the release one call per job")
}
