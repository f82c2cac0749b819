package scenes

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// CheckPersistence asks the Redis that holds the store's keys (on a Cluster,
// the master of their slot) whether it saves data: it returns
// ErrNoPersistence when appendonly is "no" and save is empty. The mappings
// have no TTL and printed codes live for years, so they need AOF
// (appendonly yes, ideally appendfsync everysec or always); RDB snapshots
// alone lose the scenes issued since the last snapshot.
//
// When Redis refuses CONFIG GET (an ACL without +config, or a managed
// Redis that renames the command) it returns nil: nothing can be claimed
// either way, so check the provider's settings. Network errors are
// returned wrapped.
func (s *Store) CheckPersistence(ctx context.Context) error {
	c, err := s.nodeClient(ctx)
	if err != nil {
		return fmt.Errorf("scenes: check persistence: %w", err)
	}
	aof, err := configGet(ctx, c, "appendonly")
	if err != nil {
		return refusedIsNil(err)
	}
	save, err := configGet(ctx, c, "save")
	if err != nil {
		return refusedIsNil(err)
	}
	if strings.EqualFold(aof, "no") && strings.TrimSpace(save) == "" {
		return ErrNoPersistence
	}
	return nil
}

// nodeClient is the client that reaches the node holding the store's keys.
func (s *Store) nodeClient(ctx context.Context) (redis.UniversalClient, error) {
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		return cc.MasterForKey(ctx, s.keys.base)
	}
	return s.rdb, nil
}

func configGet(ctx context.Context, c redis.UniversalClient, name string) (string, error) {
	m, err := c.ConfigGet(ctx, name).Result()
	if err != nil {
		return "", err
	}
	v, ok := m[name]
	if !ok {
		return "", fmt.Errorf("scenes: CONFIG GET %s: no such parameter", name)
	}
	return v, nil
}

// refusedIsNil turns an error reply of the server (NOPERM, unknown command)
// into nil and keeps transport errors.
func refusedIsNil(err error) error {
	if _, ok := errors.AsType[redis.Error](err); ok {
		return nil
	}
	return fmt.Errorf("scenes: check persistence: %w", err)
}
