package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/worker"
)

type enqueueOpts struct {
	common
	app, page, env, checkPath, lineColor, format, rejects string
	width, workers                                        int
	autoColor, hyaline, strict, force, quiet, high        bool
	params                                                bool
}

func (o *enqueueOpts) flags(stderr io.Writer) *flag.FlagSet {
	fs := flagSet("enqueue", "enqueue [flags] FILE|-", stderr)
	o.redisFlags(fs)
	o.appFlags(fs)
	o.codeFlags(fs)
	o.scene.flags(fs)
	fs.BoolVar(&o.params, "params", false, "rows are parameters (any JSON object), each given a short scene: a lines or JSON Lines file holds one object per line, a CSV a params column (without --params, CSV and JSON Lines rows may also carry a params column or key)")
	fs.StringVar(&o.format, "format", "", "input format: lines, csv or jsonl (default from the file extension; stdin: lines)")
	fs.StringVar(&o.rejects, "rejects", "", "write every rejected row to this file (JSON Lines)")
	fs.BoolVar(&o.strict, "strict", false, "validate the whole input first and enqueue nothing if any row is invalid")
	fs.BoolVar(&o.force, "force", false, "regenerate codes even if their objects already exist")
	fs.Func("priority", "normal (default) or high: high jobs are taken about 10x as often as bulk campaign work of the same app", func(v string) error {
		switch v {
		case "normal":
			o.high = false
		case "high":
			o.high = true
		default:
			return errors.New("want normal or high")
		}
		return nil
	})
	intFlag(fs, &o.workers, "enqueue-workers", 16, "parallel enqueuers (the Redis pool is sized to match)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output")
	return fs
}

// codeFlags are the code options every job starts from.
func (o *enqueueOpts) codeFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.app, "app", "", "appid of the jobs (default --appid / WXACODE_APPID)")
	fs.StringVar(&o.page, "page", "", "page of every code, e.g. pages/coupon/index (per-row page overrides)")
	fs.IntVar(&o.width, "width", 0, "width in pixels, 280-1280 (default WeChat's 430)")
	fs.StringVar(&o.env, "env-version", "", "release, trial or develop (default release)")
	fs.StringVar(&o.checkPath, "check-path", "", "true or false: whether WeChat checks the page is published (default true)")
	fs.BoolVar(&o.autoColor, "auto-color", false, "let WeChat choose the line colour")
	fs.StringVar(&o.lineColor, "line-color", "", "line colour r,g,b or #rrggbb")
	fs.BoolVar(&o.hyaline, "hyaline", false, "transparent background (PNG)")
}

// defaults builds the job every row starts from.
func (o *enqueueOpts) defaults() (jobs.Job, error) {
	j := jobs.Job{App: o.app, Force: o.force, High: o.high, Params: code.Params{Page: o.page, Rendering: code.Rendering{Width: o.width, EnvVersion: o.env, AutoColor: o.autoColor, IsHyaline: o.hyaline}}}
	if j.App == "" {
		j.App = o.appID
	}
	if o.checkPath != "" {
		b, err := strconv.ParseBool(o.checkPath)
		if err != nil {
			return j, fmt.Errorf("--check-path %q: want true or false", o.checkPath)
		}
		j.CheckPath = &b
	}
	if err := j.Params.Set(code.FieldLineColor, o.lineColor); err != nil {
		return j, fmt.Errorf("--line-color: %v", err)
	}
	return j, nil
}

func runEnqueue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o enqueueOpts
	fs := o.flags(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("enqueue: give one input FILE, or - for stdin")
	}
	def, err := o.defaults()
	if err != nil {
		return err
	}
	if err := o.checkApp(def.App); err != nil {
		return err
	}
	rdb, err := o.openRedis(ctx, o.workers+4)
	if err != nil {
		return err
	}
	defer rdb.Close()
	client := asynq.NewClientFromRedisClient(rdb)
	st, err := o.scene.open(rdb)
	if err != nil {
		return err
	}
	e := &enqueueRun{opts: &o, def: def, stdout: stdout, stderr: stderr, scenes: issuer(st),
		enq: jobs.NewEnqueuer(client, jobs.EnqueueConfig{Workers: o.workers}), ledger: jobs.NewLedger(rdb, "")}
	return e.run(ctx, fs.Arg(0))
}

// checkApp refuses jobs for an app no worker is configured to serve.
func (o *enqueueOpts) checkApp(app string) error {
	if app == "" {
		return errors.New("enqueue: no app: give --app or set WXACODE_APPID")
	}
	if err := code.ValidateApp(app); err != nil {
		return fmt.Errorf("enqueue: --app: %w", err)
	}
	if o.appsFile == "" {
		return nil
	}
	apps, err := worker.LoadApps(o.appsFile)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if a.AppID == app {
			o.rate = a.Rate() // for the summary's time estimate
			return nil
		}
	}
	return fmt.Errorf("enqueue: app %s is not in %s: no worker would serve its queue", app, o.appsFile)
}

type enqueueRun struct {
	opts           *enqueueOpts
	def            jobs.Job
	enq            *jobs.Enqueuer
	ledger         *jobs.Ledger
	stdout, stderr io.Writer
	rejectsOut     *bufio.Writer
	shown          int
	scenes         jobs.SceneIssuer
}

const maxRejectsShown = 100

