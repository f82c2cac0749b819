package jobs

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
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

// Leave removes worker id's heartbeats (at shutdown).
func (s *Serving) Leave(ctx context.Context, id string, apps []string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, app := range apps {
			p.ZRem(ctx, s.key(app), id)
		}
		return nil
	})
	return err
}

// Live counts the workers whose heartbeat for app is younger than
// ServingTTL.
func (s *Serving) Live(ctx context.Context, app string) (int64, error) {
	min := strconv.FormatInt(s.now().Add(-ServingTTL).UnixMilli(), 10)
	return s.rdb.ZCount(ctx, s.key(app), min, "+inf").Result()
}

// Run beats for id every HeartbeatInterval until ctx ends, then leaves. A
// failed beat is logged and retried at the next tick.
func (s *Serving) Run(ctx context.Context, id string, apps []string, log *slog.Logger) {
	s.RunFunc(ctx, id, func() []string { return apps }, log)
}

// RunFunc is Run for apps that change (the app registry): each beat is for
// the apps served then; at the end it leaves the last ones.
func (s *Serving) RunFunc(ctx context.Context, id string, appsNow func() []string, log *slog.Logger) {
	t := time.NewTicker(HeartbeatInterval)
	defer t.Stop()
	for {
		apps := appsNow()
		if err := s.Beat(ctx, id, apps); err != nil && ctx.Err() == nil {
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
