package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/wxacode/wxacode/apphold"
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
// pauses for freshRejectPause. A second fresh token rejected within
// freshRejectWindow holds it for ConfigHold with an alert. The jobs in
// flight during a second rotation all hold the same fresh token, so their
// rejections are one event, not many: only another token counts again.
const (
	freshRejectPause  = 10 * time.Second
	freshRejectWindow = 2 * time.Minute
)

// freshReject is the app's last rejected fresh token: when, and which
// (its fingerprint).
type freshReject struct {
	at          time.Time
	fingerprint string
}

// secondFreshReject records a rejection of the fresh token fingerprint for
// app and reports whether another fresh token was rejected within
// freshRejectWindow before it.
func (h *Handler) secondFreshReject(app, fingerprint string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	last, ok := h.rejectedAt[app]
	recent := ok && time.Since(last.at) < freshRejectWindow
	if recent && last.fingerprint == fingerprint {
		return false // the same token, rejected for another job in flight
	}
	h.rejectedAt[app] = freshReject{at: time.Now(), fingerprint: fingerprint}
	return recent
}

// heldUntil returns the app's hold, dropping it once it has passed. A hold
// on a rejected token is checked against the app's token source once its
// until has passed (by one job at a time) and dropped only if the source
// offers another token.
func (h *Handler) heldUntil(ctx context.Context, a App) (appHold, bool) {
	if fh, ok := h.holds.Held(ctx, a.AppID); ok {
		return appHold{until: heldRetryAt(fh, h.cfg.HeldRetry), reason: fh.Cause + ": " + fh.Reason}, true
	}
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
// alert and hands the job back until the hold ends. Holds that only a
// change outside wxacode can cure (FleetHold) are recorded for the whole
// fleet, and the ALERT is logged by the process that recorded the hold;
// a pause after one rejection of a fresh token, and a hold on a token the
// source offers again, stay in this process. It returns false for any
// other error.
func (h *Handler) holdErr(ctx context.Context, j *job, log *slog.Logger, err error) (error, bool) {
	var rejected *wechat.TokenRejectedError
	isRejected := errors.As(err, &rejected)
	switch {
	case isRejected && rejected.Reused:
		what := "the token source offers the token WeChat rejected (held until it offers another)"
		hd := h.hold(j.App, tokenRecheck, what, rejected)
		log.Error("ALERT: "+what+": app held", "err", err, "hold", tokenRecheck)
		return h.yield(ctx, j, &YieldError{After: time.Until(hd.until) + jitter(time.Minute), Reason: what + ": " + err.Error()}), true
	case isRejected && !h.secondFreshReject(j.App, rejected.Fingerprint):
		hd := h.hold(j.App, freshRejectPause, "a fresh token was rejected once", nil)
		log.Warn("WeChat rejected a freshly fetched token (revoked again meanwhile?): app paused; a repeat within 2 minutes holds it",
			"err", err, "pause", freshRejectPause)
		return h.yield(ctx, j, &YieldError{After: time.Until(hd.until) + jitter(5*time.Second), Reason: "a fresh token was rejected: " + err.Error()}), true
	}
	fh, d, ok := FleetHold(err, h.cfg)
	if !ok {
		return nil, false
	}
	fh.App = j.App
	cur := h.recordHold(ctx, log, fh, d, err)
	return h.yield(ctx, j, &YieldError{After: time.Until(heldRetryAt(cur, h.cfg.HeldRetry)) + jitter(h.cfg.HeldRetry),
		Reason: "app held (" + cur.Cause + "): " + err.Error()}), true
}

// recordHold records fh for the fleet, logging the ALERT if this call
// recorded it. A hold that cannot be recorded in Redis still holds this
// process (apphold.Registry.Hold keeps it locally) and is alerted here.
func (h *Handler) recordHold(ctx context.Context, log *slog.Logger, fh apphold.Hold, d time.Duration, err error) apphold.Hold {
	cur, first, rerr := h.holds.Hold(ctx, fh, d)
	switch {
	case rerr != nil:
		log.Error("ALERT: "+fh.Reason+": app held in this process only (the fleet's hold could not be recorded)",
			"cause", fh.Cause, "errcode", fh.Code, "err", err, "redis_err", rerr, "hold", holdLength(d))
	case first:
		log.Error("ALERT: "+fh.Reason+": app held for the whole fleet (wxacode holds; release with wxacode holds release "+fh.App+")",
			"cause", fh.Cause, "errcode", fh.Code, "err", err, "hold", holdLength(d))
	default:
		log.Warn("app already held for the fleet", "cause", cur.Cause, "errcode", cur.Code, "err", err)
	}
	return cur
}

func holdLength(d time.Duration) string {
	if d <= 0 {
		return "until released"
	}
	return d.String()
}

// heldRetryAt is when a held app's job should come back: the hold's end,
// but never later than retry from now, so that a release is noticed.
func heldRetryAt(fh apphold.Hold, retry time.Duration) time.Time {
	at := time.Now().Add(retry)
	if !fh.Until.IsZero() && fh.Until.Before(at) {
		return fh.Until
	}
	return at
}

// FleetHold says whether err holds the app for the whole fleet, with the
// hold's cause, errcode and reason, and its length (0: until an operator
// releases it): an account-level answer of a code interface (AccountHold),
// a configuration error of the token endpoint (ConfigHold, or the 24 h /
// 1 h WeChat states for 89506 / 89507), the token endpoint's spent daily
// quota (ConfigHold), and a fresh token rejected twice (ConfigHold). The
// Hold's App is left for the caller to set.
func FleetHold(err error, cfg Config) (apphold.Hold, time.Duration, bool) {
	cfg = cfg.withDefaults()
	var ae *wechat.APIError
	errors.As(err, &ae)
	fh := apphold.Hold{}
	if ae != nil {
		fh.Code = ae.Code
	}
	switch {
	case wechat.IsConfigError(err) && (fh.Code == 89506 || fh.Code == 89507):
		fh.Cause, fh.Reason = apphold.CauseIPRejected, "an administrator rejected this IP for the app's token (WeChat says retry after 24 h for 89506, 1 h for 89507)"
		return fh, configHold(cfg, fh.Code), true
	case wechat.IsConfigError(err):
		fh.Cause, fh.Reason = apphold.CauseConfig, "app configuration error (wxacode explain ERRCODE)"
		return fh, cfg.ConfigHold, true
	case wechat.IsTokenQuota(err):
		fh.Cause, fh.Reason = apphold.CauseTokenQuota, "the token endpoint's daily quota is spent (WeChat restores it at its daily reset, or call clear_quota)"
		return fh, cfg.ConfigHold, true
	case wechat.IsTokenRejected(err):
		fh.Cause, fh.Reason = apphold.CauseTokenRejected, "WeChat rejected a freshly fetched token again (check the app secret, and that nothing else calls cgi-bin/token for this appid)"
		return fh, cfg.ConfigHold, true
	case wechat.IsAccountBlocked(err):
		fh.Cause, fh.Reason = apphold.CauseAccount, "WeChat refuses interface B for the whole account (wxacode explain ERRCODE)"
		return fh, cfg.AccountHold, true
	}
	return fh, 0, false
}

// configHold is how long a configuration error holds the app: as long as
// WeChat says for 89506 (24 h) and 89507 (1 h), else ConfigHold.
func configHold(cfg Config, code int) time.Duration {
	switch code {
	case 89506:
		return cfg.IPRejectedDayHold
	case 89507:
		return cfg.IPRejectedHourHold
	}
	return cfg.ConfigHold
}
