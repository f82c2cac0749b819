package httpserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T, c Config) *Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	s, err := Listen("127.0.0.1:0", h, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown() })
	return s
}

// dial connects from the loopback address from (127.0.0.x stands for a
// client of its own).
func dial(t *testing.T, s *Server, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// get sends one keep-alive request on c and returns the status code.
func get(t *testing.T, c net.Conn) int {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// closedWithin reports whether the server closes c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.ReadAll(c)
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout())
}

func TestIdleTimeoutClosesKeepAlive(t *testing.T) {
	s := start(t, Config{IdleTimeout: 200 * time.Millisecond})
	c := dial(t, s, "127.0.0.1")
	if code := get(t, c); code != 200 {
		t.Fatalf("status %d", code)
	}
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("idle keep-alive connection still open after 5s with IdleTimeout 200ms")
	}
}

func TestSlowHeadersCutOff(t *testing.T) {
	s := start(t, Config{ReadHeaderTimeout: 200 * time.Millisecond})
	c := dial(t, s, "127.0.0.1")
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n") // never ends the headers
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("connection with unfinished headers still open after 5s with ReadHeaderTimeout 200ms")
	}
}

func TestHeaderCap(t *testing.T) {
	s := start(t, Config{MaxHeaderBytes: 1024})
	c := dial(t, s, "127.0.0.1")
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 8192)+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}

func TestPerClientCapRefusesExcess(t *testing.T) {
	s := start(t, Config{MaxConnsPerClient: 3})
	var held []net.Conn
	for range 3 {
		c := dial(t, s, "127.0.0.2")
		if code := get(t, c); code != 200 {
			t.Fatalf("connection within the cap: status %d", code)
		}
		held = append(held, c)
	}
	if code := get(t, dial(t, s, "127.0.0.2")); code != http.StatusServiceUnavailable {
		t.Fatalf("4th connection of one client: status %d, want 503", code)
	}
	if code := get(t, dial(t, s, "127.0.0.3")); code != 200 {
		t.Fatalf("another client: status %d, want 200", code)
	}
	if st := s.Stats(); st.Refused != 1 || st.Clients != 2 {
		t.Fatalf("stats %+v, want 1 refused, 2 clients", st)
	}
	held[0].Close()
	waitOpen(t, s, 3) // 2 of 127.0.0.2 and the one of 127.0.0.3
	if code := get(t, dial(t, s, "127.0.0.2")); code != 200 {
		t.Fatalf("after one closed: status %d, want 200", code)
	}
}

func TestTotalCapRefusesExcess(t *testing.T) {
	s := start(t, Config{MaxConns: 2, MaxConnsPerClient: -1})
	for _, from := range []string{"127.0.0.2", "127.0.0.3"} {
		if code := get(t, dial(t, s, from)); code != 200 {
			t.Fatalf("within the cap: status %d", code)
		}
	}
	if code := get(t, dial(t, s, "127.0.0.4")); code != http.StatusServiceUnavailable {
		t.Fatalf("3rd connection over MaxConns 2: status %d, want 503", code)
	}
}

func TestTrustProxyLiftsPerClientCap(t *testing.T) {
	s := start(t, Config{MaxConnsPerClient: 1, TrustProxy: true})
	for range 3 {
		if code := get(t, dial(t, s, "127.0.0.2")); code != 200 {
			t.Fatalf("behind a trusted proxy: status %d, want 200", code)
		}
	}
}

func TestDefaults(t *testing.T) {
	c := DefaultConfig()
	if c.ReadHeaderTimeout != 5*time.Second || c.ReadTimeout != 15*time.Second || c.WriteTimeout != 30*time.Second ||
		c.IdleTimeout != 30*time.Second || c.MaxHeaderBytes != 16<<10 || c.MaxConnsPerClient != 64 {
		t.Fatalf("defaults %+v", c)
	}
	if n := FileLimit(); n > 0 && c.MaxConns > n-ReservedFiles && c.MaxConns != 1 {
		t.Fatalf("MaxConns %d above the descriptor limit %d less %d", c.MaxConns, n, ReservedFiles)
	}
	if err := (Config{IdleTimeout: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "IdleTimeout") {
		t.Fatalf("negative IdleTimeout: %v", err)
	}
}

func TestRaiseFileLimit(t *testing.T) {
	if got := RaiseFileLimit(); got == 0 || int(got) != FileLimit() {
		t.Fatalf("RaiseFileLimit %d, FileLimit %d", got, FileLimit())
	}
}

func TestRunShutsDownOnCancel(t *testing.T) {
	s := start(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func waitOpen(t *testing.T, s *Server, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Open != want {
		if time.Now().After(deadline) {
			t.Fatalf("open %d, want %d", s.Stats().Open, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
