// Package runs keeps campaign runs: their per-row ledger (by row index, so
// the answer is exact under at-least-once delivery; in chunks that leave
// Redis for the store once all their rows have an outcome), their state
// (running, paused, cancelled, done), the feeder that keeps a bounded
// window of their jobs in asynq, and the manifest written at the end.
package runs

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/jobs"
)

// Run states.
const (
	StateRunning   = "running"
	StatePaused    = "paused"
	StateCancelled = "cancelled"
	StateDone      = "done"
)

// Run describes one run of a campaign.
type Run struct {
	ID        string    `json:"id"`
	Campaign  string    `json:"campaign"`
	App       string    `json:"app"`
	Total     int64     `json:"total"`
	Window    int       `json:"window"`
	State     string    `json:"state"`
	Created   time.Time `json:"created"`
	Scheduled time.Time `json:"scheduled,omitzero"`
	Finished  time.Time `json:"finished,omitzero"`
	Manifest  string    `json:"manifest,omitempty"` // URL of the first part
	// ManifestParts is how many manifest objects there are (ManifestKey 0..n-1).
	ManifestParts int `json:"manifest_parts,omitempty"`
	// ChunkRows is how many rows one chunk of the run's ledger holds (set
	// at Create; 0 for the first layout, whole-run bitmaps in Redis).
	ChunkRows int64  `json:"chunk_rows,omitempty"`
	Failures  string `json:"failures,omitempty"`
	// Definition is the campaign as it was when the run started, so that a
	// resumed feeder reads the same rows with the same options.
	Definition json.RawMessage `json:"definition"`
}

// Counts are a run's tallies. Fed is the feeder's checkpoint: rows handed
// to asynq (or rejected) so far.
type Counts struct {
	Stored, Skipped, Failed, Fed int64
	// Retrying is failed rows given another try that have no new outcome yet.
	Retrying int64
	// Cancelled is, in a cancelled run, the rows fed that have no outcome:
	// their jobs are revoked, not failed (a job that was already being
	// generated may still finish, and moves to Stored). Zero otherwise.
	Cancelled int64
}

// Finished is rows with a final outcome.
func (c Counts) Finished() int64 { return c.Stored + c.Skipped + c.Failed }

// InFlight is rows fed but not finished, and not cancelled: 0 once the
// run is cancelled. Fed = Finished + InFlight + Cancelled.
func (c Counts) InFlight() int64 { return max(0, c.Fed-c.Finished()-c.Cancelled) }

// Failure is the record of one row's final failure.
type Failure struct {
	Row    int64  `json:"row"`
	Scene  string `json:"scene"`
	Code   int    `json:"errcode,omitempty"`
	Msg    string `json:"errmsg,omitempty"`
	RID    string `json:"rid,omitempty"`
	Reason string `json:"reason"`
	// Input marks a row rejected before enqueue (its input breaks a rule of
	// package code): it was never sent to WeChat and has no errcode.
	Input bool `json:"input,omitempty"`
	// Cause is the reason without what is particular to the row (its line,
	// its value), so that rows failing the same way group together; empty
	// for WeChat answers, which group by errcode.
	Cause string    `json:"cause,omitempty"`
	At    time.Time `json:"at"`
}

// summaryKey is the failure's field in the run's failure counts: its
// errcode, or "input" for a rejected input row.
func (f *Failure) summaryKey() string {
	if f == nil {
		return "0"
	}
	if f.Input {
		return inputKey
	}
	return strconv.Itoa(f.Code)
}

// inputKey counts rejected input rows in a run's failure counts.
const inputKey = "input"

// Group is what failures are grouped by when explained: the errcode of a
// WeChat answer, else the cause (or the whole reason of an older record).
func (f Failure) Group() string {
	switch {
	case f.Code != 0:
		return "errcode " + strconv.Itoa(f.Code)
	case f.Input:
		return "rejected (input): " + cmp.Or(f.Cause, f.Reason)
	}
	return cmp.Or(f.Cause, f.Reason)
}

//go:embed record.lua
var recordLua string

var recordScript = redis.NewScript(recordLua)

// ErrNoRun is returned for an unknown run id.
var ErrNoRun = errors.New("runs: no such run")

// Store keeps runs in Redis. All keys of one run share the hash tag {id}.
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	layouts *sync.Map    // run id -> rows per chunk, once found
	objects ObjectReader // sealed chunks; nil: see WithObjects
}

