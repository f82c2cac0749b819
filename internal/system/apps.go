package system

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/worker"
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
