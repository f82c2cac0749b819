package cli

import (
	"cmp"
	"context"
	"maps"

	"github.com/spf13/cobra"

	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/system"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
)

func init() { register(newExplainCmd) }

var (
	optRow       = withCheck(noEnv(config.Int("row", -1, "with a RUN: explain this row (0-based, as in the manifest)")), config.AtLeast(0))
	optLookupRID = noEnv(config.Bool("lookup-rid", false, "ask WeChat (openapi/rid/get) about each failure's rid (needs the app's credentials)"))
)

type explainOpts struct {
	oneAppOpts
	code      codeOpts
	storage   system.Storage
	row       int
	lookupRID bool
}

// explainer holds what explain reads: the ledgers, asynq, storage, and
// (with --lookup-rid) WeChat.
type explainer struct {
	o      *explainOpts
	env    *env
	w      io.Writer
	rdb    redis.UniversalClient
	runs   *runs.Store
	ledger *jobs.Ledger
	insp   *asynq.Inspector
	store  storage.Store
	feeder *runs.Feeder
	keyOf  func(jobs.Job) string
}

func newExplainCmd(e *env) *cobra.Command {
	var o explainOpts
	cmd := &cobra.Command{
		Use:   "explain RUN|SCENE",
		Short: "Explain a run, a row of a run, or a scene: state, tries, errcodes with meaning and action, rids, stored object",
		Long: `explain RUN prints a run's failures by errcode, with what each errcode means and the
action to take, and sample rows and rids. explain --row N RUN explains one row, and
explain --app APPID [--page P ...] SCENE one code, given the options it was enqueued
with: its ledger record, tries, errcode, rid (--lookup-rid asks WeChat), asynq state
and whether its object is stored (and holds that code).`,
		Example: `  wxacode explain coupons-20261124T020000-1a2b3c
  wxacode explain coupons-20261124T020000-1a2b3c --row 812
  wxacode explain --app wx0123456789abcdef --page pages/coupon/index --lookup-rid c=81233`,
		Args: exactArgs(1, "one RUN or SCENE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runExplain(cmd.Context(), e, &o, args[0]) },
	}
	fs := cmd.Flags()
	appSettings(fs, &o.apps)
	baseURL.Bind(fs, &o.baseURL)
	o.code.bind(fs)
	storageSettings(fs, &o.storage)
	optRow.Bind(fs, &o.row)
	optLookupRID.Bind(fs, &o.lookupRID)
	return cmd
}

// runExplain explains a run (its failures by errcode, with meaning and
// action), one row of a run, or one scene of an app: its state, tries,
// errcode, rid and whether its object is stored.
func runExplain(ctx context.Context, env *env, o *explainOpts, arg string) error {
	e, err := o.openExplainer(ctx, env)
	if err != nil {
		return err
	}
	defer e.rdb.Close()
	if _, _, err := e.runs.Get(ctx, arg); err == nil {
		if o.row >= 0 {
			return e.row(ctx, arg, int64(o.row))
		}
		return e.run(ctx, arg)
	} else if !errors.Is(err, runs.ErrNoRun) {
		return err
	}
	def := o.code.job(o.apps.AppID)
	if def.App == "" {
		return usagef("%q is not a run; to explain a scene give --app", arg)
	}
	def.Scene = arg
	return e.job(ctx, def, nil)
}

func (o *explainOpts) openExplainer(ctx context.Context, env *env) (*explainer, error) {
	if _, err := env.logger(); err != nil {
		return nil, err
	}
	store, keys, err := o.storage.Open(ctx)
	if err != nil {
		return nil, err
	}
	rdb, err := env.redis.Open(ctx, 4)
	if err != nil {
		return nil, err
	}
	e := &explainer{o: o, env: env, w: env.stdout, rdb: rdb, runs: runs.NewStore(rdb, "").WithObjects(runs.StoreObjects(store)), ledger: jobs.NewLedger(rdb, ""),
		insp: asynq.NewInspectorFromRedisClient(rdb), store: store, keyOf: worker.KeyOf(keys, o.storage.PNG)}
	e.feeder = &runs.Feeder{Runs: e.runs, Store: store, KeyOf: e.keyOf}
	return e, nil
}

// run prints a run's state and its failures grouped by errcode, each
// with its meaning, the action to take and a few rows and rids.
func (e *explainer) run(ctx context.Context, id string) error {
	r, c, err := e.runs.Get(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.w, "run %s (campaign %s, app %s): %s\n  rows %d: stored %d, skipped %d, failed %d, in flight %d, not yet fed %d\n",
		r.ID, r.Campaign, r.App, r.State, r.Total, c.Stored, c.Skipped, c.Failed, c.InFlight(), r.Total-c.Fed)
	groups := map[string][]runs.Failure{}
	err = e.runs.Failures(ctx, id, func(f runs.Failure) error {
		groups[f.Group()] = append(groups[f.Group()], f)
		return nil
	})
	if err != nil {
		return err
	}
	codes := slices.Collect(maps.Keys(groups))
	slices.SortFunc(codes, func(a, b string) int { return cmp.Or(len(groups[b])-len(groups[a]), strings.Compare(a, b)) })
	for _, g := range codes {
		fails := groups[g]
		slices.SortFunc(fails, func(a, b runs.Failure) int { return cmp.Compare(a.Row, b.Row) })
		e.printGroup(fails[0], len(fails))
		for _, f := range fails[:min(3, len(fails))] {
			if f.Input {
				fmt.Fprintf(e.w, "    row %d: %s\n", f.Row, f.Reason)
				continue
			}
			fmt.Fprintf(e.w, "    row %d scene %q rid %s\n", f.Row, f.Scene, orDash(f.RID))
		}
		if e.o.lookupRID && fails[0].RID != "" {
			e.lookup(ctx, r.App, fails[0].RID)
		}
	}
	if len(codes) == 0 {
		fmt.Fprintln(e.w, "  no failures recorded")
	}
	return nil
}

// printGroup prints the heading of a group of failures like f: a WeChat
// errcode with its meaning and action, rejected input with its cause, or
// another failure without an errcode with its own reason.
func (e *explainer) printGroup(f runs.Failure, n int) {
	switch {
	case f.Input:
		fmt.Fprintf(e.w, "\n  %d %s (never sent to WeChat)\n", n, f.Group())
	case f.Code == 0:
		fmt.Fprintf(e.w, "\n  %d failed without a WeChat errcode: %s\n", n, f.Group())
	default:
		info, _ := wechat.ExplainCode(f.Code)
		fmt.Fprintf(e.w, "\n  errcode %d x %d (%s): %s\n    action: %s\n", f.Code, n, info.Class, info.Meaning, info.Action)
	}
}

// row explains one row of a run.
func (e *explainer) row(ctx context.Context, id string, row int64) error {
	j, err := e.feeder.RowJob(ctx, id, row)
	var re *jobs.RowError
	if errors.As(err, &re) {
		fmt.Fprintf(e.w, "run %s row %d was rejected before enqueue: %v\n", id, row, re)
		return nil
	}
	if err != nil {
		return err
	}
	info, err := e.runs.Rows(ctx, id, row, 1)
	if err != nil {
		return err
	}
	status := "no outcome yet"
	switch ri := info[0]; {
	case ri.Skipped:
		status = "skipped (its object was already stored)"
	case ri.Done:
		status = "stored"
	case ri.Failed:
		status = "failed"
	}
	fmt.Fprintf(e.w, "run %s row %d: %s\n", id, row, status)
	if f, ok, err := e.runs.Failure(ctx, id, row); err != nil {
		return err
	} else if ok {
		e.printFailure(ctx, j.App, f.Code, f.Msg, f.RID, f.Reason)
	}
	return e.job(ctx, j, &status)
}

// job explains one code: the ledger's record (unless runStatus already
// told), asynq's state of its task, and its stored object.
func (e *explainer) job(ctx context.Context, j jobs.Job, runStatus *string) error {
	id := j.TaskID()
	fmt.Fprintf(e.w, "scene %q of app %s, page %q: task %s\n", j.Scene, j.App, j.Page, id)
	if runStatus == nil {
		if err := e.ledgerRecord(ctx, j.App, id); err != nil {
			return err
		}
	}
	e.asynqState(j, id)
	return e.object(ctx, j)
}

func (e *explainer) ledgerRecord(ctx context.Context, app, id string) error {
	o, ok, err := e.ledger.Get(ctx, app, id)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(e.w, "  ledger: no outcome recorded (not finished, never enqueued, or enqueued with other options: give the same --page/--width/... as enqueue)")
		return nil
	}
	fmt.Fprintf(e.w, "  ledger: %s after %d tries at %s\n", o.Status, o.Tries, o.At.Format("2006-01-02 15:04:05Z07:00"))
	if o.Status == jobs.StatusFailed {
		e.printFailure(ctx, app, o.Code, o.Msg, o.RID, o.Reason)
	}
	return nil
}