func (e *enqueueRun) run(ctx context.Context, path string) error {
	in, name, cleanup, err := openInput(path, e.opts.strict)
	if err != nil {
		return err
	}
	defer cleanup()
	format, err := inputFormat(e.opts.format, name)
	if err != nil {
		return err
	}
	if e.opts.params && (format == jobs.FormatLines || format == jobs.FormatJSONL) {
		format = jobs.FormatParams
	}
	if e.opts.rejects != "" {
		f, err := os.Create(e.opts.rejects)
		if err != nil {
			return err
		}
		defer f.Close()
		e.rejectsOut = bufio.NewWriter(f)
		defer e.rejectsOut.Flush()
	}
	if e.opts.strict {
		if n, err := e.check(ctx, in, format); err != nil || n > 0 {
			return cmpErr(err, exitError{2})
		}
		if _, err := in.(io.Seeker).Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	start := time.Now()
	counted := &countingReader{r: in}
	stop := startProgress(ctx, e.stderr, e.opts.quiet, &e.enq.Counts, counted, inputSize(in))
	r, err := jobs.NewReader(counted, format, e.def)
	if err != nil {
		return err
	}
	sum, runErr := e.enq.Run(ctx, jobs.WithScenes(ctx, r, e.scenes), worker.Validate, e.reject)
	stop()
	for app, n := range sum.PerApp {
		if lerr := e.ledger.AddEnqueued(context.WithoutCancel(ctx), app, n); lerr != nil {
			fmt.Fprintf(e.stderr, "wxacode: ledger: %v\n", lerr)
		}
	}
	e.summary(sum, time.Since(start))
	if runErr != nil {
		return runErr
	}
	if sum.Rejected > 0 {
		return exitError{2}
	}
	return nil
}

// check is the --strict first pass: it returns how many rows are invalid.
func (e *enqueueRun) check(ctx context.Context, in io.Reader, f jobs.Format) (int64, error) {
	r, err := jobs.NewReader(in, f, e.def)
	if err != nil {
		return 0, err
	}
	// Checking issues nothing: rows with valid params get a stand-in scene.
	check := jobs.SceneIssuer{Check: e.scenes.Check, IssueMany: func(_ context.Context, p [][]byte) ([]string, error) {
		return slices.Repeat([]string{"checked"}, len(p)), nil
	}}
	r = jobs.WithScenes(ctx, r, check)
	var c jobs.Counts
	err = jobs.Check(ctx, r, worker.Validate, &c, e.reject, nil)
	if n := c.Rejected.Load(); n > 0 {
		fmt.Fprintf(e.stderr, "strict: %d of %d rows invalid: nothing enqueued\n", n, c.Read.Load())
	}
	return c.Rejected.Load(), err
}

func (e *enqueueRun) reject(re *jobs.RowError) {
	if e.shown < maxRejectsShown {
		fmt.Fprintf(e.stderr, "rejected: %v\n", re)
	} else if e.shown == maxRejectsShown && e.rejectsOut == nil {
		fmt.Fprintln(e.stderr, "rejected: (more rejects not shown; use --rejects FILE to keep every one)")
	}
	e.shown++
	if e.rejectsOut != nil {
		b, _ := json.Marshal(map[string]any{"line": re.Line, "field": re.Field, "value": re.Value, "reason": re.Reason})
		e.rejectsOut.Write(append(b, '\n'))
	}
}

func (e *enqueueRun) summary(s jobs.Summary, d time.Duration) {
	rate := e.opts.rate
	fmt.Fprintf(e.stdout, "read %d lines: enqueued %d, duplicate %d, rejected %d, empty %d", s.Lines, s.Enqueued, s.Duplicate, s.Rejected, s.Empty)
	if s.Header > 0 {
		fmt.Fprintf(e.stdout, ", header %d", s.Header)
	}
	if s.Failed > 0 {
		fmt.Fprintf(e.stdout, ", NOT enqueued (Redis errors) %d", s.Failed)
	}
	if n := s.Unaccounted(); n != 0 {
		fmt.Fprintf(e.stdout, ", read but not processed %d", n)
	}
	fmt.Fprintf(e.stdout, " in %s (%.0f rows/s)\n", d.Round(time.Millisecond), float64(s.Read)/max(d.Seconds(), 1e-9))
	if s.Enqueued > 0 && rate > 0 {
		eta := time.Duration(float64(s.Enqueued) / float64(rate) * float64(time.Minute))
		fmt.Fprintf(e.stdout, "generation will take about %s at %d/min\n", eta.Round(time.Second), rate)
	}
}

// openInput opens FILE or stdin. With seekable set, stdin is copied to a
// temporary file first so that --strict can read it twice.
func openInput(path string, seekable bool) (io.Reader, string, func(), error) {
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", nil, err
		}
		return f, path, func() { f.Close() }, nil
	}
	if !seekable {
		return os.Stdin, "", func() {}, nil
	}
	tmp, err := os.CreateTemp("", "wxacode-stdin-*")
	if err != nil {
		return nil, "", nil, err
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, os.Stdin); err != nil {
		cleanup()
		return nil, "", nil, err
	}
	_, err = tmp.Seek(0, io.SeekStart)
	return tmp, "", cleanup, err
}

// inputSize is the size of a regular input file, or 0 (stdin, pipes).
func inputSize(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return 0
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	return st.Size()
}

func inputFormat(flagValue, name string) (jobs.Format, error) {
	f, err := jobs.ParseFormat(flagValue)
	if err != nil || f != "" {
		return f, err
	}
	return jobs.DetectFormat(name), nil
}

func cmpErr(err error, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
