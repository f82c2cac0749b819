package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
)

// dialFrom dials addr from the loopback source address from.
func dialFrom(ctx context.Context, from, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return d.DialContext(ctx, "tcp", addr)
}

// newAttackerCmd is the hidden child of `bench endpoints` that holds idle
// sockets: each of --conns goroutines connects, sends one keep-alive
// request, reads the answer and then idles; when the server refuses or
// closes the socket it reconnects 5 s later. It prints a JSON report.
func newAttackerCmd() *cobra.Command {
	var target, from string
	var conns int
	var dur time.Duration
	cmd := &cobra.Command{
		Use:    "endpoints-attacker",
		Short:  "Child process of bench endpoints: hold idle sockets",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer cancel()
			ctx, cancel = context.WithTimeout(ctx, dur)
			defer cancel()
			r := holdIdle(ctx, target, from, conns)
			return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&target, "target", "", "server address")
	fs.StringVar(&from, "from", "127.0.0.2", "source address")
	fs.IntVar(&conns, "conns", 1000, "sockets to hold")
	fs.DurationVar(&dur, "for", time.Minute, "how long")
	return cmd
}

func holdIdle(ctx context.Context, target, from string, conns int) attackerReport {
	var held, heldMax, refused atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 128) // dials at once
	for range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				sem <- struct{}{}
				c, ok := openIdle(ctx, target, from)
				<-sem
				if !ok {
					refused.Add(1)
				} else {
					n := held.Add(1)
					for m := heldMax.Load(); n > m && !heldMax.CompareAndSwap(m, n); m = heldMax.Load() {
					}
					waitClosed(ctx, c)
					held.Add(-1)
				}
				sleepCtx(ctx, 5*time.Second)
			}
		})
	}
	wg.Wait()
	return attackerReport{HeldMax: int(heldMax.Load()), Refused: int(refused.Load())}
}

// openIdle connects and makes one request; ok means the server answered
// (anything but a 503 refusal) and the socket is kept.
func openIdle(ctx context.Context, target, from string) (net.Conn, bool) {
	c, err := dialFrom(ctx, from, target)
	if err != nil {
		return nil, false
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /s/abc123 HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		c.Close()
		return nil, false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode == http.StatusServiceUnavailable {
		c.Close()
		return nil, false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.SetDeadline(time.Time{})
	return c, true
}

// waitClosed returns when the server closes c or ctx ends (then c is closed).
func waitClosed(ctx context.Context, c net.Conn) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	_, _ = io.Copy(io.Discard, c)
	c.Close()
}

// startSlowHeaders opens n connections from from that send a header line
// a second and never end their headers, reconnecting 1 s after the server
// cuts one off. The returned func stops them and returns how many were
// cut off.
func startSlowHeaders(ctx context.Context, addr, from string, n int) func() int64 {
	var cut atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				if slowOnce(ctx, addr, from) {
					cut.Add(1)
				}
				sleepCtx(ctx, time.Second)
			}
		})
	}
	return func() int64 { wg.Wait(); return cut.Load() }
}

// slowOnce trickles headers on one connection until the server closes it
// (true) or ctx ends.
func slowOnce(ctx context.Context, addr, from string) bool {
	c, err := dialFrom(ctx, from, addr)
	if err != nil {
		return false
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := io.WriteString(c, "GET /s/abc123 HTTP/1.1\r\nHost: x\r\n"); err != nil {
		return ctx.Err() == nil
	}
	for i := 0; ctx.Err() == nil; i++ {
		if sleepCtx(ctx, time.Second) != nil {
			return false
		}
		if _, err := io.WriteString(c, "X-Slow-"+strconv.Itoa(i)+": 1\r\n"); err != nil {
			return ctx.Err() == nil
		}
	}
	return false
}

type ordinaryResult struct {
	requests, errors int
	p50, p99         time.Duration
	firstErr         string
}

// runOrdinary has n clients, each from its own source address
// (127.0.0.10 on), resolve random issued scenes five times a second for
// dur, each request bounded by 5 s; anything but 200 is an error.
func runOrdinary(ctx context.Context, addr string, ids []string, n int, dur time.Duration) ordinaryResult {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var res ordinaryResult
	var wg sync.WaitGroup
	for i := range n {
		idx := 10 + i
		from := fmt.Sprintf("127.0.%d.%d", idx/250, idx%250)
		wg.Go(func() {
			cl := ordinaryClient(from)
			defer cl.CloseIdleConnections()
			for ctx.Err() == nil {
				took, err := resolveOnce(cl, addr, ids[rand.IntN(len(ids))])
				if ctx.Err() != nil && err != nil {
					return // cut off by the end of the run, not by the server
				}
				mu.Lock()
				res.requests++
				lat = append(lat, took)
				if err != nil {
					res.errors++
					res.firstErr = cmpOr(res.firstErr, err.Error())
				}
				mu.Unlock()
				sleepCtx(ctx, 200*time.Millisecond)
			}
		})
	}
	wg.Wait()
	slices.Sort(lat)
	if len(lat) > 0 {
		res.p50, res.p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return res
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func ordinaryClient(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 1}}
}

func resolveOnce(cl *http.Client, addr, scene string) (time.Duration, error) {
	start := time.Now()
	resp, err := cl.Get("http://" + addr + "/s/" + scene)
	if err != nil {
		return time.Since(start), err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return took, fmt.Errorf("status %d", resp.StatusCode)
	}
	return took, nil
}

// procSampler samples a process's resident memory and open descriptors
// every 250 ms and keeps the peaks.
type procSampler struct {
	pid  int
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	rss  int64
	fds  int
}

func newProcSampler(pid int) *procSampler {
	s := &procSampler{pid: pid, done: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	})
	return s
}

func (s *procSampler) sample() {
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid)); err == nil {
		s.fds = max(s.fds, len(ents))
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			s.rss = max(s.rss, kb<<10)
		}
	}
}

// stop ends sampling (once) and returns the peak RSS in bytes and the peak
// descriptor count.
func (s *procSampler) stop() (int64, int) {
	s.once.Do(func() { close(s.done); s.wg.Wait() })
	return s.rss, s.fds
}
