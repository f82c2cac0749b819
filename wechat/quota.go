package wechat

import (
	"context"
	"fmt"
	"strings"
	"unicode"
)

// Quota is getApiQuota's answer for one API: the account's daily quota and
// its rate limits, with the field names of WeChat's reply. The embedded
// fields promote, so q.DailyLimit, q.Used, q.Remain, q.CallCount,
// q.RefreshSecond and q.PerMinute() read directly.
type Quota struct {
	DailyQuota `json:"quota"`
	// RateLimit is the limit on the account's own calls ("rate_limit").
	// Zero when WeChat sends none (older replies carry only "quota").
	RateLimit `json:"rate_limit"`
	// ComponentRateLimit is the limit on calls a third-party platform makes
	// for the account ("component_rate_limit"); zero when absent.
	ComponentRateLimit RateLimit `json:"component_rate_limit"`
}

// DailyQuota is the "quota" object: the day's allowance of an API.
type DailyQuota struct {
	DailyLimit int64 `json:"daily_limit"` // calls allowed today
	Used       int64 `json:"used"`        // calls made today
	Remain     int64 `json:"remain"`      // calls left today
}

// RateLimit is a "rate_limit" object: CallCount calls per RefreshSecond
// seconds.
type RateLimit struct {
	CallCount     int64 `json:"call_count"`
	RefreshSecond int64 `json:"refresh_second"`
}

// PerMinute is the limit scaled to calls per minute (CallCount × 60 /
// RefreshSecond), e.g. 5000 for interface B's documented limit. It returns 0
// when the limit is unknown: RefreshSecond or CallCount zero or negative, as
// in a reply without rate_limit.
func (r RateLimit) PerMinute() float64 {
	if r.RefreshSecond <= 0 || r.CallCount <= 0 {
		return 0
	}
	return float64(r.CallCount) * 60 / float64(r.RefreshSecond)
}

// Quota asks WeChat for the daily quota and rate limits of the API at
// cgiPath, e.g. EndpointUnlimited ("/wxa/getwxacodeunlimit"), using a token
// of the account that owns the API (for a third-party platform, the
// authorizer token). A cgiPath that is empty, lacks its leading '/' or holds
// a host, query or space is a *ValidationError and nothing is sent.
//
// On a token-invalid error it refreshes the token once, like CodeUnlimited.
// Other failures: *APIError (ErrcodeCGIPathNotFound,
// ErrcodeCGIPathNoPermission, and global codes such as -1 or 45009, the
// latter meaning quota/get's own limit, not interface B's),
// *UnknownResponseError, *TransportError, or the token source's error.
func (c *Client) Quota(ctx context.Context, ts TokenSource, cgiPath string) (Quota, error) {
	if err := validateCGIPath(cgiPath); err != nil {
		return Quota{}, err
	}
	body := encodeJSON(struct {
		CGIPath string `json:"cgi_path"`
	}{cgiPath})
	var q Quota
	err := c.withToken(ctx, ts, func(tok string) error {
		q = Quota{}
		return c.openAPI(ctx, EndpointQuota, tok, body, &q)
	})
	if err != nil {
		return Quota{}, err
	}
	return q, nil
}

// maxCGIPathLen bounds a cgi_path; WeChat's API paths are far shorter.
const maxCGIPathLen = 256

// validateCGIPath checks the docs' rule for cgi_path: the API's path such
// as "/cgi-bin/message/custom/send", with its leading '/' and without
// "https://api.weixin.qq.com" (WeChat answers 76003 otherwise).
func validateCGIPath(p string) error {
	bad := func(reason string) error { return &ValidationError{"cgi_path", p, reason} }
	switch {
	case p == "":
		return bad("empty; an API path such as /wxa/getwxacodeunlimit is required")
	case !strings.HasPrefix(p, "/"):
		return bad("must start with '/' and hold no scheme or host")
	case len(p) > maxCGIPathLen:
		return bad(fmt.Sprintf("%d bytes, at most %d allowed", len(p), maxCGIPathLen))
	case strings.ContainsAny(p, "?#"):
		return bad("must not contain a query or fragment")
	case strings.IndexFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return bad("must not contain spaces or control characters")
	}
	return nil
}
