package appreg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/wxacode/wxacode/worker"
)

// SetConfig is what a Set is made of. Build is required.
type SetConfig struct {
	// Registry is the app registry; nil: the static apps only.
	Registry *Registry
	// Static are the apps of the apps file (template applied) or of the
	// one-app setup. A registry entry for the same appid wins: the
	// registry is the run-time layer, so `apps add` changes a file's app
	// and `apps remove` removes it.
	Static []worker.AppConfig
	// Defaults is the apps file's template, applied to registry entries.
	Defaults worker.AppDefaults
	// From says where apps come from, for errors. Default "the app registry".
	From string
	// Build makes an app's token source (and sets its fleet-wide cap). It
	// is called on an app's first job, and again after its settings
	// change, so that apps without work cost nothing.
	Build func(context.Context, worker.AppConfig) (worker.App, error)
	// Interval is how often Run checks the registry's version (one GET).
	// Default 2s.
	Interval time.Duration
	// MissRecheck is how soon after a check a job for an app not in the
	// set checks the version again, so that a job enqueued right after
	// `apps add` does not wait for the next Interval. Default 1s.
	MissRecheck time.Duration
	// Log receives the changes. Default slog.Default().
	Log *slog.Logger
}

// Set is a worker.AppSet following the registry.
type Set struct {
	cfg SetConfig

	mu      sync.Mutex
	loaded  bool
	version int64
	checked time.Time
	apps    map[string]worker.AppConfig // served, effective settings
	broken  map[string]error            // registry entries that do not check
	removed map[string]bool
	built   map[string]worker.App
	list    []worker.App
}

// NewSet returns a set of the static apps; call Refresh (or Run) to read
// the registry.
func NewSet(cfg SetConfig) *Set {
	cfg.Interval = cmp.Or(cfg.Interval, 2*time.Second)
	cfg.MissRecheck = cmp.Or(cfg.MissRecheck, time.Second)
	cfg.From = cmp.Or(cfg.From, "the app registry")
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Set{cfg: cfg, built: map[string]worker.App{}}
	s.apply(nil)
	return s
}

// Lookup returns the app, building it on its first job. An app not in the
// set is looked for again (registry version checked) at most once per
// MissRecheck; then it is a *worker.AppError (Removed if the registry says
// so). A registry entry that does not check (with the template it now
// has) is an error naming it.
func (s *Set) Lookup(ctx context.Context, appid string) (worker.App, error) {
	a, cfg, err := s.find(appid)
	var ae *worker.AppError
	if errors.As(err, &ae) && s.cfg.Registry != nil && s.sinceCheck() >= s.cfg.MissRecheck {
		if _, rerr := s.Refresh(ctx); rerr != nil {
			return worker.App{}, rerr
		}
		a, cfg, err = s.find(appid)
	}
	if err != nil || a.Tokens != nil {
		return a, err
	}
	if a, err = s.cfg.Build(ctx, cfg); err != nil {
		return worker.App{}, fmt.Errorf("app %s: %w", appid, err)
	}
	s.mu.Lock()
	if cur, ok := s.apps[appid]; ok && equal(cur, cfg) {
		s.built[appid] = a
	}
	s.mu.Unlock()
	return a, nil
}

// find returns the built app, or the settings to build it from.
func (s *Set) find(appid string) (worker.App, worker.AppConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.built[appid]; ok {
		return a, worker.AppConfig{}, nil
	}
	if c, ok := s.apps[appid]; ok {
		return worker.App{}, c, nil
	}
	if err, ok := s.broken[appid]; ok {
		return worker.App{}, worker.AppConfig{}, err
	}
	return worker.App{}, worker.AppConfig{}, &worker.AppError{App: appid, Removed: s.removed[appid], From: s.cfg.From}
}

func (s *Set) sinceCheck() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Since(s.checked)
}

// List returns the apps served, sorted by appid (Tokens nil until built).
func (s *Set) List() []worker.App {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.list)
}

