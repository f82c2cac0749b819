package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/wxacode/wxacode/jobs"
)

// startProgress reports enqueue progress every second on a terminal (one
// rewritten line) or every 10 seconds otherwise. The returned func stops it.
func startProgress(ctx context.Context, w io.Writer, quiet bool, c *jobs.Counts) func() {
	if quiet {
		return func() {}
	}
	tty := isTerminal(w)
	every := 10 * time.Second
	if tty {
		every = time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				if tty {
					fmt.Fprintln(w)
				}
				return
			case <-t.C:
				s := c.Snapshot()
				rate := float64(s.Read) / time.Since(start).Seconds()
				line := fmt.Sprintf("read %d  enqueued %d  duplicate %d  rejected %d  %.0f rows/s", s.Read, s.Enqueued, s.Duplicate, s.Rejected, rate)
				if tty {
					fmt.Fprintf(w, "\r%s", line)
				} else {
					fmt.Fprintln(w, line)
				}
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// bar renders a progress bar of done/total with rate and ETA.
func bar(done, total int64, rate float64) string {
	const width = 30
	frac := 0.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	n := int(frac * width)
	eta := "?"
	if rate > 0 && total >= done {
		eta = (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("[%s%s] %d/%d %5.1f%% %.1f/s ETA %s", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total, frac*100, rate, eta)
}
