package dashboard

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/jobs"
)

// chromiumPath is Debian's chromium (apt-get install -y chromium).
const chromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium that sends the dashboard's bearer
// token with every request (the asynqmon app's own API calls included).
func browser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser test needs Chromium at %s: install it with `apt-get install -y chromium` (%v)", chromiumPath, err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.NoFirstRun, chromedp.WindowSize(1280, 900))
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	require.NoError(t, chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + testBearer}})
		return err
	})))
	return bctx
}

// shot saves a full-page PNG to $WXACODE_SCREENSHOT_DIR (or a temporary
// directory) and checks that it shows something.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	data, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	dir := os.Getenv("WXACODE_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	t.Logf("screenshot %s (%d bytes)", path, len(data))
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err, "a PNG")
	size := img.Bounds().Size()
	require.GreaterOrEqual(t, size.X, 1000)
	require.GreaterOrEqual(t, size.Y, 600)
	require.GreaterOrEqual(t, colors(img), 16, "more than a blank page")
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

type renderedField struct {
	Value string `json:"value"`
	Text  string `json:"text"`
}

// readRun reads every number the page renders for run id.
const readRun = `(() => {
  const out = {};
  document.querySelectorAll('[data-run="` + testRun + `"] [data-field]').forEach(e => {
    out[e.dataset.field] = {value: e.dataset.value || "", text: e.textContent.trim()};
  });
  const p = document.querySelector('[data-run="` + testRun + `"] progress');
  out["progress"] = {value: String(p.value), text: String(p.max)};
  return out;
})()`

func TestBrowserShowsRunningCampaign(t *testing.T) {
	b := setup(t, func(c *Config) { c.Refresh = time.Hour }) // no reload in the middle of the test
	b.seed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bctx := browser(t, ctx)

	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(b.web.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-run="`+testRun+`"] [data-field="stored"]`))))
	got, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]renderedField](readRun))
	require.NoError(t, err)
	want := ledgerRun(t, b, testRun)
	r, c, err := b.runs.Get(ctx, testRun)
	require.NoError(t, err)
	require.Equal(t, "running", r.State, "the campaign is in progress")
	require.Less(t, c.Finished(), r.Total)
	for field, n := range want {
		require.Equal(t, strconv.FormatInt(n, 10), got[field].Value, field)
		require.Equal(t, formatNum(n), got[field].Text, field)
	}
	require.Equal(t, renderedField{Value: strconv.FormatInt(c.Finished(), 10), Text: strconv.FormatInt(r.Total, 10)}, got["progress"])
	require.Equal(t, "80.0%", got["percent"].Text)
	require.Equal(t, "running", got["state"].Text)
	shot(t, bctx, "dashboard.png")

	// asynqmon is a JavaScript app: wait until it has fetched and drawn the queues.
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(b.web.URL+"/asynq/")))
	_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.body.innerText.includes("`+jobs.Queue(testApp)+`")`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(40*time.Second)))
	require.NoError(t, err, "asynqmon did not show the queue")
	shot(t, bctx, "asynq.png")
}
