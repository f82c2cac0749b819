package system

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/worker"
	"github.com/wxacode/wxacode/worker/appreg"
)

// Apps are the settings naming the apps: a one-app setup (AppID with its
// secret and rate) or an apps file.
type Apps struct {
	AppID, Secret, SecretFile string
	// Rate is the one app's fleet-wide cap per minute. Default 0:
	// ratelimit.DefaultPerMinute.
	Rate      int
	ForceRate bool
	// File is the YAML apps file; exclusive with AppID.
	File string
}

// Configs returns the configured apps: the apps file, or the one app. A
// missing or contradictory setting is a *ConfigError in the words of the
// flags and variables.
func (a Apps) Configs() ([]worker.AppConfig, error) {
	switch {
	case a.File != "" && a.AppID != "":
		return nil, &ConfigError{Setting: "--apps-file, --appid", Err: errors.New("give one of them, not both")}
	case a.File != "":
		apps, err := worker.LoadApps(a.File)
		if err != nil {
			return nil, &ConfigError{Setting: "--apps-file (WXACODE_APPS_FILE)", Err: err}
		}
		return apps, nil
	case a.AppID == "":
		return nil, &ConfigError{Setting: "--appid (WXACODE_APPID)", Err: errors.New("no app configured: set WXACODE_APPID and WXACODE_SECRET_FILE, or WXACODE_APPS_FILE")}
	case a.Secret != "" && a.SecretFile != "":
		return nil, &ConfigError{Setting: "--secret, --secret-file", Err: fmt.Errorf("app %s: give one of WXACODE_SECRET_FILE and WXACODE_SECRET, not both", a.AppID)}
	case a.Secret == "" && a.SecretFile == "":
		return nil, &ConfigError{Setting: "--secret-file (WXACODE_SECRET_FILE)", Err: fmt.Errorf("no secret for app %s: set WXACODE_SECRET_FILE (a file readable only by its owner) or WXACODE_SECRET", a.AppID)}
	case a.Rate > ratelimit.WeChatMaxPerMinute && !a.ForceRate:
		return nil, &ConfigError{Setting: "--rate-per-minute (WXACODE_RATE_PER_MINUTE)", Err: fmt.Errorf("%d is above WeChat's %d/min: set --force-rate (WXACODE_FORCE_RATE=true) only if WeChat raised your limit", a.Rate, ratelimit.WeChatMaxPerMinute)}
	}
	c := worker.AppConfig{AppID: a.AppID, Secret: a.Secret, SecretFile: a.SecretFile, RatePerMinute: a.Rate, ForceRate: a.ForceRate}
	if c.RatePerMinute == 0 {
		c.RatePerMinute = ratelimit.DefaultPerMinute
	}
	if err := c.Check(); err != nil {
		return nil, &ConfigError{Setting: "--appid, --rate-per-minute", Err: err}
	}
	return []worker.AppConfig{c}, nil
}

// Pick returns the app appid of the configured ones; with appid "" the
// only one.
func (a Apps) Pick(appid string) (*worker.AppConfig, error) {
	cfgs, err := a.Configs()
	if err != nil {
		return nil, err
	}
	for i := range cfgs {
		if cfgs[i].AppID == appid || (appid == "" && len(cfgs) == 1) {
			return &cfgs[i], nil
		}
	}
	if appid == "" {
		return nil, &ConfigError{Setting: "--app", Err: fmt.Errorf("%d apps are configured: give --app with one of them", len(cfgs))}
	}
	return nil, &ConfigError{Setting: "--app", Err: fmt.Errorf("%q is not a configured app", appid)}
}

// Names lists the configured appids without reading any secret: the
// dashboard needs no credentials.
func (a Apps) Names() ([]string, error) {
	if a.File == "" {
		if a.AppID == "" {
			return nil, nil
		}
		return []string{a.AppID}, nil
	}
	cfgs, err := worker.LoadApps(a.File)
	if err != nil {
		return nil, &ConfigError{Setting: "--apps-file (WXACODE_APPS_FILE)", Err: err}
	}
	names := make([]string, len(cfgs))
	for i, c := range cfgs {
		names[i] = c.AppID
	}
	return names, nil
}

// Known returns nil if app is one of the configured apps (the apps file's,
// or the one-app setup's appid), without reading any secret; otherwise an
// error naming the app and where apps come from, since no worker with the
// same configuration would serve it.
func (a Apps) Known(app string) error {
	names, err := a.Names()
	if err != nil {
		return err
	}
	if slices.Contains(names, app) {
		return nil
	}
	const from = "apps come from WXACODE_APPS_FILE or WXACODE_APPID, as the workers have them"
	switch {
	case a.File != "":
		return fmt.Errorf("app %s is not configured: WXACODE_APPS_FILE %s lists %s (%s); no worker with this configuration would serve it", app, a.File, strings.Join(names, ", "), from)
	case a.AppID != "":
		return fmt.Errorf("app %s is not configured: WXACODE_APPID is %s (%s); no worker with this configuration would serve it", app, a.AppID, from)
	}
	return fmt.Errorf("app %s is not configured: no WXACODE_APPID or WXACODE_APPS_FILE is set (%s)", app, from)
}

