package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat/wechattest"
	"github.com/wxacode/wxacode/worker"
)

// bench apps (issue 20): many apps configured on one fleet. The rig is the
// usual one (rig.go) with N apps whose tokens come from Redis keys preset
// here from the fake, so thousands of apps need no secret in a file.

// appsTokenKey is the Redis key holding an app's token.
func appsTokenKey(app string) string { return "platform:token:" + app }

// benchAppIDs returns n appids; the first is the fairness run's big app.
func benchAppIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("wxapps%012d", i)
	}
	return out
}

// appsRig is a rig whose fake knows apps, with their tokens preset in the
// private Redis and an apps file naming them.
type appsRig struct {
	*rig
	apps     []string
	appsFile string
	meter    *redisMeter
}

func newAppsRig(ctx context.Context, apps []string, stderr io.Writer) (*appsRig, error) {
	known := make(map[string]string, len(apps))
	for _, a := range apps {
		known[a] = "secret-" + a
	}
	r, err := newRig(stderr, wechattest.Options{RateLimit: -1, Apps: known})
	if err != nil {
		return nil, err
	}
	ar := &appsRig{rig: r, apps: apps}
	if err := ar.presetTokens(ctx); err != nil {
		r.close()
		return nil, err
	}
	if ar.appsFile, err = writeAppsFile(r.dir, apps); err != nil {
		r.close()
		return nil, err
	}
	if ar.meter, err = newRedisMeter(ctx, r.redis.Addr); err != nil {
		r.close()
		return nil, err
	}
	r.closers = append(r.closers, func() { ar.meter.close() })
	return ar, nil
}

