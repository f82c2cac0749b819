package ratelimitbench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/ratelimit"
)

// DurationEnv overrides the default duration (a Go duration, e.g. "90s").
const DurationEnv = "WXACODE_RLBENCH_DURATION"

// Options describes one benchmark run. The zero value is the reference run:
// 3 processes x 50 goroutines at 4800/min for 70 s on a private Redis.
type Options struct {
	// Duration of the measured run. Zero: $WXACODE_RLBENCH_DURATION, else 70s.
	Duration time.Duration
	// Processes is the number of child OS processes. Zero: 3.
	Processes int
	// Goroutines per process, each calling Wait in a loop. Zero: 50.
	Goroutines int
	// PerMinute is the app's cap, set with force if above 5000. Zero: 4800.
	PerMinute int
	// Burst of the limiter. Zero: the ratelimit default (5).
	Burst int
	// Window is the length of the sliding window checked. Zero: 60s.
	Window time.Duration
	// RedisAddr is the Redis to use; its limiter keys for App are deleted
	// first. Empty: a private redis-server is started and stopped.
	RedisAddr string
	// App is the app ID. Empty: "wxbench".
	App string
	// Executable is the program re-executed as each child; it must call
	// ChildMain when IsChild (see the package doc). Empty: os.Executable().
	Executable string
	// Progress receives a line per phase. Nil: nothing is written.
	Progress io.Writer
}

// Result holds the measured figures of one run.
type Result struct {
	Options Options
	// Calls granted with a start time inside the run, and the rate they make.
	Calls             int
	AchievedPerMinute float64
	// Ratio is AchievedPerMinute / PerMinute (goal: at least 0.995).
	Ratio float64
	// MaxInWindowLocal is the most calls in any Window by the machine clock
	// when the callers woke up; MaxInWindowRedis the same by slot times in
	// Redis time (the quantity the limiter guarantees). Bound is
	// floor(Window/T) + Burst: cap + burst for a 60 s window.
	MaxInWindowLocal, MaxInWindowRedis, Bound int
	// RoundTrips counts script calls (EVALSHA, EVAL) of all children after
	// their warm-up (one State call each, which loads the script).
	RoundTrips        int64
	RoundTripsPerCall float64
	// Errors counts failed Wait calls (other than the end of the run).
	Errors     int64
	FirstError string
}

func (o Options) withDefaults() (Options, error) {
	if o.Duration == 0 {
		if s := os.Getenv(DurationEnv); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil {
				return o, fmt.Errorf("ratelimitbench: %s: %w", DurationEnv, err)
			}
			o.Duration = d
		}
	}
	o.Duration = cmp.Or(o.Duration, 70*time.Second)
	o.Processes = cmp.Or(o.Processes, 3)
	o.Goroutines = cmp.Or(o.Goroutines, 50)
	o.PerMinute = cmp.Or(o.PerMinute, ratelimit.DefaultPerMinute)
	o.Burst = cmp.Or(o.Burst, 5)
	o.Window = cmp.Or(o.Window, time.Minute)
	o.App = cmp.Or(o.App, "wxbench")
	o.Progress = cmp.Or(o.Progress, io.Writer(io.Discard))
	if o.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			exe = os.Args[0]
		}
		o.Executable = exe
	}
	return o, nil
}

// Run starts the children, waits for them and computes the figures. It
// fails if Redis cannot be started or reached, or if a child fails; a
// violated bound is reported in the Result, not as an error.
func Run(ctx context.Context, opts Options) (Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return Result{}, err
	}
	addr, stop, err := redisFor(o)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	if err := prepare(ctx, addr, o); err != nil {
		return Result{}, err
	}
	start := time.Now().Add(2 * time.Second) // time for the children to start
	spec := childSpec{Addr: addr, App: o.App, Goroutines: o.Goroutines, Burst: o.Burst,
		Start: start.UnixNano(), End: start.Add(o.Duration).UnixNano()}
	fmt.Fprintf(o.Progress, "ratelimitbench: %d processes x %d goroutines at %d/min for %v on %s\n",
		o.Processes, o.Goroutines, o.PerMinute, o.Duration, addr)
	children, err := runChildren(ctx, o, spec)
	if err != nil {
		return Result{}, err
	}
	return summarize(o, spec, children), nil
}

