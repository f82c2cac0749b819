package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/progress"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/worker"
)

func init() { register(newEnqueueCmd) }

// Options of the code every row starts from (enqueue, explain): flags
// only, they describe the input rather than configure wxacode.
var (
	optApp       = noEnv(config.String("app", "", "appid of the jobs (default --appid / WXACODE_APPID, or the only app of --apps-file)"))
	optPage      = noEnv(config.String("page", "", "page of every code, e.g. pages/coupon/index (per-row page overrides)"))
	optWidth     = withCheck(noEnv(config.Int("width", 0, "width in pixels, 280-1280 (0: WeChat's 430)")), widthCheck)
	optEnv       = withCheck(noEnv(config.String("env-version", "", "release, trial or develop (empty: release)")), config.OneOf("", code.EnvRelease, code.EnvTrial, code.EnvDevelop))
	optCheckPath = withCheck(noEnv(config.String("check-path", "", "true or false: whether WeChat checks the page is published (empty: true)")), config.OneOf("", "true", "false"))
	optAutoColor = noEnv(config.Bool("auto-color", false, "let WeChat choose the line colour"))
	optLineColor = withCheck(noEnv(config.String("line-color", "", "line colour r,g,b or #rrggbb")), lineColorCheck)
	optHyaline   = noEnv(config.Bool("hyaline", false, "transparent background (PNG)"))

	optParams   = noEnv(config.Bool("params", false, "rows are parameters (any JSON object), each given a short scene: a lines or JSON Lines file holds one object per line, a CSV a params column"))
	optFormat   = withCheck(noEnv(config.String("format", "", "input format: lines, csv or jsonl (default from the file extension; stdin: lines)")), config.OneOf("", "lines", "csv", "jsonl"))
	optRejects  = noEnv(config.String("rejects", "", "write every rejected row to this file (JSON Lines)"))
	optStrict   = noEnv(config.Bool("strict", false, "validate the whole input first and enqueue nothing if any row is invalid"))
	optPriority = noEnv(config.Choice("priority", "normal", []string{"normal", "high"}, "normal or high: high jobs are taken about 10x as often as bulk campaign work of the same app"))
	optQuiet    = noEnv(config.Bool("quiet", false, "no progress output"))
)

// widthCheck and lineColorCheck apply package code's rules, worded for a
// flag.
func widthCheck(w int) error {
	if code.ValidateWidth(w) != nil {
		return fmt.Errorf("want 0 or a width from %d to %d", code.MinWidth, code.MaxWidth)
	}
	return nil
}

func lineColorCheck(s string) error {
	if s == "" {
		return nil
	}
	if _, err := code.ParseColor(s); err != nil {
		return errors.New("want r,g,b or #rrggbb")
	}
	return nil
}

// codeOpts are the code options every row starts from.
type codeOpts struct {
	app, page, env, checkPath, lineColor string
	width                                int
	autoColor, hyaline                   bool
}

func (c *codeOpts) bind(fs *pflag.FlagSet) {
	optApp.Bind(fs, &c.app)
	optPage.Bind(fs, &c.page)
	optWidth.Bind(fs, &c.width)
	optEnv.Bind(fs, &c.env)
	optCheckPath.Bind(fs, &c.checkPath)
	optAutoColor.Bind(fs, &c.autoColor)
	optLineColor.Bind(fs, &c.lineColor)
	optHyaline.Bind(fs, &c.hyaline)
}

// params are the code the options describe (no scene).
func (c *codeOpts) params() code.Params {
	p := code.Params{Page: c.page, Rendering: code.Rendering{Width: c.width, EnvVersion: c.env, AutoColor: c.autoColor, IsHyaline: c.hyaline}}
	// Both were checked by their settings: Set cannot fail here.
	_ = p.Set(code.FieldCheckPath, c.checkPath)
	_ = p.Set(code.FieldLineColor, c.lineColor)
	return p
}

