package worker

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/wechat"
)

// AppConfig is one app of WXACODE_APPS_FILE (or of the one-app settings).
// Exactly one way to get tokens must be given: secret, secret_file, or token.
type AppConfig struct {
	AppID string `yaml:"appid" json:"appid"`
	// Secret is never encoded as JSON, so it cannot reach Redis or a log.
	Secret     string `yaml:"secret" json:"-"`                          // discouraged: prefer secret_file
	SecretFile string `yaml:"secret_file" json:"secret_file,omitempty"` // must not be readable by group or others
	// TokenMode is "stable" (default: cgi-bin/stable_token, shared in Redis)
	// or "client_credential" (cgi-bin/token, one refresher at a time; it
	// invalidates every other holder's token, so only if nothing else
	// fetches tokens for this app).
	TokenMode string      `yaml:"token_mode" json:"token_mode,omitempty"`
	Token     TokenConfig `yaml:"token" json:"token,omitzero"`
	// RatePerMinute is the app's fleet-wide cap. Default 4800.
	RatePerMinute int `yaml:"rate_per_minute" json:"rate_per_minute,omitempty"`
	// ForceRate allows a cap above WeChat's 5000/min.
	ForceRate bool `yaml:"force_rate" json:"force_rate,omitempty"`
	// Weight is the app's queue weight against the others. Default 1.
	Weight int `yaml:"weight" json:"weight,omitempty"`
}

// TokenConfig names an external token source, for platforms whose tokens
// are owned elsewhere (third-party authorizer tokens, a central service).
type TokenConfig struct {
	RedisKey string   `yaml:"redis_key" json:"redis_key,omitempty"` // a Redis key another system keeps current
	URL      string   `yaml:"url" json:"url,omitempty"`             // GET returns the token (plain or {"access_token":...})
	Command  []string `yaml:"command" json:"command,omitempty"`     // prints the token on stdout
}

func (t TokenConfig) set() int {
	n := 0
	for _, s := range []bool{t.RedisKey != "", t.URL != "", len(t.Command) > 0} {
		if s {
			n++
		}
	}
	return n
}

// AppsFile is the content of WXACODE_APPS_FILE: a platform template
// (Defaults) and the apps. An app that gives no token source of its own
// takes the template's, with {appid} replaced by its appid; a zero rate,
// weight or token mode takes the template's.
type AppsFile struct {
	Defaults AppDefaults `yaml:"defaults"`
	Apps     []AppConfig `yaml:"apps"`
}

// AppDefaults is the apps file's platform template. Its token source
// (secret_file, token.redis_key, token.url, token.command) may contain
// {appid}. A literal secret is refused: one secret cannot serve many apps.
type AppDefaults struct {
	Secret        string      `yaml:"secret"` // refused, named in the error
	SecretFile    string      `yaml:"secret_file"`
	TokenMode     string      `yaml:"token_mode"`
	Token         TokenConfig `yaml:"token"`
	RatePerMinute int         `yaml:"rate_per_minute"`
	ForceRate     bool        `yaml:"force_rate"`
	Weight        int         `yaml:"weight"`
}

// AppIDPlaceholder is replaced by the appid in a template's token source.
const AppIDPlaceholder = "{appid}"

// HasTokenSource reports whether the template gives a token source.
func (d AppDefaults) HasTokenSource() bool { return d.SecretFile != "" || d.Token.set() > 0 }

// Apply fills what a has not set from the template. a is not checked.
func (d AppDefaults) Apply(a AppConfig) AppConfig {
	if a.Secret == "" && a.SecretFile == "" && a.Token.set() == 0 {
		r := strings.NewReplacer(AppIDPlaceholder, a.AppID)
		a.SecretFile = r.Replace(d.SecretFile)
		a.Token = TokenConfig{RedisKey: r.Replace(d.Token.RedisKey), URL: r.Replace(d.Token.URL)}
		for _, c := range d.Token.Command {
			a.Token.Command = append(a.Token.Command, r.Replace(c))
		}
	}
	a.TokenMode = cmp.Or(a.TokenMode, d.TokenMode)
	a.RatePerMinute = cmp.Or(a.RatePerMinute, d.RatePerMinute)
	a.Weight = cmp.Or(a.Weight, d.Weight)
	a.ForceRate = a.ForceRate || d.ForceRate
	return a
}

func (d AppDefaults) check() error {
	if d.Secret != "" {
		return fmt.Errorf("defaults.secret: a literal secret cannot be a template for many apps: use secret_file (may contain %s) or a token source", AppIDPlaceholder)
	}
	if n := d.Token.set(); n > 1 || (n == 1 && d.SecretFile != "") {
		return fmt.Errorf("defaults: give at most one of secret_file, token.redis_key, token.url, token.command")
	}
	if d.RatePerMinute < 0 || d.Weight < 0 {
		return fmt.Errorf("defaults: rate_per_minute and weight must be positive")
	}
	return nil
}

