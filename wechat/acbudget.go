package wechat

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// ACCounter counts an app's interface A+C requests for the app's whole
// life: WeChat allows 100,000 A+C codes per account, ever, so the count must
// outlive a process and be shared by all of them.
type ACCounter interface {
	// Spend counts one request for appid unless budget requests are counted
	// already; ok is false then (nothing counted). used is the count after.
	Spend(ctx context.Context, appid string, budget int) (used int, ok bool, err error)
}

// DefaultACPrefix starts the Redis key of an app's A+C count:
// DefaultACPrefix+"{appid}".
const DefaultACPrefix = "wxacode:ac:"

// RedisACCounter keeps each app's A+C count in a Redis key without expiry,
// so every process and every run of wxacode adds to the same number.
type RedisACCounter struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisACCounter counts under prefix+"{appid}" ("" = DefaultACPrefix).
func NewRedisACCounter(rdb redis.UniversalClient, prefix string) *RedisACCounter {
	if prefix == "" {
		prefix = DefaultACPrefix
	}
	return &RedisACCounter{rdb: rdb, prefix: prefix}
}

// spendScript counts one request unless ARGV[1] are counted: {granted, count}.
var spendScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  return {0, n}
end
return {1, redis.call('INCR', KEYS[1])}`)

// Spend counts one request for appid within budget; see ACCounter.
func (c *RedisACCounter) Spend(ctx context.Context, appid string, budget int) (int, bool, error) {
	v, err := spendScript.Run(ctx, c.rdb, []string{c.key(appid)}, budget).Int64Slice()
	if err == nil && len(v) != 2 {
		err = fmt.Errorf("unexpected reply %v", v)
	}
	if err != nil {
		return 0, false, fmt.Errorf("wechat: counting interface A/C for %s in redis: %w", appid, err)
	}
	return int(v[1]), v[0] == 1, nil
}

// Exhaust records that WeChat answered 45029 for appid: the count is set
// to at least ACLifetime, above any budget a caller may give Spend, and
// kept for good.
func (c *RedisACCounter) Exhaust(ctx context.Context, appid string) error {
	err := exhaustScript.Run(ctx, c.rdb, []string{c.key(appid)}, ACLifetime).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("wechat: recording the spent A/C budget of %s in redis: %w", appid, err)
	}
	return nil
}

var exhaustScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`)

// Used returns how many A+C requests are counted for appid.
func (c *RedisACCounter) Used(ctx context.Context, appid string) (int, error) {
	n, err := c.rdb.Get(ctx, c.key(appid)).Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}

func (c *RedisACCounter) key(appid string) string { return c.prefix + "{" + appid + "}" }
