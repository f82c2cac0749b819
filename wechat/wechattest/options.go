package wechattest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Options configures the fake. In JSON (the /_fake/config body, command
// configuration) durations are strings such as "60s" or numbers of seconds.
type Options struct {
	// Apps maps appid to secret. A token fetch for another appid gets 40013,
	// with another secret 40125.
	Apps map[string]string `json:"apps,omitempty"`
	// Pages are the published pages. With check_path true or omitted, a page
	// not listed gets 41030 (the home page, page omitted, is always
	// published). Empty: DefaultPages; "*" in the list: every page is
	// published.
	Pages []string `json:"pages,omitempty"`
	// TokenTTL is the lifetime of a new token. Default 7200 s.
	TokenTTL time.Duration `json:"token_ttl,omitempty"`
	// TokenOverlap is how long a replaced token stays valid, and how long
	// before expiry stable_token rotates. Default min(300 s, TokenTTL/2).
	TokenOverlap time.Duration `json:"token_overlap,omitempty"`
	// TokenErrors makes every token fetch of an appid fail with the given
	// errcode (e.g. 40164 IP not whitelisted, 40243 secret frozen). 0 = none.
	TokenErrors map[string]int `json:"token_errors,omitempty"`
	// RevokeKeepsStable makes RevokeTokens (and /_fake/revoke) keep the
	// revoked token as the app's stable token: stable_token keeps returning
	// the token that calls get 40001 for, until it would rotate it.
	RevokeKeepsStable bool `json:"revoke_keeps_stable,omitempty"`
	// CodeErrors makes every code call (B, A, C) of an appid fail with the
	// given errcode after the token and rate checks, e.g. 48001 (api
	// unauthorized), 61007, 50002. 0 = none.
	CodeErrors map[string]int `json:"code_errors,omitempty"`
	// OpenAPIErrors makes every quota/get and rid/get call of an appid fail
	// with the given errcode after the token check, e.g. -1 (system error),
	// 45009, 48001. 0 = none.
	OpenAPIErrors map[string]int `json:"openapi_errors,omitempty"`
	// DailyLimit is the daily_limit that quota/get reports for every path;
	// used is the app's requests to that path today (Beijing time), whatever
	// their outcome, and remain the difference. The fake refuses no call for
	// it: WeChat documents no daily cap on interface B. Default 7,200,000
	// (5000 a minute for a whole day).
	DailyLimit int `json:"daily_limit,omitempty"`
	// RateLimit is the number of interface B calls allowed per appid per
	// RateWindow, counted on arrival; beyond it calls get 45009. Default
	// 5000; negative = unlimited.
	RateLimit int `json:"rate_limit,omitempty"`
	// CountRefused counts refused calls in the window too (the harsher
	// model: a fleet that keeps calling while refused stays refused longer).
	// WeChat documents neither (spec §4.1), so the default counts only the
	// calls it accepted.
	CountRefused bool `json:"count_refused,omitempty"`
	// RateWindow is the limit's window. Default 60 s.
	RateWindow time.Duration `json:"rate_window,omitempty"`
	// FixedWindow counts per wall-clock-aligned window instead of a sliding one.
	FixedWindow bool `json:"fixed_window,omitempty"`
	// RateSchedule changes RateLimit silently at given times after the
	// fake's start (ratefaults.go), e.g. [{"after":"25s","limit":1500}].
	RateSchedule []RateStep `json:"rate_schedule,omitempty"`
	// IsolatedEvery refuses one interface B call per app with 45009 every
	// IsolatedEvery, whatever the window holds (ratefaults.go). 0 = never.
	IsolatedEvery time.Duration `json:"isolated_every,omitempty"`
	// RateLimitCode is the errcode a call over the minute limit (or in a
	// burst, or an isolated refusal) gets: 45009 (default) or 45011. The
	// spec (§3) lists 45011 "api minute-quota reach limit" as a minute
	// throttle reported on interface B but gives no condition that tells
	// it from 45009, so it is this explicit choice, not inferred.
	RateLimitCode int `json:"rate_limit_code,omitempty"`
	// ClampWidth makes interfaces B and C draw a width outside 280-1280 at
	// the nearest bound. Default false: they answer 40189 (invalid width),
	// the errcode WeChat documents for a bad width (spec §3, from interface
	// A's page; whether B clamps instead is an open question, spec §8).
	ClampWidth bool `json:"clamp_width,omitempty"`
	// ACBudget is the A+C lifetime budget per appid (distinct bodies count
	// once). Default 100000; beyond it 45029.
	ACBudget int `json:"ac_budget,omitempty"`
	// LatencyMedian and LatencyP99 shape a log-normal delay added to every
	// code call. Zero: no delay. P99 ≤ median: a constant median.
	LatencyMedian time.Duration `json:"latency_median,omitempty"`
	LatencyP99    time.Duration `json:"latency_p99,omitempty"`
	// Fault probabilities per code call: errcode -1, HTTP 502 with an HTML
	// body, an image cut short (framing intact), a reset connection, a
	// whole image with bytes after its end marker (JPEG EOI, PNG IEND).
	PSystemError float64 `json:"p_system_error,omitempty"`
	PBadGateway  float64 `json:"p_bad_gateway,omitempty"`
	PTruncate    float64 `json:"p_truncate,omitempty"`
	PReset       float64 `json:"p_reset,omitempty"`
	PTrailing    float64 `json:"p_trailing,omitempty"`
	// Seed seeds latency, faults and rids. Zero: 1.
	Seed int64 `json:"seed,omitempty"`
	// Now is the fake's clock (token expiry, windows). Default time.Now.
	Now func() time.Time `json:"-"`
}

// DefaultPages are the published pages of a fake configured without Pages:
// like a real mini-program, it has published some pages, not every page
// (those of the README's examples and the demo).
var DefaultPages = []string{"pages/index/index", "pages/coupon/index"}

// AllPages, as Pages, publishes every page.
var AllPages = []string{"*"}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if len(o.Pages) == 0 {
		o.Pages = slices.Clone(DefaultPages)
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 7200 * time.Second
	}
	if o.TokenOverlap <= 0 {
		o.TokenOverlap = min(300*time.Second, o.TokenTTL/2)
	}
	if o.RateLimit == 0 {
		o.RateLimit = 5000
	}
	if o.RateWindow <= 0 {
		o.RateWindow = 60 * time.Second
	}
	if o.DailyLimit <= 0 {
		o.DailyLimit = 7_200_000
	}
	if o.RateLimitCode != 45011 {
		o.RateLimitCode = 45009
	}
	if o.ACBudget <= 0 {
		o.ACBudget = 100000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// clone copies the maps and slices of o.
func (o Options) clone() Options {
	o.Apps = maps.Clone(o.Apps)
	o.Pages = slices.Clone(o.Pages)
	o.RateSchedule = slices.Clone(o.RateSchedule)
	o.TokenErrors = maps.Clone(o.TokenErrors)
	o.CodeErrors = maps.Clone(o.CodeErrors)
	o.OpenAPIErrors = maps.Clone(o.OpenAPIErrors)
	return o
}

// duration reads "60s" or a number of seconds, and writes "1m0s".
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case float64:
		*d = duration(v * float64(time.Second))
	case string:
		p, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*d = duration(p)
	default:
		return fmt.Errorf("duration must be a string like \"60s\" or seconds, got %s", b)
	}
	return nil
}

