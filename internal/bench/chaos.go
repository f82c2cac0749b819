package bench

import (
	"context"

	"github.com/spf13/cobra"

	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wxacode/wxacode/internal/chaos"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

func init() {
	Register(func() *cobra.Command {
		var which, logs string
		cfg := chaosConfig{}
		names := make([]string, 0)
		for _, s := range chaosScenarios() {
			names = append(names, s.name)
		}
		cmd := &cobra.Command{
			Use:   "chaos",
			Short: "The fault suite of RELIABILITY.md: one table row per scenario, and a scan of every log for secrets",
			Long: `bench chaos runs, for each scenario, a generated campaign on a private redis-server,
the fake WeChat, versitygw (S3) behind a proxy and worker child processes, with the
scenario's fault injected; then it checks that every scene ended as a correct stored
image or a recorded failure and prints one row. At the end it scans every child's
output for the app secret, the S3 secret key and the fake's access tokens. It fails
(exit status 1) if any scenario or the scan fails. It needs redis-server and
versitygw on PATH (go install ` + chaos.VersityGWModule + `).`,
			Example: `  wxacode bench chaos --scenario all
  wxacode bench chaos --scenario kill9,storage-down --scenes 1000`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return benchChaos(cmd.Context(), cfg, which, logs, cmd.OutOrStdout())
			},
		}
		fs := cmd.Flags()
		fs.StringVar(&which, "scenario", "all", "scenarios to run, comma-separated, or all: "+strings.Join(names, ", "))
		fs.IntVar(&cfg.Scenes, "scenes", 3000, "scenes in each scenario's campaign (rate-lowered runs twice as many)")
		fs.IntVar(&cfg.Workers, "workers", 3, "worker processes")
		fs.IntVar(&cfg.Concurrency, "concurrency", 50, "jobs in flight per worker")
		fs.DurationVar(&cfg.StorageDown, "storage-down", time.Minute, "how long storage-down keeps S3 unreachable")
		fs.StringVar(&cfg.LogLevel, "workers-log-level", "debug", "the workers' log level (all their output is scanned for secrets)")
		fs.StringVar(&logs, "logs", "", "keep the children's logs in this directory (default: a temporary one, removed when the suite passes)")
		return cmd
	})
}

// benchChaos runs the fault suite: for each scenario a generated campaign
// on a private redis-server, the fake WeChat, versitygw behind a proxy
// and worker child processes, with the scenario's fault injected; then it
// checks that every scene ended as a correct stored image or a recorded
// failure and prints one row. At the end it scans every child's output for
// the app secret, the S3 secret key and the fake's access tokens. It
// fails if any scenario or the scan fails.
func benchChaos(ctx context.Context, cfg chaosConfig, which, logs string, stdout io.Writer) error {
	list, err := pickScenarios(chaosScenarios(), which)
	if err != nil {
		return err
	}
	if cfg.Scenes < 1 || cfg.Workers < 1 || cfg.Concurrency < 1 || cfg.StorageDown <= 0 {
		return usagef("--scenes, --workers, --concurrency and --storage-down must be positive")
	}
	if cfg.LogDir, err = chaosLogDir(logs); err != nil {
		return err
	}
	cfg.Secret, cfg.S3Secret = "chaos-secret-"+randHex(12), randHex(20)
	if !runChaosSuite(ctx, cfg, list, stdout) {
		return fmt.Errorf("the fault suite failed; logs kept in %s", cfg.LogDir)
	}
	if logs == "" {
		os.RemoveAll(cfg.LogDir)
	}
	return nil
}

func pickScenarios(all []chaosScenario, which string) ([]chaosScenario, error) {
	if which == "all" {
		return all, nil
	}
	var out []chaosScenario
	for _, name := range strings.Split(which, ",") {
		found := false
		for _, s := range all {
			if s.name == strings.TrimSpace(name) {
				out, found = append(out, s), true
			}
		}
		if !found {
			return nil, usagef("--scenario: no scenario %q (want all, or some of: %s)", name, strings.Join(scenarioNames(all), ", "))
		}
	}
	return out, nil
}

func chaosLogDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "wxacode-chaos-*")
	}
	return dir, os.MkdirAll(dir, 0o700)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runChaosSuite runs the scenarios one after the other, printing each row
// as it ends, then scans the logs; it reports whether everything passed.
func runChaosSuite(ctx context.Context, cfg chaosConfig, list []chaosScenario, stdout io.Writer) bool {
	host, _ := os.Hostname()
	fmt.Fprintf(stdout, "chaos suite, %s on %s: %d scenes per campaign, %d workers x %d jobs, cap %d/min, fake WeChat %d/min per sliding minute, S3 versitygw behind a proxy\n",
		time.Now().Format("2006-01-02 15:04 MST"), host, cfg.Scenes, cfg.Workers, cfg.Concurrency, chaosCap, 5000)
	fmt.Fprintln(stdout, chaosHeader)
	start, passed := time.Now(), 0
	for _, sc := range list {
		res := runChaosScenario(ctx, cfg, sc)
		fmt.Fprintln(stdout, res.row())
		if res.pass() {
			passed++
		}
		if ctx.Err() != nil {
			break
		}
	}
	scan, clean := scanChaosLogs(cfg, stdout)
	ok := passed == len(list) && clean
	fmt.Fprintf(stdout, "chaos: %d of %d scenarios passed in %s; %s: %s\n",
		passed, len(list), time.Since(start).Round(time.Second), scan, verdict(ok))
	return ok
}

