package wechat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// BenchmarkGetUnlimitedFake is one interface B call against the fake over
// loopback HTTP: client, server and image rendering all count.
func BenchmarkGetUnlimitedFake(b *testing.B) {
	e := newEnv(b, func(o *wechattest.Options) { o.RateLimit = -1 })
	e.client.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	tok := e.token(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := e.client.GetUnlimited(ctx, tok, code.Params{Scene: fmt.Sprintf("b%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetUnlimitedClient isolates the client: the server returns a
// fixed 12 KB JPEG, so allocations are the client's and net/http's.
func BenchmarkGetUnlimitedClient(b *testing.B) {
	img, err := wechattest.Render(wechattest.Content{AppID: appA, Scene: "fixed"}, 430, [3]int{}, false)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", fmt.Sprint(len(img)))
		_, _ = w.Write(img)
	}))
	defer srv.Close()
	c := NewClient(Config{BaseURL: srv.URL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(img)))
	for b.Loop() {
		if _, err := c.GetUnlimited(ctx, "tok", code.Params{Scene: "abc123", Page: "pages/index/index"}); err != nil {
			b.Fatal(err)
		}
	}
}
