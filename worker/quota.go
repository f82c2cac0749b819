package worker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/wechat"
)

// QuotaReport is what WeChat says about an app's interface B limits, and
// the cap set from it (0 if none was set).
type QuotaReport struct {
	App      string
	Quota    wechat.Quota
	CapSetTo int
}

// CheckQuota asks WeChat (openapi/quota/get) for interface B's daily quota
// and rate limit of the app. If fraction is above 0 and WeChat reports a
// rate limit, the app's fleet-wide cap is set to that fraction of it (at
// most 5000/min unless WeChat allows more). A failed lookup changes
// nothing and returns the error; a reply without a rate limit sets no cap.
func CheckQuota(ctx context.Context, client *wechat.Client, lim *ratelimit.Limiter, a App, fraction float64) (QuotaReport, error) {
	r := QuotaReport{App: a.AppID}
	q, err := client.Quota(ctx, a.Tokens, wechat.EndpointUnlimited)
	if err != nil {
		return r, fmt.Errorf("quota of %s: %w", a.AppID, err)
	}
	r.Quota = q
	perMin := q.PerMinute()
	if fraction <= 0 || perMin <= 0 {
		return r, nil
	}
	limit := max(1, int(perMin*min(fraction, 1)))
	if err := lim.SetCap(ctx, a.AppID, limit, perMin > 5000); err != nil {
		return r, err
	}
	r.CapSetTo = limit
	return r, nil
}

// LogQuota logs a QuotaReport (or why there is none) at worker start.
func LogQuota(log *slog.Logger, r QuotaReport, err error) {
	if err != nil {
		log.Warn("could not read the app's quota from WeChat: keeping the configured cap", "app", r.App, "err", err)
		return
	}
	q := r.Quota
	log.Info("WeChat quota for interface B", "app", r.App, "daily_limit", q.DailyLimit, "used", q.Used, "remain", q.Remain,
		"call_count", q.CallCount, "refresh_second", q.RefreshSecond, "per_minute", q.PerMinute(), "cap_set_to", r.CapSetTo)
}
