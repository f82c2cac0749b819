package wechat

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

const (
	// lockTTL outlives one fetch, so a crashed holder frees the lock soon.
	lockTTL = 20 * time.Second
	// lockPoll is how often a waiting process looks for the holder's token.
	lockPoll = 25 * time.Millisecond
)

// load is the memo's loader: take a fresh token from Redis, or refresh it
// under the Redis lock, or wait for the process holding the lock. The
// token this process last invalidated counts as absent from Redis.
func (s *cachedSource) load(ctx context.Context) (tokenEntry, error) {
	if s.store == nil {
		return s.fetchEntry(ctx)
	}
	deadline := time.Now().Add(s.lockWait)
	for {
		ent, ok, err := s.stored(ctx)
		if err != nil {
			return s.loadWithoutRedis(ctx, err)
		}
		now := s.now()
		if ok && now.Before(ent.refreshAt) {
			return ent, nil
		}
		owner, err := s.store.lock(ctx, lockTTL)
		if err != nil {
			return s.loadWithoutRedis(ctx, err)
		}
		if owner != "" {
			return s.refreshLocked(ctx, owner)
		}
		if ok && now.Before(ent.expiresAt) {
			// Another process is refreshing; serve the valid token and look again soon.
			ent.refreshAt = now.Add(time.Second)
			return ent, nil
		}
		if time.Now().After(deadline) {
			return tokenEntry{}, &TokenUnavailableError{Source: "redis lock " + s.store.lockKey,
				Err: errors.New("another process holds the refresh lock and stored no token")}
		}
		if err := sleepCtx(ctx, lockPoll); err != nil {
			return tokenEntry{}, err
		}
	}
}

// refreshLocked fetches a token while holding the Redis lock and stores it.
func (s *cachedSource) refreshLocked(ctx context.Context, owner string) (tokenEntry, error) {
	defer func() {
		if err := s.store.unlock(context.WithoutCancel(ctx), owner); err != nil {
			s.log.Warn("wechat: releasing token lock failed", "appid", s.appid, "err", err)
		}
	}()
	// Another process may have stored a token between our read and the lock.
	if ent, ok, err := s.stored(ctx); err == nil && ok && s.now().Before(ent.refreshAt) {
		return ent, nil
	}
	ent, err := s.fetchEntry(ctx)
	if err != nil {
		return ent, err
	}
	if err := s.store.set(ctx, ent, s.now()); err != nil {
		s.log.Warn("wechat: storing token in redis failed", "appid", s.appid, "err", err)
	}
	return ent, nil
}

// stored is the token in Redis, unless it is the one this process last
// invalidated: Redis may hold it still (the invalidation drops it from the
// process cache before Redis, and a fetch begun before a revocation may
// store it late), and taking it again would send a rejected token.
func (s *cachedSource) stored(ctx context.Context) (tokenEntry, bool, error) {
	ent, ok, err := s.store.get(ctx)
	if ok && s.memo.wasRejected(ent.token) {
		return tokenEntry{}, false, err
	}
	return ent, ok, err
}

// loadWithoutRedis keeps stable tokens working while Redis fails (stable
// fetches do not harm other holders). cgi-bin/token refuses: without the lock
// two refreshers would invalidate each other.
func (s *cachedSource) loadWithoutRedis(ctx context.Context, rerr error) (tokenEntry, error) {
	if s.endpoint == EndpointToken {
		return tokenEntry{}, &TokenUnavailableError{Source: "redis", Err: rerr}
	}
	s.log.Warn("wechat: redis unavailable, fetching the token without sharing it", "appid", s.appid, "err", rerr)
	return s.fetchEntry(ctx)
}

func (s *cachedSource) fetchEntry(ctx context.Context) (tokenEntry, error) {
	tr, err := s.fetch(ctx)
	if err != nil {
		level := slog.LevelWarn
		if IsConfigError(err) {
			level = slog.LevelError // a human must fix the app's configuration
		}
		s.log.Log(ctx, level, "wechat: token fetch failed", "appid", s.appid, "endpoint", s.endpoint, "err", err)
		return tokenEntry{}, err
	}
	s.log.Info("wechat token fetched", "appid", s.appid, "endpoint", s.endpoint, "expires_in", tr.ExpiresIn)
	return entryFor(tr, s.now(), s.refreshBefore), nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
