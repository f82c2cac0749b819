package deploy_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/internal/syncbuf"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/storage/storagetest"
)

// stack runs compose services as processes of the test's binary, with the
// compose file's own commands and environment; only what a container
// engine would provide is swapped: host names become loopback addresses,
// mounted paths become files in temporary directories.
type stack struct {
	t        *testing.T
	secrets  string            // compose-init.sh output (./secrets)
	exported map[string]string // shell variables compose interpolates
	hosts    map[string]string // compose URL prefix -> real one
	files    map[string]string // path in a container -> file here
	procs    []*proc
	deadline time.Time
}

// proc is one running service.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *syncbuf.Buffer
	done   chan struct{}
	err    error
	listen string // 127.0.0.1:port it serves on, "" if none
}

// TestComposeStackAsProcesses is `docker compose --profile fake up` and
// the documented enqueue without a container engine: Redis started with
// the compose redis command line, an S3 fake holding the bucket
// minio-init creates, then fake-wechat, the workers (as many as
// replicas), the scheduler and the dashboard, each with its compose
// command, environment, env files and mounted files. Each must pass the
// health check its container gets; the README's enqueue must end with
// every code stored in the bucket; the dashboard must answer its token
// only; `cli status` and `cli campaign validate` must work; SIGTERM must
// stop everything cleanly; no output may contain a secret.
func TestComposeStackAsProcesses(t *testing.T) {
	c := compose(t)
	st := newStack(t)
	redisCmd := c.Services["redis"].Command
	rs := redistest.Start(t, redisCmd[1:]...)
	s3srv := storagetest.StartGoFakeS3(t, false)
	s3srv.CreateBucket(t, minioBucket(t))
	st.hosts["redis://redis:6379/0"] = rs.URL()
	st.hosts["http://minio:9000"] = s3srv.Endpoint

	fake := st.start("fake-wechat", c.Services["fake-wechat"])
	st.waitHealthy(fake, c.Services["fake-wechat"])
	// What `export WXACODE_WECHAT_BASE_URL=...` of the README does.
	exported := strings.TrimPrefix(words(readmeLine(t, "export WXACODE_WECHAT_BASE_URL="))[1], "WXACODE_WECHAT_BASE_URL=")
	st.exported["WXACODE_WECHAT_BASE_URL"] = exported
	st.hosts[exported] = "http://" + fake.listen

	for i := range c.Services["worker"].Deploy.Replicas {
		w := st.start(fmt.Sprintf("worker-%d", i+1), c.Services["worker"])
		st.waitHealthy(w, c.Services["worker"])
	}
	for _, name := range []string{"scheduler", "dashboard"} {
		st.waitHealthy(st.start(name, c.Services[name]), c.Services[name])
	}

	app, n := st.enqueueAsDocumented()
	st.waitStored(rs, app, n)
	require.Equal(t, n, countObjects(t, s3srv, minioBucket(t), storePrefix(t)), "objects in the bucket")
	t.Logf("the README's enqueue: %d codes of %s stored by %d workers through the fake WeChat into s3://%s/%s",
		n, app, c.Services["worker"].Deploy.Replicas, minioBucket(t), storePrefix(t))
	st.checkDashboard(app)

	status := st.runCli(nil, c.Services["cli"].Command...)
	require.Contains(t, status, app)
	// The example's partner-shops campaign reads an object of the store,
	// which campaign validate looks up: the operator uploads it first.
	in, err := storage.OpenS3(context.Background(), minioBucket(t), storePrefix(t), s3srv.Options())
	require.NoError(t, err)
	require.NoError(t, in.Put(context.Background(), "_inputs/partner-shops.csv", []byte("scene\nshop1\nshop2\n"), storage.PutOptions{}))
	st.runCli(nil, "campaign", "validate")
	st.stopAll()
	st.requireNoSecrets()
}

func newStack(t *testing.T) *stack {
	st := &stack{t: t, secrets: initSecrets(t), exported: map[string]string{}, hosts: map[string]string{}, files: map[string]string{},
		deadline: time.Now().Add(2 * time.Minute)}
	c := compose(t)
	// apps.yaml names /run/secrets/<appid>: point it at compose-init.sh's files.
	apps := filepath.Join(t.TempDir(), "apps.yaml")
	src := strings.ReplaceAll(string(readFile(t, "examples/apps.yaml")), "/run/secrets/", st.secrets+"/")
	require.NoError(t, os.WriteFile(apps, []byte(src), 0o600))
	for name, ref := range c.Configs {
		path, err := filepath.Abs(ref.File)
		require.NoError(t, err)
		if name == "apps" {
			path = apps
		}
		for _, s := range c.Services {
			for _, cf := range s.Configs {
				if cf.Source == name {
					st.files[cf.Target] = path
				}
			}
		}
	}
	for name, ref := range c.Secrets {
		st.files["/run/secrets/"+name] = filepath.Join(st.secrets, secretFileName(t, ref.File))
	}
	t.Cleanup(st.killLeftovers)
	return st
}

