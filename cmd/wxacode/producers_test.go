package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/wechat/wechattest"
)

// Producers refuse an app the configuration does not list, and warn when
// an app with work has no live worker; a worker's heartbeat lifts the
// warning and its shutdown brings it back.
func TestProducersKnowTheApps(t *testing.T) {
	rig := newCampaignRig(t, "wxP", wechattest.Options{Pages: []string{"pages/ok"}, RateLimit: -1}, 3000,
		"campaigns:\n  - name: mine\n    app: wxP\n    source:\n      generator: {pattern: \"p{n}\", from: 1, to: 3}\n    page: pages/ok\n"+
			"  - name: theirs\n    app: wxOther\n    source:\n      generator: {pattern: \"o{n}\", from: 1, to: 3}\n")
	w := rig.world

	r := w.run("campaign", "validate")
	t.Logf("$ WXACODE_APPID=wxP wxacode campaign validate\n%s", r)
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stdout, `campaign "theirs": app: app wxOther is not configured: WXACODE_APPID is wxP`)
	require.NotContains(t, r.stdout, "campaign mine")
	require.NotContains(t, r.stdout, "all valid")

	r = w.run("campaign", "run", "theirs")
	t.Logf("$ WXACODE_APPID=wxP wxacode campaign run theirs\n%s", r)
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "wxacode campaign run: campaign theirs: app wxOther is not configured")

	// No worker runs: the run starts, with a warning; status warns too.
	r = w.run("campaign", "run", "mine")
	t.Logf("$ wxacode campaign run mine   # no worker running\n%s", r)
	require.Equal(t, 0, r.code, r)
	require.Contains(t, r.stderr, "warning: no live worker serves app wxP, which has work (run mine-")
	r = w.run("status")
	t.Logf("$ wxacode status   # no worker running\n%s", r)
	require.Equal(t, 0, r.code, r)
	require.Contains(t, r.stderr, "warning: no live worker serves app wxP")

	// A worker serves wxP: no warning while it runs; it finishes the run.
	p := w.start("worker", "--check-quota=false", "--log-level", "info")
	p.waitFor("worker started", 30*time.Second)
	require.Eventually(t, func() bool {
		r = w.run("status")
		return r.code == 0 && r.stderr == ""
	}, 20*time.Second, 200*time.Millisecond, "the worker's heartbeat lifts the warning: %s", r)
	p.stop(time.Minute)
	// Its heartbeat left with it; work for wxP now warns again.
	r = w.run("campaign", "run", "mine")
	require.Equal(t, 0, r.code, r)
	require.Contains(t, r.stderr, "warning: no live worker serves app wxP")
}

// campaign validate says what would not run; campaign run refuses it.
func TestCampaignValidateRunnability(t *testing.T) {
	const head = "campaigns:\n"
	c := func(name, rest string) string {
		return "  - name: " + name + "\n    app: wxV\n" + rest
	}
	gen := "    source:\n      generator: {pattern: \"v{n}\", from: 1, to: 3}\n"
	rig := newCampaignRig(t, "wxV", wechattest.Options{RateLimit: -1}, 3000, head+
		c("nofile", "    source:\n      file: DIR/absent.csv\n")+
		c("zero", gen+"    schedule: \"@every 0s\"\n")+
		c("milli", gen+"    schedule: \"@every 1ms\"\n")+
		c("feb30", gen+"    schedule: \"0 0 30 2 *\"\n")+
		c("huge", "    source:\n      generator: {pattern: \"{n}\", from: 1, to: 1000000000000}\n")+
		c("leak", "    source:\n      object: file:///etc/hostname\n")+
		c("fine", gen+"    schedule: \"0 2 * * *\"\n"))
	w := rig.world
	r := w.run("campaign", "validate")
	t.Logf("$ wxacode campaign validate\n%s", r)
	require.Equal(t, 2, r.code, r)
	for _, want := range []string{
		`campaign "nofile": source.file`, "cannot be opened",
		`campaign "zero": schedule "@every 0s": fires every 0s: at most once a minute`,
		`campaign "milli": schedule "@every 1ms": fires every 1ms: at most once a minute`,
		`campaign "feb30": schedule "0 0 30 2 *": never fires`,
		`campaign "huge": source.generator.to "1000000000000": makes 1000000000000 rows; a run may have at most 1000000000`,
		`campaign "leak": source.object: a file:// object outside the store is not read`,
	} {
		require.Contains(t, r.stdout, want)
	}
	require.NotContains(t, r.stdout, `"fine"`)
	require.NotContains(t, r.stdout, "all valid")

	r = w.run("campaign", "run", "leak")
	t.Logf("$ wxacode campaign run leak\n%s", r)
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "WXACODE_SOURCE_DIRS")
	r = w.run("status")
	require.NotContains(t, r.stdout+r.stderr, "leak-", "no run was created")

	w.set("WXACODE_SOURCE_DIRS", "/etc")
	r = w.run("campaign", "validate")
	require.NotContains(t, r.stdout, `campaign "leak"`, "an allowed directory: %s", r)
}