// NewStore returns a store under prefix (default "wxacode:run:").
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: cmp.Or(prefix, "wxacode:run:"), layouts: &sync.Map{}}
}

func (s *Store) key(id, part string) string { return s.prefix + "{" + id + "}:" + part }
func (s *Store) indexKey() string           { return s.prefix + "index" }

// Create stores a new run, in chunks of r.ChunkRows rows (default
// DefaultChunkRows); it fails if the id exists.
func (s *Store) Create(ctx context.Context, r Run) error {
	r.ChunkRows = cmp.Or(r.ChunkRows, DefaultChunkRows)
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	ok, err := createScript.Run(ctx, s.rdb, []string{s.key(r.ID, "meta"), s.key(r.ID, "n")}, b, r.ChunkRows).Bool()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("runs: run %s exists", r.ID)
	}
	s.layouts.Store(r.ID, r.ChunkRows)
	return s.rdb.ZAdd(ctx, s.indexKey(), redis.Z{Score: float64(r.Created.Unix()), Member: r.ID}).Err()
}

// Get returns a run and its counts.
func (s *Store) Get(ctx context.Context, id string) (Run, Counts, error) {
	var r Run
	pipe := s.rdb.Pipeline()
	meta := pipe.Get(ctx, s.key(id, "meta"))
	counts := pipe.HGetAll(ctx, s.key(id, "n"))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return r, Counts{}, err
	}
	b, err := meta.Bytes()
	if errors.Is(err, redis.Nil) {
		return r, Counts{}, fmt.Errorf("%w: %s", ErrNoRun, id)
	}
	if err != nil {
		return r, Counts{}, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, Counts{}, err
	}
	m := counts.Val()
	n := func(k string) int64 { v, _ := strconv.ParseInt(m[k], 10, 64); return v }
	c := Counts{Stored: n("stored"), Skipped: n("skipped"), Failed: n("failed"), Fed: n("fed"), Retrying: n("retrying")}
	if r.State == StateCancelled {
		c.Cancelled = max(0, c.Fed-c.Finished())
	}
	return r, c, nil
}

// Update changes a run's metadata with fn (read, modify, write; callers
// change only their own fields: state by operators, the rest by the feeder).
func (s *Store) Update(ctx context.Context, id string, fn func(*Run)) error {
	r, _, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	fn(&r)
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, s.key(id, "meta"), b, 0).Err()
}

// SetState moves a run to state. A done or cancelled run stays so.
func (s *Store) SetState(ctx context.Context, id, state string) error {
	var err error
	uerr := s.Update(ctx, id, func(r *Run) {
		if r.State == StateDone || r.State == StateCancelled {
			err = fmt.Errorf("runs: run %s is %s", id, r.State)
			return
		}
		r.State = state
	})
	return errors.Join(uerr, err)
}

// Record stores a row's final outcome (f is nil unless status is failed;
// sha256 is the stored image's digest, 32 bytes, or nil). A repeat does not
// count twice; a failed row that later succeeds moves. It returns 0 for a
// repeat, 1 for a new outcome, 2 for a failed row that now succeeded. The
// outcome goes to the row's chunk (record2.lua), or for a run of the first
// layout to its whole-run bitmaps (record.lua). On error nothing is
// recorded and the caller retries.
func (s *Store) Record(ctx context.Context, id string, row int64, status jobs.Status, sha256 []byte, f *Failure) (int, error) {
	fj := ""
	if f != nil {
		f.Row = row
		if f.At.IsZero() {
			f.At = time.Now()
		}
		b, err := json.Marshal(f)
		if err != nil {
			return 0, err
		}
		fj = string(b)
	}
	size, err := s.chunkRows(ctx, id)
	if err != nil {
		return 0, err
	}
	if size > 0 {
		return s.record2(ctx, id, size, row, status, sha256, fj, f.summaryKey())
	}
	keys := []string{s.key(id, "done"), s.key(id, "failed"), s.key(id, "n"), s.key(id, "f"),
		s.key(id, "retry"), s.key(id, "skipped"), s.key(id, "sha"), s.key(id, "codes"), s.key(id, "recent")}
	return recordScript.Run(ctx, s.rdb, keys, row, string(status), fj, sha256, f.summaryKey(), RecentFailures).Int()
}

