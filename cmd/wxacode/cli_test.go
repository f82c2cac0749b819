package main

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/clitest"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

var walked clitest.Lazy

// commandTree is every command's --help, walked once (each must exit 0).
func commandTree(t *testing.T) map[string]*clitest.Command {
	t.Helper()
	tree, err := walked.Tree(wxacodeBin, baseEnv())
	require.NoError(t, err)
	return tree
}

// TestHelpEverywhere: --help and -h exit 0 on every command and
// subcommand, each with a description, a usage line and an example, and
// help writes --flag.
func TestHelpEverywhere(t *testing.T) {
	tree := commandTree(t)
	require.Greater(t, len(tree), 30, "the walk found the subcommands too")
	for _, want := range []string{"campaign run", "campaign retry-failed", "scenes serve", "ratelimit take", "bench chaos", "bench enqueue", "version", "completion bash", "completion zsh", "completion fish"} {
		require.Contains(t, tree, want)
	}
	w := newWorld(t)
	for name, c := range tree {
		desc, _, _ := strings.Cut(c.Text, "Usage:")
		require.NotEmpty(t, strings.TrimSpace(desc), "wxacode %s --help has no description", name)
		require.NotEmpty(t, strings.TrimSpace(c.Example), "wxacode %s --help has no example", name)
		require.Contains(t, c.Text, "--help", name)
		require.NotRegexp(t, `(?m)^\s+-[a-z][a-z-]+ `, c.Text, "%s: flags are written --flag", name)
		short := w.run(append(strings.Fields(name), "-h")...)
		require.Equal(t, 0, short.code, "wxacode %s -h: %s", name, short)
		require.Equal(t, c.Text, short.stdout, "wxacode %s: -h and --help print the same", name)
	}
}

func TestVersion(t *testing.T) {
	w := newWorld(t)
	v := w.ok("version")
	require.Regexp(t, `^wxacode \S+ \(revision .+, go\d+\.\d+`, v)
	require.Contains(t, v, runtime.Version())
	require.Equal(t, v, w.ok("--version"))
}

// TestREADMECommandLines: every wxacode command line in README.md's shell
// blocks names a command that exists, only flags it has, and arguments
// that fit its usage.
func TestREADMECommandLines(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	lines := clitest.CommandLines(string(readme))
	require.Greater(t, len(lines), 25, "the README's command lines were found")
	t.Logf("%d command lines in README.md", len(lines))
	tree := commandTree(t)
	for _, l := range lines {
		_, err := clitest.Check(tree, l.Argv)
		require.NoError(t, err, "README.md:%d: wxacode %s", l.No, strings.Join(l.Argv, " "))
	}
	// The checker itself refuses what does not fit.
	for _, bad := range [][]string{
		{"campaign", "run"}, {"campaign", "rn", "x"}, {"worker", "--bogus"}, {"status", "a", "b"},
		{"enqueue", "--page"}, {"campaign"}, {"rid", "--app", "wx1"},
	} {
		_, err := clitest.Check(tree, bad)
		require.Error(t, err, "wxacode %s", strings.Join(bad, " "))
	}
}