// redisFor returns the Redis address to use and how to release it.
func redisFor(o Options) (string, func(), error) {
	if o.RedisAddr != "" {
		return o.RedisAddr, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "ratelimitbench-")
	if err != nil {
		return "", nil, err
	}
	srv, err := redistest.StartProcess(dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return srv.Addr, func() { srv.Stop(); os.RemoveAll(dir) }, nil
}

// prepare resets the app's limiter state and sets its cap.
func prepare(ctx context.Context, addr string, o Options) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.Del(ctx, ratelimit.Keys("", o.App)...).Err(); err != nil {
		return fmt.Errorf("ratelimitbench: reset %s: %w", o.App, err)
	}
	l := ratelimit.New(rdb, ratelimit.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return l.SetCap(ctx, o.App, o.PerMinute, o.PerMinute > ratelimit.WeChatMaxPerMinute)
}

func runChildren(ctx context.Context, o Options, spec childSpec) ([]childResult, error) {
	env, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmds := make([]*exec.Cmd, o.Processes)
	outs := make([]*bytes.Buffer, o.Processes)
	for i := range cmds {
		outs[i] = new(bytes.Buffer)
		cmds[i] = exec.CommandContext(ctx, o.Executable)
		cmds[i].Env = append(os.Environ(), ChildEnv+"="+string(env))
		cmds[i].Stdout, cmds[i].Stderr = outs[i], o.Progress
		if err := cmds[i].Start(); err != nil {
			return nil, fmt.Errorf("ratelimitbench: start child %d: %w", i, err)
		}
	}
	var errs []error
	res := make([]childResult, o.Processes)
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("ratelimitbench: child %d: %w", i, err))
			continue
		}
		if err := json.Unmarshal(outs[i].Bytes(), &res[i]); err != nil {
			errs = append(errs, fmt.Errorf("ratelimitbench: child %d output: %w", i, err))
		}
	}
	return res, errors.Join(errs...)
}

func summarize(o Options, spec childSpec, children []childResult) Result {
	r := Result{Options: o}
	var local, slots []int64
	for _, c := range children {
		local = append(local, c.Local...)
		slots = append(slots, c.Slots...)
		r.RoundTrips += c.RoundTrips
		r.Errors += c.Errors
		r.FirstError = cmp.Or(r.FirstError, c.FirstError)
	}
	r.Calls = countIn(local, spec.Start, spec.End)
	r.AchievedPerMinute = float64(r.Calls) / o.Duration.Minutes()
	r.Ratio = r.AchievedPerMinute / float64(o.PerMinute)
	r.MaxInWindowLocal = maxInWindow(local, o.Window, time.Nanosecond)
	r.MaxInWindowRedis = maxInWindow(slots, o.Window, time.Microsecond)
	interval := (60_000_000 + int64(o.PerMinute) - 1) / int64(o.PerMinute) // µs, as in the script
	r.Bound = int(o.Window.Microseconds()/interval) + o.Burst
	if len(local) > 0 {
		r.RoundTripsPerCall = float64(r.RoundTrips) / float64(len(local))
	}
	return r
}

// String prints the figures in the form used in BENCHMARKS.md.
func (r Result) String() string {
	o := r.Options
	return fmt.Sprintf("%d processes x %d goroutines, cap %d/min, burst %d, %v:\n"+
		"  calls %d, achieved %.1f/min = %.4f of the cap\n"+
		"  max in any %v window: %d by slot (Redis time), %d by wake-up (machine clock); bound cap+burst = %d\n"+
		"  Redis round trips %d = %.3f per call; errors %d %s",
		o.Processes, o.Goroutines, o.PerMinute, o.Burst, o.Duration,
		r.Calls, r.AchievedPerMinute, r.Ratio,
		o.Window, r.MaxInWindowRedis, r.MaxInWindowLocal, r.Bound,
		r.RoundTrips, r.RoundTripsPerCall, r.Errors, r.FirstError)
}
