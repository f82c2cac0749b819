package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/apphold"
	"github.com/wxacode/wxacode/code"
)

func init() { register(newHoldsCmd) }

func newHoldsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "holds",
		Short: "List the apps held for the whole fleet, or release one",
		Long: `holds lists the apps every worker and 'wxacode gen' hold back from WeChat: after an
answer about the whole account (48001, 48004, 50002, 61007; held until released), a
configuration error of the token endpoint, its spent daily quota (45009 there), an IP
an administrator rejected (89506, 89507) or a fresh token rejected twice (held as long
as the worker's --config-hold, --ip-rejected-day-hold or --ip-rejected-hour-hold).
A held app's jobs are handed back as non-failures; none is spent or failed. The holds
live in one Redis hash (wxacode:holds), so a restart releases nothing.

'holds release APP' ends the app's hold for every process (each sees it within 2 s;
jobs come back within the worker's --held-retry). Fix the cause first (wxacode
explain ERRCODE says what it is).`,
		Example: `  wxacode holds
  wxacode holds list
  wxacode holds release wx0123456789abcdef`,
		Args: maxArgs(0, "no arguments (or a subcommand: list, release APP)"),
		RunE: func(cmd *cobra.Command, _ []string) error { return listHolds(cmd.Context(), e) },
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "list",
		Short:   "Print the held apps: APP CAUSE ERRCODE SINCE UNTIL REASON (what 'wxacode holds' prints)",
		Example: "  wxacode holds list",
		Args:    exactArgs(0, "no arguments"),
		RunE:    func(cmd *cobra.Command, _ []string) error { return listHolds(cmd.Context(), e) },
	}, &cobra.Command{
		Use:     "release APP",
		Short:   "End an app's hold for every worker",
		Example: "  wxacode holds release wx0123456789abcdef",
		Args:    exactArgs(1, "the appid to release"),
		RunE: func(cmd *cobra.Command, args []string) error {
			app := args[0]
			if err := code.ValidateApp(app); err != nil {
				return usagef("%v", err)
			}
			return withHolds(cmd.Context(), e, func(ctx context.Context, r *apphold.Registry) error {
				h, ok, err := r.Release(ctx, app)
				switch {
				case err != nil:
					return err
				case !ok:
					return usagef("app %s is not held (wxacode holds lists the held apps)", app)
				}
				fmt.Fprintf(e.stdout, "released %s (held since %s: %s, errcode %d)\n", app, h.Since.UTC().Format(time.RFC3339), h.Cause, h.Code)
				return nil
			})
		},
	})
	return cmd
}

func listHolds(ctx context.Context, e *env) error {
	return withHolds(ctx, e, func(ctx context.Context, r *apphold.Registry) error {
		list, err := r.List(ctx)
		if err != nil {
			return err
		}
		printHolds(e.stdout, list)
		return nil
	})
}

func withHolds(ctx context.Context, e *env, run func(context.Context, *apphold.Registry) error) error {
	if _, err := e.logger(); err != nil {
		return err
	}
	rdb, err := e.redis.Open(ctx, 2)
	if err != nil {
		return err
	}
	defer rdb.Close()
	return run(ctx, apphold.New(rdb, apphold.Config{}))
}

// printHolds prints the holds as a table; UNTIL is "released" for a hold
// that lasts until an operator releases it.
func printHolds(w io.Writer, list []apphold.Hold) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tCAUSE\tERRCODE\tSINCE\tUNTIL\tREASON")
	for _, h := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.App, h.Cause, errcodeCell(h.Code), h.Since.UTC().Format(time.RFC3339), untilCell(h), h.Reason)
	}
	tw.Flush()
}

func errcodeCell(c int) string {
	if c == 0 {
		return "-"
	}
	return strconv.Itoa(c)
}

func untilCell(h apphold.Hold) string {
	if h.Until.IsZero() {
		return "until released"
	}
	return h.Until.UTC().Format(time.RFC3339)
}