// LoadApps reads a YAML apps file and returns its apps with the template
// applied. Errors name the file, the app's index and the field; secrets
// are never echoed.
func LoadApps(path string) ([]AppConfig, error) {
	f, err := LoadAppsFile(path)
	return f.Apps, err
}

// LoadAppsFile reads a YAML apps file: the template and the apps (with the
// template applied, each checked). A file with a template may list no
// apps (they can come from the app registry).
func LoadAppsFile(path string) (AppsFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return AppsFile{}, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f AppsFile
	if err := dec.Decode(&f); err != nil {
		return AppsFile{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Defaults.check(); err != nil {
		return AppsFile{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Apps) == 0 && !f.Defaults.HasTokenSource() {
		return AppsFile{}, fmt.Errorf("%s: no apps listed under apps: (and no defaults: token source for apps of the registry)", path)
	}
	seen := make(map[string]bool, len(f.Apps))
	for i, a := range f.Apps {
		a = f.Defaults.Apply(a)
		if err := a.Check(); err != nil {
			return AppsFile{}, fmt.Errorf("%s: apps[%d]: %w", path, i, err)
		}
		if seen[a.AppID] {
			return AppsFile{}, fmt.Errorf("%s: apps[%d]: appid %s listed twice", path, i, a.AppID)
		}
		seen[a.AppID] = true
		f.Apps[i] = a
	}
	return f, nil
}

// Check validates one app's settings: the appid with code.ValidateApp
// (the rule enqueue and campaign validation apply), one token source, the
// token mode and the rate.
func (a AppConfig) Check() error {
	if a.AppID == "" {
		return fmt.Errorf("appid: missing")
	}
	if err := code.ValidateApp(a.AppID); err != nil {
		return fmt.Errorf("appid: %w", err)
	}
	n := a.Token.set()
	if a.Secret != "" {
		n++
	}
	if a.SecretFile != "" {
		n++
	}
	if n != 1 {
		return fmt.Errorf("app %s: give exactly one of secret, secret_file, token.redis_key, token.url, token.command", a.AppID)
	}
	switch a.TokenMode {
	case "", "stable", "client_credential":
	default:
		return fmt.Errorf("app %s: token_mode %q: want stable or client_credential", a.AppID, a.TokenMode)
	}
	if a.RatePerMinute < 0 {
		return fmt.Errorf("app %s: rate_per_minute: must be positive", a.AppID)
	}
	if a.RatePerMinute > 5000 && !a.ForceRate {
		return fmt.Errorf("app %s: rate_per_minute %d is above WeChat's 5000/min (set force_rate: true if WeChat raised your limit)", a.AppID, a.RatePerMinute)
	}
	return nil
}

// Rate is the app's cap per minute with the default applied.
func (a AppConfig) Rate() int { return cmp.Or(a.RatePerMinute, 4800) }

// ReadSecret returns the secret, reading SecretFile if set. A secret file
// readable by group or others is refused.
func (a AppConfig) ReadSecret() (string, error) {
	if a.SecretFile == "" {
		return a.Secret, nil
	}
	st, err := os.Stat(a.SecretFile)
	if err != nil {
		return "", fmt.Errorf("app %s: secret_file: %w", a.AppID, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("app %s: secret_file %s is readable by others (mode %v): chmod 600 it", a.AppID, a.SecretFile, st.Mode().Perm())
	}
	b, err := os.ReadFile(a.SecretFile)
	if err != nil {
		return "", fmt.Errorf("app %s: secret_file: %w", a.AppID, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("app %s: secret_file %s is empty", a.AppID, a.SecretFile)
	}
	return s, nil
}

// TokenSource builds the app's token source. Secrets are read here and
// kept only inside the source.
func (a AppConfig) TokenSource(client *wechat.Client, rdb redis.UniversalClient) (wechat.TokenSource, error) {
	switch {
	case a.Token.RedisKey != "":
		return wechat.NewRedisKeyTokenSource(rdb, a.Token.RedisKey), nil
	case a.Token.URL != "":
		return wechat.NewHTTPTokenSource(a.Token.URL, nil), nil
	case len(a.Token.Command) > 0:
		return wechat.NewCommandTokenSource(a.Token.Command...), nil
	}
	secret, err := a.ReadSecret()
	if err != nil {
		return nil, err
	}
	cfg := wechat.StableTokenConfig{AppID: a.AppID, Secret: secret, Client: client, Redis: rdb}
	if a.TokenMode == "client_credential" {
		return wechat.NewClientCredentialTokenSource(cfg)
	}
	return wechat.NewStableTokenSource(cfg)
}
