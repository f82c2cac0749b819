package wechattest

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
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
	fs.Func("pages", "comma-separated published pages (empty: every page is published)", func(v string) error {
		o.Pages = strings.Split(v, ",")
		return nil
	})
	fs.DurationVar(&o.TokenTTL, "token-ttl", o.TokenTTL, "token lifetime (0: 7200s)")
	fs.IntVar(&o.RateLimit, "rate-limit", o.RateLimit, "interface B calls per appid per window (0: 5000, negative: unlimited)")
	fs.DurationVar(&o.RateWindow, "rate-window", o.RateWindow, "rate limit window (0: 60s)")
	fs.BoolVar(&o.FixedWindow, "fixed-window", o.FixedWindow, "wall-clock-aligned window instead of sliding")
	fs.Func("rate-schedule", "silent limit changes after the fake's start, e.g. 25s=1500,90s=2500", func(v string) error {
		steps, err := ParseRateSchedule(v)
		o.RateSchedule = steps
		return err
	})
	fs.DurationVar(&o.IsolatedEvery, "isolated-45009-every", o.IsolatedEvery, "refuse one interface B call per app with 45009 this often at any limit (0: never)")
	fs.IntVar(&o.DailyLimit, "daily-limit", o.DailyLimit, "daily_limit reported by quota/get, never enforced (0: 7200000)")
	fs.IntVar(&o.ACBudget, "ac-budget", o.ACBudget, "A+C lifetime budget per appid (0: 100000)")
	fs.DurationVar(&o.LatencyMedian, "latency-median", o.LatencyMedian, "median added latency of code calls")
	fs.DurationVar(&o.LatencyP99, "latency-p99", o.LatencyP99, "99th percentile added latency (log-normal)")
	fs.Float64Var(&o.PSystemError, "p-system-error", o.PSystemError, "probability of errcode -1")
	fs.Float64Var(&o.PBadGateway, "p-bad-gateway", o.PBadGateway, "probability of HTTP 502 with an HTML body")
	fs.Float64Var(&o.PTruncate, "p-truncate", o.PTruncate, "probability of a truncated image")
	fs.Float64Var(&o.PReset, "p-reset", o.PReset, "probability of a reset connection")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "random seed of latency, faults and rids (0: 1)")
}
