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
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// wxacodeBin is the binary built by TestMain from ../cmd/wxacode.
var wxacodeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wxacode-deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy test:", err)
		os.Exit(1)
	}
	wxacodeBin = filepath.Join(dir, "wxacode")
	cmd := exec.Command(goTool(), "build", "-o", wxacodeBin, "./cmd/wxacode")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "deploy test: building wxacode: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(build.Default.GOROOT, "bin", "go")
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

var (
	helpMu    sync.Mutex
	helpCache = map[string]*command{}

	flagLineRE = regexp.MustCompile(`^  -([A-Za-z0-9][A-Za-z0-9-]*)`)
	envOfFlag  = regexp.MustCompile(`\(env (WXACODE_[A-Z0-9_]+)\)`)
	anyEnvRE   = regexp.MustCompile(`WXACODE_[A-Z0-9_]+`)
	defaultRE  = regexp.MustCompile(`\(default "?([^")]*)"?\)\s*$`)
)

// actionCommands take an action word before their flags.
var actionCommands = map[string]bool{"campaign": true, "ratelimit": true, "bench": true}

// splitCommand returns the command words of argv (one, or two for commands
// with actions) and the rest.
func splitCommand(argv []string) (words, rest []string) {
	if len(argv) > 1 && actionCommands[argv[0]] {
		return argv[:2], argv[2:]
	}
	return argv[:1], argv[1:]
}

// cli runs `wxacode <words> --help` once per command and parses it. The
// command must exist: an unknown one fails the test.
func cli(t *testing.T, words ...string) *command {
	t.Helper()
	name := strings.Join(words, " ")
	helpMu.Lock()
	defer helpMu.Unlock()
	if c, ok := helpCache[name]; ok {
		return c
	}
	require.Contains(t, topCommands(t), words[0], "wxacode has no command %q", words[0])
	args := append(slices.Clone(words), "--help") // words may share argv's array
	out, err := exec.Command(wxacodeBin, args...).CombinedOutput()
	require.NoError(t, err, "wxacode %s --help:\n%s", name, out)
	require.Contains(t, string(out), "Usage: wxacode "+words[0], "wxacode %s --help printed no usage", name)
	c := parseHelp(name, string(out))
	helpCache[name] = c
	return c
}

var (
	topOnce sync.Once
	topCmds map[string]bool
	topErr  error
)

// topCommands lists the commands of `wxacode --help`.
func topCommands(t *testing.T) map[string]bool {
	topOnce.Do(func() {
		var out []byte
		out, topErr = exec.Command(wxacodeBin, "--help").CombinedOutput()
		topCmds = map[string]bool{}
		inList := false
		for _, l := range strings.Split(string(out), "\n") {
			switch {
			case strings.HasPrefix(l, "Commands:"):
				inList = true
			case inList && strings.HasPrefix(l, "  "):
				topCmds[strings.Fields(l)[0]] = true
			case inList && strings.TrimSpace(l) == "":
				inList = false
			}
		}
	})
	require.NoError(t, topErr)
	require.NotEmpty(t, topCmds, "wxacode --help listed no commands")
	return topCmds
}

// parseHelp reads flag.PrintDefaults output: a "  -name type" line, then
// its usage lines, the last one ending in "(env X)" and "(default V)".
func parseHelp(name, text string) *command {
	c := &command{name: name, flags: map[string]string{}, defaults: map[string]string{}, envs: map[string]bool{}}
	for _, e := range anyEnvRE.FindAllString(text, -1) {
		c.envs[e] = true
	}
	var cur string
	var block strings.Builder
	flush := func() {
		if cur == "" {
			return
		}
		if m := envOfFlag.FindStringSubmatch(block.String()); m != nil {
			c.flags[cur] = m[1]
		}
		if m := defaultRE.FindStringSubmatch(strings.TrimSpace(block.String())); m != nil {
			c.defaults[cur] = m[1]
		}
	}
	for _, l := range strings.Split(text, "\n") {
		if m := flagLineRE.FindStringSubmatch(l); m != nil {
			flush()
			cur = m[1]
			c.flags[cur] = ""
			block.Reset()
			continue
		}
		if cur != "" {
			block.WriteString(strings.TrimSpace(l) + " ")
		}
	}
	flush()
	return c
}

// checkArgv checks a wxacode command line (without the binary): the
// command exists and every --flag is one of its flags. It returns the
// command.
func checkArgv(t *testing.T, where string, argv []string) *command {
	t.Helper()
	require.NotEmpty(t, argv, "%s: no wxacode command", where)
	words, rest := splitCommand(argv)
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
	require.Equal(t, "campaign", firstWord(splitCommand([]string{"campaign", "run", "x", "--wait"})))
}

func firstWord(words, _ []string) string { return words[0] }
