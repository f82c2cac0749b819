package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/jobs"
)

// appsConfig is what one `bench apps` shares.
type appsConfig struct {
	Apps        string        // app counts of the work rows, "" for none
	Codes       int           // codes per work row, split evenly over its apps
	Workers     int           // worker processes of the work and fairness rows
	Concurrency int           // jobs in flight per worker
	Settle      time.Duration // after start or work, before idle is measured
	Idle        time.Duration // idle span measured
	IdleApps    int           // apps configured in the idle rows; 0: none
	IdleWorkers string        // worker counts of the idle rows
	Fairness    bool
	Big         int           // the big app's pending codes
	SmallApps   int           // apps with SmallCodes each
	SmallCodes  int           // codes per small app
	Warmup      time.Duration // fairness: workers on the big app before the small ones arrive
	Measure     time.Duration // fairness: shortest span the big app's share is measured over
	Timeout     time.Duration // a worker start or a row's work taking longer fails the benchmark
	CPUProfile  string        // directory: each worker of the work rows writes a CPU profile there
	JSON        string        // file for the machine-readable summary
}

// appsRow is one work row: codes split over apps.
type appsRow struct {
	Apps         int     `json:"apps"`
	Codes        int     `json:"codes"`
	Workers      int     `json:"workers"`
	StartSeconds float64 `json:"worker_start_seconds"`
	WallSeconds  float64 `json:"wall_seconds"`
	CallsPerCode float64 `json:"redis_commands_per_code"`
	CPUPerCodeMS float64 `json:"worker_cpu_ms_per_code"`
	IdleOps      float64 `json:"idle_redis_ops_per_second"`
	WorkTop      string  `json:"redis_commands_per_code_top"`
	IdleTop      string  `json:"idle_redis_ops_per_second_top"`
}

// idleRow is apps configured, no work.
type idleRow struct {
	Apps         int     `json:"apps"`
	Workers      int     `json:"workers"`
	StartSeconds float64 `json:"worker_start_seconds"`
	IdleOps      float64 `json:"idle_redis_ops_per_second"`
	IdleTop      string  `json:"idle_redis_ops_per_second_top"`
	IdleCPUShare float64 `json:"idle_worker_cpu_cores"`
}

// fairRow is the fairness run.
type fairRow struct {
	Big            int     `json:"big_pending"`
	SmallApps      int     `json:"small_apps"`
	SmallCodes     int     `json:"small_codes_each"`
	Workers        int     `json:"workers"`
	Cap            int     `json:"cap_per_minute"`
	EnqueueSeconds float64 `json:"big_enqueue_seconds"`
	StartSeconds   float64 `json:"worker_start_seconds"`
	MeasureSeconds float64 `json:"measured_seconds"`
	BigShare       float64 `json:"big_share_of_cap"`
	SmallsSeconds  float64 `json:"smalls_done_seconds"` // --timeout if not all were done
	SmallsDone     int     `json:"smalls_done"`
	P50Seconds     float64 `json:"small_delay_p50_seconds"`
	P99Seconds     float64 `json:"small_delay_p99_seconds"`
	MaxSeconds     float64 `json:"small_delay_max_seconds"`
}

type appsSummary struct {
	Work     []appsRow `json:"work,omitempty"`
	Idle     []idleRow `json:"idle,omitempty"`
	Fairness *fairRow  `json:"fairness,omitempty"`
}

// appsCap is the apps' cap: the default rate_per_minute.
const appsCap = 4800

func parseCounts(flag, list string) ([]int, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive number", flag, f)
		}
		out = append(out, n)
	}
	return out, nil
}

func (c appsConfig) check() error {
	if c.Codes < 1 || c.Workers < 1 || c.Concurrency < 1 || c.Idle <= 0 || c.Settle < 0 || c.Timeout <= 0 {
		return fmt.Errorf("--codes, --workers, --concurrency, --idle and --timeout must be positive, --settle ≥ 0")
	}
	if c.IdleApps < 0 {
		return fmt.Errorf("--idle-apps: must be ≥ 0")
	}
	if c.Fairness && (c.Big < 1 || c.SmallApps < 1 || c.SmallCodes < 1 || c.Measure <= 0 || c.Warmup < 0) {
		return fmt.Errorf("--big, --small-apps, --small-codes and --measure must be positive, --warmup ≥ 0")
	}
	return nil
}

