package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/syncbuf"
	"github.com/wxacode/wxacode/scenes"
)

// endpointsOpts are the options of `bench endpoints`.
type endpointsOpts struct {
	mode      string
	idle      int // idle sockets the attacker tries to hold, over attackerProcs processes
	slow      int // slow-header connections
	clients   int // ordinary clients
	ramp, dur time.Duration
}

// attackerProcs split the idle sockets over processes: one process's
// descriptor limit (often 20,000) cannot hold them all with its others.
const attackerProcs = 2

// beforeFlags turn the limits off: the resolver as it was before
// internal/httpserver (only a 10 s header timeout, no idle timeout, no
// connection caps, Redis calls bounded only by go-redis's retries).
var beforeFlags = []string{"--http-max-conns", "-1", "--http-max-conns-per-client", "-1",
	"--http-idle-timeout", "24h", "--http-read-timeout", "24h", "--http-write-timeout", "24h",
	"--http-read-header-timeout", "10s", "--redis-timeout", "20s"}

func init() {
	Register(func() *cobra.Command {
		var o endpointsOpts
		cmd := &cobra.Command{
			Use:   "endpoints",
			Short: "Ordinary clients' latency and errors while one client holds ~20,000 idle sockets and another sends slow headers",
			Long: `bench endpoints runs ` + "`wxacode scenes serve`" + ` on a private redis-server and, from distinct
loopback source addresses standing for clients, has one client (127.0.0.2, in two
processes) hold --idle idle keep-alive sockets, another (127.0.0.3) send --slow
connections' headers a line a second, and --clients ordinary clients (127.0.0.10 on)
resolve issued scenes five times a second each. It reports the ordinary clients'
p50/p99 latency and error rate and the server's peak memory and descriptors,
"before" (limits off, as the resolver was before internal/httpserver) and "after"
(the defaults).`,
			Example: "  wxacode bench endpoints --mode both --idle 19990 --duration 20s",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runEndpoints(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
			},
		}
		fs := cmd.Flags()
		fs.StringVar(&o.mode, "mode", "both", "before, after or both")
		fs.IntVar(&o.idle, "idle", 19990, "idle sockets the attacking client tries to hold")
		fs.IntVar(&o.slow, "slow", 200, "slow-header connections of the second client")
		fs.IntVar(&o.clients, "clients", 100, "ordinary clients")
		fs.DurationVar(&o.ramp, "ramp", 15*time.Second, "time the attack runs before the ordinary clients start")
		fs.DurationVar(&o.dur, "duration", 20*time.Second, "how long the ordinary clients are measured")
		return cmd
	})
	Register(newAttackerCmd)
}

func runEndpoints(ctx context.Context, o endpointsOpts, stdout, stderr io.Writer) error {
	modes := map[string][]string{"before": {"before"}, "after": {"after"}, "both": {"before", "after"}}[o.mode]
	if modes == nil {
		return usagef("--mode %q: want before, after or both", o.mode)
	}
	fmt.Fprintf(stdout, "attack: %d idle sockets from 127.0.0.2 (%d processes), %d slow-header connections from 127.0.0.3; %d ordinary clients at 5 req/s each, measured %s after a %s ramp\n",
		o.idle, attackerProcs, o.slow, o.clients, o.dur, o.ramp)
	fmt.Fprintln(stdout, "mode    requests  errors  error%   p50      p99      server peak RSS  peak fds  idle held  refused")
	for _, m := range modes {
		r, err := endpointsOnce(ctx, o, m == "before", stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		fmt.Fprintf(stdout, "%-7s %-9d %-7d %-8.2f %-8s %-8s %-16s %-9d %-10d %d\n", m, r.requests, r.errors,
			100*float64(r.errors)/float64(max(1, r.requests)), r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond),
			fmt.Sprintf("%.1f MiB", float64(r.peakRSS)/(1<<20)), r.peakFDs, r.held, r.refused)
	}
	return nil
}

type endpointsResult struct {
	ordinaryResult
	peakRSS       int64
	peakFDs       int
	held, refused int
	slowCutOff    int64
}

