package apphold

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Causes of a hold, as shown by `wxacode holds`, the dashboard and the
// wxacode_app_held metric.
const (
	CauseAccount       = "account"        // 48001 48004 50002 61007 from a code interface
	CauseConfig        = "config"         // a token-endpoint configuration error
	CauseIPRejected    = "ip-rejected"    // 89506 / 89507: an administrator rejected this IP
	CauseTokenQuota    = "token-quota"    // 45009 from a token endpoint: its daily quota is spent
	CauseTokenRejected = "token-rejected" // a freshly fetched token rejected twice
)

// Hold is one app's hold.
type Hold struct {
	App    string    `json:"-"`
	Cause  string    `json:"cause"`   // one of the Cause constants
	Code   int       `json:"errcode"` // WeChat's errcode; 0 when none
	Reason string    `json:"reason"`  // what happened and what to do, for the alert and the table
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"` // zero: until an operator releases it
}

// Active reports whether the hold is in force at now.
func (h Hold) Active(now time.Time) bool { return h.Until.IsZero() || now.Before(h.Until) }

// Config says where the holds live and how fresh a process's copy is.
type Config struct {
	// Key is the Redis hash of all holds. Default "wxacode:holds".
	Key string
	// Refresh is the longest a process answers Held from its copy before
	// reading the hash again. Default 2s.
	Refresh time.Duration
}

// Registry reads and writes the fleet's holds. It is safe for concurrent
// use.
type Registry struct {
	rdb redis.UniversalClient
	cfg Config

	mu         sync.Mutex
	cache      map[string]Hold
	read       time.Time // when cache was last read from Redis
	refreshing bool
}

// New returns the registry over rdb.
func New(rdb redis.UniversalClient, cfg Config) *Registry {
	cfg.Key = cmp.Or(cfg.Key, "wxacode:holds")
	cfg.Refresh = cmp.Or(cfg.Refresh, 2*time.Second)
	return &Registry{rdb: rdb, cfg: cfg, cache: map[string]Hold{}}
}

//go:embed hold.lua
var holdLua string

var holdScript = redis.NewScript(holdLua)

// Hold records h (its App, Cause, Code, Reason; Since is now, Until is now
// plus d, or zero for d <= 0: until released) unless an active hold of the
// app is already recorded. It returns the hold in force and whether this
// call recorded it: the caller logs the ALERT only then, so a hold is
// alerted once for the whole fleet. On a Redis error nothing is recorded,
// the hold is kept in this process only (so it still stops this
// process's calls) and the error is returned.
func (r *Registry) Hold(ctx context.Context, h Hold, d time.Duration) (Hold, bool, error) {
	now := time.Now()
	h.Since, h.Until = now, time.Time{}
	if d > 0 {
		h.Until = now.Add(d)
	}
	v, err := encode(h)
	if err != nil {
		return h, false, err
	}
	res, err := holdScript.Run(ctx, r.rdb, []string{r.cfg.Key}, h.App, v, now.UnixMilli()).Slice()
	if err != nil {
		r.keep(h)
		return h, true, fmt.Errorf("holds: recording the hold of %s: %w", h.App, err)
	}
	first := res[0].(int64) == 1
	cur := h
	if !first {
		if cur, err = decode(h.App, res[1].(string)); err != nil {
			return h, false, err
		}
	}
	r.keep(cur)
	return cur, first, nil
}

func (r *Registry) keep(h Hold) {
	r.mu.Lock()
	r.cache[h.App] = h
	r.mu.Unlock()
}

// Held returns the app's active hold from this process's copy of the hash,
// reading the hash first if the copy is older than Config.Refresh (one
// caller reads; the others answer from the old copy meanwhile). A failed
// read keeps the old copy: a Redis hiccup neither invents nor drops holds.
func (r *Registry) Held(ctx context.Context, app string) (Hold, bool) {
	r.mu.Lock()
	stale := !r.refreshing && time.Since(r.read) >= r.cfg.Refresh
	if stale {
		r.refreshing = true
	}
	r.mu.Unlock()
	if stale {
		r.refresh(ctx)
	}
	r.mu.Lock()
	h, ok := r.cache[app]
	r.mu.Unlock()
	if !ok || !h.Active(time.Now()) {
		return Hold{}, false
	}
	return h, true
}

