package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/wechat/wechattest"
)

// bench recovery (issue 21): how much of what WeChat allows the fleet uses
// after WeChat refuses calls with 45009, on both window models.

// recoveryConfig is what every run of one `bench recovery` shares.
type recoveryConfig struct {
	Scenes        int           // scenes per run; 0: each scenario's default
	Duration      time.Duration // a run still unfinished after this is stopped
	Workers       int           // worker child processes
	Concurrency   int           // jobs in flight per worker
	At            time.Duration // when drop lowers the limit and isolated starts refusing
	RaiseAt       time.Duration // when rise raises the limit
	IsolatedEvery time.Duration // isolated's period between refusals
	CountRefused  bool          // the fake counts refused calls in its window (the harsher model)
}

// recoveryScenario is one way WeChat refuses calls, and the run it is
// injected into.
type recoveryScenario struct {
	name   string
	cap    int // the fleet's cap per minute
	limit  int // the fake's limit at the start
	scenes int // default scene count: enough that the work outlasts the measured 2 minutes
	// limitText describes the limit for the table.
	limitText func(cfg recoveryConfig) string
	// inject runs beside the run from the workers' start until it returns
	// or the run ends (ctx cancelled).
	inject func(ctx context.Context, rr *recoveryRun) error
	// fromRaise: the time to 0.95 counts from the raise, not the first 45009.
	fromRaise bool
	// baseline: also run without faults and compare the wall times.
	baseline bool
}

func recoveryScenarios() []recoveryScenario {
	return []recoveryScenario{
		{name: "drop", cap: 2400, limit: 2500, scenes: 4500,
			limitText: func(c recoveryConfig) string { return "2500→1500@" + c.At.String() },
			inject: func(ctx context.Context, rr *recoveryRun) error {
				if err := sleepCtx(ctx, rr.cfg.At); err != nil {
					return err
				}
				rr.setLimit(1500)
				return nil
			}},
		{name: "rise", cap: 2400, limit: 1500, scenes: 5000, fromRaise: true,
			limitText: func(c recoveryConfig) string { return "1500→2500@" + c.RaiseAt.String() },
			inject: func(ctx context.Context, rr *recoveryRun) error {
				if err := sleepCtx(ctx, rr.cfg.RaiseAt); err != nil {
					return err
				}
				rr.setLimit(2500)
				return nil
			}},
		{name: "storm", cap: 4800, limit: 5000, scenes: 3000, baseline: true,
			limitText: func(recoveryConfig) string { return "5000, storm" },
			inject:    injectRecoveryStorm},
		{name: "isolated", cap: 2400, limit: 5000, scenes: 6400,
			limitText: func(c recoveryConfig) string { return "5000, 1/" + c.IsolatedEvery.String() },
			inject: func(ctx context.Context, rr *recoveryRun) error {
				if err := sleepCtx(ctx, rr.cfg.At); err != nil {
					return err
				}
				// One refusal now, then one every IsolatedEvery from the next call on.
				rr.r.fake.BurstRateLimit(benchApp, 1)
				rr.r.fake.Update(func(o *wechattest.Options) { o.IsolatedEvery = rr.cfg.IsolatedEvery })
				return nil
			}},
	}
}

// injectRecoveryStorm is the chaos suite's storm (chaos_scenarios.go
// injectStorm): every call refused for 10 s at 25% done, then the next 30
// calls at 60% done.
func injectRecoveryStorm(ctx context.Context, rr *recoveryRun) error {
	if err := rr.waitDone(ctx, 0.25); err != nil {
		return err
	}
	rr.setLimit(1)
	err := sleepCtx(ctx, 10*time.Second)
	rr.setLimit(5000)
	if err != nil {
		return err
	}
	if err := rr.waitDone(ctx, 0.6); err != nil {
		return err
	}
	rr.r.fake.BurstRateLimit(benchApp, 30)
	return nil
}

// limitChange is when the fake's limit became limit.
type limitChange struct {
	at    time.Time
	limit int
}