// TestMalformedSettingsExit2: a malformed or out-of-range value from the
// environment or a flag is an error naming the variable or flag, the value
// and what is wanted, exit status 2; nothing starts on a default instead.
func TestMalformedSettingsExit2(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"worker"}, "WXACODE_CONCURRENCY=1OO", `WXACODE_CONCURRENCY="1OO": want a whole number`},
		{[]string{"worker"}, "WXACODE_RATE_PER_MINUTE=abc", `WXACODE_RATE_PER_MINUTE="abc": want a whole number`},
		{[]string{"worker"}, "WXACODE_SHUTDOWN_TIMEOUT=30", `WXACODE_SHUTDOWN_TIMEOUT="30": want a duration with a unit`},
		{[]string{"worker"}, "WXACODE_CONCURRENCY=-1", `WXACODE_CONCURRENCY="-1": want a whole number of at least 1`},
		{[]string{"worker"}, "WXACODE_MAX_HOLD=0s", `WXACODE_MAX_HOLD="0s": want a duration above 0`},
		{[]string{"worker"}, "WXACODE_CHECK_QUOTA=yes please", `WXACODE_CHECK_QUOTA="yes please": want true or false`},
		{[]string{"worker"}, "WXACODE_CAP_FROM_QUOTA=2", `WXACODE_CAP_FROM_QUOTA="2": want a fraction from 0 to 1`},
		{[]string{"worker"}, "WXACODE_KEY_TEMPLATE={nope}", `WXACODE_KEY_TEMPLATE="{nope}": want a valid template`},
		{[]string{"status"}, "WXACODE_LOG_LEVEL=loud", `WXACODE_LOG_LEVEL="loud": want one of debug, info, warn, error`},
		{[]string{"dashboard"}, "WXACODE_LOG_FORMAT=xml", `WXACODE_LOG_FORMAT="xml": want one of auto, text, json`},
		{[]string{"scheduler"}, "WXACODE_SYNC_INTERVAL=soon", `WXACODE_SYNC_INTERVAL="soon": want a duration`},
		{[]string{"enqueue", "x.txt"}, "WXACODE_ENQUEUE_WORKERS=0", `WXACODE_ENQUEUE_WORKERS="0": want a whole number of at least 1`},
		{[]string{"worker", "--scene-length", "40"}, "", `--scene-length "40": want a whole number from 1 to 32`},
		{[]string{"worker", "--concurrency=ten"}, "", `--concurrency "ten": want a whole number`},
		{[]string{"healthcheck", "http://x", "--timeout", "5"}, "", `--timeout "5": want a duration with a unit`},
		{[]string{"scenes", "serve"}, "WXACODE_HTTP_IDLE_TIMEOUT=30", `WXACODE_HTTP_IDLE_TIMEOUT="30": want a duration with a unit`},
		{[]string{"scenes", "serve"}, "WXACODE_REDIS_TIMEOUT=0s", `WXACODE_REDIS_TIMEOUT="0s": want a duration above 0`},
		{[]string{"dashboard", "--http-max-conns-per-client", "-5"}, "", `--http-max-conns-per-client "-5": want a whole number of at least -1`},
	} {
		w := newWorld(t)
		if c.env != "" {
			k, v, _ := strings.Cut(c.env, "=")
			w.set(k, v)
		}
		r := w.run(c.args...)
		require.Equal(t, 2, r.code, "%s %v: %s", c.env, c.args, r)
		require.Contains(t, r.stderr, ": "+c.want, "%s %v", c.env, c.args)
		require.True(t, strings.HasPrefix(r.stderr, "wxacode "+c.args[0]), "%s %v: %s", c.env, c.args, r.stderr)
	}
	// Every problem at once.
	w := newWorld(t, "WXACODE_CONCURRENCY=x", "WXACODE_MAX_ATTEMPTS=0")
	r := w.run("worker")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "WXACODE_CONCURRENCY")
	require.Contains(t, r.stderr, "WXACODE_MAX_ATTEMPTS")
}

// TestDefaultsStartInEmptyDir: worker, dashboard, status, campaign list
// and scheduler run with no storage setting, in an empty directory, on
// the documented default directory.
func TestDefaultsStartInEmptyDir(t *testing.T) {
	w := newWorld(t).withRedis().withFake("wxE", "sE", wechattest.Options{})
	wk := w.start("worker", "--metrics-listen", "127.0.0.1:0", "--log-format", "json")
	addr := wk.waitFor(`"metrics served","url":"http://([^/"]+)/metrics"`, 30*time.Second)
	wk.waitFor("worker started", 30*time.Second)
	require.Equal(t, "ok\n", get(t, "http://"+addr+"/readyz", 200))
	wk.stop(time.Minute)
	st, err := os.Stat(filepath.Join(w.dir, "wxacode-codes"))
	require.NoError(t, err, "the default store is ./wxacode-codes")
	require.True(t, st.IsDir())

	d := w.start("dashboard", "--listen", "127.0.0.1:0")
	base := d.waitFor(`dashboard on (http://\S+)/ `, 30*time.Second)
	require.Equal(t, "ok\n", get(t, base+"/readyz", 200))
	d.stop(30 * time.Second)

	require.Contains(t, w.ok("status"), "APP")
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, "campaigns.yaml"), []byte("campaigns:\n  - name: c\n    app: wxE\n    source:\n      generator: {pattern: \"g{n}\", from: 1, to: 3}\n"), 0o600))
	require.Contains(t, w.ok("campaign", "list"), "CAMPAIGN")
	s := w.start("scheduler")
	s.waitFor("scheduler started", 30*time.Second)
	s.stop(30 * time.Second)
}

