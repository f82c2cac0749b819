package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/wechat/wechattest"
)

// fakeProc is the fake WeChat in a process of its own (`wxacode
// fake-wechat` of the binary under test), driven through its /_fake/
// endpoints. Out of the test process, because the race detector makes a
// QR image about ten times dearer to draw (about 40 ms instead of 4) and
// the campaign tests draw thousands.
type fakeProc struct {
	t   *testing.T
	url string
	mu  sync.Mutex
	o   wechattest.Options // as last sent
}

// startFake starts a fake with o and stops it when the test ends.
func startFake(t *testing.T, o wechattest.Options) *fakeProc {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "fake.json")
	b, err := json.Marshal(o)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, b, 0o600))
	cmd := exec.Command(wxacodeBin, "fake-wechat", "--listen", "127.0.0.1:0", "--config", cfg, "--log-level", "error")
	cmd.Dir, cmd.Env, cmd.Stderr = dir, baseEnv(), io.Discard
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		_, _ = io.Copy(io.Discard, out)
	}()
	var line string
	select {
	case line = <-first:
	case <-time.After(30 * time.Second):
		t.Fatal("fake-wechat did not start within 30 s")
	}
	_, rest, ok := strings.Cut(line, "on http://")
	require.True(t, ok, "fake-wechat printed %q", line)
	addr, _, _ := strings.Cut(rest, " ")
	return &fakeProc{t: t, url: "http://" + addr, o: o}
}

// URL is the fake's base URL.
func (f *fakeProc) URL() string { return f.url }

func (f *fakeProc) post(path string, q url.Values, body []byte) {
	f.t.Helper()
	resp, err := http.Post(f.url+path+"?"+q.Encode(), "application/json", bytes.NewReader(body))
	require.NoError(f.t, err)
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	require.Equal(f.t, http.StatusOK, resp.StatusCode, "POST %s: %s", path, msg)
}

// Stats returns the fake's counters.
func (f *fakeProc) Stats() wechattest.Stats {
	f.t.Helper()
	resp, err := http.Get(f.url + "/_fake/stats")
	require.NoError(f.t, err)
	defer resp.Body.Close()
	var st wechattest.Stats
	require.NoError(f.t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

// Update changes the options as wechattest.Server.Update does: fn edits
// the options as last sent, and the whole of them replaces the fake's.
func (f *fakeProc) Update(fn func(*wechattest.Options)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.o)
	b, err := json.Marshal(f.o)
	require.NoError(f.t, err)
	f.post("/_fake/config", url.Values{"replace": {"1"}}, b)
}

// RevokeTokens invalidates every token of appid (wechattest.Server.RevokeTokens).
func (f *fakeProc) RevokeTokens(appid string) {
	f.post("/_fake/revoke", url.Values{"appid": {appid}}, nil)
}

// BurstRateLimit answers appid's next n code calls with 45009.
func (f *fakeProc) BurstRateLimit(appid string, n int) {
	f.post("/_fake/burst", url.Values{"appid": {appid}, "n": {fmt.Sprint(n)}}, nil)
}
