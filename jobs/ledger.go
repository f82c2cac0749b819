package jobs

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Status is the final state of one job.
type Status string

// Outcomes a job can end in.
const (
	StatusStored  Status = "stored"  // image generated and stored
	StatusSkipped Status = "skipped" // object already existed: no WeChat call
	StatusFailed  Status = "failed"  // final failure, with its reason
)

// Outcome is the ledger's record of one job.
type Outcome struct {
	TaskID string    `json:"id"`
	Status Status    `json:"status"`
	Scene  string    `json:"scene"`
	Page   string    `json:"page,omitempty"`
	Key    string    `json:"key,omitempty"`
	SHA256 string    `json:"sha256,omitempty"`
	Bytes  int       `json:"bytes,omitempty"`
	Code   int       `json:"errcode,omitempty"` // WeChat errcode of a failure
	Msg    string    `json:"errmsg,omitempty"`
	RID    string    `json:"rid,omitempty"`
	Reason string    `json:"reason,omitempty"` // failure class and cause in words
	Tries  int       `json:"tries,omitempty"`
	Run    string    `json:"run,omitempty"`
	Row    int64     `json:"row,omitempty"`
	At     time.Time `json:"at"`
}

//go:embed ledger.lua
var ledgerLua string

var ledgerScript = redis.NewScript(ledgerLua)

// Ledger is the project's own record of job outcomes in Redis, independent
// of asynq's retention and of its archive (which keeps only 9,999 tasks per
// queue). Each app's keys share the hash tag {app}, so the ledger works on
// Redis Cluster. It costs about 150-250 bytes of Redis per job; campaigns
// keep their own compact per-row ledger on top of this one.
type Ledger struct {
	rdb    redis.UniversalClient
	prefix string
	known  sync.Map // apps already added to the apps set by this process
}

// NewLedger returns a ledger under prefix (default "wxacode:ledger:").
func NewLedger(rdb redis.UniversalClient, prefix string) *Ledger {
	return &Ledger{rdb: rdb, prefix: cmp.Or(prefix, "wxacode:ledger:")}
}

func (l *Ledger) key(app, part string) string { return l.prefix + "{" + app + "}:" + part }
func (l *Ledger) appsKey() string             { return l.prefix + "apps" }

// Record stores o as the outcome of its task for app. A repeat of the same
// status (redelivery) replaces the record but does not count twice; a new
// status (a failed job that later succeeds) moves the count. On error
// nothing is counted and the caller must retry: asynq then redelivers.
func (l *Ledger) Record(ctx context.Context, app string, o Outcome) error {
	if o.At.IsZero() {
		o.At = time.Now()
	}
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	keys := []string{l.key(app, "o"), l.key(app, "n"), l.key(app, "f")}
	if err := ledgerScript.Run(ctx, l.rdb, keys, o.TaskID, string(o.Status), b, o.At.UnixMilli()).Err(); err != nil {
		return fmt.Errorf("jobs: ledger record %s: %w", o.TaskID, err)
	}
	return l.addApp(ctx, app)
}

// addApp lists app in the apps set, once per process.
func (l *Ledger) addApp(ctx context.Context, app string) error {
	if _, ok := l.known.Load(app); ok {
		return nil
	}
	if err := l.rdb.SAdd(ctx, l.appsKey(), app).Err(); err != nil {
		return err
	}
	l.known.Store(app, true)
	return nil
}

// Count adds one to the app's count of status without keeping a record of
// the job (campaign runs keep their own per-row ledger). The caller must
// make sure it counts each job once.
func (l *Ledger) Count(ctx context.Context, app string, s Status) error {
	if err := l.rdb.HIncrBy(ctx, l.key(app, "n"), string(s), 1).Err(); err != nil {
		return err
	}
	return l.addApp(ctx, app)
}

// AddEnqueued adds n to the app's count of enqueued jobs.
func (l *Ledger) AddEnqueued(ctx context.Context, app string, n int64) error {
	if err := l.rdb.HIncrBy(ctx, l.key(app, "n"), "enqueued", n).Err(); err != nil {
		return err
	}
	return l.addApp(ctx, app)
}

// Totals are an app's counts by status.
type Totals map[string]int64

// Totals returns the app's totals by status (and "enqueued").
func (l *Ledger) Totals(ctx context.Context, app string) (Totals, error) {
	m, err := l.rdb.HGetAll(ctx, l.key(app, "n")).Result()
	if err != nil {
		return nil, err
	}
	c := Totals{}
	for k, v := range m {
		n, _ := strconv.ParseInt(v, 10, 64)
		c[k] = n
	}
	return c, nil
}

// Apps lists the apps the ledger has seen.
func (l *Ledger) Apps(ctx context.Context) ([]string, error) {
	return l.rdb.SMembers(ctx, l.appsKey()).Result()
}

// Get returns the outcome of one task, if recorded.
func (l *Ledger) Get(ctx context.Context, app, taskID string) (Outcome, bool, error) {
	s, err := l.rdb.HGet(ctx, l.key(app, "o"), taskID).Result()
	if err == redis.Nil {
		return Outcome{}, false, nil
	}
	if err != nil {
		return Outcome{}, false, err
	}
	var o Outcome
	return o, true, json.Unmarshal([]byte(s), &o)
}

// Failures returns up to n final failures of the app, newest first.
func (l *Ledger) Failures(ctx context.Context, app string, n int64) ([]Outcome, error) {
	ids, err := l.rdb.ZRevRange(ctx, l.key(app, "f"), 0, n-1).Result()
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	vals, err := l.rdb.HMGet(ctx, l.key(app, "o"), ids...).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Outcome, 0, len(vals))
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var o Outcome
		if json.Unmarshal([]byte(s), &o) == nil {
			out = append(out, o)
		}
	}
	return out, nil
}

// Scan calls fn for every recorded outcome of app (in no order).
func (l *Ledger) Scan(ctx context.Context, app string, fn func(Outcome) error) error {
	iter := l.rdb.HScan(ctx, l.key(app, "o"), 0, "", 1000).Iterator()
	for i := 0; iter.Next(ctx); i++ {
		if i%2 == 0 {
			continue // field names (task ids); values follow
		}
		var o Outcome
		if err := json.Unmarshal([]byte(iter.Val()), &o); err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return iter.Err()
}
