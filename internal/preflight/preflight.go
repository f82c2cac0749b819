// Package preflight checks, in seconds and without any interface B call,
// that what a process is configured with works: the store accepts a write,
// every app's token source gives a token and its secret is right even when
// a token is cached. The worker, gen and campaign run run it at start;
// `wxacode doctor` prints it as a table.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/worker"
)

// Timeout bounds each check.
const Timeout = 15 * time.Second

// Result is one check.
type Result struct {
	// Check is what was checked: "redis", "store", "apps" or "token".
	Check string
	// Target names it: a URL without credentials, an appid.
	Target string
	// OK is true when the check passed.
	OK bool
	// Config is true for a failure that only a change of settings or setup
	// fixes (exit status 2); false for one that may clear by itself.
	Config bool
	// Detail is what was found: what passed, or the cause of the failure.
	Detail string
	// Advice says what to do about a failure.
	Advice string
}

// Report is the results of a preflight, in order.
type Report []Result

// Failed returns the failed checks.
func (r Report) Failed() []Result {
	var f []Result
	for _, c := range r {
		if !c.OK {
			f = append(f, c)
		}
	}
	return f
}

// Err is nil when every check passed, else an *Error naming each failure.
func (r Report) Err() error {
	if f := r.Failed(); len(f) > 0 {
		return &Error{Failed: f}
	}
	return nil
}

// Print writes the report as a table: CHECK, TARGET, RESULT, ADVICE.
func (r Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tTARGET\tRESULT\tADVICE")
	for _, c := range r {
		res := "ok: " + c.Detail
		if !c.OK {
			res = "FAILED: " + c.Detail
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Check, c.Target, res, orDash(c.Advice))
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Error is a failed preflight.
type Error struct{ Failed []Result }

func (e *Error) Error() string {
	parts := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		parts[i] = fmt.Sprintf("%s %s: %s; to fix: %s", c.Check, c.Target, c.Detail, c.Advice)
	}
	return fmt.Sprintf("preflight: %d check(s) failed, nothing was sent to interface B: %s",
		len(e.Failed), strings.Join(parts, " | "))
}

// Config reports whether any failure is a configuration problem.
func (e *Error) Config() bool {
	for _, c := range e.Failed {
		if c.Config {
			return true
		}
	}
	return false
}

// Store probes st (named url, without credentials) with storage.Probe.
func Store(ctx context.Context, url string, st storage.Store) Result {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	r := Result{Check: "store", Target: url}
	if err := storage.Probe(ctx, st); err != nil {
		return StoreFailure(url, err)
	}
	r.OK, r.Detail = true, "writable (a probe file created and removed)"
	if _, s3 := st.(*storage.S3Store); s3 {
		r.Detail = "bucket exists, writable (probe object under " + storage.ProbePrefix + " written and removed)"
	}
	return r
}

// StoreFailure is the result of a store that failed to open or probe.
func StoreFailure(url string, err error) Result {
	d := storage.Diagnose(err)
	return Result{Check: "store", Target: url, Config: d.Config, Detail: d.Cause + " (" + storage.Brief(err) + ")", Advice: d.Advice}
}

// Apps checks every app concurrently (App), in the order given.
func Apps(ctx context.Context, apps []worker.AppConfig, client *wechat.Client, rdb redis.UniversalClient) Report {
	rep := make(Report, len(apps))
	var wg sync.WaitGroup
	for i, a := range apps {
		wg.Go(func() { rep[i] = App(ctx, a, client, rdb) })
	}
	wg.Wait()
	return rep
}

// App checks one app's token source: for a secret, one cgi-bin/stable_token
// call in normal mode (wechat.Client.CheckSecret), whatever token is cached;
// for an external source (Redis key, URL, command), one read. rdb may be nil
// when Redis is unavailable: a Redis key source then fails.
func App(ctx context.Context, a worker.AppConfig, client *wechat.Client, rdb redis.UniversalClient) Result {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	r := Result{Check: "token", Target: a.AppID}
	switch {
	case a.Token.RedisKey != "" || a.Token.URL != "" || len(a.Token.Command) > 0:
		r.Detail = "external token source read"
		if a.Token.RedisKey != "" && rdb == nil {
			return fail(r, false, "redis key "+a.Token.RedisKey+": Redis unavailable", "fix the Redis connection first")
		}
		ts, err := a.TokenSource(client, rdb)
		if err == nil {
			_, err = ts.Token(ctx)
		}
		if err != nil {
			return fail(r, wechat.IsConfigError(err), err.Error(),
				"check the app's token source in the apps file (token.redis_key, token.url or token.command) and the system that keeps the token")
		}
	default:
		secret, err := a.ReadSecret()
		if err != nil {
			return fail(r, true, err.Error(), "fix secret_file (WXACODE_SECRET_FILE): it must exist, hold the secret and be readable by its owner only")
		}
		err = client.CheckSecret(ctx, a.AppID, secret)
		if err != nil {
			return tokenFailure(r, err)
		}
		r.Detail = "appid and secret accepted (one stable_token call, normal mode)"
	}
	r.OK = true
	return r
}

func fail(r Result, config bool, detail, advice string) Result {
	r.OK, r.Config, r.Detail, r.Advice = false, config, detail, advice
	return r
}

// tokenFailure words a stable_token refusal.
func tokenFailure(r Result, err error) Result {
	var ae *wechat.APIError
	var ce *wechat.ConfigError
	code, detail := 0, err.Error()
	if errors.As(err, &ae) {
		code = ae.Code
		detail = fmt.Sprintf("%s answered errcode %d (rid %s)", ae.Endpoint, ae.Code, ae.RID)
		if errors.As(err, &ce) {
			detail = ce.Reason + ": " + detail
		}
	}
	switch {
	case code == 40013:
		return fail(r, true, detail, "the appid is wrong: fix WXACODE_APPID or the apps file")
	case code == 40125 || code == 40001:
		return fail(r, true, detail, "the app secret is wrong: copy the current one from mp.weixin.qq.com (Development > Development settings) into the app's secret file (WXACODE_SECRET_FILE, or secret_file in the apps file)")
	case code == 40164 || code == 89503 || code == 89506 || code == 89507:
		return fail(r, true, detail, "add this machine's outbound IP to the app's IP whitelist on mp.weixin.qq.com")
	case wechat.IsConfigError(err):
		return fail(r, true, detail, "fix the app's account or settings on mp.weixin.qq.com")
	}
	return fail(r, false, detail, "check that the WeChat API (WXACODE_WECHAT_BASE_URL) is reachable from this machine")
}