func endpointsOnce(ctx context.Context, o endpointsOpts, before bool, stderr io.Writer) (endpointsResult, error) {
	var res endpointsResult
	rs, stop, err := benchRedis(stderr)
	if err != nil {
		return res, err
	}
	defer stop()
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	st, err := scenes.New(rdb, scenes.Config{})
	if err != nil {
		return res, err
	}
	ids, err := issueBenchScenes(ctx, st, 1000)
	if err != nil {
		return res, err
	}
	srv, addr, err := startResolver(rs.URL(), before, stderr)
	if err != nil {
		return res, err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	sampler := newProcSampler(srv.Process.Pid)
	defer sampler.stop()
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	attackers, err := startAttackers(actx, addr, o.idle, o.ramp+o.dur+5*time.Second)
	if err != nil {
		return res, err
	}
	slow := startSlowHeaders(actx, addr, "127.0.0.3", o.slow)
	if err := sleepCtx(ctx, o.ramp); err != nil {
		return res, err
	}
	res.ordinaryResult = runOrdinary(ctx, addr, ids, o.clients, o.dur)
	cancel()
	res.slowCutOff = slow()
	for _, a := range attackers {
		ar, err := a.wait()
		if err != nil {
			return res, err
		}
		res.held += ar.HeldMax
		res.refused += ar.Refused
	}
	res.peakRSS, res.peakFDs = sampler.stop()
	return res, nil
}

func issueBenchScenes(ctx context.Context, st *scenes.Store, n int) ([]string, error) {
	rows := make([][]byte, n)
	for i := range rows {
		rows[i] = []byte(`{"coupon":` + strconv.Itoa(i) + `,"shop":"bench"}`)
	}
	return st.IssueMany(ctx, rows)
}

var resolverAddrRE = regexp.MustCompile(`scene resolver on http://(\S+)/s/`)

// startResolver starts `wxacode scenes serve` on a free loopback port and
// returns it with its address.
func startResolver(redisURL string, before bool, stderr io.Writer) (*exec.Cmd, string, error) {
	exe, err := executable()
	if err != nil {
		return nil, "", err
	}
	args := []string{"scenes", "serve", "--listen", "127.0.0.1:0"}
	if before {
		args = append(args, beforeFlags...)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "WXACODE_REDIS_URL="+redisURL, "WXACODE_LOG_LEVEL=error")
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, io.MultiWriter(out, stderr)
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := resolverAddrRE.FindStringSubmatch(out.String()); m != nil {
			return cmd, m[1], nil
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, "", fmt.Errorf("scenes serve did not start: %s", out.String())
}

// attacker is one attacking child process.
type attacker struct {
	cmd *exec.Cmd
	out *syncbuf.Buffer
}

type attackerReport struct {
	HeldMax, Refused int
}

func startAttackers(ctx context.Context, addr string, idle int, dur time.Duration) ([]*attacker, error) {
	exe, err := executable()
	if err != nil {
		return nil, err
	}
	var as []*attacker
	for i := range attackerProcs {
		n := idle / attackerProcs
		if i == 0 {
			n += idle % attackerProcs
		}
		a := &attacker{out: &syncbuf.Buffer{}}
		a.cmd = exec.CommandContext(ctx, exe, "bench", "endpoints-attacker", "--target", addr, "--from", "127.0.0.2",
			"--conns", strconv.Itoa(n), "--for", dur.String())
		a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
		a.cmd.Cancel = func() error { return a.cmd.Process.Signal(os.Interrupt) }
		a.cmd.WaitDelay = 10 * time.Second
		if err := a.cmd.Start(); err != nil {
			return nil, err
		}
		as = append(as, a)
	}
	return as, nil
}

func (a *attacker) wait() (attackerReport, error) {
	_ = a.cmd.Wait()
	var r attackerReport
	if err := json.Unmarshal(lastLine(a.out.String()), &r); err != nil {
		return r, fmt.Errorf("attacker: %v: %s", err, a.out.String())
	}
	return r, nil
}

func lastLine(s string) []byte {
	b := []byte(s)
	for len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			return b[i+1:]
		}
	}
	return b
}
