package wechattest

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// RegisterFlags binds the options to command-line flags (for wxacode
// fake-wechat). Flags parsed after -config override the file's values.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.Func("config", "JSON file of options (same fields as POST /_fake/config)", func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, o)
	})
	fs.Func("app", "appid:secret of an app the fake knows (repeatable)", func(v string) error {
		id, sec, ok := strings.Cut(v, ":")
		if !ok || id == "" || sec == "" {
			return fmt.Errorf("want appid:secret")
		}
		if o.Apps == nil {
			o.Apps = map[string]string{}
		}
		o.Apps[id] = sec
		return nil
	})
	fs.Func("pages", "comma-separated published pages (default pages/index/index,pages/coupon/index; * publishes every page)", func(v string) error {
		o.Pages = strings.Split(v, ",")
		return nil
	})
	fs.Func("token-error", "appid:errcode every token fetch of the app gets, e.g. wx1:45009 (daily quota), wx1:-1, wx1:40164 (repeatable)", func(v string) error {
		return setCode(&o.TokenErrors, v)
	})
	fs.Func("code-error", "appid:errcode every code call of the app gets, e.g. wx1:48001 (repeatable)", func(v string) error {
		return setCode(&o.CodeErrors, v)
	})
	fs.BoolVar(&o.RevokeKeepsStable, "revoke-keeps-token", o.RevokeKeepsStable, "/_fake/revoke leaves stable_token returning the revoked token (a refetch does not heal the 40001)")
	fs.DurationVar(&o.TokenTTL, "token-ttl", o.TokenTTL, "token lifetime (0: 7200s)")
	fs.IntVar(&o.RateLimit, "rate-limit", o.RateLimit, "interface B calls per appid per window (0: 5000, negative: unlimited)")
	fs.DurationVar(&o.RateWindow, "rate-window", o.RateWindow, "rate limit window (0: 60s)")
	fs.BoolVar(&o.FixedWindow, "fixed-window", o.FixedWindow, "wall-clock-aligned window instead of sliding")
	fs.BoolVar(&o.CountRefused, "count-refused", o.CountRefused, "refused interface B calls count in the rate window too (default: only accepted ones)")
	fs.Func("rate-schedule", "silent limit changes after the fake's start, e.g. 25s=1500,90s=2500", func(v string) error {
		steps, err := ParseRateSchedule(v)
		o.RateSchedule = steps
		return err
	})
	fs.DurationVar(&o.IsolatedEvery, "isolated-45009-every", o.IsolatedEvery, "refuse one interface B call per app with 45009 this often at any limit (0: never)")
	fs.Func("rate-limit-errcode", "errcode of a call over the rate limit: 45009 (default) or 45011 (the minute throttle; the spec gives no condition for it)", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 45009 && n != 45011) {
			return fmt.Errorf("want 45009 or 45011")
		}
		o.RateLimitCode = n
		return nil
	})
	fs.BoolVar(&o.ClampWidth, "clamp-width", o.ClampWidth, "interfaces B and C draw a width outside 280-1280 at the nearest bound instead of answering 40189")
	fs.IntVar(&o.DailyLimit, "daily-limit", o.DailyLimit, "daily_limit reported by quota/get, never enforced (0: 7200000)")
	fs.IntVar(&o.ACBudget, "ac-budget", o.ACBudget, "A+C lifetime budget per appid (0: 100000)")
	fs.DurationVar(&o.LatencyMedian, "latency-median", o.LatencyMedian, "median added latency of code calls")
	fs.DurationVar(&o.LatencyP99, "latency-p99", o.LatencyP99, "99th percentile added latency (log-normal)")
	fs.Float64Var(&o.PSystemError, "p-system-error", o.PSystemError, "probability of errcode -1")
	fs.Float64Var(&o.PBadGateway, "p-bad-gateway", o.PBadGateway, "probability of HTTP 502 with an HTML body")
	fs.Float64Var(&o.PTruncate, "p-truncate", o.PTruncate, "probability of a truncated image")
	fs.Float64Var(&o.PReset, "p-reset", o.PReset, "probability of a reset connection")
	fs.Float64Var(&o.PTrailing, "p-trailing", o.PTrailing, "probability of an image followed by bytes after its end marker")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "random seed of latency, faults and rids (0: 1)")
}

// setCode reads appid:errcode into m.
func setCode(m *map[string]int, v string) error {
	id, c, ok := strings.Cut(v, ":")
	n, err := strconv.Atoi(c)
	if !ok || id == "" || err != nil || n == 0 {
		return fmt.Errorf("want appid:errcode, e.g. wx1:45009")
	}
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[id] = n
	return nil
}
