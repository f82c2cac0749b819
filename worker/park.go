package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/wechat"
)

// Parked images: an image WeChat returned but the store did not take is
// kept in Redis (PREFIXparked:{TASKID}, format byte + data, ParkTTL) so that
// the job's next run stores it without calling WeChat again.
//
// Their bytes are counted per app, fleet-wide, in PREFIXparked-bytes:{APP}:
// INCRBY when an image is parked (not when one already parked is parked
// again), DECRBY when a parked image is dropped after it was stored. The
// counter's own TTL is renewed to ParkTTL at each park, so once nothing has
// been parked for ParkTTL (every image parked before has expired) it
// expires too: images that expire unstored are never subtracted, the count
// is high for at most ParkTTL, never low. While the count is at
// ParkMaxBytes, jobs that would call WeChat are handed back first (see
// parkFull). The image key and the counter are in different hash slots
// (Redis Cluster), so they are updated by separate commands, not a script.

func (h *Handler) parkKey(id string) string { return h.cfg.KeyPrefix + "parked:{" + id + "}" }

// parkMarkerKey exists while any image may be parked (set with each park,
// for ParkTTL): without it no job needs to look for its parked image or
// its app's parked bytes, which saves round trips per code.
func (h *Handler) parkMarkerKey() string { return h.cfg.KeyPrefix + "parked:any" }

// mayBeParked reports whether any image may be parked in the fleet: the
// marker is read at most once a second per process (a park elsewhere in
// that second may be missed: at worst one more call to WeChat); an error
// counts as yes.
func (h *Handler) mayBeParked(ctx context.Context) bool {
	now := time.Now().UnixNano()
	if now-h.parkChecked.Load() < int64(time.Second) {
		return h.parkSeen.Load() > 0
	}
	n, err := h.deps.Redis.Exists(ctx, h.parkMarkerKey()).Result()
	h.parkChecked.Store(now)
	if err != nil || n > 0 {
		h.parkSeen.Store(now)
		return true
	}
	h.parkSeen.Store(0)
	return false
}

func (h *Handler) parkBytesKey(app string) string {
	return h.cfg.KeyPrefix + "parked-bytes:{" + app + "}"
}

// ParkedBytesKey is the Redis key counting app's parked bytes with the
// default key prefix (for tests and operators).
func ParkedBytesKey(app string) string { return "wxacode:parked-bytes:{" + app + "}" }

// park keeps an image that could not be stored and counts its bytes for
// the app. An image already parked for the job keeps its count and gets
// a new TTL.
func (h *Handler) park(ctx context.Context, j *job, img *wechat.Image) error {
	v := append([]byte(img.Format+"\n"), img.Data...)
	if err := h.deps.Redis.Set(ctx, h.parkMarkerKey(), 1, h.cfg.ParkTTL).Err(); err != nil {
		return err
	}
	h.parkSeen.Store(time.Now().UnixNano())
	set, err := h.deps.Redis.SetNX(ctx, h.parkKey(j.id), v, h.cfg.ParkTTL).Result()
	if err != nil {
		return err
	}
	if !set {
		return h.deps.Redis.Expire(ctx, h.parkKey(j.id), h.cfg.ParkTTL).Err()
	}
	_, err = h.deps.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.IncrBy(ctx, h.parkBytesKey(j.App), int64(len(v)))
		p.Expire(ctx, h.parkBytesKey(j.App), h.cfg.ParkTTL)
		return nil
	})
	return err
}

// parked returns an image parked by an earlier run, or nil.
func (h *Handler) parked(ctx context.Context, id string) (*wechat.Image, error) {
	if !h.mayBeParked(ctx) {
		return nil, nil
	}
	v, err := h.deps.Redis.Get(ctx, h.parkKey(id)).Bytes()
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for i, b := range v {
		if b == '\n' {
			return &wechat.Image{Format: code.Format(v[:i]), Data: v[i+1:]}, nil
		}
	}
	return nil, errors.New("parked image without format")
}

// unparkScript subtracts a dropped image's bytes, deleting the counter
// rather than letting it go below zero (after it expired and restarted).
var unparkScript = redis.NewScript(`
local v = redis.call('DECRBY', KEYS[1], ARGV[1])
if v <= 0 then redis.call('DEL', KEYS[1]) end
return v`)

// unpark drops the job's parked image, if any, and its bytes from the
// app's count. A failure is logged: the image expires with ParkTTL.
func (h *Handler) unpark(ctx context.Context, j *job) {
	var n *redis.IntCmd
	var del *redis.IntCmd
	_, err := h.deps.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.StrLen(ctx, h.parkKey(j.id))
		del = p.Del(ctx, h.parkKey(j.id))
		return nil
	})
	if err == nil && del.Val() == 1 {
		err = unparkScript.Run(ctx, h.deps.Redis, []string{h.parkBytesKey(j.App)}, n.Val()).Err()
	}
	if err != nil {
		h.log.Warn("could not drop parked image", "task", j.id, "err", err)
	}
}

// parkFull hands the job back, before any WeChat call, while the app's
// parked images hold ParkMaxBytes or more: the store is not taking what
// was already fetched, so fetching more would only fill Redis. Jobs with a
// parked image of their own are not asked (they empty the park). Several
// jobs may pass the check at once, so the count can exceed the cap by one
// image per job in flight in the fleet. A Redis error lets the job go on:
// the park write would fail the same way and the job be retried.
func (h *Handler) parkFull(ctx context.Context, j *job) error {
	if h.cfg.ParkMaxBytes < 0 || !h.mayBeParked(ctx) {
		return nil
	}
	n, err := h.deps.Redis.Get(ctx, h.parkBytesKey(j.App)).Int64()
	if err != nil || n < h.cfg.ParkMaxBytes {
		return nil
	}
	h.parkFullLog(j.App, n)
	return h.yield(ctx, j, &YieldError{After: parkFullWait + jitter(2*parkFullWait),
		Reason: fmt.Sprintf("parked images of app %s at their cap (%d bytes, cap %d): waiting for the store to take them", j.App, n, h.cfg.ParkMaxBytes)})
}

// parkFullWait is the least a job waits while its app's park is full.
const parkFullWait = 10 * time.Second

// parkFullLog warns once a minute per app that its park is full.
func (h *Handler) parkFullLog(app string, n int64) {
	h.mu.Lock()
	last := h.parkFullAt[app]
	first := time.Since(last) > time.Minute
	if first {
		h.parkFullAt[app] = time.Now()
	}
	h.mu.Unlock()
	if first {
		h.log.Warn("parked images at their cap: jobs wait without calling WeChat until the store takes them",
			"app", app, "parked_bytes", n, "cap", h.cfg.ParkMaxBytes)
	}
}