// job is the job every row starts from; app "" takes defaultApp.
func (c *codeOpts) job(defaultApp string) jobs.Job {
	return jobs.Job{App: cmpOr(c.app, defaultApp), Params: c.params()}
}

type enqueueOpts struct {
	code                  codeOpts
	apps                  system.Apps
	scenes                system.Scenes
	format, rejects       string
	priority              string
	workers               int
	params, strict, quiet bool
	force                 bool
}

func newEnqueueCmd(e *env) *cobra.Command {
	var o enqueueOpts
	cmd := &cobra.Command{
		Use:   "enqueue FILE|-",
		Short: "Read scenes from a file (lines, CSV, JSON Lines) and enqueue one job per code",
		Long: `enqueue streams one scene per line, CSV with a header (scene,page,width,env_version,
check_path,auto_color,line_color,is_hyaline,key,params) or JSON Lines (same keys); the
format comes from the extension or --format. Every row is validated: rejected rows are
printed with line, field and reason (the first 100) and all of them written to
--rejects. Duplicates (same parameters) are counted, not enqueued twice.

The app (--app, default --appid) must be one the configuration lists (--apps-file or
--appid, as the workers have it): no worker would serve another.

Exit status 2 when any row was rejected (with --strict nothing is enqueued then).`,
		Example: `  wxacode enqueue --page pages/coupon/index coupons.txt
  wxacode enqueue --app wx0123456789abcdef rows.csv --rejects rejects.jsonl --strict
  cat scenes.txt | wxacode enqueue --page pages/index/index --priority high -`,
		Args: exactArgs(1, "one input FILE, or - for standard input"),
		RunE: func(cmd *cobra.Command, args []string) error { return runEnqueue(cmd.Context(), e, &o, args[0]) },
	}
	fs := cmd.Flags()
	o.code.bind(fs)
	appID.Bind(fs, &o.apps.AppID)
	appsFile.Bind(fs, &o.apps.File)
	ratePerMin.Bind(fs, &o.apps.Rate)
	sceneSettings(fs, &o.scenes)
	optParams.Bind(fs, &o.params)
	optFormat.Bind(fs, &o.format)
	optRejects.Bind(fs, &o.rejects)
	optStrict.Bind(fs, &o.strict)
	force.Bind(fs, &o.force)
	optPriority.Bind(fs, &o.priority)
	enqueueWorkers.Bind(fs, &o.workers)
	optQuiet.Bind(fs, &o.quiet)
	return cmd
}

const maxRejectsShown = 100

func runEnqueue(ctx context.Context, e *env, o *enqueueOpts, path string) error {
	def := o.code.job(o.apps.AppID)
	def.Force, def.High = o.force, o.priority == "high"
	rate, err := checkEnqueueApp(o, def.App)
	if err != nil {
		return err
	}
	if _, err := e.logger(); err != nil {
		return err
	}
	rdb, err := e.redis.Open(ctx, o.workers+4)
	if err != nil {
		return err
	}
	defer rdb.Close()
	st, err := o.scenes.Open(rdb)
	if err != nil {
		return err
	}
	ef := &jobs.EnqueueFile{Enqueuer: jobs.NewEnqueuer(asynq.NewClientFromRedisClient(rdb), jobs.EnqueueConfig{Workers: o.workers, Pacer: worker.Pacer(ratelimit.New(rdb, ratelimit.Config{}))}),
		Ledger: jobs.NewLedger(rdb, ""), Defaults: def, Format: jobs.Format(o.format), Params: o.params, Strict: o.strict,
		Scenes: system.Issuer(st), Validate: worker.Validate, OnReject: rejectPrinter(e.stderr, o.rejects != "")}
	if o.rejects != "" {
		f, err := os.Create(o.rejects)
		if err != nil {
			return usagef("--rejects: %w", err)
		}
		defer f.Close()
		ef.Rejects = f
	}
	start := time.Now()
	ef.Progress = func(size int64, read *atomic.Int64) func() {
		return progress.Start(ctx, e.stderr, o.quiet, func() (int64, int64, string) {
			return read.Load(), size, enqueueLine(ef.Enqueuer.Counts.Snapshot(), start, read.Load(), size)
		})
	}
	sum, err := ef.Run(ctx, path)
	if errors.Is(err, jobs.ErrStrict) {
		fmt.Fprintf(e.stderr, "strict: %d of %d rows invalid: nothing enqueued\n", sum.Rejected, sum.Read)
		return ExitError{ExitUsage}
	}
	printEnqueueSummary(e.stdout, sum, time.Since(start), rate)
	if err != nil {
		return err
	}
	if sum.Rejected > 0 {
		return ExitError{ExitUsage}
	}
	return nil
}