// translate maps a value of the compose file to this machine.
func (st *stack) translate(v string) string {
	if f, ok := st.files[v]; ok {
		return f
	}
	for from, to := range st.hosts {
		if rest, ok := strings.CutPrefix(v, from); ok {
			return st.translate(to + rest)
		}
	}
	return v
}

// env is a service's environment as compose makes it (with the shell
// variables of st.exported), translated, with listen addresses on free
// loopback ports, plus an isolated HOME and AWS configuration.
func (st *stack) env(s composeService) (env []string, listen string) {
	base := serviceEnv(st.t, s, st.secrets)
	for k, v := range s.Environment {
		base[k] = interpolation.ReplaceAllStringFunc(v, func(m string) string {
			sub := interpolation.FindStringSubmatch(m)
			if x, ok := st.exported[sub[1]]; ok {
				return x
			}
			return sub[2]
		})
	}
	tmp := st.t.TempDir()
	env = []string{"HOME=" + tmp, "TMPDIR=" + tmp, "PATH=" + os.Getenv("PATH"),
		"AWS_CONFIG_FILE=" + filepath.Join(tmp, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(tmp, "none")}
	for k, v := range base {
		if k == "WXACODE_LISTEN" || k == "WXACODE_METRICS_LISTEN" {
			listen = freeAddr(st.t)
			v = listen
		}
		env = append(env, k+"="+st.translate(v))
	}
	return env, listen
}

// argv translates a command line; a --listen gets a free port.
func (st *stack) argv(cmd []string) (out []string, listen string) {
	for i := 0; i < len(cmd); i++ {
		out = append(out, st.translate(cmd[i]))
		if cmd[i] == "--listen" && i+1 < len(cmd) {
			listen = freeAddr(st.t)
			out = append(out, listen)
			i++
		}
	}
	return out, listen
}

func (st *stack) start(name string, s composeService) *proc {
	env, listen := st.env(s)
	argv, flagListen := st.argv(serviceCommand(st.t, name, s))
	if flagListen != "" {
		listen = flagListen
	}
	p := &proc{name: name, cmd: exec.Command(wxacodeBin, argv...), out: &syncbuf.Buffer{}, done: make(chan struct{}), listen: listen}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(st.t, p.cmd.Start(), name)
	st.procs = append(st.procs, p)
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

// waitHealthy runs the health check the service's container gets (the
// image's HEALTHCHECK or its compose healthcheck, on the port it really
// got) until it passes, then its readiness endpoint when it has one.
func (st *stack) waitHealthy(p *proc, s composeService) {
	t := st.t
	check := parseDockerfile(t).healthcheck[1:]
	if s.Healthcheck != nil {
		check = s.Healthcheck.Test[2:]
	}
	url := regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(check[1], p.listen)
	st.poll(p, check[0], url)
	if ready := strings.Replace(url, "/healthz", "/readyz", 1); ready != url {
		st.poll(p, check[0], ready)
	}
}

func (st *stack) poll(p *proc, args ...string) {
	t := st.t
	for {
		out, err := exec.Command(wxacodeBin, args...).CombinedOutput()
		if err == nil {
			return
		}
		select {
		case <-p.done:
			require.Failf(t, "service exited", "%s exited (%v) before `wxacode %s` passed:\n%s", p.name, p.err, strings.Join(args, " "), p.out)
		default:
		}
		require.True(t, time.Now().Before(st.deadline), "%s: `wxacode %s` never passed: %s\n%s", p.name, strings.Join(args, " "), out, p.out)
		time.Sleep(200 * time.Millisecond)
	}
}

// runCli runs a command in the cli service's environment.
func (st *stack) runCli(stdin io.Reader, args ...string) string {
	env, _ := st.env(compose(st.t).Services["cli"])
	argv, _ := st.argv(args)
	cmd := exec.Command(wxacodeBin, argv...)
	cmd.Env, cmd.Stdin = env, stdin
	out, err := cmd.CombinedOutput()
	require.NoError(st.t, err, "cli %s:\n%s", strings.Join(args, " "), out)
	st.procs = append(st.procs, &proc{name: "cli " + args[0], out: bufferOf(out), done: closed()})
	return string(out)
}

var seqCmd = regexp.MustCompile(`seq -f '([^']*)' (\d+) (\d+)`)

// enqueueAsDocumented runs the README's `seq ... | docker compose run
// --rm -T cli enqueue ...` line and returns the app and the job count.
func (st *stack) enqueueAsDocumented() (string, int) {
	t := st.t
	line := readmeLine(t, "cli enqueue ")
	m := seqCmd.FindStringSubmatch(line)
	require.NotNil(t, m, "deploy/README.md: enqueue from `seq -f FMT FROM TO`")
	from, _ := strconv.Atoi(m[2])
	to, _ := strconv.Atoi(m[3])
	var in strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintln(&in, strings.Replace(m[1], "%g", strconv.Itoa(i), 1))
	}
	_, after, _ := strings.Cut(line, " cli ")
	argv := words(after)
	app, ok := flagValue(argv, "app")
	require.True(t, ok)
	st.runCli(strings.NewReader(in.String()), argv...)
	return app, to - from + 1
}

// waitStored waits until the ledger counts n stored codes of app.
func (st *stack) waitStored(rs *redistest.Server, app string, n int) {
	t := st.t
	led := jobs.NewLedger(rs.Client(t), "")
	for {
		tot, err := led.Totals(context.Background(), app)
		require.NoError(t, err)
		require.Zero(t, tot["failed"], "failures: %v", tot)
		if tot["stored"] == int64(n) {
			return
		}
		require.True(t, time.Now().Before(st.deadline), "stored %v of %d", tot, n)
		time.Sleep(250 * time.Millisecond)
	}
}

// checkDashboard asks the dashboard's API with and without its token.
func (st *stack) checkDashboard(app string) {
	t := st.t
	var dash *proc
	for _, p := range st.procs {
		if p.name == "dashboard" {
			dash = p
		}
	}
	token := readEnvFile(t, filepath.Join(st.secrets, "dashboard.env"))["WXACODE_DASHBOARD_TOKEN"]
	get := func(auth string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, "http://"+dash.listen+"/api/apps", nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, _ := get("")
	require.Equal(t, http.StatusUnauthorized, code, "the dashboard without its token")
	code, body := get("Bearer " + token)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, app)
}

// stopAll sends SIGTERM to every service, as `docker compose stop` does,
// and expects each to exit 0 within its stop_grace_period.
func (st *stack) stopAll() {
	for _, p := range st.procs {
		if p.cmd != nil {
			require.NoError(st.t, p.cmd.Process.Signal(syscall.SIGTERM), p.name)
		}
	}
	for _, p := range st.procs {
		select {
		case <-p.done:
			require.NoError(st.t, p.err, "%s did not exit cleanly on SIGTERM:\n%s", p.name, p.out)
		case <-time.After(time.Minute):
			require.Failf(st.t, "no exit", "%s still runs a minute after SIGTERM", p.name)
		}
	}
}

// requireNoSecrets checks every output for the secrets compose-init.sh
// made: app secrets, S3 keys, MinIO password, dashboard token.
func (st *stack) requireNoSecrets() {
	t := st.t
	var secrets []string
	for _, a := range exampleApps(t) {
		secrets = append(secrets, strings.TrimSpace(string(readFile(t, filepath.Join(st.secrets, a.AppID)))))
	}
	for _, f := range []string{"s3.env", "minio.env", "dashboard.env"} {
		for k, v := range readEnvFile(t, filepath.Join(st.secrets, f)) {
			if strings.Contains(k, "SECRET") || strings.Contains(k, "PASSWORD") || strings.Contains(k, "TOKEN") {
				secrets = append(secrets, v)
			}
		}
	}
	for _, p := range st.procs {
		out := p.out.String()
		for _, s := range secrets {
			require.NotEmpty(t, s)
			require.NotContains(t, out, s, "%s printed a secret", p.name)
		}
	}
}

func (st *stack) killLeftovers() {
	for _, p := range st.procs {
		if p.cmd == nil {
			continue
		}
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if st.t.Failed() {
			st.t.Logf("--- output of %s:\n%s", p.name, p.out)
		}
	}
}

// storePrefix is the key prefix of WXACODE_STORAGE_URL (s3://bucket/prefix).
func storePrefix(t *testing.T) string {
	u := compose(t).Services["worker"].Environment["WXACODE_STORAGE_URL"]
	_, prefix, _ := strings.Cut(strings.TrimPrefix(u, "s3://"), "/")
	return prefix + "/"
}

func countObjects(t *testing.T, srv *storagetest.Server, bucket, prefix string) int {
	t.Helper()
	st, err := storage.OpenS3(context.Background(), bucket, "", srv.Options())
	require.NoError(t, err)
	n := 0
	pages := s3.NewListObjectsV2Paginator(st.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		require.NoError(t, err)
		n += len(page.Contents)
	}
	return n
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func bufferOf(b []byte) *syncbuf.Buffer {
	s := &syncbuf.Buffer{}
	_, _ = s.Write(b)
	return s
}

func closed() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