// Refresh reads the hash now (after another process may have recorded a
// hold this one has not seen).
func (r *Registry) Refresh(ctx context.Context) error {
	r.mu.Lock()
	r.refreshing = true
	r.mu.Unlock()
	return r.refresh(ctx)
}

func (r *Registry) refresh(ctx context.Context) error {
	all, err := r.read1(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshing = false
	if err != nil {
		return err
	}
	r.cache, r.read = all, time.Now()
	return nil
}

func (r *Registry) read1(ctx context.Context) (map[string]Hold, error) {
	m, err := r.rdb.HGetAll(ctx, r.cfg.Key).Result()
	if err != nil {
		return nil, fmt.Errorf("holds: reading %s: %w", r.cfg.Key, err)
	}
	all := make(map[string]Hold, len(m))
	for app, v := range m {
		h, err := decode(app, v)
		if err != nil {
			continue // a foreign or damaged field holds nothing; List reports it
		}
		all[app] = h
	}
	return all, nil
}

// List returns the active holds, by app. A field that does not decode is
// an error naming it.
func (r *Registry) List(ctx context.Context) ([]Hold, error) {
	m, err := r.rdb.HGetAll(ctx, r.cfg.Key).Result()
	if err != nil {
		return nil, fmt.Errorf("holds: reading %s: %w", r.cfg.Key, err)
	}
	now := time.Now()
	var out []Hold
	for app, v := range m {
		h, err := decode(app, v)
		if err != nil {
			return nil, err
		}
		if h.Active(now) {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b Hold) int { return cmp.Compare(a.App, b.App) })
	return out, nil
}

// Release drops the app's hold for the whole fleet (every process sees it
// within Config.Refresh). It returns the hold released, and false if the
// app was not held (an ended hold still in the hash is dropped too).
func (r *Registry) Release(ctx context.Context, app string) (Hold, bool, error) {
	v, err := r.rdb.HGet(ctx, r.cfg.Key, app).Result()
	if err == redis.Nil {
		return Hold{}, false, nil
	}
	if err != nil {
		return Hold{}, false, fmt.Errorf("holds: reading the hold of %s: %w", app, err)
	}
	if err := r.rdb.HDel(ctx, r.cfg.Key, app).Err(); err != nil {
		return Hold{}, false, fmt.Errorf("holds: releasing %s: %w", app, err)
	}
	r.mu.Lock()
	delete(r.cache, app)
	r.mu.Unlock()
	h, err := decode(app, v)
	if err != nil {
		return Hold{}, true, nil // a damaged field is released all the same
	}
	return h, h.Active(time.Now()), nil
}

// wire is a hold as stored; until_ms (0: until released) is what the
// script compares.
type wire struct {
	Hold
	SinceMS int64 `json:"since_ms"`
	UntilMS int64 `json:"until_ms"`
}

func encode(h Hold) (string, error) {
	w := wire{Hold: h, SinceMS: h.Since.UnixMilli()}
	if !h.Until.IsZero() {
		w.UntilMS = h.Until.UnixMilli()
	}
	b, err := json.Marshal(w)
	return string(b), err
}

func decode(app, v string) (Hold, error) {
	var w wire
	if err := json.Unmarshal([]byte(v), &w); err != nil {
		return Hold{}, fmt.Errorf("holds: the hold of %s does not decode: %w", app, err)
	}
	h := w.Hold
	h.App = app
	h.Since = time.UnixMilli(w.SinceMS)
	h.Until = time.Time{}
	if w.UntilMS > 0 {
		h.Until = time.UnixMilli(w.UntilMS)
	}
	return h, nil
}
