package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/wxacode/wxacode/wechat"
)

// appHold is why, and until when, an app's jobs are handed back in this
// process without calling WeChat.
type appHold struct {
	until  time.Time
	reason string
	// rejected, if set, holds the app until its token source offers a token
	// other than the rejected one; until is then the next check.
	rejected *wechat.TokenRejectedError
}

// tokenRecheck is how often a held app's token source is asked whether it
// offers a new token.
const tokenRecheck = 30 * time.Second

// A fresh token rejected once may be bad luck (the token was revoked again
// between its fetch and its use: two rotations close together): the app
// pauses for freshRejectPause. Rejected again within freshRejectWindow, it
// is held for ConfigHold with an alert.
const (
	freshRejectPause  = 10 * time.Second
	freshRejectWindow = 2 * time.Minute
)

// secondFreshReject records a rejection of a fresh token for app and
// reports whether another came within freshRejectWindow.
func (h *Handler) secondFreshReject(app string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	last, ok := h.rejectedAt[app]
	h.rejectedAt[app] = time.Now()
	return ok && time.Since(last) < freshRejectWindow
}

// heldUntil returns the app's hold, dropping it once it has passed. A hold
// on a rejected token is checked against the app's token source once its
// until has passed (by one job at a time) and dropped only if the source
// offers another token.
func (h *Handler) heldUntil(ctx context.Context, a App) (appHold, bool) {
	h.mu.Lock()
	hd, ok := h.held[a.AppID]
	switch {
	case !ok || time.Now().Before(hd.until):
		h.mu.Unlock()
		return hd, ok
	case hd.rejected == nil:
		delete(h.held, a.AppID)
		h.mu.Unlock()
		return appHold{}, false
	}
	hd.until = time.Now().Add(tokenRecheck)
	h.held[a.AppID] = hd
	h.mu.Unlock()
	replaced, err := wechat.TokenReplaced(ctx, a.Tokens, hd.rejected)
	if err != nil || !replaced {
		h.log.Debug("held app's token source offers no new token yet", "app", a.AppID, "err", err)
		return hd, true
	}
	h.mu.Lock()
	if cur, ok := h.held[a.AppID]; ok && cur.rejected == hd.rejected {
		delete(h.held, a.AppID)
	}
	h.mu.Unlock()
	h.log.Info("the token source offers a new token: app released", "app", a.AppID)
	return appHold{}, false
}

// hold holds the app for d (or with rejected, until its source offers
// another token, checked every d).
func (h *Handler) hold(app string, d time.Duration, reason string, rejected *wechat.TokenRejectedError) appHold {
	h.mu.Lock()
	defer h.mu.Unlock()
	hd := appHold{until: time.Now().Add(d), reason: reason, rejected: rejected}
	h.held[app] = hd
	return hd
}

// holdErr holds the app after an error that no retry can cure, logs the
// alert and hands the job back until the hold ends. It returns false for
// any other error.
func (h *Handler) holdErr(ctx context.Context, j *job, log *slog.Logger, err error) (error, bool) {
	var d time.Duration
	var what string
	var reused *wechat.TokenRejectedError
	switch {
	case wechat.IsConfigError(err):
		d, what = h.configHold(err), "app configuration error"
	case wechat.IsTokenQuota(err):
		d, what = h.cfg.ConfigHold, "the token endpoint's daily quota is spent (WeChat restores it at its daily reset, or call clear_quota)"
	case errors.As(err, &reused) && reused.Reused:
		d, what = tokenRecheck, "the token source offers the token WeChat rejected (held until it offers another)"
	case wechat.IsTokenRejected(err) && !h.secondFreshReject(j.App):
		hd := h.hold(j.App, freshRejectPause, "a fresh token was rejected once", nil)
		log.Warn("WeChat rejected a freshly fetched token (revoked again meanwhile?): app paused; a repeat within 2 minutes holds it",
			"err", err, "pause", freshRejectPause)
		return h.yield(ctx, j, &YieldError{After: time.Until(hd.until) + jitter(5*time.Second), Reason: "a fresh token was rejected: " + err.Error()}), true
	case wechat.IsTokenRejected(err):
		reused = nil
		d, what = h.cfg.ConfigHold, "WeChat rejected a freshly fetched token again (check the app secret, and that nothing else calls cgi-bin/token for this appid)"
	case wechat.IsAccountBlocked(err):
		d, what = h.cfg.ConfigHold, "WeChat refuses interface B for the whole account (see wxacode explain ERRCODE; restart the worker to release it at once)"
	default:
		return nil, false
	}
	hd := h.hold(j.App, d, what, reused)
	log.Error("ALERT: "+what+": app held", "err", err, "hold", d)
	return h.yield(ctx, j, &YieldError{After: time.Until(hd.until) + jitter(time.Minute), Reason: what + ": " + err.Error()}), true
}

// configHold is how long a configuration error holds the app: as long as
// WeChat says for 89506 (24 h) and 89507 (1 h), else ConfigHold.
func (h *Handler) configHold(err error) time.Duration {
	var ae *wechat.APIError
	errors.As(err, &ae)
	switch {
	case ae == nil:
	case ae.Code == 89506:
		return h.cfg.IPRejectedDayHold
	case ae.Code == 89507:
		return h.cfg.IPRejectedHourHold
	}
	return h.cfg.ConfigHold
}
