package main

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

	"github.com/stretchr/testify/require"
)

// TestResolverRedisStalled pauses the resolver's Redis (SIGSTOP): a lookup
// is answered 503 with Retry-After within --redis-timeout (plus slack for
// a loaded machine), not after go-redis's retries (about 20 s before),
// /readyz turns false, and both heal when Redis answers again.
func TestResolverRedisStalled(t *testing.T) {
	w := newWorld(t).withRedis()
	p := w.start("scenes", "serve", "--listen", "127.0.0.1:0", "--redis-timeout", "500ms")
	base := "http://" + p.waitFor(`scene resolver on http://(\S+)/s/`, 30*time.Second)
	get := func(path string) (*http.Response, time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err, path)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, time.Since(start)
	}
	resp, _ := get("/s/abc123")
	require.Equal(t, 404, resp.StatusCode, "a scene never issued, Redis up")
	resp, _ = get("/readyz")
	require.Equal(t, 200, resp.StatusCode)

	require.NoError(t, w.rs.Pause())
	t.Cleanup(func() { w.rs.Resume() })
	for _, path := range []string{"/s/abc123", "/s/other9", "/readyz"} {
		resp, took := get(path)
		require.Equal(t, 503, resp.StatusCode, "%s with Redis paused", path)
		require.Equal(t, "1", resp.Header.Get("Retry-After"), path)
		require.Less(t, took, 5*time.Second, "%s: 503 took %s with --redis-timeout 500ms", path, took)
	}
	resp, _ = get("/healthz")
	require.Equal(t, 200, resp.StatusCode, "the process itself is alive")

	require.NoError(t, w.rs.Resume())
	require.Eventually(t, func() bool { r, _ := get("/readyz"); return r.StatusCode == 200 }, 20*time.Second, 100*time.Millisecond)
	resp, _ = get("/s/abc123")
	require.Equal(t, 404, resp.StatusCode, "after Redis is back")
	p.stop(30 * time.Second)
}

// TestResolverConnectionLimits: the per-client cap refuses one client's
// excess connections at once while another client is served, and an idle
// keep-alive connection is closed after --http-idle-timeout.
func TestResolverConnectionLimits(t *testing.T) {
	w := newWorld(t).withRedis()
	p := w.start("scenes", "serve", "--listen", "127.0.0.1:0",
		"--http-max-conns-per-client", "2", "--http-idle-timeout", "300ms")
	addr := p.waitFor(`scene resolver on http://(\S+)/s/`, 30*time.Second)
	conn := func(from string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	status := func(c net.Conn) int {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET /s/abc123 HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
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
	a1, a2 := conn("127.0.0.2"), conn("127.0.0.2")
	require.Equal(t, 404, status(a1))
	require.Equal(t, 404, status(a2))
	require.Equal(t, 503, status(conn("127.0.0.2")), "third connection of one client")
	require.Equal(t, 404, status(conn("127.0.0.3")), "another client is served")

	a1.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.ReadAll(a1)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "idle keep-alive connection not closed within 10s of --http-idle-timeout 300ms")
	p.stop(30 * time.Second)
}

// TestDashboardRefusesWeakCredentials: short or blank tokens and passwords
// are refused at start (exit 2), on loopback too, with how to make one,
// and the value is never echoed.
func TestDashboardRefusesWeakCredentials(t *testing.T) {
	for _, tc := range []struct{ name, env string }{
		{"one char", "WXACODE_DASHBOARD_TOKEN=a"},
		{"blank", "WXACODE_DASHBOARD_TOKEN= "},
		{"15 chars", "WXACODE_DASHBOARD_TOKEN=abcdefghijklmno"},
		{"short password", "WXACODE_DASHBOARD_PASSWORD=hunter2pass"},
	} {
		for _, addr := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
			w := newWorld(t, tc.env, "WXACODE_DASHBOARD_USER=ops")
			r := w.run("dashboard", "--listen", addr)
			require.Equal(t, 2, r.code, "%s on %s\n%s", tc.name, addr, r)
			require.Contains(t, r.stderr, "16 random", tc.name)
			require.Contains(t, r.stderr, "$(openssl rand -hex 32)", tc.name)
			if v := strings.TrimSpace(strings.SplitN(tc.env, "=", 2)[1]); len(v) > 4 {
				require.NotContains(t, r.stderr+r.stdout, v, tc.name)
			}
		}
	}
}