// checkEnqueueApp refuses jobs without an app, or for an app the
// configuration (WXACODE_APPS_FILE or WXACODE_APPID) does not list, which
// no worker with it would serve; it returns the app's rate for the
// summary's time estimate.
func checkEnqueueApp(o *enqueueOpts, app string) (int, error) {
	if app == "" {
		return 0, usagef("no app: give --app or set WXACODE_APPID")
	}
	if err := code.ValidateApp(app); err != nil {
		return 0, usagef("--app: %w", err)
	}
	if err := o.apps.Known(app); err != nil {
		return 0, usagef("--app: %w", err)
	}
	if o.apps.File == "" {
		return o.apps.Rate, nil
	}
	cfg, err := system.Apps{File: o.apps.File}.Pick(app)
	if err != nil {
		return 0, err
	}
	return cfg.Rate(), nil
}

// rejectPrinter prints the first rejected rows.
func rejectPrinter(w io.Writer, toFile bool) func(*jobs.RowError) {
	shown := 0
	return func(re *jobs.RowError) {
		if shown < maxRejectsShown {
			fmt.Fprintf(w, "rejected: %v\n", re)
		} else if shown == maxRejectsShown && !toFile {
			fmt.Fprintln(w, "rejected: (more rejects not shown; use --rejects FILE to keep every one)")
		}
		shown++
	}
}

func enqueueLine(s jobs.Summary, start time.Time, read, size int64) string {
	took := time.Since(start)
	line := fmt.Sprintf("read %d  enqueued %d  duplicate %d  rejected %d  %.0f rows/s", s.Read, s.Enqueued, s.Duplicate, s.Rejected, float64(s.Read)/max(took.Seconds(), 1e-9))
	if size > 0 && read > 0 {
		frac := min(float64(read)/float64(size), 1)
		line += fmt.Sprintf("  %.0f%% of the input, about %s left", 100*frac, time.Duration(float64(took)*(1-frac)/frac).Round(time.Second))
	}
	return line
}

func printEnqueueSummary(w io.Writer, s jobs.Summary, d time.Duration, rate int) {
	fmt.Fprintf(w, "read %d lines: enqueued %d, duplicate %d, rejected %d, empty %d", s.Lines, s.Enqueued, s.Duplicate, s.Rejected, s.Empty)
	if s.Header > 0 {
		fmt.Fprintf(w, ", header %d", s.Header)
	}
	if s.Failed > 0 {
		fmt.Fprintf(w, ", NOT enqueued (Redis errors) %d", s.Failed)
	}
	if n := s.Unaccounted(); n != 0 {
		fmt.Fprintf(w, ", read but not processed %d", n)
	}
	fmt.Fprintf(w, " in %s (%.0f rows/s)\n", d.Round(time.Millisecond), float64(s.Read)/max(d.Seconds(), 1e-9))
	if s.Enqueued > 0 && rate > 0 {
		eta := time.Duration(float64(s.Enqueued) / float64(rate) * float64(time.Minute))
		fmt.Fprintf(w, "generation will take about %s at %d/min\n", eta.Round(time.Second), rate)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
