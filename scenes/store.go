package scenes

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Store keeps the durable two-way mapping between params rows and their
// scenes in Redis. It is safe for concurrent use, by any number of
// processes sharing the Redis.
type Store struct {
	rdb  redis.UniversalClient
	cfg  Config
	keys keys
}

// New returns a store on rdb. It returns a *ConfigError for a Prefix outside
// [0-9A-Za-z] or a Prefix+Length above 32. It does not contact Redis; call
// CheckPersistence at start-up to learn whether the mappings survive a
// restart.
func New(rdb redis.UniversalClient, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Store{rdb: rdb, cfg: cfg, keys: newKeys(cfg.KeyPrefix)}, nil
}

// Config returns the store's configuration with defaults filled in.
func (s *Store) Config() Config { return s.cfg }

// Lookup returns the canonical params of scene. It returns a *SceneError for
// a scene that no store could issue (nothing is asked of Redis),
// ErrNotFound (wrapped) for a well-formed scene that was never issued or
// imported, and otherwise a wrapped Redis error.
func (s *Store) Lookup(ctx context.Context, scene string) (json.RawMessage, error) {
	if err := ValidateScene(scene); err != nil {
		return nil, err
	}
	b, err := s.rdb.Get(ctx, s.keys.scene(scene)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, scene)
	}
	if err != nil {
		return nil, fmt.Errorf("scenes: lookup %s: %w", scene, err)
	}
	return b, nil
}

// row is one params row ready for the scripts.
type row struct {
	canon []byte
	d     digest
}

func (s *Store) prepare(params []byte) (row, error) {
	if len(params) > s.cfg.MaxParamsBytes {
		return row{}, &ParamsError{
			Reason: fmt.Sprintf("%d bytes, above Config.MaxParamsBytes %d", len(params), s.cfg.MaxParamsBytes),
			Offset: -1,
		}
	}
	c, err := Canonical(params)
	if err != nil {
		return row{}, err
	}
	return row{canon: c, d: sha256.Sum256(c)}, nil
}