func (d duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// optionsWire is Options without its JSON methods.
type optionsWire Options

// wire shadows the duration fields of o with duration views of them.
func (o *Options) wire() any {
	return &struct {
		*optionsWire
		TokenTTL      *duration `json:"token_ttl,omitempty"`
		TokenOverlap  *duration `json:"token_overlap,omitempty"`
		RateWindow    *duration `json:"rate_window,omitempty"`
		LatencyMedian *duration `json:"latency_median,omitempty"`
		LatencyP99    *duration `json:"latency_p99,omitempty"`
		IsolatedEvery *duration `json:"isolated_every,omitempty"`
	}{(*optionsWire)(o), (*duration)(&o.TokenTTL), (*duration)(&o.TokenOverlap),
		(*duration)(&o.RateWindow), (*duration)(&o.LatencyMedian), (*duration)(&o.LatencyP99),
		(*duration)(&o.IsolatedEvery)}
}

// UnmarshalJSON overwrites only the fields present in b (maps are merged),
// so it applies a partial configuration on top of the current one.
func (o *Options) UnmarshalJSON(b []byte) error {
	return json.Unmarshal(b, o.wire())
}

// MarshalJSON writes durations as strings.
func (o Options) MarshalJSON() ([]byte, error) {
	return json.Marshal(o.wire())
}