// presetTokens fetches each app's stable_token from the fake and stores it
// under appsTokenKey, as a platform's own token service would.
func (ar *appsRig) presetTokens(ctx context.Context) error {
	var next atomic.Int64
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ar.apps) {
					errs <- nil
					return
				}
				tok, err := fetchStableToken(ctx, ar.fakeURL, ar.apps[i], "secret-"+ar.apps[i])
				if err == nil {
					err = ar.rdb.Set(ctx, appsTokenKey(ar.apps[i]), tok, 0).Err()
				}
				if err != nil {
					errs <- fmt.Errorf("bench apps: token of %s: %w", ar.apps[i], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func fetchStableToken(ctx context.Context, base, app, secret string) (string, error) {
	body, _ := json.Marshal(map[string]string{"grant_type": "client_credential", "appid": app, "secret": secret})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/cgi-bin/stable_token", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token   string `json:"access_token"`
		ErrCode int    `json:"errcode"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", fmt.Errorf("stable_token: errcode %d", out.ErrCode)
	}
	return out.Token, nil
}

// writeAppsFile lists the apps, each with its Redis token key and the
// default cap (4800/min).
func writeAppsFile(dir string, apps []string) (string, error) {
	path := filepath.Join(dir, "..", filepath.Base(dir)+"-apps.yaml")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "apps:")
	for _, a := range apps {
		fmt.Fprintf(w, "  - appid: %s\n    token: {redis_key: %q}\n", a, appsTokenKey(a))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// startAppsWorkers starts n `wxacode worker` processes on the apps file
// and waits until asynq's server of each has registered (after the
// preflight), or until timeout.
func (ar *appsRig) startAppsWorkers(ctx context.Context, n, concurrency int, timeout time.Duration, extra func(i int) []string, stderr io.Writer) error {
	env := []string{
		"WXACODE_REDIS_URL=" + ar.redis.URL(), "WXACODE_APPID=", "WXACODE_SECRET=", "WXACODE_SECRET_FILE=",
		"WXACODE_APPS_FILE=" + ar.appsFile, "WXACODE_STORAGE_URL=file://" + ar.dir,
		"WXACODE_WECHAT_BASE_URL=" + ar.fakeURL, "WXACODE_CHECK_QUOTA=false",
		"WXACODE_CONCURRENCY=" + strconv.Itoa(concurrency), "WXACODE_LOG_LEVEL=error",
	}
	exe, err := executable()
	if err != nil {
		return err
	}
	for i := range n {
		var args []string
		if extra != nil {
			args = extra(i)
		}
		cmd := exec.Command(exe, append([]string{"worker"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = io.Discard, stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		ar.workers = append(ar.workers, cmd)
	}
	ar.closers = append(ar.closers, func() { ar.stopWorkers() })
	deadline := time.Now().Add(timeout)
	for {
		// asynq's heartbeater registers each server at its start.
		k, err := ar.rdb.ZCard(ctx, "asynq:servers").Result()
		if err == nil && k >= int64(n) {
			return nil
		}
		for _, w := range ar.workers {
			if w.ProcessState != nil {
				return fmt.Errorf("bench apps: a worker exited: %s", w.ProcessState)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench apps: %d workers with %d apps not started within %s (%d registered)", n, len(ar.apps), timeout, k)
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
}

// workerCPU sums the running workers' user+system time from /proc.
func (ar *appsRig) workerCPU() (time.Duration, error) {
	var total time.Duration
	for _, w := range ar.workers {
		d, err := procCPU(w.Process.Pid)
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}

// procCPU is utime+stime of a process (/proc/PID/stat fields 14 and 15,
// in clock ticks of 1/100 s).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: split after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return time.Duration(u+st) * 10 * time.Millisecond, nil
}

// enqueueApps puts per[app] distinct scene jobs for each app, 8 apps at a
// time, and returns when each app's enqueue started.
func (ar *appsRig) enqueueApps(ctx context.Context, apps []string, per int) (map[string]time.Time, error) {
	client := asynqClient(ar)
	started := make(map[string]time.Time, len(apps))
	var mu sync.Mutex
	var next atomic.Int64
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(apps) {
					errs <- nil
					return
				}
				mu.Lock()
				started[apps[i]] = time.Now()
				mu.Unlock()
				if err := enqueueOne(ctx, client, ar.pacer(), apps[i], per); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var first error
	for range 8 {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return started, first
}

// enqueueOne enqueues n scenes for app through the product's enqueuer.
// Like `wxacode enqueue`, it paces the jobs on the app's fleet-wide
// schedule.
func enqueueOne(ctx context.Context, client *asynq.Client, pacer jobs.Pacer, app string, n int) error {
	e := jobs.NewEnqueuer(client, jobs.EnqueueConfig{Workers: min(16, max(1, n/64)), Pacer: pacer})
	rd, w := io.Pipe()
	defer rd.Close()
	go func() {
		bw := bufio.NewWriterSize(w, 64<<10)
		for i := range n {
			if _, err := fmt.Fprintf(bw, "s%08d\n", i); err != nil {
				return
			}
		}
		_ = bw.Flush()
		w.Close()
	}()
	reader, _ := jobs.NewReader(rd, jobs.FormatLines, jobs.Job{App: app, Params: code.Params{Page: "pages/index/index"}})
	sum, err := e.Run(ctx, reader, func(jobs.Job) error { return nil }, func(*jobs.RowError) {})
	if err == nil && sum.Enqueued != int64(n) {
		err = fmt.Errorf("bench apps: %s: enqueued %d of %d", app, sum.Enqueued, n)
	}
	return err
}

func asynqClient(ar *appsRig) *asynq.Client { return asynq.NewClientFromRedisClient(ar.rdb) }

// pacer is the producers' pacer, as `wxacode enqueue` builds it.
func (ar *appsRig) pacer() jobs.Pacer { return worker.Pacer(ratelimit.New(ar.rdb, ratelimit.Config{})) }

// callsOf sums the fake's interface B calls of the apps.
func (ar *appsRig) callsOf(apps []string) int64 {
	st := ar.fake.Stats()
	var n int64
	for _, a := range apps {
		n += st.Calls[a]
	}
	return n
}

// waitStored waits until the apps' calls reached want at the fake (no
// Redis command), then until their ledgers count want outcomes; it returns
// when the last was recorded, or an error at the deadline.
func (ar *appsRig) waitStored(ctx context.Context, apps []string, want int64, deadline time.Time) (time.Time, error) {
	for ar.callsOf(apps) < want {
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("bench apps: %d of %d codes called by the deadline", ar.callsOf(apps), want)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return time.Time{}, err
		}
	}
	for {
		n, err := ar.meter.doneOf(ctx, apps)
		if err != nil {
			return time.Time{}, err
		}
		if n >= want {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("bench apps: %d of %d codes recorded by the deadline", n, want)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return time.Time{}, err
		}
	}
}

// redisMeter reads Redis's command counters on one connection of its own
// and counts the commands it sends, so they can be taken out.
type redisMeter struct {
	rdb  *redis.Client
	mine map[string]int64 // commands sent since the first reading, by name
}

// redisCounts is one reading of INFO commandstats: calls per command
// (commands run inside scripts included, as Redis counts them).
type redisCounts struct {
	calls map[string]int64
	mine  map[string]int64
	at    time.Time
}

func newRedisMeter(ctx context.Context, addr string) (*redisMeter, error) {
	m := &redisMeter{rdb: redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1, MinIdleConns: 1}), mine: map[string]int64{}}
	if err := m.rdb.Ping(ctx).Err(); err != nil { // sets the connection up before any reading
		m.rdb.Close()
		return nil, err
	}
	return m, nil
}

func (m *redisMeter) close() { m.rdb.Close() }

func (m *redisMeter) read(ctx context.Context) (redisCounts, error) {
	info, err := m.rdb.Info(ctx, "commandstats").Result()
	m.mine["info"]++
	if err != nil {
		return redisCounts{}, err
	}
	c := redisCounts{calls: map[string]int64{}, mine: maps.Clone(m.mine), at: time.Now()}
	for _, line := range strings.Split(info, "\r\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls=")
		if !ok || !strings.HasPrefix(line, "cmdstat_") {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		c.calls[name], _ = strconv.ParseInt(n, 10, 64)
	}
	return c, nil
}

// doneOf sums the apps' ledger outcomes (one command per app).
func (m *redisMeter) doneOf(ctx context.Context, apps []string) (int64, error) {
	led := jobs.NewLedger(m.rdb, "")
	var total int64
	for _, a := range apps {
		t, err := led.Totals(ctx, a)
		m.mine["hgetall"]++
		if err != nil {
			return 0, err
		}
		total += t["stored"] + t["skipped"] + t["failed"]
	}
	return total, nil
}

// delta is the Redis commands between two readings by name, the meter's
// own taken out, and their total.
func delta(a, b redisCounts) (map[string]int64, int64) {
	out := map[string]int64{}
	var total int64
	for name, n := range b.calls {
		d := n - a.calls[name] - (b.mine[name] - a.mine[name])
		if d > 0 {
			out[name] = d
			total += d
		}
	}
	return out, total
}

// topCommands formats the biggest entries of d, each divided by per.
func topCommands(d map[string]int64, per float64, n int) string {
	names := slices.Collect(maps.Keys(d))
	slices.SortFunc(names, func(x, y string) int { return cmp.Compare(d[y], d[x]) })
	parts := make([]string, 0, n)
	for _, name := range names[:min(n, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.1f", name, float64(d[name])/per))
	}
	return strings.Join(parts, ", ")
}