// TestNoSecretInHelpOrUsage: with every secret set in the environment, no
// command's --help, usage error or configuration error shows one.
func TestNoSecretInHelpOrUsage(t *testing.T) {
	secrets := map[string]string{
		"WXACODE_SECRET":             "app-secret-5c1b7e",
		"WXACODE_DASHBOARD_TOKEN":    "dash-token-9f2a4d",
		"WXACODE_DASHBOARD_PASSWORD": "dash-pass-77e0c1",
		"WXACODE_REDIS_URL":          "redis://user:redis-pass-3b8f@127.0.0.1:1/0?sentinel_password=sentinel-pass-1d",
		"AWS_SECRET_ACCESS_KEY":      "aws-secret-0a9b8c",
	}
	w := newWorld(t)
	for k, v := range secrets {
		w.set(k, v)
	}
	tree, err := clitest.Walk(wxacodeBin, w.env)
	require.NoError(t, err)
	leaks := []string{"app-secret-5c1b7e", "dash-token-9f2a4d", "dash-pass-77e0c1", "redis-pass-3b8f", "sentinel-pass-1d", "aws-secret-0a9b8c"}
	for name, c := range tree {
		args := strings.Fields(name)
		usage := w.run(append(args, "--no-such-flag")...)
		require.Equal(t, 2, usage.code, "wxacode %s --no-such-flag: %s", name, usage)
		bad := w.run(append(args, "--log-level", "loud")...)
		for _, s := range leaks {
			require.NotContains(t, c.Text, s, "wxacode %s --help", name)
			require.NotContains(t, usage.String(), s, "wxacode %s --no-such-flag", name)
			require.NotContains(t, bad.String(), s, "wxacode %s --log-level loud", name)
		}
	}
	require.Contains(t, tree["dashboard"].Text, "WXACODE_DASHBOARD_TOKEN: set", "a secret set from the environment shows (set)")
	require.Contains(t, tree["demo"].Text, `(default "redis://127.0.0.1:6379/0")`, "help shows declared defaults, never the environment's values")
	r := w.run("status")
	require.Equal(t, 2, r.code, r)
	for _, s := range leaks {
		require.NotContains(t, r.String(), s)
	}
}

// TestCampaignRunWaitAfterName: `campaign run NAME --wait` (the flag
// after the name) follows the run until it is done.
func TestCampaignRunWaitAfterName(t *testing.T) {
	rig := newCampaignRig(t, "wxW", wechattest.Options{RateLimit: -1}, 3000,
		"campaigns:\n  - name: small\n    app: wxW\n    source:\n      generator: {pattern: \"w{n}\", from: 1, to: 30}\n")
	stop := rig.startWorker(t)
	defer stop()
	out := rig.ok("campaign", "run", "small", "--wait")
	m := regexp.MustCompile(`(?m)^run (\S+) done: stored 30 skipped 0 failed 0; manifest `).FindStringSubmatch(out)
	require.NotNil(t, m, "the command returned once the run was done:\n%s", out)
	r, _, err := runs.NewStore(rig.rs.Client(t), "").Get(t.Context(), m[1])
	require.NoError(t, err)
	require.Equal(t, runs.StateDone, r.State)
}

// TestREADMETables: the Commands table names every command and subcommand
// and every flag without a variable, and nothing else; the Configuration
// table has every setting (flag with a WXACODE_* variable) with its flag
// and default, and nothing else.
func TestREADMETables(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	tree := commandTree(t)
	checkCommandsTable(t, tree, section(t, string(readme), "## Commands"))
	checkConfigTable(t, tree, section(t, string(readme), "## Configuration"))
}

// section returns the Markdown table rows (cells) after a heading.
func section(t *testing.T, doc, heading string) [][]string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n"+heading+"\n")
	require.True(t, ok, "README.md has no %q", heading)
	var rows [][]string
	for _, l := range strings.Split(rest, "\n") {
		if strings.HasPrefix(l, "## ") || strings.HasPrefix(l, "### ") {
			break
		}
		if !strings.HasPrefix(l, "| ") || strings.HasPrefix(l, "|---") {
			continue
		}
		l = strings.ReplaceAll(l, `\|`, "\x00")
		var cells []string
		for _, c := range strings.Split(strings.Trim(l, "|"), "|") {
			cells = append(cells, strings.TrimSpace(strings.ReplaceAll(c, "\x00", "|")))
		}
		rows = append(rows, cells)
	}
	require.NotEmpty(t, rows, "README.md %s has no table", heading)
	return rows[1:] // the header
}