// Names returns the appids served, sorted.
func (s *Set) Names() []string {
	l := s.List()
	out := make([]string, len(l))
	for i, a := range l {
		out[i] = a.AppID
	}
	return out
}

// Refresh reads the registry's version (one GET) and, if it moved, the
// registry, and reports whether it reloaded. On error the set is kept.
func (s *Set) Refresh(ctx context.Context) (bool, error) {
	if s.cfg.Registry == nil {
		return false, nil
	}
	v, err := s.cfg.Registry.Version(ctx)
	s.mu.Lock()
	s.checked = time.Now()
	same := s.loaded && v == s.version
	s.mu.Unlock()
	if err != nil || same {
		return false, err
	}
	all, v, err := s.cfg.Registry.All(ctx)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	s.version, s.loaded = v, true
	s.mu.Unlock()
	s.apply(all)
	return true, nil
}

// Run refreshes the set every Interval until ctx ends; a failed check is
// logged and tried again at the next tick.
func (s *Set) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Warn("app registry check failed: keeping the apps as they were", "err", err)
		}
	}
}

// apply makes the static apps overlaid with the registry's entries the
// set, dropping built apps whose settings changed, and logs what changed.
func (s *Set) apply(reg map[string]Entry) {
	apps := make(map[string]worker.AppConfig, len(s.cfg.Static)+len(reg))
	for _, a := range s.cfg.Static {
		apps[a.AppID] = a
	}
	broken, removed := map[string]error{}, map[string]bool{}
	for id, e := range reg {
		delete(apps, id)
		if e.Removed {
			removed[id] = true
			continue
		}
		c := s.cfg.Defaults.Apply(e.AppConfig)
		if err := c.Check(); err != nil {
			broken[id] = fmt.Errorf("app registry: %w", err)
			continue
		}
		apps[id] = c
	}
	s.mu.Lock()
	old := s.apps
	s.apps, s.broken, s.removed = apps, broken, removed
	for id := range s.built {
		if c, ok := apps[id]; !ok || !equal(c, old[id]) {
			delete(s.built, id)
		}
	}
	s.list = listOf(apps)
	s.mu.Unlock()
	if old != nil {
		s.logChanges(old, apps, broken)
	}
}

func listOf(apps map[string]worker.AppConfig) []worker.App {
	l := make([]worker.App, 0, len(apps))
	for _, id := range slices.Sorted(maps.Keys(apps)) {
		l = append(l, worker.App{AppID: id, Weight: apps[id].Weight})
	}
	return l
}

// maxNamed bounds the appids named in one log line.
const maxNamed = 20

func (s *Set) logChanges(old, cur map[string]worker.AppConfig, broken map[string]error) {
	var added, changed, gone []string
	for id, c := range cur {
		o, ok := old[id]
		switch {
		case !ok:
			added = append(added, id)
		case !equal(o, c):
			changed = append(changed, id)
		}
	}
	for id := range old {
		if _, ok := cur[id]; !ok {
			gone = append(gone, id)
		}
	}
	if len(added)+len(changed)+len(gone) > 0 {
		s.cfg.Log.Info("app set changed", "apps", len(cur), "added", named(added), "changed", named(changed), "removed", named(gone))
	}
	for id, err := range broken {
		s.cfg.Log.Error("app registry entry does not check: its jobs are held", "app", id, "err", err)
	}
}

func named(ids []string) string {
	slices.Sort(ids)
	if len(ids) > maxNamed {
		return fmt.Sprintf("%s and %d more", ids[:maxNamed], len(ids)-maxNamed)
	}
	return fmt.Sprint(ids)
}

func equal(a, b worker.AppConfig) bool {
	return a.AppID == b.AppID && a.Secret == b.Secret && a.SecretFile == b.SecretFile && a.TokenMode == b.TokenMode &&
		a.Token.RedisKey == b.Token.RedisKey && a.Token.URL == b.Token.URL && slices.Equal(a.Token.Command, b.Token.Command) &&
		a.RatePerMinute == b.RatePerMinute && a.ForceRate == b.ForceRate && a.Weight == b.Weight
}
