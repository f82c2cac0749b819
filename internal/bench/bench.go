// Package bench holds the benchmarks and the fault suite behind
// `wxacode bench ...`: each starts its own private redis-server on a
// loopback port and talks only to loopback. Each subcommand is one file
// whose init registers it (see Register); the cli mounts Commands() under
// `wxacode bench`. A new benchmark is one more such file:
//
//	func init() {
//		Register(func() *cobra.Command {
//			var n int
//			cmd := &cobra.Command{Use: "recovery", Short: "...", Example: "  wxacode bench recovery",
//				Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error { ... }}
//			cmd.Flags().IntVar(&n, "scenes", 1000, "...")
//			return cmd
//		})
//	}
//
// (its flags are a benchmark's options, not settings: plain flags without
// a variable). cmd/wxacode's tests then want a `bench NAME` row in
// README's Commands table naming every flag, and an example in its help.
package bench

import (
	"bufio"

	"github.com/spf13/cobra"

	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/internal/redistest"
)

var commands []func() *cobra.Command

// Register adds a `wxacode bench` subcommand; call it from the init of the
// subcommand's file. The command's RunE should return an error for a
// failed benchmark (exit status 1).
func Register(newCmd func() *cobra.Command) { commands = append(commands, newCmd) }

// Commands returns a fresh command of every registered benchmark.
func Commands() []*cobra.Command {
	out := make([]*cobra.Command, len(commands))
	for i, c := range commands {
		out[i] = c()
	}
	return out
}

// executable is this binary, which the benchmarks start as children
// (`wxacode worker`, `wxacode enqueue`).
func executable() (string, error) { return os.Executable() }

// benchRedis starts a private redis-server for a benchmark.
func benchRedis(stderr io.Writer) (*redistest.Server, func(), error) {
	dir, err := os.MkdirTemp("", "wxacode-bench-redis-*")
	if err != nil {
		return nil, nil, err
	}
	s, err := redistest.StartProcess(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	fmt.Fprintf(stderr, "bench: private redis-server on %s\n", s.Addr)
	return s, func() { s.Stop(); os.RemoveAll(dir) }, nil
}

// usedMemory reads Redis INFO used_memory.
func usedMemory(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no used_memory in INFO")
}

// self runs this binary with args and env, and returns its resource usage.
func self(ctx context.Context, env []string, stdout, stderr io.Writer, args ...string) (*syscall.Rusage, error) {
	exe, err := executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	if cmd.ProcessState == nil {
		return nil, err
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return ru, err
}

type enqueueResult struct {
	lines      int
	took       time.Duration
	maxRSSKiB  int64
	bytesPerJb float64
}

func init() {
	Register(func() *cobra.Command {
		var sizes string
		var workers int
		cmd := &cobra.Command{
			Use:   "enqueue",
			Short: "Enqueue rate, the enqueuer's peak memory and Redis bytes per pending job",
			Long: `bench enqueue writes a file of N distinct scenes for each size and enqueues it with a
child 'wxacode enqueue' into a fresh private redis-server, measuring the time, the
child's peak RSS and Redis used_memory per pending job.`,
			Example: "  wxacode bench enqueue --lines 100000,1000000",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return benchEnqueue(cmd.Context(), sizes, workers, cmd.OutOrStdout(), cmd.ErrOrStderr())
			},
		}
		cmd.Flags().StringVar(&sizes, "lines", "100000,1000000", "comma-separated input sizes; each runs against a fresh Redis")
		cmd.Flags().IntVar(&workers, "workers", 16, "parallel enqueuers")
		return cmd
	})
}

func benchEnqueue(ctx context.Context, sizes string, workers int, stdout, stderr io.Writer) error {
	fmt.Fprintln(stdout, "lines      seconds   jobs/s     peak RSS (MiB)  Redis bytes/pending job")
	for _, f := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return usagef("--lines: %q is not a positive number", f)
		}
		r, err := enqueueOnce(ctx, n, workers, stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-10d %-9.2f %-10.0f %-15.1f %.0f\n", r.lines, r.took.Seconds(),
			float64(r.lines)/r.took.Seconds(), float64(r.maxRSSKiB)/1024, r.bytesPerJb)
	}
	return nil
}

// enqueueOnce writes an n-line scene file and enqueues it with a child
// `wxacode enqueue` process into a fresh private Redis.
func enqueueOnce(ctx context.Context, n, workers int, stderr io.Writer) (enqueueResult, error) {
	srv, stop, err := benchRedis(stderr)
	if err != nil {
		return enqueueResult{}, err
	}
	defer stop()
	path, err := writeScenes(n)
	if err != nil {
		return enqueueResult{}, err
	}
	defer os.Remove(path)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	before, err := usedMemory(ctx, rdb)
	if err != nil {
		return enqueueResult{}, err
	}
	start := time.Now()
	ru, err := self(ctx, []string{"WXACODE_REDIS_URL=" + srv.URL()}, io.Discard, stderr,
		"enqueue", "--quiet", "--app", "wxbench00000000001", "--page", "pages/index/index",
		"--enqueue-workers", strconv.Itoa(workers), path)
	took := time.Since(start)
	if err != nil {
		return enqueueResult{}, fmt.Errorf("bench enqueue: child: %w", err)
	}
	after, err := usedMemory(ctx, rdb)
	if err != nil {
		return enqueueResult{}, err
	}
	return enqueueResult{lines: n, took: took, maxRSSKiB: ru.Maxrss, bytesPerJb: float64(after-before) / float64(n)}, nil
}

// writeScenes writes n distinct scenes, one per line, to a temp file.
func writeScenes(n int) (string, error) {
	f, err := os.CreateTemp("", "wxacode-bench-*.txt")
	if err != nil {
		return "", err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		fmt.Fprintf(w, "u%09d\n", i)
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	return filepath.Clean(f.Name()), nil
}

// UsageError is a bench flag whose value the benchmark does not take: the
// command line is wrong (exit status 2), not the benchmark (1).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error { return &UsageError{fmt.Errorf(format, args...)} }