func (e *explainer) printFailure(ctx context.Context, app string, code int, msg, rid, reason string) {
	fmt.Fprintf(e.w, "  failure: %s\n", reason)
	if code != 0 {
		info, _ := wechat.ExplainCode(code)
		fmt.Fprintf(e.w, "  errcode %d %q rid %s\n    meaning: %s\n    action: %s\n", code, msg, orDash(rid), info.Meaning, info.Action)
	}
	if e.o.lookupRID && rid != "" {
		e.lookup(ctx, app, rid)
	}
}

// asynqState prints the task's state in asynq: in its lane, or in a
// per-app queue of an older release.
func (e *explainer) asynqState(j jobs.Job, id string) {
	for _, q := range j.QueuesOf() {
		info, err := e.insp.GetTaskInfo(q, id)
		if err != nil {
			continue
		}
		fmt.Fprintf(e.w, "  asynq: %s in %s, retried %d of %d", info.State, q, info.Retried, info.MaxRetry)
		if info.LastErr != "" {
			fmt.Fprintf(e.w, ", last error: %s", info.LastErr)
		}
		fmt.Fprintln(e.w)
		return
	}
	fmt.Fprintln(e.w, "  asynq: no task (finished and not retained, or never enqueued)")
}

// object prints whether the code's object exists and holds this code.
func (e *explainer) object(ctx context.Context, j jobs.Job) error {
	key := e.keyOf(j)
	info, err := e.store.Stat(ctx, key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		fmt.Fprintf(e.w, "  object: not stored (%s)\n", e.store.URL(key))
		return nil
	case err != nil:
		return fmt.Errorf("checking %s: %w", key, err)
	}
	match := "holds this code"
	if c, ok, err := storage.StoredCodeOf(info.Metadata); err != nil {
		match = "METADATA UNREADABLE: " + err.Error()
	} else if !ok {
		match = "no metadata"
	} else if diff := c.Differs(j.KeyParams(e.o.storage.PNG)); diff != "" {
		match = "HOLDS ANOTHER CODE: " + diff
	}
	fmt.Fprintf(e.w, "  object: stored, %d bytes, %s, %s (%s)\n", info.Size, info.ModTime.Format("2006-01-02 15:04:05Z07:00"), match, e.store.URL(key))
	return nil
}

// lookup prints what WeChat recorded about a rid; failures are printed,
// not returned: the rest of the explanation still stands.
func (e *explainer) lookup(ctx context.Context, app, rid string) {
	a, err := e.o.open(ctx, e.env, app)
	if err != nil {
		fmt.Fprintf(e.w, "    rid lookup: %v\n", err)
		return
	}
	defer a.rdb.Close()
	info, err := a.client.RID(ctx, a.app.Tokens, rid)
	if err != nil {
		fmt.Fprintf(e.w, "    rid lookup: %v\n", err)
		return
	}
	var b strings.Builder
	printRID(&b, rid, info)
	fmt.Fprint(e.w, indent(b.String(), "    "))
}

func indent(s, pre string) string {
	return pre + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pre) + "\n"
}

func orDash(s string) string { return cmpOr(s, "-") }
