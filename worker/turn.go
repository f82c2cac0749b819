package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/metrics"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat"
)

// Turn is one interface B call for an app as the worker makes it: wait for
// the app's turn, call, and when WeChat answers with a rate-limit errcode
// put the whole fleet into cooldown (ReportRateLimited). The worker's
// handler and `wxacode gen` both call it, so that the two cannot drift.
type Turn struct {
	Client *wechat.Client
	// Limiter receives rate-limit reports. Nil: none (gen --no-limiter).
	Limiter *ratelimit.Limiter
	// Metrics receives the call and rate-limit series. Nil: none.
	Metrics *metrics.Worker
	// Log receives the rate-limit warning. Nil: slog.Default().
	Log *slog.Logger
}

// Call waits with wait (nil: no wait), then calls interface B for app with
// the app's tokens and the code p. A retry with a fresh token after a
// token error waits with wait again: every B call takes a slot. It returns the image, or the error of the wait, of the
// call, or of reporting a rate limit. A rate-limited call whose report
// succeeded returns the *wechat.APIError (wechat.IsRateLimited): the
// caller decides whether to wait again. logArgs are added to the log line
// (e.g. the task id).
func (t Turn) Call(ctx context.Context, wait func(context.Context) error, app string, ts wechat.TokenSource, p code.Params, logArgs ...any) (*wechat.Image, error) {
	if wait != nil {
		if err := wait(ctx); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	img, err := t.Client.CodeUnlimitedPaced(ctx, ts, p, wait)
	t.Metrics.Call(app, callCode(err), time.Since(start))
	if !wechat.IsRateLimited(err) {
		return img, err
	}
	var ae *wechat.APIError
	errors.As(err, &ae)
	t.Metrics.RateLimited(app, ae.Code)
	log := t.Log
	if log == nil {
		log = slog.Default()
	}
	log.Warn("rate limited by WeChat: fleet-wide cooldown", append(logArgs, "app", app, "errcode", ae.Code, "rid", ae.RID)...)
	if t.Limiter != nil {
		if rerr := t.Limiter.ReportRateLimited(ctx, app, ae.Code); rerr != nil {
			return nil, rerr
		}
	}
	return nil, err
}