// static returns the apps of the apps file (template applied) or of the
// one-app setup, and the file's template; with neither set, none (apps may
// all come from the registry).
func (a Apps) static() ([]worker.AppConfig, worker.AppDefaults, error) {
	if a.File == "" && a.AppID == "" {
		return nil, worker.AppDefaults{}, nil
	}
	if a.File == "" {
		cfgs, err := a.Configs()
		return cfgs, worker.AppDefaults{}, err
	}
	if a.AppID != "" {
		_, err := a.Configs()
		return nil, worker.AppDefaults{}, err
	}
	f, err := worker.LoadAppsFile(a.File)
	if err != nil {
		return nil, worker.AppDefaults{}, &ConfigError{Setting: "--apps-file (WXACODE_APPS_FILE)", Err: err}
	}
	return f.Apps, f.Defaults, nil
}

// From says where apps come from, for messages.
func (a Apps) From() string {
	switch {
	case a.File != "":
		return "WXACODE_APPS_FILE " + a.File + " and the app registry (wxacode apps list)"
	case a.AppID != "":
		return "WXACODE_APPID " + a.AppID + " and the app registry (wxacode apps list)"
	}
	return "the app registry (wxacode apps list); no WXACODE_APPID or WXACODE_APPS_FILE is set"
}

// Set returns the apps as a set following the registry on rdb (static
// apps overlaid with the registry's entries, which win), loaded once.
// build makes an app on its first job.
func (a Apps) Set(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger, build func(context.Context, worker.AppConfig) (worker.App, error)) (*appreg.Set, error) {
	static, defaults, err := a.static()
	if err != nil {
		return nil, err
	}
	set := appreg.NewSet(appreg.SetConfig{Registry: appreg.New(rdb, ""), Static: static, Defaults: defaults, From: a.From(), Build: build, Log: log})
	if _, err := set.Refresh(ctx); err != nil {
		return nil, err
	}
	return set, nil
}

// Resolve returns app's settings: its registry entry (the template
// applied) if the registry has one, else the apps file's or the one-app
// setup's. An app removed from the registry, or found nowhere, is a
// *ConfigError naming where apps come from.
func (a Apps) Resolve(ctx context.Context, rdb redis.UniversalClient, app string) (*worker.AppConfig, error) {
	e, ok, err := appreg.New(rdb, "").Get(ctx, app)
	if err != nil {
		return nil, err
	}
	switch {
	case ok && e.Removed:
		return nil, &ConfigError{Setting: "--app", Err: fmt.Errorf("app %s was removed from the app registry (wxacode apps add %s brings it back); no worker would serve it", app, app)}
	case ok:
		var defaults worker.AppDefaults
		if a.File != "" {
			f, err := worker.LoadAppsFile(a.File)
			if err != nil {
				return nil, &ConfigError{Setting: "--apps-file (WXACODE_APPS_FILE)", Err: err}
			}
			defaults = f.Defaults
		}
		c := defaults.Apply(e.AppConfig)
		if err := c.Check(); err != nil {
			return nil, &ConfigError{Setting: "app registry", Err: err}
		}
		return &c, nil
	}
	static, _, err := a.static()
	if err != nil {
		return nil, err
	}
	for i := range static {
		if static[i].AppID == app {
			return &static[i], nil
		}
	}
	return nil, &ConfigError{Setting: "--app", Err: fmt.Errorf("app %s is not configured: apps come from %s; no worker with this configuration would serve it", app, a.From())}
}

// KnownIn is Known consulting the app registry on rdb too (its entry
// wins): nil for an app the registry lists, an error for one it lists as
// removed, else Known's answer, saying that the registry does not list it
// either. A registry that cannot be read is an error saying so.
func (a Apps) KnownIn(ctx context.Context, rdb redis.UniversalClient, app string) error {
	e, ok, err := appreg.New(rdb, "").Get(ctx, app)
	switch {
	case err != nil:
		if kerr := a.Known(app); kerr != nil {
			return fmt.Errorf("%w (and the app registry could not be read: %v)", kerr, err)
		}
		return fmt.Errorf("the app registry could not be read: %w", err)
	case ok && e.Removed:
		return fmt.Errorf("app %s was removed from the app registry (wxacode apps add %s brings it back): no worker would serve it", app, app)
	case ok:
		return nil
	}
	if err := a.Known(app); err != nil {
		return fmt.Errorf("%w; the app registry does not list it either (wxacode apps add %s)", err, app)
	}
	return nil
}
