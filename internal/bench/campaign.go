package bench

import (
	"context"

	"github.com/spf13/cobra"

	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

func init() {
	Register(func() *cobra.Command {
		var o campaignBench
		cmd := &cobra.Command{
			Use:   "campaign",
			Short: "A generated campaign's feeder rate and Redis memory against the bound window x 1 KB + 50 MB",
			Long: `bench campaign runs a generated campaign against the fake at zero latency with worker
child processes, sampling Redis used_memory, and reports the feeder's enqueue rate and
the peak memory against the bound window x 1 KB + 50 MB.`,
			Example: "  wxacode bench campaign --rows 2000000 --window 100000",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return benchCampaign(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
			},
		}
		fs := cmd.Flags()
		fs.Int64Var(&o.rows, "rows", 2_000_000, "scenes in the generated campaign")
		fs.IntVar(&o.window, "window", 100_000, "the run's window")
		fs.DurationVar(&o.dur, "duration", 0, "stop after this long (0: run to the end)")
		fs.IntVar(&o.workers, "workers", 2, "worker processes")
		return cmd
	})
}

type campaignBench struct {
	rows            int64
	window, workers int
	dur             time.Duration
}

func benchCampaign(ctx context.Context, o campaignBench, stdout, stderr io.Writer) error {
	rows, window, dur, workers := &o.rows, &o.window, &o.dur, &o.workers
	r, err := newRig(stderr, wechattest.Options{RateLimit: -1})
	if err != nil {
		return err
	}
	defer r.close()
	base, err := usedMemory(ctx, r.rdb)
	if err != nil {
		return err
	}
	def := campaign.Definition{Name: "bench", App: benchApp, Window: *window,
		Source: campaign.Source{Generator: &campaign.Generator{Pattern: "g{n}", From: 1, To: *rows}}}
	f := &runs.Feeder{Runs: runs.NewStore(r.rdb, ""), Client: asynq.NewClientFromRedisClient(r.rdb),
		Enqueuer: jobs.NewEnqueuer(nil, jobs.EnqueueConfig{}), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	run, err := f.Start(ctx, def, "", time.Time{})
	if err != nil {
		return err
	}
	if err := r.startWorkers(*workers, 1_000_000, 64, stderr); err != nil {
		return err
	}
	return sampleRun(ctx, r, f.Runs, run, base, *dur, stdout)
}

// sampleRun prints a line every 10 s and a summary at the end.
func sampleRun(ctx context.Context, r *rig, st *runs.Store, run runs.Run, base int64, dur time.Duration, w io.Writer) error {
	start := time.Now()
	bound := int64(run.Window)*1024 + 50<<20
	var peak int64
	fillRate := 0.0
	fmt.Fprintf(w, "rows %d, window %d, bound on Redis used_memory %.1f MiB (window x 1 KB + 50 MB; empty Redis %.1f MiB)\n",
		run.Total, run.Window, float64(bound)/(1<<20), float64(base)/(1<<20))
	for i := 0; ; i++ {
		cur, c, err := st.Get(ctx, run.ID)
		if err != nil {
			return err
		}
		mem, err := usedMemory(ctx, r.rdb)
		if err != nil {
			return err
		}
		peak = max(peak, mem)
		el := time.Since(start)
		if fillRate == 0 && c.Fed >= int64(run.Window) {
			fillRate = float64(c.Fed) / el.Seconds()
		}
		if i%20 == 0 || cur.State == runs.StateDone {
			fmt.Fprintf(w, "%6.0fs fed %d finished %d in flight %d used_memory %.1f MiB\n", el.Seconds(), c.Fed, c.Finished(), c.InFlight(), float64(mem)/(1<<20))
		}
		if cur.State == runs.StateDone || (dur > 0 && el >= dur) {
			fmt.Fprintf(w, "after %s: %d of %d rows finished (%.0f/s); feeder filled the first window at %.0f rows/s; peak used_memory %.1f MiB (bound %.1f MiB): %s\n",
				el.Round(time.Second), c.Finished(), run.Total, float64(c.Finished())/el.Seconds(), fillRate,
				float64(peak)/(1<<20), float64(bound)/(1<<20), map[bool]string{true: "within", false: "OVER"}[peak <= bound])
			return nil
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}
