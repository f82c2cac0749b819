package system

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/internal/preflight"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/wechat"
)

// Doctor runs every check of the settings it can, without stopping at the
// first failure: Redis answers, the configuration names apps, the store
// takes a probe object, and each app's token source works (preflight.Apps).
// It makes no interface B call.
func Doctor(ctx context.Context, st Settings, log *slog.Logger) preflight.Report {
	var rep preflight.Report
	redisRow, rdb := RedisCheck(ctx, st.Redis, 4)
	if rdb != nil {
		defer rdb.Close()
	}
	rep = append(rep, redisRow)

	url := st.Storage.Shown()
	if store, _, err := st.Storage.Open(ctx); err != nil {
		r := preflight.StoreFailure(url, err)
		if isConfig(err) {
			r.Config, r.Advice = true, "fix WXACODE_STORAGE_URL or WXACODE_KEY_TEMPLATE"
		}
		rep = append(rep, r)
	} else {
		rep = append(rep, preflight.Store(ctx, url, store))
	}

	apps, err := st.Apps.Configs()
	if err != nil {
		return append(rep, preflight.Result{Check: "apps", Target: appsSource(st.Apps), Config: true, Detail: err.Error(),
			Advice: "set WXACODE_APPID and WXACODE_SECRET_FILE, or WXACODE_APPS_FILE"})
	}
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.AppID
	}
	rep = append(rep, preflight.Result{Check: "apps", Target: appsSource(st.Apps), OK: true, Detail: joinNames(names)})
	client := wechat.NewClient(wechat.Config{BaseURL: st.WeChatBaseURL, Logger: log})
	rep = append(rep, preflight.Apps(ctx, apps, client, rdb)...)
	if rdb == nil {
		return rep
	}
	// Informational: which apps live workers serve now.
	sv := jobs.NewServing(rdb, "")
	for _, name := range names {
		r := preflight.Result{Check: "workers", Target: name, OK: true}
		if n, err := sv.Live(ctx, name); err != nil {
			r.OK, r.Detail, r.Advice = false, err.Error(), "fix the Redis connection"
		} else if n == 0 {
			r.Detail, r.Advice = "no live worker serves it", "start a worker with this configuration; its jobs wait until then"
		} else {
			r.Detail = fmt.Sprintf("%d live worker(s) serve it", n)
		}
		rep = append(rep, r)
	}
	return rep
}

// RedisCheck opens Redis as r says and pings it: the preflight row, and
// the client (nil when the check failed; the caller closes it).
func RedisCheck(ctx context.Context, r Redis, poolSize int) (preflight.Result, redis.UniversalClient) {
	row := preflight.Result{Check: "redis", Target: RedactURL(r.url())}
	c, err := r.Open(ctx, poolSize)
	if err != nil {
		row.Config, row.Detail = isConfig(err), err.Error()
		row.Advice = "start Redis or fix WXACODE_REDIS_URL (and its TLS files)"
		return row, nil
	}
	row.OK, row.Detail = true, "answers PING"
	return row, c
}

// AppsCheck is the preflight row of the apps the settings name, without
// reading any secret.
func AppsCheck(a Apps) preflight.Result {
	row := preflight.Result{Check: "apps", Target: appsSource(a)}
	names, err := a.Names()
	if err != nil {
		row.Config, row.Detail = true, err.Error()
		row.Advice = "set WXACODE_APPID, or WXACODE_APPS_FILE, as the workers have them"
		return row
	}
	row.OK, row.Detail = true, joinNames(names)
	return row
}

func isConfig(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// appsSource names where the apps come from.
func appsSource(a Apps) string {
	if a.File != "" {
		return "WXACODE_APPS_FILE " + a.File
	}
	return "WXACODE_APPID"
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