// recoveryRun is one scenario on one window model.
type recoveryRun struct {
	cfg    recoveryConfig
	r      *rig
	scenes int
	limits chan limitChange // written by inject, read after the run
}

func (rr *recoveryRun) setLimit(n int) {
	rr.r.fake.Update(func(o *wechattest.Options) { o.RateLimit = n })
	rr.limits <- limitChange{time.Now(), n}
}

func (rr *recoveryRun) waitDone(ctx context.Context, frac float64) error {
	want := int64(frac * float64(rr.scenes))
	for {
		if d, err := rr.r.done(ctx); err == nil && d >= want {
			return nil
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// recoveryOutcome is what one run measured.
type recoveryOutcome struct {
	start, end time.Time // workers started; last scene done (or the run stopped)
	finished   bool      // every scene done before --duration
	done       int64
	seconds    []wechattest.Second
	limits     []limitChange // the first is the limit from the start
	limiter    []string      // the limiter's episodes and learned models, as they changed
}

// limiterWatch samples the app's limiter state (ratelimit/doc.go's hash)
// and notes when an episode starts or ends and which window model and rate
// it ended with, so a row's figures can be read against what the limiter
// decided.
type limiterWatch struct {
	last  string
	notes []string
}

func (lw *limiterWatch) sample(ctx context.Context, rdb *redis.Client, since time.Duration) {
	v, err := rdb.HMGet(ctx, "wxacode:rl:{"+benchApp+"}:state", "ep_at", "eff", "win", "model", "ep_fail").Result()
	if err != nil || len(v) != 5 {
		return
	}
	str := func(x any) string { s, _ := x.(string); return s }
	eff, _ := strconv.ParseFloat(str(v[1]), 64)
	var note string
	if ep := str(v[0]); ep != "" && ep != "0" {
		note = "paused"
	} else {
		note = fmt.Sprintf("open %s/%s E %.0f", cmp.Or(str(v[3]), "-"), cmp.Or(str(v[2]), "-"), eff)
	}
	if note != lw.last {
		lw.last = note
		lw.notes = append(lw.notes, fmt.Sprintf("+%ds %s", int(since.Seconds()), note))
	}
}

func runRecovery(ctx context.Context, cfg recoveryConfig, sc recoveryScenario, fixed, faults bool, stderr io.Writer) (recoveryOutcome, error) {
	var out recoveryOutcome
	r, err := newRig(stderr, wechattest.Options{RateLimit: sc.limit, RateWindow: time.Minute, FixedWindow: fixed, CountRefused: cfg.CountRefused})
	if err != nil {
		return out, err
	}
	defer r.close()
	rr := &recoveryRun{cfg: cfg, r: r, scenes: sc.scenes, limits: make(chan limitChange, 16)}
	if cfg.Scenes > 0 {
		rr.scenes = cfg.Scenes
	}
	if err := r.enqueue(ctx, rr.scenes); err != nil {
		return out, err
	}
	out.start = time.Now()
	out.limits = []limitChange{{out.start, sc.limit}}
	if err := r.startWorkers(cfg.Workers, sc.cap, cfg.Concurrency, stderr); err != nil {
		return out, err
	}
	ictx, stop := context.WithCancel(ctx)
	injected := make(chan error, 1)
	go func() {
		if !faults {
			injected <- nil
			return
		}
		injected <- sc.inject(ictx, rr)
	}()
	deadline := out.start.Add(cfg.Duration)
	var lw limiterWatch
	for {
		lw.sample(ctx, r.rdb, time.Since(out.start))
		d, err := r.done(ctx)
		if err == nil {
			out.done = d
		}
		if d >= int64(rr.scenes) {
			out.finished = true
			break
		}
		if time.Now().After(deadline) {
			break
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			stop()
			return out, err
		}
	}
	out.end = time.Now()
	out.limiter = lw.notes
	stop()
	if err := <-injected; err != nil && ictx.Err() == nil {
		return out, err
	}
	for _, w := range r.workers { // measured: no need to wait for a drain
		_ = w.Process.Kill()
	}
	r.stopWorkers()
	close(rr.limits)
	for c := range rr.limits {
		out.limits = append(out.limits, c)
	}
	out.seconds = r.fake.Seconds(benchApp)
	return out, nil
}

// recoveryFigures are a run's row.
type recoveryFigures struct {
	firstRefusal time.Duration // from the start; -1: none
	used         float64       // share of what WeChat allowed used in the 2 minutes after it; -1: no refusal
	recover      time.Duration // to 0.95; -1: never
	refusedShare float64       // 45009s / interface B calls
	refused      int
	calls        int
}

// limitAt is the limit in force at t.
func limitAt(limits []limitChange, t time.Time) int {
	l := limits[0].limit
	for _, c := range limits[1:] {
		if !t.Before(c.at) {
			l = c.limit
		}
	}
	return l
}

// allowedPerMinute is min(limit, cap); a negative limit is no limit.
func allowedPerMinute(limit, cap int) float64 {
	if limit < 0 || limit > cap {
		return float64(cap)
	}
	return float64(limit)
}

// recoveryWindow is the span after the first refusal that the used share
// measures.
const recoveryWindow = 120 * time.Second

// recoveryTrail is the trailing span of the rate that must reach 0.95.
const recoveryTrail = 10

// figures computes a run's row from the fake's per-second record. Seconds
// are whole Unix seconds; a second counts when it starts at or after t1
// and before the end of the span.
func (o recoveryOutcome) figures(cap int, fromRaise bool) recoveryFigures {
	f := recoveryFigures{firstRefusal: -1, used: -1, recover: -1}
	perSec := map[int64]wechattest.Second{}
	var t1 int64 = -1
	for _, s := range o.seconds {
		perSec[s.Unix] = s
		f.calls += s.Accepted + s.Refused
		f.refused += s.Refused
		if s.Refused > 0 && t1 < 0 {
			t1 = s.Unix
		}
	}
	if f.calls > 0 {
		f.refusedShare = float64(f.refused) / float64(f.calls)
	}
	if t1 < 0 {
		return f
	}
	f.firstRefusal = time.Unix(t1, 0).Sub(o.start).Round(time.Second)
	end := min(t1+int64(recoveryWindow/time.Second), o.end.Unix())
	var accepted, allowed float64
	for s := t1; s < end; s++ {
		accepted += float64(perSec[s].Accepted)
		allowed += allowedPerMinute(limitAt(o.limits, time.Unix(s, 5e8)), cap) / 60
	}
	if allowed > 0 {
		f.used = accepted / allowed
	}
	ref := t1
	if fromRaise && len(o.limits) > 1 {
		last := o.limits[len(o.limits)-1].at
		ref = last.Unix() + 1 // the first whole second at the raised limit
	}
	final := allowedPerMinute(o.limits[len(o.limits)-1].limit, cap)
	target := 0.95 * final * recoveryTrail / 60
	var sum int
	for s := ref; s < o.end.Unix(); s++ {
		sum += perSec[s].Accepted
		if s-recoveryTrail >= ref {
			sum -= perSec[s-recoveryTrail].Accepted
		}
		if s-ref+1 >= recoveryTrail && float64(sum) >= target {
			f.recover = time.Duration(s+1-ref) * time.Second
			break
		}
	}
	return f
}

// timeline is the accepted and refused calls per 10 s of the run.
func (o recoveryOutcome) timeline() string {
	var b strings.Builder
	t0 := o.start.Unix()
	acc, ref := map[int64]int{}, map[int64]int{}
	var last int64
	for _, s := range o.seconds {
		k := (s.Unix - t0) / 10
		acc[k] += s.Accepted
		ref[k] += s.Refused
		last = max(last, k)
	}
	for k := int64(0); k <= last; k++ {
		if ref[k] > 0 {
			fmt.Fprintf(&b, " %d/%d", acc[k], ref[k])
		} else {
			fmt.Fprintf(&b, " %d", acc[k])
		}
	}
	return b.String()
}

const recoveryHeader = "scenario  window   cap   limit                 1st 45009  used 2 min after  to 0.95   45009s/calls      done         wall      vs no faults"

func durOrDash(d time.Duration, none string) string {
	if d < 0 {
		return none
	}
	return d.Round(time.Second).String()
}

func (o recoveryOutcome) wall(cfg recoveryConfig) string {
	if !o.finished {
		return ">" + cfg.Duration.String()
	}
	return o.end.Sub(o.start).Round(100 * time.Millisecond).String()
}

func recoveryRow(cfg recoveryConfig, sc recoveryScenario, window string, scenes int, o recoveryOutcome, base *recoveryOutcome) string {
	f := o.figures(sc.cap, sc.fromRaise)
	used := "-"
	if f.used >= 0 {
		used = fmt.Sprintf("%.3f", f.used)
	}
	vs := "-"
	if base != nil {
		if o.finished && base.finished {
			vs = fmt.Sprintf("%.2fx (%s)", o.end.Sub(o.start).Seconds()/base.end.Sub(base.start).Seconds(), base.wall(cfg))
		} else {
			vs = fmt.Sprintf("? (%s)", base.wall(cfg))
		}
	}
	return fmt.Sprintf("%-9s %-8s %-5d %-21s %-10s %-16s %-9s %-17s %-12s %-9s %s", sc.name, window, sc.cap, sc.limitText(cfg),
		durOrDash(f.firstRefusal, "none"), used, durOrDash(f.recover, "never"),
		fmt.Sprintf("%.2f%% (%d/%d)", 100*f.refusedShare, f.refused, f.calls),
		fmt.Sprintf("%d/%d", o.done, scenes), o.wall(cfg), vs)
}

func pickRecovery(names string) ([]recoveryScenario, error) {
	all := recoveryScenarios()
	var out []recoveryScenario
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, sc := range all {
			if sc.name == n {
				out, found = append(out, sc), true
			}
		}
		if !found {
			return nil, usagef("--scenarios: no scenario %q (drop, rise, storm, isolated)", n)
		}
	}
	return out, nil
}

func pickWindows(names string) ([]bool, error) {
	var out []bool
	for _, n := range strings.Split(names, ",") {
		switch strings.TrimSpace(n) {
		case "sliding":
			out = append(out, false)
		case "fixed":
			out = append(out, true)
		default:
			return nil, usagef("--windows: %q is neither sliding nor fixed", n)
		}
	}
	return out, nil
}

func benchRecovery(ctx context.Context, cfg recoveryConfig, scenarios, windows string, stdout, stderr io.Writer) error {
	list, err := pickRecovery(scenarios)
	if err != nil {
		return err
	}
	wins, err := pickWindows(windows)
	if err != nil {
		return err
	}
	if cfg.Workers < 1 || cfg.Concurrency < 1 || cfg.Duration <= 0 || cfg.Scenes < 0 || cfg.IsolatedEvery <= 0 {
		return usagef("--workers, --concurrency, --duration and --isolated-every must be positive, --scenes ≥ 0")
	}
	host, _ := os.Hostname()
	load, _ := os.ReadFile("/proc/loadavg")
	counted := "accepted calls only"
	if cfg.CountRefused {
		counted = "accepted and refused calls"
	}
	fmt.Fprintf(stdout, "bench recovery, %s on %s (load %s): %d workers x %d jobs on one app, fake WeChat without latency, 60 s window counting %s; runs stop after %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), host, strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "),
		cfg.Workers, cfg.Concurrency, counted, cfg.Duration)
	fmt.Fprintln(stdout, recoveryHeader)
	start := time.Now()
	for _, sc := range list {
		for _, fixed := range wins {
			window := "sliding"
			if fixed {
				window = "fixed"
			}
			scenes := sc.scenes
			if cfg.Scenes > 0 {
				scenes = cfg.Scenes
			}
			var base *recoveryOutcome
			if sc.baseline {
				b, err := runRecovery(ctx, cfg, sc, fixed, false, stderr)
				if err != nil {
					return err
				}
				base = &b
			}
			o, err := runRecovery(ctx, cfg, sc, fixed, true, stderr)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, recoveryRow(cfg, sc, window, scenes, o, base))
			fmt.Fprintf(stdout, "  %s/%s accepted[/refused] per 10 s:%s\n", sc.name, window, o.timeline())
			fmt.Fprintf(stdout, "  %s/%s limiter (model/window learned, E per minute): %s\n", sc.name, window, strings.Join(o.limiter, ", "))
		}
	}
	fmt.Fprintf(stdout, "recovery: done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

func init() {
	Register(func() *cobra.Command {
		var cfg recoveryConfig
		var scenarios, windows string
		cmd := &cobra.Command{
			Use:   "recovery",
			Short: "Throughput lost after WeChat's 45009: limit drop and rise, storm, isolated refusals, sliding and fixed windows",
			Long: `bench recovery (issue 21) runs worker processes on one app against the fake WeChat
(60 s window, sliding or calendar-aligned "fixed", counting only the calls it accepted
unless --count-refused) and makes WeChat refuse calls:
  drop      cap 2400, limit 2500, lowered silently to 1500 at --at (25 s)
  rise      cap 2400, limit 1500 from the start, raised silently to 2500 at --raise-at (90 s)
  storm     cap 4800, limit 5000: the chaos suite's storm (every call refused for 10 s at
            25% done, then the next 30 calls at 60% done); also run without faults
  isolated  cap 2400, limit 5000: one 45009 at --at, then one every --isolated-every
One row per scenario and window:
  1st 45009         when the first call was refused, from the workers' start
  used 2 min after  calls WeChat accepted in the 120 s from the first refusal's second
                    divided by what it allowed then: the sum over those seconds of
                    min(limit in force, cap)/60; the span ends early when the work runs out
  to 0.95           from the first refusal (rise: from the raise) until the accepted calls
                    of a trailing 10 s window wholly after it reach 0.95 x min(final limit,
                    cap) x 10/60 (10 s at best; "never" within the run)
  45009s/calls      refused interface B calls / all interface B calls of the run
  wall              workers' start to the last scene done (">D": stopped at --duration)
  vs no faults      storm: wall / wall of the same run without faults
Accepted means passed the fake's rate check (its per-second record, /_fake/seconds).`,
			Example: "  wxacode bench recovery --scenarios drop,rise,storm,isolated --windows sliding,fixed",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return benchRecovery(cmd.Context(), cfg, scenarios, windows, cmd.OutOrStdout(), cmd.ErrOrStderr())
			},
		}
		fs := cmd.Flags()
		fs.StringVar(&scenarios, "scenarios", "drop,rise,storm,isolated", "scenarios to run, in this order")
		fs.StringVar(&windows, "windows", "sliding,fixed", "the fake's window models to run each scenario on")
		fs.IntVar(&cfg.Scenes, "scenes", 0, "scenes per run (0: drop 4500, rise 5000, storm 3000, isolated 6400)")
		fs.DurationVar(&cfg.Duration, "duration", 8*time.Minute, "stop a run still unfinished after this")
		fs.IntVar(&cfg.Workers, "workers", 3, "worker processes")
		fs.IntVar(&cfg.Concurrency, "concurrency", 50, "jobs in flight per worker")
		fs.DurationVar(&cfg.At, "at", 25*time.Second, "when drop lowers the limit and isolated refuses first")
		fs.DurationVar(&cfg.RaiseAt, "raise-at", 90*time.Second, "when rise raises the limit")
		fs.DurationVar(&cfg.IsolatedEvery, "isolated-every", 2*time.Minute, "isolated: time between refusals")
		fs.BoolVar(&cfg.CountRefused, "count-refused", false, "the fake counts refused calls in its window too (the harsher model; WeChat documents neither)")
		return cmd
	})
}
