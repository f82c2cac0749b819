package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/wxacode/wxacode/wechat"
)

// appHold is why, and until when, an app's jobs are handed back in this
// process without calling WeChat.
type appHold struct {
	until  time.Time
	reason string
}

// heldUntil returns the app's hold, dropping it once it has passed.
func (h *Handler) heldUntil(app string) (appHold, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hd, ok := h.held[app]
	if ok && time.Now().After(hd.until) {
		delete(h.held, app)
		return appHold{}, false
	}
	return hd, ok
}

// hold holds the app for d.
func (h *Handler) hold(app string, d time.Duration, reason string) appHold {
	h.mu.Lock()
	defer h.mu.Unlock()
	hd := appHold{until: time.Now().Add(d), reason: reason}
	h.held[app] = hd
	return hd
}

// holdErr holds the app after an error that no retry can cure, logs the
// alert and hands the job back until the hold ends. It returns false for
// any other error.
func (h *Handler) holdErr(ctx context.Context, j *job, log *slog.Logger, err error) (error, bool) {
	var d time.Duration
	var what string
	switch {
	case wechat.IsConfigError(err):
		d, what = h.cfg.ConfigHold, "app configuration error"
	case wechat.IsTokenQuota(err):
		d, what = h.cfg.ConfigHold, "the token endpoint's daily quota is spent (WeChat restores it at its daily reset, or call clear_quota)"
	default:
		return nil, false
	}
	hd := h.hold(j.App, d, what)
	log.Error("ALERT: "+what+": app held", "err", err, "hold", d)
	return h.yield(ctx, j, &YieldError{After: time.Until(hd.until) + jitter(time.Minute), Reason: what + ": " + err.Error()}), true
}
