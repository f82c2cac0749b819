package jobs

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Worker heartbeats: each worker process publishes the apps it serves, so
// that producers (campaign run, status, the dashboard) can warn when work
// waits for an app no live worker serves.
//
// Keys (prefix default "wxacode:serving:"): one sorted set per app,
// PREFIX{APP}, whose members are worker ids and whose scores are the unix
// milliseconds of each worker's last heartbeat. A worker is live while its
// heartbeat is younger than ServingTTL; the key itself expires
// 2*ServingTTL after the last heartbeat of any worker.
//
// Each worker process also publishes its own state (WorkerState: whether
// its store is held, and why) in one key, PREFIX_worker:{ID} (JSON,
// expiring 2*ServingTTL after its last heartbeat), indexed by the sorted
// set PREFIX_workers (worker ids scored by their last heartbeat): one key
// per worker, however many apps it serves.
const (
	// HeartbeatInterval is how often a worker renews its heartbeat.
	HeartbeatInterval = 10 * time.Second
	// ServingTTL is how long a heartbeat counts.
	ServingTTL = 30 * time.Second
)

// Serving reads and writes worker heartbeats.
type Serving struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
}

// NewServing returns heartbeats under prefix (default "wxacode:serving:").
func NewServing(rdb redis.UniversalClient, prefix string) *Serving {
	return &Serving{rdb: rdb, prefix: cmp.Or(prefix, "wxacode:serving:"), now: time.Now}
}

func (s *Serving) key(app string) string { return s.prefix + "{" + app + "}" }

// WorkerID names this process: host, pid and a random suffix.
func WorkerID() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", cmp.Or(host, "unknown"), os.Getpid(), hex.EncodeToString(b[:]))
}

// Beat records that worker id serves apps now.
func (s *Serving) Beat(ctx context.Context, id string, apps []string) error {
	now := s.now()
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, app := range apps {
			k := s.key(app)
			p.ZAdd(ctx, k, redis.Z{Score: float64(now.UnixMilli()), Member: id})
			p.ZRemRangeByScore(ctx, k, "-inf", "("+strconv.FormatInt(now.Add(-ServingTTL).UnixMilli(), 10))
			p.PExpire(ctx, k, 2*ServingTTL)
		}
		return nil
	})
	return err
}

// Leave removes worker id's heartbeats and state (at shutdown).
func (s *Serving) Leave(ctx context.Context, id string, apps []string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, app := range apps {
			p.ZRem(ctx, s.key(app), id)
		}
		p.ZRem(ctx, s.prefix+"_workers", id)
		p.Del(ctx, s.workerKey(id))
		return nil
	})
	return err
}

// WorkerState is what a worker process publishes about itself.
type WorkerState struct {
	// ID is the worker's id (WorkerID).
	ID string `json:"id"`
	// Beat is when the worker last published it.
	Beat time.Time `json:"beat"`
	// StoreHeld is why the worker holds its store ("" while it does not):
	// the cause and the store's answer, never a credential.
	StoreHeld string `json:"store_held,omitempty"`
	// StoreHeldSince is when the hold began.
	StoreHeldSince time.Time `json:"store_held_since,omitzero"`
}

func (s *Serving) workerKey(id string) string { return s.prefix + "_worker:{" + id + "}" }

// Publish records st as worker st.ID's state now.
func (s *Serving) Publish(ctx context.Context, st WorkerState) error {
	now := s.now()
	st.Beat = now.UTC()
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	idx := s.prefix + "_workers"
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.workerKey(st.ID), v, 2*ServingTTL)
		p.ZAdd(ctx, idx, redis.Z{Score: float64(now.UnixMilli()), Member: st.ID})
		p.ZRemRangeByScore(ctx, idx, "-inf", "("+strconv.FormatInt(now.Add(-ServingTTL).UnixMilli(), 10))
		p.PExpire(ctx, idx, 2*ServingTTL)
		return nil
	})
	return err
}

// Workers returns the state of every live worker (heartbeat younger than
// ServingTTL), in id order. A state that cannot be read is skipped.
func (s *Serving) Workers(ctx context.Context) ([]WorkerState, error) {
	min := strconv.FormatInt(s.now().Add(-ServingTTL).UnixMilli(), 10)
	ids, err := s.rdb.ZRangeByScore(ctx, s.prefix+"_workers", &redis.ZRangeBy{Min: min, Max: "+inf"}).Result()
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	slices.Sort(ids)
	cmds := make([]*redis.StringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Get(ctx, s.workerKey(id))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]WorkerState, 0, len(ids))
	for _, c := range cmds {
		var st WorkerState
		if b, err := c.Bytes(); err == nil && json.Unmarshal(b, &st) == nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// Live counts the workers whose heartbeat for app is younger than
// ServingTTL.
func (s *Serving) Live(ctx context.Context, app string) (int64, error) {
	min := strconv.FormatInt(s.now().Add(-ServingTTL).UnixMilli(), 10)
	return s.rdb.ZCount(ctx, s.key(app), min, "+inf").Result()
}

// Run beats for id every HeartbeatInterval until ctx ends, then leaves;
// state, if not nil, gives the worker's state to publish with each beat. A
// failed beat is logged and retried at the next tick.
func (s *Serving) Run(ctx context.Context, id string, apps []string, state func() WorkerState, log *slog.Logger) {
	t := time.NewTicker(HeartbeatInterval)
	defer t.Stop()
	for {
		err := s.Beat(ctx, id, apps)
		if err == nil && state != nil {
			st := state()
			st.ID = id
			err = s.Publish(ctx, st)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("worker heartbeat failed", "err", err)
		}
		select {
		case <-ctx.Done():
			lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = s.Leave(lctx, id, apps)
			return
		case <-t.C:
		}
	}
}
