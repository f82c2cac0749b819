package bench

import (
	"context"

	"github.com/spf13/cobra"

	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/httpserver"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat/wechattest"
	"github.com/wxacode/wxacode/worker"
)

const benchApp = "wxbench00000000001"

// rig is a private Redis, a fake WeChat on a loopback port, a local store
// directory and worker child processes: the whole system, locally.
type rig struct {
	redis   *redistest.Server
	rdb     *redis.Client
	fake    *wechattest.Server
	fakeURL string
	dir     string
	workers []*exec.Cmd
	closers []func()
}

func newRig(stderr io.Writer, o wechattest.Options) (*rig, error) {
	r := &rig{}
	srv, stop, err := benchRedis(stderr)
	if err != nil {
		return nil, err
	}
	r.redis, r.closers = srv, append(r.closers, stop)
	r.rdb = redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 32})
	r.closers = append(r.closers, func() { r.rdb.Close() })
	if o.Apps == nil {
		o.Apps = map[string]string{benchApp: "bench-secret"}
	}
	r.fake = wechattest.New(o)
	hs, err := httpserver.Listen("127.0.0.1:0", r.fake, httpserver.Unlimited, nil)
	if err != nil {
		r.close()
		return nil, err
	}
	r.fakeURL = "http://" + hs.Addr()
	r.closers = append(r.closers, func() { hs.Close() })
	if r.dir, err = os.MkdirTemp("", "wxacode-bench-store-*"); err != nil {
		r.close()
		return nil, err
	}
	r.closers = append(r.closers, func() { os.RemoveAll(r.dir) })
	return r, nil
}

func (r *rig) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

// enqueue puts n distinct scene jobs for the bench app.
func (r *rig) enqueue(ctx context.Context, n int) error {
	e := jobs.NewEnqueuer(asynq.NewClientFromRedisClient(r.rdb), jobs.EnqueueConfig{Workers: 16, Pacer: worker.Pacer(ratelimit.New(r.rdb, ratelimit.Config{}))})
	rd, w := io.Pipe()
	defer rd.Close() // stops the writer if Run ends early
	go func() {
		for i := range n {
			if _, err := fmt.Fprintf(w, "b%08d\n", i); err != nil {
				return
			}
		}
		w.Close()
	}()
	reader, _ := jobs.NewReader(rd, jobs.FormatLines, jobs.Job{App: benchApp, Params: code.Params{Page: "pages/index/index"}})
	sum, err := e.Run(ctx, reader, func(jobs.Job) error { return nil }, func(*jobs.RowError) {})
	if err == nil && sum.Enqueued != int64(n) {
		err = fmt.Errorf("bench: enqueued %d of %d", sum.Enqueued, n)
	}
	return err
}

// startWorkers starts n `wxacode worker` child processes.
func (r *rig) startWorkers(n, rate, concurrency int, stderr io.Writer) error {
	env := []string{
		"WXACODE_REDIS_URL=" + r.redis.URL(), "WXACODE_APPID=" + benchApp, "WXACODE_SECRET=bench-secret",
		"WXACODE_STORAGE_URL=file://" + r.dir, "WXACODE_WECHAT_BASE_URL=" + r.fakeURL,
		"WXACODE_RATE_PER_MINUTE=" + strconv.Itoa(rate), "WXACODE_FORCE_RATE=true",
		"WXACODE_CONCURRENCY=" + strconv.Itoa(concurrency), "WXACODE_LOG_LEVEL=error", "WXACODE_APPS_FILE=",
	}
	exe, err := executable()
	if err != nil {
		return err
	}
	for range n {
		cmd := exec.Command(exe, "worker")
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = io.Discard, stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		r.workers = append(r.workers, cmd)
	}
	r.closers = append(r.closers, func() { r.stopWorkers() })
	return nil
}