var (
	codeRE     = regexp.MustCompile("`([^`]+)`")
	flagNameRE = regexp.MustCompile(`(?:^|[^\w-])(--[a-z][a-z0-9-]*|-[a-z])\b`)
)

// isOption: a flag without a variable is documented in the Commands
// table (one with a variable in the Configuration table); help and
// version are cobra's.
func isOption(f clitest.Flag) bool { return f.Env == "" && f.Name != "help" && f.Name != "version" }

func checkCommandsTable(t *testing.T, tree map[string]*clitest.Command, rows [][]string) {
	covered := map[string]map[string]bool{} // command -> flags its rows mention
	for _, row := range rows {
		m := codeRE.FindStringSubmatch(row[0])
		require.NotNil(t, m, "row %q has no `command`", row[0])
		words := strings.Fields(m[1])
		names := []string{words[0]}
		if top, ok := tree[words[0]]; ok && len(top.Subcommands) > 0 && len(words) > 1 {
			names = nil
			for _, s := range strings.Split(words[1], "|") {
				names = append(names, words[0]+" "+s)
			}
		}
		text := strings.Join(row, " ")
		for _, n := range names {
			c, ok := tree[n]
			require.True(t, ok, "README's Commands table names `wxacode %s`, which does not exist", n)
			if covered[n] == nil {
				covered[n] = map[string]bool{}
			}
			for _, fm := range flagNameRE.FindAllStringSubmatch(text, -1) {
				covered[n][strings.TrimLeft(fm[1], "-")] = true
			}
			_ = c
		}
		for _, fm := range flagNameRE.FindAllStringSubmatch(text, -1) {
			name := strings.TrimLeft(fm[1], "-")
			found := false
			for _, c := range tree { // a row may name another command's flag (quota: the worker's --check-quota)
				_, long := c.Flags[name]
				found = found || long || hasShorthand(c, name)
			}
			require.True(t, found, "README's Commands row `%s` mentions %s, a flag of no command", m[1], fm[1])
		}
	}
	for name, c := range tree {
		if name == "" || name == "help" || strings.HasPrefix(name, "completion ") || len(c.Subcommands) > 0 {
			continue
		}
		require.Contains(t, covered, name, "README's Commands table has no row for `wxacode %s`", name)
		var missing []string
		for _, f := range c.Flags {
			if isOption(f) && !covered[name][f.Name] && !covered[name][f.Shorthand] {
				missing = append(missing, "--"+f.Name)
			}
		}
		sort.Strings(missing)
		require.Empty(t, missing, "README's Commands table does not mention these flags of `wxacode %s`", name)
	}
}

func hasShorthand(c *clitest.Command, s string) bool {
	for _, f := range c.Flags {
		if f.Shorthand == s {
			return true
		}
	}
	return false
}

func checkConfigTable(t *testing.T, tree map[string]*clitest.Command, rows [][]string) {
	type row struct{ flag, defaults string }
	table := map[string]row{}
	for _, r := range rows {
		require.GreaterOrEqual(t, len(r), 4, "row %v", r)
		v := codeRE.FindStringSubmatch(r[0])
		f := codeRE.FindStringSubmatch(r[1])
		require.True(t, v != nil && f != nil, "Configuration row %v: one `WXACODE_*` and one `--flag`", r)
		require.NotContains(t, table, v[1], "two rows for %s", v[1])
		table[v[1]] = row{flag: f[1], defaults: r[2]}
	}
	seen := map[string]bool{}
	for name, c := range tree {
		for _, f := range c.Flags {
			if f.Env == "" {
				continue
			}
			seen[f.Env] = true
			r, ok := table[f.Env]
			require.True(t, ok, "README's Configuration table has no row for %s (`wxacode %s --%s`)", f.Env, name, f.Name)
			require.Equal(t, "--"+f.Name, r.flag, "%s", f.Env)
			if f.Default != "" {
				var shown []string
				for _, m := range codeRE.FindAllStringSubmatch(r.defaults, -1) {
					shown = append(shown, m[1])
				}
				require.True(t, slices.Contains(shown, f.Default), "README gives %s the default %q; `wxacode %s --help` says %q", f.Env, r.defaults, name, f.Default)
			}
		}
	}
	for v := range table {
		require.True(t, seen[v], "README's Configuration table has %s, which no command takes", v)
	}
}