// RowInfo is what a run's ledger holds about one row.
type RowInfo struct {
	Done, Skipped, Failed bool
	SHA256                []byte // nil if unknown
}

// Rows returns the ledger's view of rows [from, from+n) in one round trip.
// Rows of a sealed chunk are read from the store (see WithObjects).
func (s *Store) Rows(ctx context.Context, id string, from int64, n int) ([]RowInfo, error) {
	if size, err := s.chunkRows(ctx, id); err != nil || size > 0 {
		if err != nil {
			return nil, err
		}
		return s.rows2(ctx, id, size, from, n)
	}
	pipe := s.rdb.Pipeline()
	type cmds struct {
		d, k, f *redis.IntCmd
		h       *redis.StringCmd
	}
	cs := make([]cmds, n)
	for i := range n {
		r := from + int64(i)
		cs[i] = cmds{pipe.GetBit(ctx, s.key(id, "done"), r), pipe.GetBit(ctx, s.key(id, "skipped"), r),
			pipe.GetBit(ctx, s.key(id, "failed"), r), pipe.GetRange(ctx, s.key(id, "sha"), r*32, r*32+31)}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]RowInfo, n)
	for i, c := range cs {
		out[i] = RowInfo{Done: c.d.Val() == 1, Skipped: c.k.Val() == 1, Failed: c.f.Val() == 1}
		if h := c.h.Val(); len(h) == 32 && h != string(make([]byte, 32)) {
			out[i].SHA256 = []byte(h)
		}
	}
	return out, nil
}

// MarkRetry flags failed rows as being tried again: the run is not done
// until each has a new outcome.
func (s *Store) MarkRetry(ctx context.Context, id string, rows []int64) error {
	size, err := s.chunkRows(ctx, id)
	if err != nil {
		return err
	}
	pipe := s.rdb.TxPipeline()
	for _, r := range rows {
		if size > 0 {
			pipe.SAdd(ctx, s.key(id, "retrying"), r)
		} else {
			pipe.SetBit(ctx, s.key(id, "retry"), r, 1)
		}
	}
	pipe.HIncrBy(ctx, s.key(id, "n"), "retrying", int64(len(rows)))
	_, err = pipe.Exec(ctx)
	return err
}

// SetFed checkpoints the feeder: rows before `fed` are in asynq or rejected.
func (s *Store) SetFed(ctx context.Context, id string, fed int64) error {
	return s.rdb.HSet(ctx, s.key(id, "n"), "fed", fed).Err()
}

// RowStatus says what the ledger holds for a row: "stored/skipped" (done),
// "failed", or "" (no outcome yet).
func (s *Store) RowStatus(ctx context.Context, id string, row int64) (string, error) {
	if size, err := s.chunkRows(ctx, id); err != nil || size > 0 {
		if err != nil {
			return "", err
		}
		return s.rowStatus2(ctx, id, size, row)
	}
	pipe := s.rdb.Pipeline()
	d := pipe.GetBit(ctx, s.key(id, "done"), row)
	f := pipe.GetBit(ctx, s.key(id, "failed"), row)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", err
	}
	switch {
	case d.Val() == 1:
		return "done", nil
	case f.Val() == 1:
		return "failed", nil
	}
	return "", nil
}

// Failures calls fn for every failure of the run (in no order).
func (s *Store) Failures(ctx context.Context, id string, fn func(Failure) error) error {
	iter := s.rdb.HScan(ctx, s.key(id, "f"), 0, "", 1000).Iterator()
	for i := 0; iter.Next(ctx); i++ {
		if i%2 == 0 {
			continue
		}
		var f Failure
		if err := json.Unmarshal([]byte(iter.Val()), &f); err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return iter.Err()
}

// List returns up to n runs, newest first.
func (s *Store) List(ctx context.Context, n int64) ([]Run, error) {
	ids, err := s.rdb.ZRevRange(ctx, s.indexKey(), 0, n-1).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Run, 0, len(ids))
	for _, id := range ids {
		r, _, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Claim reports whether this caller is the first to start campaign for the
// scheduled time: several schedulers firing the same tick start one run.
func (s *Store) Claim(ctx context.Context, campaign string, at time.Time) (bool, error) {
	k := s.prefix + "claim:" + campaign + ":" + strconv.FormatInt(at.Unix(), 10)
	return s.rdb.SetNX(ctx, k, time.Now().UTC().Format(time.RFC3339), 30*24*time.Hour).Result()
}
