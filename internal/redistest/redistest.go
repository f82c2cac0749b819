// Package redistest starts private redis-server processes for tests and benchmarks.
//
// Every server listens on a free loopback port, keeps nothing on disk
// (--save "" --appendonly no) and is killed when the test ends. Tests never
// touch a Redis they did not start, so they are free to write and flush.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one running redis-server owned by the caller.
type Server struct {
	Addr string // host:port on 127.0.0.1
	cmd  *exec.Cmd
	dir  string
	args []string
}

// TB is the part of testing.TB this package uses (*testing.T and
// *testing.B are one). It is an interface of its own so that the benchmark
// commands, which run in the production binary, can use StartProcess
// without linking package testing.
type TB interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Binary is the redis-server executable; REDIS_SERVER overrides it.
func Binary() string {
	if b := os.Getenv("REDIS_SERVER"); b != "" {
		return b
	}
	return "redis-server"
}

// Start launches a redis-server on a free loopback port and stops it at the
// end of the test. If redis-server is missing the test fails (it is never
// skipped: CI installs it). Extra arguments are appended to the command line.
func Start(tb TB, extra ...string) *Server {
	tb.Helper()
	s, err := StartProcess(tb.TempDir(), extra...)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// StartProcess launches a redis-server whose working directory is dir.
// The caller must call Stop. It is used by benchmark commands that run
// outside the testing package.
func StartProcess(dir string, extra ...string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
	s.args = append([]string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--protected-mode", "yes", "--loglevel", "warning",
	}, extra...)
	return s, s.launch()
}

func (s *Server) launch() error {
	s.cmd = exec.Command(Binary(), s.args...)
	s.cmd.Stdout = nil
	logf, err := os.Create(filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return err
	}
	s.cmd.Stderr = logf
	s.cmd.Stdout = logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s (install it with apt-get install redis-server): %w", Binary(), err)
	}
	go func() { _ = s.cmd.Wait(); logf.Close() }()
	return s.waitReady(10 * time.Second)
}

func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && line == "+PONG\r\n" {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("redis-server at " + s.Addr + " did not become ready")
}

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Client returns a go-redis client for the server, closed at the end of the test.
func (s *Server) Client(tb TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop kills the server. It is safe to call twice.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		s.cmd = nil
	}
}

// Restart kills the server and starts it again on the same port, to
// simulate a crash or a failover in tests.
func (s *Server) Restart() error {
	s.Stop()
	time.Sleep(50 * time.Millisecond)
	return s.launch()
}

// Pause makes the server unresponsive (SIGSTOP) until Resume is called.
func (s *Server) Pause() error { return s.signal(stopSignal) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() error { return s.signal(contSignal) }

func (s *Server) signal(sig os.Signal) error {
	if s.cmd == nil || s.cmd.Process == nil {
		return errors.New("redistest: server not running")
	}
	return s.cmd.Process.Signal(sig)
}

// Flush empties the private server (only ever a server this package started).
func (s *Server) Flush(ctx context.Context) error {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	return c.FlushAll(ctx).Err()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// QuietClientLogs discards go-redis's own log lines for the whole test
// binary: it logs every refused dial, and tests that take Redis down on
// purpose would fill the output with them. Call it from TestMain.
func QuietClientLogs() {
	redis.SetLogger(discardLogger{})
}

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}
