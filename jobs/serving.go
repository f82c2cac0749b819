package jobs

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Worker heartbeats: each worker process publishes the apps it serves, so
// that producers (campaign run, status, the dashboard) can warn when work
// waits for an app no live worker serves.
//
// Keys (prefix default "wxacode:serving:"): one sorted set PREFIXworkers
// whose members are worker ids and whose scores are the unix milliseconds
// of each worker's last heartbeat, and per worker process one set
// PREFIX{ID} of the appids it serves. A heartbeat costs the same whatever
// the number of apps: the app set is written when it changes (or has
// expired) and only kept alive otherwise. A worker is live while its
// heartbeat is younger than ServingTTL; the keys expire 2*ServingTTL after
// the last heartbeat.
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

	mu      sync.Mutex
	written map[string]string // worker id: digest of the app set last written
}

// NewServing returns heartbeats under prefix (default "wxacode:serving:").
func NewServing(rdb redis.UniversalClient, prefix string) *Serving {
	return &Serving{rdb: rdb, prefix: cmp.Or(prefix, "wxacode:serving:"), now: time.Now, written: map[string]string{}}
}

func (s *Serving) workersKey() string       { return s.prefix + "workers" }
func (s *Serving) appsKey(id string) string { return s.prefix + "{" + id + "}" }

// WorkerID names this process: host, pid and a random suffix.
func WorkerID() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", cmp.Or(host, "unknown"), os.Getpid(), hex.EncodeToString(b[:]))
}

// Beat records that worker id serves apps now: four commands, plus the app
// set (in batches of 1,000) when it changed or expired.
func (s *Serving) Beat(ctx context.Context, id string, apps []string) error {
	now := s.now()
	var kept *redis.BoolCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, s.workersKey(), redis.Z{Score: float64(now.UnixMilli()), Member: id})
		p.ZRemRangeByScore(ctx, s.workersKey(), "-inf", "("+strconv.FormatInt(now.Add(-ServingTTL).UnixMilli(), 10))
		p.PExpire(ctx, s.workersKey(), 2*ServingTTL)
		kept = p.PExpire(ctx, s.appsKey(id), 2*ServingTTL)
		return nil
	})
	if err != nil {
		return err
	}
	digest := appsDigest(apps)
	s.mu.Lock()
	same := s.written[id] == digest
	s.mu.Unlock()
	if same && kept.Val() {
		return nil
	}
	if err := s.writeApps(ctx, id, apps); err != nil {
		return err
	}
	s.mu.Lock()
	s.written[id] = digest
	s.mu.Unlock()
	return nil
}

// writeApps replaces worker id's app set.
func (s *Serving) writeApps(ctx context.Context, id string, apps []string) error {
	k := s.appsKey(id)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k)
		for i := 0; i < len(apps); i += 1000 {
			chunk := apps[i:min(i+1000, len(apps))]
			members := make([]any, len(chunk))
			for j, a := range chunk {
				members[j] = a
			}
			p.SAdd(ctx, k, members...)
		}
		p.PExpire(ctx, k, 2*ServingTTL)
		return nil
	})
	return err
}

func appsDigest(apps []string) string {
	h := sha256.New()
	for _, a := range apps {
		h.Write([]byte(a))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Leave removes worker id's heartbeat (at shutdown).
func (s *Serving) Leave(ctx context.Context, id string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, s.workersKey(), id)
		p.Del(ctx, s.appsKey(id))
		return nil
	})
	s.mu.Lock()
	delete(s.written, id)
	s.mu.Unlock()
	return err
}

// Live counts the workers whose heartbeat is younger than ServingTTL and
// whose app set holds app: two round trips whatever the number of apps.
func (s *Serving) Live(ctx context.Context, app string) (int64, error) {
	min := strconv.FormatInt(s.now().Add(-ServingTTL).UnixMilli(), 10)
	ids, err := s.rdb.ZRangeByScore(ctx, s.workersKey(), &redis.ZRangeBy{Min: min, Max: "+inf"}).Result()
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	cmds := make([]*redis.BoolCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.SIsMember(ctx, s.appsKey(id), app)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, c := range cmds {
		if c.Val() {
			n++
		}
	}
	return n, nil
}

// Run beats for id every HeartbeatInterval until ctx ends, then leaves. A
// failed beat is logged and retried at the next tick.
func (s *Serving) Run(ctx context.Context, id string, apps []string, log *slog.Logger) {
	t := time.NewTicker(HeartbeatInterval)
	defer t.Stop()
	for {
		if err := s.Beat(ctx, id, apps); err != nil && ctx.Err() == nil {
			log.Warn("worker heartbeat failed", "err", err)
		}
		select {
		case <-ctx.Done():
			lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = s.Leave(lctx, id)
			return
		case <-t.C:
		}
	}
}
