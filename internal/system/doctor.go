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
	var rdb redis.UniversalClient
	redisRow := preflight.Result{Check: "redis", Target: RedactURL(st.Redis.url())}
	if c, err := st.Redis.Open(ctx, 4); err != nil {
		redisRow.Config, redisRow.Detail = isConfig(err), err.Error()
		redisRow.Advice = "start Redis or fix WXACODE_REDIS_URL (and its TLS files)"
	} else {
		rdb = c
		defer c.Close()
		redisRow.OK, redisRow.Detail = true, "answers PING"
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