// scanChaosLogs looks for the secrets and the fake's tokens in every
// child's output, prints where (never what) it found any, and sums up.
// Reading nothing counts as a failure.
func scanChaosLogs(cfg chaosConfig, stdout io.Writer) (string, bool) {
	leaks, sum, err := chaos.FindLeaks(cfg.LogDir, map[string]string{
		"app secret": cfg.Secret, "S3 secret key": cfg.S3Secret, "access token": wechattest.TokenPrefix})
	for i, l := range leaks {
		if i == 20 {
			fmt.Fprintf(stdout, "... and %d more\n", len(leaks)-20)
			break
		}
		fmt.Fprintf(stdout, "LEAK %s\n", l)
	}
	switch {
	case err != nil:
		return "log scan failed: " + err.Error(), false
	case len(leaks) > 0:
		return fmt.Sprintf("%d log lines with a secret or token", len(leaks)), false
	case sum.Files == 0:
		return "no log files to scan", false
	}
	return fmt.Sprintf("no secret or token in %d log files (%.1f MB)", sum.Files, float64(sum.Bytes)/1e6), true
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// chaosResult is one scenario's row.
type chaosResult struct {
	name   string
	scenes int
	chaosTally
	calls          int64 // code calls WeChat received
	took           time.Duration
	done           bool // the run reached "done"
	events, notes  []string
	checked, setup bool
}

const chaosHeader = "scenario       scenes  stored  failed (recorded)  lost  WeChat calls per stored code  duplicate uploads  time    verdict  notes"

func (c chaosResult) pass() bool {
	return c.setup && c.checked && c.done && c.lost == 0 && c.wrong == 0 && c.unreadable == 0 &&
		c.sha == 0 && c.stray == 0 && len(c.events) == 0
}

func (c chaosResult) row() string {
	perCode := "-"
	if c.stored > 0 {
		perCode = fmt.Sprintf("%.3f", float64(c.calls)/float64(c.stored))
	}
	var notes []string
	for _, e := range c.events {
		notes = append(notes, "FAIL: "+e)
	}
	if n := c.wrong + c.unreadable + c.sha + c.stray + c.both; n > 0 {
		notes = append(notes, fmt.Sprintf("%d wrong, %d unreadable, %d SHA mismatches, %d stray objects, %d stored+failed",
			c.wrong, c.unreadable, c.sha, c.stray, c.both))
	}
	notes = append(append(notes, c.examples...), c.notes...)
	return fmt.Sprintf("%-14s %6d  %6d  %17d  %4d  %28s  %17d  %-6s  %-7s  %s", c.name, c.scenes, c.stored, c.failed, c.lost,
		perCode, c.dupes, c.took.Round(time.Second), verdict(c.pass()), strings.Join(notes, "; "))
}

// runChaosScenario runs one scenario on a fresh rig and checks the outcome.
func runChaosScenario(ctx context.Context, cfg chaosConfig, sc chaosScenario) chaosResult {
	res := chaosResult{name: sc.name, scenes: sc.scenes(cfg.Scenes)}
	r, err := newChaosRig(cfg, sc.name, sc.fake, sc.aof)
	if err != nil {
		res.events = []string{"setup: " + err.Error()}
		return res
	}
	defer r.close()
	if err := r.workers.startAll(cfg.Workers); err != nil {
		res.events = []string{"starting workers: " + err.Error()}
		return res
	}
	start := time.Now()
	if err := r.startRun(ctx, res.scenes); err != nil {
		res.events = []string{err.Error()}
		return res
	}
	res.setup = true
	ictx, cancel := context.WithCancel(ctx)
	injected := make(chan error, 1)
	go func() { injected <- sc.inject(ictx, r) }()
	run, ok := r.await(ctx, start, start.Add(sc.deadline(r.cfg, res.scenes)))
	res.took, res.done = time.Since(start), ok
	cancel()
	if err := <-injected; err != nil && !errors.Is(err, context.Canceled) {
		r.event("fault injection: %v", err)
	}
	r.workers.stopAll()
	r.finish(ctx, run, &res)
	return res
}

// finish checks the run's objects, ledger and manifest and fills res.
func (r *chaosRig) finish(ctx context.Context, run runs.Run, res *chaosResult) {
	st := r.fake.Stats()
	for _, n := range st.Calls {
		res.calls += n
	}
	t, err := r.verify(ctx)
	if err != nil {
		r.event("check: %v", err)
	}
	res.chaosTally, res.checked = t, err == nil
	if res.done {
		r.checkManifest(run)
	} else {
		r.setNote("unfinished", "lost includes the rows still queued when the deadline came")
	}
	r.setNote("calls", "%d calls", res.calls)
	r.fakeNotes(ctx, st)
	res.events, res.notes = r.findings()
}

// await polls the run until it is done or the deadline passes (an event),
// noting when WeChat last answered 45009. Redis errors are waited out.
func (r *chaosRig) await(ctx context.Context, start, deadline time.Time) (runs.Run, bool) {
	var seen int64
	for {
		if n := r.fake.Stats().Errcodes[45009]; n != seen {
			seen = n
			r.mu.Lock()
			r.last45009 = time.Since(start)
			r.mu.Unlock()
		}
		run, c, err := r.runs.Get(ctx, r.runID)
		if err == nil && run.State == runs.StateDone {
			return run, true
		}
		if time.Now().After(deadline) {
			r.event("run not done after %s: %d of %d rows finished", deadline.Sub(start).Round(time.Second), c.Finished(), r.total)
			return run, false
		}
		if sleepCtx(ctx, 500*time.Millisecond) != nil {
			return run, false
		}
	}
}

func scenarioNames(all []chaosScenario) []string {
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.name
	}
	return names
}
