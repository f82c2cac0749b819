// Package appreg is the app registry: apps added, changed and removed in
// Redis while workers run (wxacode apps add|remove), and the worker's
// app set that merges them with the apps file and follows every change.
//
// Keys (prefix default "wxacode:"): PREFIX apps:registry, a hash of appid
// to the app's settings as JSON (never a secret: AppConfig.Secret has no
// JSON form and Put refuses one), and PREFIX apps:version, a counter
// incremented in the same transaction as every change. A process notices
// changes by reading the counter (one GET every few seconds, whatever the
// number of apps) and reloads the hash only when it moved.
package appreg

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/worker"
)

// ErrLiteralSecret is Put's error for an app with a literal secret: the
// registry holds references to secrets (a secret file's path, an external
// token source), never secrets.
var ErrLiteralSecret = errors.New("appreg: the registry never holds a secret: give a secret file (--secret-file, readable only by its owner, present on every worker) or an external token source (--token-redis-key, --token-url, --token-command)")

// Entry is one app of the registry.
type Entry struct {
	worker.AppConfig
	// Removed marks an app removed: its jobs are held, not failed, until
	// it is added again. An apps file's app removed here is removed too.
	Removed bool `json:"removed,omitempty"`
	// Updated is when the entry was last written.
	Updated time.Time `json:"updated"`
}

// Registry reads and writes the app registry.
type Registry struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns the registry under prefix (default "wxacode:").
func New(rdb redis.UniversalClient, prefix string) *Registry {
	return &Registry{rdb: rdb, prefix: cmp.Or(prefix, "wxacode:")}
}

// Both keys share a hash tag so that one transaction writes them on Redis
// Cluster.
func (r *Registry) hashKey() string    { return r.prefix + "{apps}:registry" }
func (r *Registry) versionKey() string { return r.prefix + "{apps}:version" }

// Put adds or replaces app a (clearing a removal) and returns the new
// version. a is stored as given (the apps file's template applies when it
// is read); it must have been checked by the caller. A literal secret is
// ErrLiteralSecret; nothing is written then.
func (r *Registry) Put(ctx context.Context, a worker.AppConfig) (int64, error) {
	if a.Secret != "" {
		return 0, ErrLiteralSecret
	}
	return r.write(ctx, Entry{AppConfig: a})
}

// Remove marks appid removed and returns the new version, and whether the
// registry listed it as present before.
func (r *Registry) Remove(ctx context.Context, appid string) (bool, int64, error) {
	e, ok, err := r.Get(ctx, appid)
	if err != nil {
		return false, 0, err
	}
	v, err := r.write(ctx, Entry{AppConfig: worker.AppConfig{AppID: appid}, Removed: true})
	return ok && !e.Removed, v, err
}

func (r *Registry) write(ctx context.Context, e Entry) (int64, error) {
	e.Updated = time.Now().UTC().Truncate(time.Second)
	b, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	var v *redis.IntCmd
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r.hashKey(), e.AppID, b)
		v = p.Incr(ctx, r.versionKey())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("appreg: writing app %s: %w", e.AppID, err)
	}
	return v.Val(), nil
}

// Get returns appid's entry (removed ones too) and whether there is one.
func (r *Registry) Get(ctx context.Context, appid string) (Entry, bool, error) {
	b, err := r.rdb.HGet(ctx, r.hashKey(), appid).Bytes()
	if errors.Is(err, redis.Nil) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("appreg: reading app %s: %w", appid, err)
	}
	e, err := decode(appid, b)
	return e, err == nil, err
}

// Version returns the registry's version: 0 before the first change.
func (r *Registry) Version(ctx context.Context) (int64, error) {
	v, err := r.rdb.Get(ctx, r.versionKey()).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("appreg: reading the version: %w", err)
	}
	return v, nil
}

// All returns every entry (removed ones too) and the version they are
// of, read in one transaction. An entry that does not decode is an error
// naming it.
func (r *Registry) All(ctx context.Context) (map[string]Entry, int64, error) {
	var all *redis.MapStringStringCmd
	var ver *redis.StringCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		ver = p.Get(ctx, r.versionKey())
		all = p.HGetAll(ctx, r.hashKey())
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, fmt.Errorf("appreg: reading the registry: %w", err)
	}
	v, _ := ver.Int64()
	out := make(map[string]Entry, len(all.Val()))
	for id, s := range all.Val() {
		e, err := decode(id, []byte(s))
		if err != nil {
			return nil, 0, err
		}
		out[id] = e
	}
	return out, v, nil
}

func decode(appid string, b []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, fmt.Errorf("appreg: app %s: entry does not decode: %w", appid, err)
	}
	e.AppID = appid
	return e, nil
}