// stopWorkers sends SIGTERM to every worker, waits, and returns their
// summed CPU time.
func (r *rig) stopWorkers() time.Duration {
	var cpu time.Duration
	for _, w := range r.workers {
		_ = w.Process.Signal(syscall.SIGTERM)
	}
	for _, w := range r.workers {
		_ = w.Wait()
		if ru, ok := w.ProcessState.SysUsage().(*syscall.Rusage); ok {
			cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	r.workers = nil
	return cpu
}

// done counts jobs with an outcome in the ledger.
func (r *rig) done(ctx context.Context) (int64, error) {
	t, err := jobs.NewLedger(r.rdb, "").Totals(ctx, benchApp)
	return t["stored"] + t["skipped"] + t["failed"], err
}

func init() {
	Register(func() *cobra.Command {
		var procs string
		var dur, warm, med, p99 time.Duration
		var rate int
		cmd := &cobra.Command{
			Use:   "throughput",
			Short: "Calls per minute against the cap with 1 and 3 worker processes on one app",
			Long: `bench throughput runs worker processes on one app against the fake WeChat (5000
calls per sliding 60 s, log-normal latency) and measures the calls per minute, their
ratio to the cap, 45009 answers and the most calls in any 60 s window.`,
			Example: "  wxacode bench throughput --workers 1,3 --duration 3m",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				stdout := cmd.OutOrStdout()
				fmt.Fprintf(stdout, "cap %d/min, fake: 5000 per sliding 60 s, latency median %s p99 %s, measured %s after %s warm-up\n", rate, med, p99, dur, warm)
				fmt.Fprintln(stdout, "workers  calls/min  ratio to cap  45009s  max calls in any 60 s window")
				for _, f := range strings.Split(procs, ",") {
					n, err := strconv.Atoi(strings.TrimSpace(f))
					if err != nil || n < 1 {
						return usagef("--workers: %q is not a positive number", f)
					}
					if err := throughputOnce(cmd.Context(), n, rate, dur, warm, med, p99, stdout, cmd.ErrOrStderr()); err != nil {
						return err
					}
				}
				return nil
			},
		}
		fs := cmd.Flags()
		fs.StringVar(&procs, "workers", "1,3", "worker process counts to run, one after the other")
		fs.DurationVar(&dur, "duration", 3*time.Minute, "measured time per run (after warm-up)")
		fs.DurationVar(&warm, "warmup", 15*time.Second, "time before measuring")
		fs.IntVar(&rate, "rate", 4800, "the app's cap per minute")
		fs.DurationVar(&med, "latency-median", 150*time.Millisecond, "fake's median latency")
		fs.DurationVar(&p99, "latency-p99", time.Second, "fake's p99 latency")
		return cmd
	})
}

func throughputOnce(ctx context.Context, n, rate int, dur, warm, med, p99 time.Duration, stdout, stderr io.Writer) error {
	r, err := newRig(stderr, wechattest.Options{RateLimit: 5000, RateWindow: time.Minute, LatencyMedian: med, LatencyP99: p99})
	if err != nil {
		return err
	}
	defer r.close()
	total := int(float64(rate) * (dur + warm + 30*time.Second).Minutes())
	if err := r.enqueue(ctx, total); err != nil {
		return err
	}
	if err := r.startWorkers(n, rate, 120, stderr); err != nil {
		return err
	}
	if err := sleepCtx(ctx, warm); err != nil {
		return err
	}
	c0 := r.fake.Stats().Calls[benchApp]
	if err := sleepCtx(ctx, dur); err != nil {
		return err
	}
	st := r.fake.Stats()
	perMin := float64(st.Calls[benchApp]-c0) / dur.Minutes()
	fmt.Fprintf(stdout, "%-8d %-10.0f %-13.4f %-7d %d\n", n, perMin, perMin/float64(rate), st.Errcodes[45009], st.MaxWindowCalls[benchApp])
	return nil
}

func init() {
	Register(func() *cobra.Command {
		var n, conc int
		cmd := &cobra.Command{
			Use:     "cost",
			Short:   "Worker CPU per code, against the fake at zero latency without a rate limit",
			Example: "  wxacode bench cost --jobs 20000",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return benchCost(cmd.Context(), n, conc, cmd.OutOrStdout(), cmd.ErrOrStderr())
			},
		}
		cmd.Flags().IntVar(&n, "jobs", 20000, "jobs to run")
		cmd.Flags().IntVar(&conc, "concurrency", 64, "worker concurrency")
		return cmd
	})
}

func benchCost(ctx context.Context, jobsN, conc int, stdout, stderr io.Writer) error {
	n, concP := &jobsN, &conc
	r, err := newRig(stderr, wechattest.Options{RateLimit: -1})
	if err != nil {
		return err
	}
	defer r.close()
	if err := r.enqueue(ctx, *n); err != nil {
		return err
	}
	start := time.Now()
	if err := r.startWorkers(1, 1_000_000, *concP, stderr); err != nil {
		return err
	}
	for {
		d, err := r.done(ctx)
		if err != nil {
			return err
		}
		if d >= int64(*n) {
			break
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	wall := time.Since(start)
	cpu := r.stopWorkers()
	fmt.Fprintf(stdout, "jobs %d, wall %s (%.0f jobs/s), worker CPU %s: %.0f jobs per CPU-second, %.0f µs CPU per job\n",
		*n, wall.Round(time.Millisecond), float64(*n)/wall.Seconds(), cpu.Round(time.Millisecond),
		float64(*n)/cpu.Seconds(), float64(cpu.Microseconds())/float64(*n))
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
