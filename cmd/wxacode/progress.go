package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxacode/wxacode/jobs"
)

// countingReader counts the bytes read through it, for progress and ETA.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// startProgress reports enqueue progress every second on a terminal (one
// rewritten line) or every 10 seconds otherwise. With the input's size
// known (size > 0) it shows a bar with the share read and an ETA. The
// returned func stops it.
func startProgress(ctx context.Context, w io.Writer, quiet bool, c *jobs.Counts, in *countingReader, size int64) func() {
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
				line := progressLine(c.Snapshot(), time.Since(start), in.n.Load(), size)
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

func progressLine(s jobs.Summary, took time.Duration, read, size int64) string {
	rate := float64(s.Read) / took.Seconds()
	line := fmt.Sprintf("read %d  enqueued %d  duplicate %d  rejected %d  %.0f rows/s", s.Read, s.Enqueued, s.Duplicate, s.Rejected, rate)
	if size <= 0 || read <= 0 {
		return line
	}
	frac := min(float64(read)/float64(size), 1)
	eta := time.Duration(float64(took) * (1 - frac) / frac).Round(time.Second)
	return fmt.Sprintf("%s  %s  ETA %s", line, bar(int64(frac*1000), 1000, 0)[:32], eta)
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
