// Package progress shows how far a long task is: on a terminal a progress
// bar (github.com/schollz/progressbar), otherwise a line every 10 s, so
// that logs and CI output stay readable.
package progress

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/jobs/runs"
)

// offTerminalEvery is how often progress is printed as a line when the
// output is not a terminal (a log file, CI).
const offTerminalEvery = 10 * time.Second

// Func reports how far a task is (done of total; total <= 0 when
// unknown) and a description of it.
type Func func() (done, total int64, desc string)

// Start shows the progress of f on w until the returned func is
// called: on a terminal a progress bar (github.com/schollz/progressbar)
// redrawn every second, otherwise the description as a line every 10 s.
// quiet shows nothing.
func Start(ctx context.Context, w io.Writer, quiet bool, f Func) func() {
	if quiet {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if system.IsTerminal(w) {
		wg.Go(func() { drawBar(ctx, w, f) })
	} else {
		wg.Go(func() { printLines(ctx, w, f) })
	}
	return func() { cancel(); wg.Wait() }
}

func drawBar(ctx context.Context, w io.Writer, f Func) {
	_, total, _ := f()
	bar := progressbar.NewOptions64(max(total, -1), progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(time.Second/2), progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetRenderBlankState(true), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		done, total, desc := f()
		if total > 0 && bar.GetMax64() != total {
			bar.ChangeMax64(total)
		}
		bar.Describe(desc)
		_ = bar.Set64(done)
		select {
		case <-ctx.Done():
			_ = bar.Finish()
			return
		case <-t.C:
		}
	}
}

func printLines(ctx context.Context, w io.Writer, f Func) {
	t := time.NewTicker(offTerminalEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _, desc := f()
			fmt.Fprintln(w, desc)
		}
	}
}

// Rate describes done of total at the rate since start, with the time
// left when it can tell.
func Rate(done, total int64, start time.Time) string {
	perSec := float64(done) / max(time.Since(start).Seconds(), 1e-9)
	s := fmt.Sprintf("%d/%d", done, total)
	if total > 0 {
		s += fmt.Sprintf(" (%.1f%%)", 100*float64(min(done, total))/float64(total))
	}
	s += fmt.Sprintf(", %.1f/s", perSec)
	if total > 0 && total >= done {
		if d, ok := runs.TimeLeft(total-done, perSec*60); ok {
			s += ", " + runs.FormatLeft(d) + " left"
		}
	}
	return s
}
