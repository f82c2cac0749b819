package wechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// sharedStore keeps one app's token in a Redis hash {token, exp, ref} (unix
// milliseconds) that expires with the token, plus a refresh lock. Both keys
// carry the appid as a hash tag, so they live in one Redis Cluster slot.
type sharedStore struct {
	rdb     redis.UniversalClient
	key     string
	lockKey string
}

func newSharedStore(rdb redis.UniversalClient, prefix, appid string) *sharedStore {
	key := prefix + "{" + appid + "}"
	return &sharedStore{rdb: rdb, key: key, lockKey: key + ":lock"}
}

// setScript stores the entry and expires the key with the token. The TTL
// is relative (ARGV[4] ms) so Redis's own clock does not matter.
var setScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'exp', ARGV[2], 'ref', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`)

// delIfTokenScript deletes the entry only if it still holds ARGV[1].
var delIfTokenScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// unlockScript releases the lock only if this owner still holds it.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// get returns the stored entry; ok is false when there is none.
func (s *sharedStore) get(ctx context.Context) (tokenEntry, bool, error) {
	v, err := s.rdb.HMGet(ctx, s.key, "token", "exp", "ref").Result()
	if err != nil {
		return tokenEntry{}, false, err
	}
	tok, _ := v[0].(string)
	exp, _ := v[1].(string)
	ref, _ := v[2].(string)
	if tok == "" {
		return tokenEntry{}, false, nil
	}
	return tokenEntry{token: tok, expiresAt: parseMillis(exp), refreshAt: parseMillis(ref)}, true, nil
}

func parseMillis(s string) time.Time {
	ms, _ := strconv.ParseInt(s, 10, 64)
	return time.UnixMilli(ms)
}

func (s *sharedStore) set(ctx context.Context, e tokenEntry, now time.Time) error {
	ttl := e.expiresAt.Sub(now).Milliseconds()
	if ttl <= 0 {
		return nil
	}
	return setScript.Run(ctx, s.rdb, []string{s.key}, e.token,
		e.expiresAt.UnixMilli(), e.refreshAt.UnixMilli(), ttl).Err()
}

// deleteIf drops the stored token only if it is still failed
// (compare-and-delete), so a token another process just fetched survives.
func (s *sharedStore) deleteIf(ctx context.Context, failed string) error {
	return delIfTokenScript.Run(ctx, s.rdb, []string{s.key}, failed).Err()
}

// lock tries to take the refresh lock for ttl; it returns the owner id to
// pass to unlock, or "" when another process holds it.
func (s *sharedStore) lock(ctx context.Context, ttl time.Duration) (string, error) {
	owner := randomID()
	ok, err := s.rdb.SetNX(ctx, s.lockKey, owner, ttl).Result()
	if err != nil || !ok {
		return "", err
	}
	return owner, nil
}

func (s *sharedStore) unlock(ctx context.Context, owner string) error {
	err := unlockScript.Run(ctx, s.rdb, []string{s.lockKey}, owner).Err()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
