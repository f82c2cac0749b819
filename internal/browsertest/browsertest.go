// Package browsertest drives Debian's headless Chromium (apt-get install -y
// chromium) from tests, with chromedp.
package browsertest

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's chromium.
const ChromiumPath = "/usr/bin/chromium"

// Start launches a headless Chromium (no sandbox, no GPU, no background
// networking, an empty user data dir) that sends the given headers with
// every request, and stops it when the test ends. A missing Chromium fails
// the test, never skips it.
func Start(t testing.TB, ctx context.Context, headers map[string]any) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("the browser test needs Chromium at %s: install it with `apt-get install -y chromium` (%v)", ChromiumPath, err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(ChromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.NoFirstRun, chromedp.WindowSize(1280, 900))
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers(headers)})
		return err
	}))
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// Screenshot saves a full-page PNG named name to $WXACODE_SCREENSHOT_DIR (or
// a temporary directory), logs its path, and fails unless it shows a page
// of at least 1000x600 with 16 or more colours.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	data, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("WXACODE_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", path, len(data))
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	if size := img.Bounds().Size(); size.X < 1000 || size.Y < 600 {
		t.Fatalf("screenshot %s is only %v", name, size)
	}
	if n := colors(img); n < 16 {
		t.Fatalf("screenshot %s has %d colours: a blank page", name, n)
	}
}

// colors counts the distinct colours of a grid of sample pixels.
func colors(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}
