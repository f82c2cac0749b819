// Package deploy_test checks every file under deploy/ against the binary it
// deploys: each command, flag and WXACODE_* variable a Dockerfile, compose
// file, Kubernetes manifest, systemd unit or README names must exist in
// `wxacode <command> --help` of a freshly built binary; ports, paths, images
// and secrets must agree between the files; the Kubernetes manifests must
// decode strictly into their API types; alert rules and the Grafana board
// may only use metrics the code registers. stack_test.go then runs the
// compose services as plain processes against a private Redis, an S3 fake
// and the fake WeChat server.
package deploy_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/clitest"
)

// wxacodeBin is the binary built by TestMain from ../cmd/wxacode.
var wxacodeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wxacode-deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy test:", err)
		os.Exit(1)
	}
	if wxacodeBin, err = clitest.Build(dir, false); err != nil {
		fmt.Fprintln(os.Stderr, "deploy test:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// readFile returns a file of deploy/ (paths relative to it).
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// command is what `wxacode <name> --help` says about one command.
type command struct {
	name     string
	flags    map[string]string // flag name -> its environment variable ("" if none)
	defaults map[string]string // flag name -> default shown by --help
	envs     map[string]bool   // every WXACODE_* the help text names
}

var walked clitest.Lazy

// tree is every command's --help, walked once.
func tree(t *testing.T) map[string]*clitest.Command {
	t.Helper()
	tree, err := walked.Tree(wxacodeBin, os.Environ())
	require.NoError(t, err)
	return tree
}

// cli returns what `wxacode <words> --help` says. The command must exist:
// an unknown one fails the test.
func cli(t *testing.T, words ...string) *command {
	t.Helper()
	name := strings.Join(words, " ")
	c, ok := tree(t)[name]
	require.True(t, ok, "wxacode has no command %q", name)
	return fromHelp(c)
}

func fromHelp(c *clitest.Command) *command {
	out := &command{name: c.Name(), flags: map[string]string{}, defaults: map[string]string{}, envs: c.Envs}
	for name, f := range c.Flags {
		out.flags[name], out.defaults[name] = f.Env, f.Default
	}
	return out
}

// splitCommand returns the command words of argv (the command and its
// subcommand, if it has subcommands) and the rest.
func splitCommand(t *testing.T, argv []string) (words, rest []string) {
	if top, ok := tree(t)[argv[0]]; ok && len(top.Subcommands) > 0 && len(argv) > 1 {
		return argv[:2], argv[2:]
	}
	return argv[:1], argv[1:]
}

// checkArgv checks a wxacode command line (without the binary): the
// command exists and every --flag is one of its flags. It returns the
// command.
func checkArgv(t *testing.T, where string, argv []string) *command {
	t.Helper()
	require.NotEmpty(t, argv, "%s: no wxacode command", where)
	words, rest := splitCommand(t, argv)
	c := cli(t, words...)
	for _, a := range rest {
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		_, ok := c.flags[name]
		require.True(t, ok, "%s: `wxacode %s` has no flag --%s", where, c.name, name)
	}
	return c
}

// flagValue returns the value of --name in argv ("--name v" or
// "--name=v").
func flagValue(argv []string, name string) (string, bool) {
	for i, a := range argv {
		n := strings.TrimLeft(a, "-")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if k, v, ok := strings.Cut(n, "="); ok && k == name {
			return v, true
		}
		if n == name && i+1 < len(argv) {
			return argv[i+1], true
		}
	}
	return "", false
}

// checkEnv checks that every WXACODE_* variable of env is known to at
// least one of cmds (a container or unit runs one command; a shared
// environment file serves several).
func checkEnv(t *testing.T, where string, env map[string]string, cmds ...*command) {
	t.Helper()
	for k := range env {
		if !strings.HasPrefix(k, "WXACODE_") {
			continue
		}
		known := false
		var names []string
		for _, c := range cmds {
			known = known || c.envs[k]
			names = append(names, c.name)
		}
		require.True(t, known, "%s: %s is not a variable of `wxacode %s`", where, k, strings.Join(names, "` or `wxacode "))
	}
}

// setting returns the value a command gets for a flag: its variable in
// env, else the default of --help.
func setting(t *testing.T, c *command, env map[string]string, flag string) string {
	t.Helper()
	ev, ok := c.flags[flag]
	require.True(t, ok, "`wxacode %s` has no flag --%s", c.name, flag)
	if v, ok := env[ev]; ok && ev != "" {
		return v
	}
	return c.defaults[flag]
}

// shutdownTimeout is the worker's --shutdown-timeout under env.
func shutdownTimeout(t *testing.T, env map[string]string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(setting(t, cli(t, "worker"), env, "shutdown-timeout"))
	require.NoError(t, err)
	require.Positive(t, d)
	return d
}

// portOf returns the port of a listen address such as ":9090",
// "0.0.0.0:8080" or "127.0.0.1:8080", or of a URL.
func portOf(t *testing.T, addr string) string {
	t.Helper()
	if i := strings.Index(addr, "://"); i >= 0 {
		addr = addr[i+3:]
		if j := strings.IndexByte(addr, '/'); j >= 0 {
			addr = addr[:j]
		}
	}
	i := strings.LastIndexByte(addr, ':')
	require.GreaterOrEqual(t, i, 0, "no port in %q", addr)
	return addr[i+1:]
}

func TestHelpParsing(t *testing.T) {
	w := cli(t, "worker")
	require.Equal(t, "WXACODE_METRICS_LISTEN", w.flags["metrics-listen"])
	require.Equal(t, "30s", w.defaults["shutdown-timeout"])
	require.Equal(t, "https://api.weixin.qq.com", w.defaults["wechat-base-url"])
	_, ok := w.flags["listen"]
	require.False(t, ok, "the worker has no --listen")
	d := cli(t, "dashboard")
	require.Equal(t, "WXACODE_LISTEN", d.flags["listen"])
	require.True(t, d.envs["WXACODE_DASHBOARD_TOKEN"])
	require.False(t, w.envs["WXACODE_DASHBOARD_TOKEN"])
	c := cli(t, "campaign", "run")
	require.Equal(t, "WXACODE_CAMPAIGNS_FILE", c.flags["campaigns-file"])
	f := cli(t, "fake-wechat")
	require.Equal(t, "", f.flags["config"], "fake-wechat flags have no variables")
	words, rest := splitCommand(t, []string{"campaign", "run", "x", "--wait"})
	require.Equal(t, []string{"campaign", "run"}, words)
	require.Equal(t, []string{"x", "--wait"}, rest)
}
