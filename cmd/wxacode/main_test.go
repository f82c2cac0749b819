package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/clitest"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/internal/syncbuf"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// wxacodeBin is this package's binary, built once by TestMain as an
// operator builds it (without the race detector: the packages' own tests
// run under -race; a race-built worker would make these scenarios several
// times slower). Every test runs it as an operator would: in a directory
// of its own, with only the environment it sets.
var wxacodeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wxacode-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wxacodeBin, err = clitest.Build(dir, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	redistest.QuietClientLogs()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// baseEnv is the test process's environment without any WXACODE_* or
// AWS_* variable, so that a developer's settings never reach the binary.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WXACODE_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// world is what a test runs the binary against: a directory, an
// environment and, when started, a private Redis and the fake WeChat.
type world struct {
	t    *testing.T
	dir  string
	env  []string
	rs   *redistest.Server
	fake *fakeProc
	// cred, if set, is the user the binary runs as (asNobody).
	cred *syscall.Credential
}

// newWorld returns an empty directory and a clean environment plus env
// (KEY=value).
func newWorld(t *testing.T, env ...string) *world {
	t.Helper()
	return &world{t: t, dir: t.TempDir(), env: append(baseEnv(), env...)}
}

// withRedis starts a private redis-server and points WXACODE_REDIS_URL at it.
func (w *world) withRedis() *world {
	w.t.Helper()
	w.rs = redistest.Start(w.t)
	return w.set("WXACODE_REDIS_URL", w.rs.URL())
}

// withFake serves the fake WeChat with o (knowing app with secret) and
// configures the one-app setup for it.
func (w *world) withFake(app, secret string, o wechattest.Options) *world {
	w.t.Helper()
	o.Apps = map[string]string{app: secret}
	w.fake = startFake(w.t, o)
	return w.set("WXACODE_WECHAT_BASE_URL", w.fake.URL()).set("WXACODE_APPID", app).set("WXACODE_SECRET", secret)
}

// asNobody makes run start the binary as user nobody when the tests run as
// root, who may write anywhere; directory permissions then mean what they
// mean for an operator's service user. The binary's and the world's
// directories are opened to it.
func (w *world) asNobody() *world {
	w.t.Helper()
	if os.Geteuid() != 0 {
		return w
	}
	for _, d := range []string{filepath.Dir(wxacodeBin), filepath.Dir(w.dir), w.dir} {
		require.NoError(w.t, os.Chmod(d, 0o755))
	}
	w.cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	return w.set("HOME", w.dir)
}

// set adds or replaces a variable of the environment.
func (w *world) set(k, v string) *world {
	w.env = slices.DeleteFunc(w.env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
	w.env = append(w.env, k+"="+v)
	return w
}

// result is a finished run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs `wxacode args...` in the world's directory to its end (at
// most two minutes).
func (w *world) run(args ...string) result {
	w.t.Helper()
	return w.runIn(nil, args...)
}

// runIn is run with stdin.
func (w *world) runIn(stdin io.Reader, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, wxacodeBin, args...)
	cmd.Dir, cmd.Env, cmd.Stdin = w.dir, w.env, stdin
	if w.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: w.cred}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		w.t.Fatalf("wxacode %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// ok runs the binary and requires exit status 0; it returns stdout.
func (w *world) ok(args ...string) string {
	w.t.Helper()
	r := w.run(args...)
	require.Equal(w.t, 0, r.code, "wxacode %s\n%s", strings.Join(args, " "), r)
	return r.stdout
}

// proc is a long-running `wxacode ...` child (worker, dashboard).
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *syncbuf.Buffer // stdout and stderr
	done   chan struct{}
	err    error
	stopMu sync.Once
}

// start starts `wxacode args...` in the background; it is killed at the
// end of the test if still running.
func (w *world) start(args ...string) *proc {
	w.t.Helper()
	p := &proc{t: w.t, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(wxacodeBin, args...)
	p.cmd.Dir, p.cmd.Env = w.dir, w.env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(w.t, p.cmd.Start())
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	w.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitFor waits until the output matches re and returns the first
// submatch (or the match); it fails if the process exits first.
func (p *proc) waitFor(re string, within time.Duration) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(p.out.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case <-p.done:
			p.t.Fatalf("wxacode %s exited (%v) before %q:\n%s", strings.Join(p.cmd.Args[1:], " "), p.err, re, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.t.Fatalf("no %q within %s:\n%s", re, within, p.out.String())
	return ""
}

// stop sends SIGTERM and requires a clean exit within limit.
func (p *proc) stop(limit time.Duration) {
	p.t.Helper()
	p.stopMu.Do(func() { _ = p.cmd.Process.Signal(syscall.SIGTERM) })
	select {
	case <-p.done:
	case <-time.After(limit):
		p.t.Fatalf("wxacode %s did not exit within %s of SIGTERM:\n%s", strings.Join(p.cmd.Args[1:], " "), limit, p.out.String())
	}
	require.NoError(p.t, p.err, "wxacode %s:\n%s", strings.Join(p.cmd.Args[1:], " "), p.out.String())
}

// lines returns the output's lines.
func (p *proc) lines() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(p.out.String()))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