func benchApps(ctx context.Context, cfg appsConfig, stdout, stderr io.Writer) error {
	counts, err := parseCounts("--apps", cfg.Apps)
	if err != nil {
		return err
	}
	idleWorkers, err := parseCounts("--idle-workers", cfg.IdleWorkers)
	if err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return err
	}
	for _, n := range counts {
		if n > cfg.Codes {
			return fmt.Errorf("--apps: %d apps for --codes %d: at least one code per app", n, cfg.Codes)
		}
	}
	host, _ := os.Hostname()
	load, _ := os.ReadFile("/proc/loadavg")
	lf := strings.Fields(string(load))
	fmt.Fprintf(stdout, "bench apps, %s on %s (load %s): worker concurrency %d, fake WeChat without rate limit or latency, local storage, apps capped at %d/min, tokens from Redis keys\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), host, strings.Join(lf[:min(3, len(lf))], " "), cfg.Concurrency, appsCap)
	var sum appsSummary
	if len(counts) > 0 {
		fmt.Fprintf(stdout, "\n%d codes split evenly over the apps, %d worker process(es); idle measured for %s, %s after the work\n", cfg.Codes, cfg.Workers, cfg.Idle, cfg.Settle)
		fmt.Fprintln(stdout, "configuration           wall       Redis cmds/code  worker CPU/code  idle Redis ops/s  worker start")
		for _, n := range counts {
			row, err := appsWorkRow(ctx, cfg, n, stderr)
			if err != nil {
				return err
			}
			sum.Work = append(sum.Work, row)
			fmt.Fprintf(stdout, "%-23s %-10s %-16.1f %-16s %-17.0f %.1fs\n", appsLabel(n, cfg.Codes/n),
				fmt.Sprintf("%.1fs", row.WallSeconds), row.CallsPerCode,
				fmt.Sprintf("%.3f ms", row.CPUPerCodeMS), row.IdleOps, row.StartSeconds)
			fmt.Fprintf(stdout, "  per code: %s\n  idle per second: %s\n", row.WorkTop, row.IdleTop)
		}
	}
	if cfg.IdleApps > 0 {
		fmt.Fprintf(stdout, "\n%d apps configured, no work; idle measured for %s, %s after the workers registered\n", cfg.IdleApps, cfg.Idle, cfg.Settle)
		fmt.Fprintln(stdout, "workers  worker start  idle Redis ops/s  idle worker CPU (cores)")
		for _, w := range idleWorkers {
			row, err := appsIdleRow(ctx, cfg, w, stderr)
			if err != nil {
				return err
			}
			sum.Idle = append(sum.Idle, row)
			fmt.Fprintf(stdout, "%-8d %-13s %-17.0f %.3f\n", w, fmt.Sprintf("%.1fs", row.StartSeconds), row.IdleOps, row.IdleCPUShare)
			fmt.Fprintf(stdout, "  idle per second: %s\n", row.IdleTop)
		}
	}
	if cfg.Fairness {
		row, err := appsFairRow(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		sum.Fairness = &row
		fmt.Fprintf(stdout, "\nfairness: 1 app with %d pending, %d apps x %d codes arriving after %s; %d worker process(es), cap %d/min per app\n",
			row.Big, row.SmallApps, row.SmallCodes, cfg.Warmup, row.Workers, row.Cap)
		fmt.Fprintln(stdout, "big app's share of its cap  measured  small apps done in  small delay p50  p99      max")
		doneIn := fmt.Sprintf("%.1fs", row.SmallsSeconds)
		if row.SmallsDone < row.SmallApps*row.SmallCodes {
			doneIn = fmt.Sprintf("%d/%d in %.0fs", row.SmallsDone, row.SmallApps*row.SmallCodes, row.SmallsSeconds)
		}
		fmt.Fprintf(stdout, "%-27.3f %-9s %-19s %-16s %-8s %s\n", row.BigShare, fmt.Sprintf("%.0fs", row.MeasureSeconds),
			doneIn, secsOrAbove(row.P50Seconds, row.SmallsSeconds), secsOrAbove(row.P99Seconds, row.SmallsSeconds), secsOrAbove(row.MaxSeconds, row.SmallsSeconds))
	}
	b, _ := json.Marshal(sum)
	fmt.Fprintf(stdout, "\nsummary: %s\n", b)
	if cfg.JSON != "" {
		if err := os.WriteFile(cfg.JSON, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	return nil
}

// appsWorkRow runs cfg.Codes codes over n apps and measures them and the
// idle that follows.
func appsWorkRow(ctx context.Context, cfg appsConfig, n int, stderr io.Writer) (appsRow, error) {
	row := appsRow{Apps: n, Codes: cfg.Codes / n * n, Workers: cfg.Workers}
	apps := benchAppIDs(n)
	ar, err := newAppsRig(ctx, apps, stderr)
	if err != nil {
		return row, err
	}
	defer ar.close()
	var extra func(int) []string
	if cfg.CPUProfile != "" {
		extra = func(i int) []string {
			return []string{"--cpuprofile", filepath.Join(cfg.CPUProfile, fmt.Sprintf("worker-%dapps-%d.pprof", n, i))}
		}
	}
	t0 := time.Now()
	if err := ar.startAppsWorkers(ctx, cfg.Workers, cfg.Concurrency, cfg.Timeout, extra, stderr); err != nil {
		return row, err
	}
	row.StartSeconds = time.Since(t0).Seconds()
	if err := sleepCtx(ctx, cfg.Settle); err != nil {
		return row, err
	}
	c0, cpu0, err := ar.reading(ctx)
	if err != nil {
		return row, err
	}
	start := time.Now()
	if _, err := ar.enqueueApps(ctx, apps, cfg.Codes/n); err != nil {
		return row, err
	}
	end, err := ar.waitStored(ctx, apps, int64(row.Codes), start.Add(cfg.Timeout))
	if err != nil {
		return row, err
	}
	c1, cpu1, err := ar.reading(ctx)
	if err != nil {
		return row, err
	}
	row.WallSeconds = end.Sub(start).Seconds()
	byName, calls := delta(c0, c1)
	row.CallsPerCode, row.WorkTop = float64(calls)/float64(row.Codes), topCommands(byName, float64(row.Codes), 16)
	row.CPUPerCodeMS = float64((cpu1 - cpu0).Microseconds()) / 1000 / float64(row.Codes)
	row.IdleOps, row.IdleTop, _, err = ar.idle(ctx, cfg)
	return row, err
}

// appsIdleRow starts workers on cfg.IdleApps apps and measures them idle.
func appsIdleRow(ctx context.Context, cfg appsConfig, workers int, stderr io.Writer) (idleRow, error) {
	row := idleRow{Apps: cfg.IdleApps, Workers: workers}
	ar, err := newAppsRig(ctx, benchAppIDs(cfg.IdleApps), stderr)
	if err != nil {
		return row, err
	}
	defer ar.close()
	t0 := time.Now()
	if err := ar.startAppsWorkers(ctx, workers, cfg.Concurrency, cfg.Timeout, nil, stderr); err != nil {
		return row, err
	}
	row.StartSeconds = time.Since(t0).Seconds()
	row.IdleOps, row.IdleTop, row.IdleCPUShare, err = ar.idle(ctx, cfg)
	return row, err
}

// reading is Redis's counters and the workers' CPU now.
func (ar *appsRig) reading(ctx context.Context) (redisCounts, time.Duration, error) {
	c, err := ar.meter.read(ctx)
	if err != nil {
		return c, 0, err
	}
	cpu, err := ar.workerCPU()
	return c, cpu, err
}

// idle waits cfg.Settle, then measures Redis ops/s (and the biggest
// commands) and the workers' CPU (cores) over cfg.Idle.
func (ar *appsRig) idle(ctx context.Context, cfg appsConfig) (ops float64, top string, cores float64, err error) {
	if err := sleepCtx(ctx, cfg.Settle); err != nil {
		return 0, "", 0, err
	}
	c0, cpu0, err := ar.reading(ctx)
	if err != nil {
		return 0, "", 0, err
	}
	if err := sleepCtx(ctx, cfg.Idle); err != nil {
		return 0, "", 0, err
	}
	c1, cpu1, err := ar.reading(ctx)
	if err != nil {
		return 0, "", 0, err
	}
	secs := c1.at.Sub(c0.at).Seconds()
	byName, calls := delta(c0, c1)
	return float64(calls) / secs, topCommands(byName, secs, 8), (cpu1 - cpu0).Seconds() / secs, nil
}

// appsFairRow: one app with cfg.Big pending codes, workers on it for
// cfg.Warmup, then cfg.SmallApps apps with cfg.SmallCodes each. The big
// app's share of its cap is its calls over max(the small apps' span,
// cfg.Measure) from their arrival; a small code's delay is from the start
// of its app's enqueue to its ledger record.
func appsFairRow(ctx context.Context, cfg appsConfig, stderr io.Writer) (fairRow, error) {
	row := fairRow{Big: cfg.Big, SmallApps: cfg.SmallApps, SmallCodes: cfg.SmallCodes, Workers: cfg.Workers, Cap: appsCap}
	apps := benchAppIDs(1 + cfg.SmallApps)
	big, smalls := apps[0], apps[1:]
	ar, err := newAppsRig(ctx, apps, stderr)
	if err != nil {
		return row, err
	}
	defer ar.close()
	t0 := time.Now()
	if err := enqueueOne(ctx, asynqClient(ar), ar.pacer(), big, cfg.Big); err != nil {
		return row, err
	}
	row.EnqueueSeconds = time.Since(t0).Seconds()
	t0 = time.Now()
	if err := ar.startAppsWorkers(ctx, cfg.Workers, cfg.Concurrency, cfg.Timeout, nil, stderr); err != nil {
		return row, err
	}
	row.StartSeconds = time.Since(t0).Seconds()
	if err := sleepCtx(ctx, cfg.Warmup); err != nil {
		return row, err
	}
	tS, b0 := time.Now(), ar.callsOf([]string{big})
	started, err := ar.enqueueApps(ctx, smalls, cfg.SmallCodes)
	if err != nil {
		return row, err
	}
	// Small codes still not done at --timeout are reported, not an error:
	// their delays are above it.
	done, err := ar.waitStored(ctx, smalls, int64(cfg.SmallApps*cfg.SmallCodes), tS.Add(cfg.Timeout))
	if ctx.Err() != nil {
		return row, ctx.Err()
	}
	if err != nil {
		done = time.Now()
	}
	row.SmallsSeconds = done.Sub(tS).Seconds()
	if err := sleepCtx(ctx, time.Until(tS.Add(cfg.Measure))); err != nil {
		return row, err
	}
	end, b1 := time.Now(), ar.callsOf([]string{big})
	row.MeasureSeconds = end.Sub(tS).Seconds()
	row.BigShare = float64(b1-b0) / (appsCap / 60.0 * row.MeasureSeconds)
	for _, w := range ar.workers { // measured: the big app's backlog need not drain
		_ = w.Process.Kill()
	}
	delays, err := smallDelays(ctx, ar, smalls, started)
	if err != nil {
		return row, err
	}
	row.SmallsDone = len(delays)
	n := cfg.SmallApps * cfg.SmallCodes
	row.P50Seconds, row.P99Seconds, row.MaxSeconds = quantile(delays, n, 0.5), quantile(delays, n, 0.99), quantile(delays, n, 1)
	return row, nil
}

// smallDelays are the small codes' delays, from their app's enqueue start
// to their ledger record, sorted (none recorded: empty).
func smallDelays(ctx context.Context, ar *appsRig, smalls []string, started map[string]time.Time) ([]float64, error) {
	led := jobs.NewLedger(ar.rdb, "")
	var out []float64
	for _, a := range smalls {
		err := led.Scan(ctx, a, func(o jobs.Outcome) error {
			out = append(out, o.At.Sub(started[a]).Seconds())
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// quantile of n values, nearest rank, of which the sorted ones are known
// and the rest are above them all: -1 if the rank falls among those.
func quantile(sorted []float64, n int, q float64) float64 {
	i := min(max(int(q*float64(n)+0.999999)-1, 0), n-1)
	if i >= len(sorted) {
		return -1
	}
	return sorted[i]
}

// secsOrAbove formats a delay, or "> span" for -1.
func secsOrAbove(v, span float64) string {
	if v < 0 {
		return fmt.Sprintf(">%.0fs", span)
	}
	return fmt.Sprintf("%.2fs", v)
}

func init() {
	Register(func() *cobra.Command {
		var cfg appsConfig
		cmd := &cobra.Command{
			Use:   "apps",
			Short: "Many apps on one fleet: wall time, Redis commands and worker CPU per code, idle Redis ops/s, fairness",
			Long: `bench apps (issue 20) configures many apps (tokens preset in Redis keys, so no
secrets) on worker processes of this binary against the fake WeChat without rate limit
or latency, with local storage, each app capped at 4800/min.
Work rows (--apps N,N): --codes codes split evenly over N apps, enqueued once the
workers have registered. wall: from the first enqueue to the last ledger record;
Redis cmds/code: INFO commandstats calls (commands run inside scripts included) over
the same span / codes, the enqueue's included and the benchmark's own readings taken
out (the biggest commands on the "per code" line); worker CPU/code: the
workers' utime+stime (/proc) over the span / codes; idle Redis ops/s: the same
counters over --idle, --settle after the work.
Idle rows (--idle-apps N): N apps configured, no work, with each of --idle-workers
worker counts: Redis ops/s and the workers' CPU over --idle, --settle after they
registered; worker start is until asynq's server of every worker registered.
Fairness (--fairness): one app with --big pending codes and workers on it for
--warmup, then --small-apps apps with --small-codes each: the big app's calls per
its cap over max(--measure, the small apps' span) from their arrival, and the small
codes' delay from their app's enqueue to their ledger record (p50, p99, max).
The last line is a JSON summary (also written to --json).`,
			Example: "  wxacode bench apps --apps 1,300,3000\n  wxacode bench apps --apps '' --idle-apps 10000 --idle-workers 1,3\n  wxacode bench apps --apps '' --fairness --big 1000000 --small-apps 1000",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return benchApps(cmd.Context(), cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
			},
		}
		fs := cmd.Flags()
		fs.StringVar(&cfg.Apps, "apps", "1,300,3000", "app counts of the work rows ('' for none)")
		fs.IntVar(&cfg.Codes, "codes", 6000, "codes per work row, split evenly over its apps")
		fs.IntVar(&cfg.Workers, "workers", 1, "worker processes of the work rows and the fairness run")
		fs.IntVar(&cfg.Concurrency, "concurrency", 100, "jobs in flight per worker")
		fs.DurationVar(&cfg.Settle, "settle", 5*time.Second, "wait after the work (or the workers' start) before measuring idle")
		fs.DurationVar(&cfg.Idle, "idle", 10*time.Second, "idle span measured")
		fs.IntVar(&cfg.IdleApps, "idle-apps", 0, "apps configured in the idle rows (0: no idle rows)")
		fs.StringVar(&cfg.IdleWorkers, "idle-workers", "1,3", "worker process counts of the idle rows")
		fs.BoolVar(&cfg.Fairness, "fairness", false, "run the fairness measurement")
		fs.IntVar(&cfg.Big, "big", 1_000_000, "fairness: the big app's pending codes")
		fs.IntVar(&cfg.SmallApps, "small-apps", 1000, "fairness: apps arriving with --small-codes each")
		fs.IntVar(&cfg.SmallCodes, "small-codes", 10, "fairness: codes per small app")
		fs.DurationVar(&cfg.Warmup, "warmup", 10*time.Second, "fairness: workers on the big app alone before the small apps arrive")
		fs.DurationVar(&cfg.Measure, "measure", 60*time.Second, "fairness: shortest span the big app's share is measured over")
		fs.DurationVar(&cfg.Timeout, "timeout", 15*time.Minute, "a worker start or a row's work taking longer fails the benchmark")
		fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "directory: each worker of the work rows writes a CPU profile there (worker --cpuprofile)")
		fs.StringVar(&cfg.JSON, "json", "", "also write the JSON summary to this file")
		return cmd
	})
}

func appsLabel(apps, codes int) string {
	if apps == 1 {
		return fmt.Sprintf("1 app x %d codes", codes)
	}
	return fmt.Sprintf("%d apps x %d codes", apps, codes)
}
