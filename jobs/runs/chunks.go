package runs

import (
	"context"
	"crypto/sha1"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/storage"
)

// A run created by this version keeps its rows in chunks of ChunkRows rows
// (layout 2): a chunk's records (33 bytes a row: status and SHA-256) stay
// in Redis only until every row of it has an outcome; the feeder then
// writes the chunk to the store under a fixed name and drops it from
// Redis. Redis thus holds the chunks that still have rows in flight, a
// bit per sealed chunk and the counts, whatever the run's size. Runs of
// the first layout (no chunk_rows in their counts hash) keep their
// whole-run bitmaps and digests in Redis and are read as before.

// DefaultChunkRows is how many rows one chunk of a run's ledger holds:
// 135 KB of Redis while open, one object of the same size once sealed.
const DefaultChunkRows = 4096

// recordSize is the bytes of one row's record in a chunk: the status
// ('s' stored, 'k' skipped, 'f' failed, 0 none) and the SHA-256.
const recordSize = 33

//go:embed record2.lua
var record2Lua string

var record2Script = redis.NewScript(record2Lua)

//go:embed seal.lua
var sealLua string

var sealScript = redis.NewScript(sealLua)

// createScript stores a run's metadata unless the id exists, and marks its
// layout in the same step (a run without the mark is read as layout 1).
var createScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('HSET', KEYS[2], 'chunk_rows', ARGV[2])
return 1`)

// ObjectReader returns the object at key of the store a run's sealed
// chunks are written to.
type ObjectReader func(ctx context.Context, key string) ([]byte, error)

// StoreObjects reads objects of st.
func StoreObjects(st storage.Store) ObjectReader {
	return func(ctx context.Context, key string) ([]byte, error) {
		b, _, err := st.Get(ctx, key)
		return b, err
	}
}

// WithObjects returns a store that reads sealed chunks with objects (the
// store the feeder writes them to). Without it, reading rows of a sealed
// chunk fails with ErrNoObjects.
func (s *Store) WithObjects(objects ObjectReader) *Store {
	c := *s
	c.objects = objects
	return &c
}

// ErrNoObjects is returned for rows of a sealed chunk read by a Store
// without WithObjects.
var ErrNoObjects = errors.New("runs: the rows are in the store, and this reader has none")

// ChunkKey is the object key of chunk n of a run's ledger.
func ChunkKey(id string, n int64) string {
	return fmt.Sprintf("%s%s/ledger/chunk-%08d.bin", storage.RunsPrefix, id, n)
}

func (s *Store) chunkKey(id string, n int64) string { return s.key(id, "c:"+strconv.FormatInt(n, 10)) }

// chunkRows returns the run's rows per chunk, 0 for the first layout. A
// run's layout never changes, so it is kept for the process once the run
// exists.
func (s *Store) chunkRows(ctx context.Context, id string) (int64, error) {
	if v, ok := s.layouts.Load(id); ok {
		return v.(int64), nil
	}
	pipe := s.rdb.Pipeline()
	size := pipe.HGet(ctx, s.key(id, "n"), "chunk_rows")
	exists := pipe.Exists(ctx, s.key(id, "meta"))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, err
	}
	v, err := size.Int64()
	switch {
	case errors.Is(err, redis.Nil):
		v = 0
	case err != nil:
		return 0, fmt.Errorf("runs: run %s: chunk_rows: %w", id, err)
	}
	if exists.Val() == 1 {
		s.layouts.Store(id, v)
	}
	return v, nil
}

// record2 is Record for a chunked run.
func (s *Store) record2(ctx context.Context, id string, size, row int64, status jobs.Status, sha256 []byte, fj, code string) (int, error) {
	c := row / size
	keys := []string{s.key(id, "n"), s.key(id, "f"), s.key(id, "codes"), s.key(id, "recent"), s.chunkKey(id, c),
		s.key(id, "open"), s.key(id, "sealed"), s.key(id, "amend"), s.key(id, "retrying")}
	return record2Script.Run(ctx, s.rdb, keys, row, string(status), fj, sha256, code, RecentFailures, c, row%size).Int()
}

// rows2 is Rows for a chunked run: open chunks from Redis, sealed ones
// from the store, amendments over both.
func (s *Store) rows2(ctx context.Context, id string, size, from int64, n int) ([]RowInfo, error) {
	out := make([]RowInfo, n)
	end := from + int64(n)
	var amended bool
	for c := from / size; c*size < end; c++ {
		data, am, err := s.chunk(ctx, id, c)
		if err != nil {
			return nil, err
		}
		amended = amended || am
		for r := max(from, c*size); r < min(end, (c+1)*size); r++ {
			if off := (r - c*size) * recordSize; off+recordSize <= int64(len(data)) {
				out[r-from] = rowInfo(data[off : off+recordSize])
			}
		}
	}
	if !amended {
		return out, nil
	}
	fields := make([]string, n)
	for i := range fields {
		fields[i] = strconv.FormatInt(from+int64(i), 10)
	}
	vals, err := s.rdb.HMGet(ctx, s.key(id, "amend"), fields...).Result()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if rec, ok := v.(string); ok && rec != "" {
			out[i] = rowInfo([]byte(rec))
		}
	}
	return out, nil
}

// chunk returns the records of chunk c, and whether the run has any
// amendments. Open and sealed are read in one transaction, so a chunk
// sealed meanwhile is found in the store.
func (s *Store) chunk(ctx context.Context, id string, c int64) ([]byte, bool, error) {
	pipe := s.rdb.TxPipeline()
	sealed := pipe.GetBit(ctx, s.key(id, "sealed"), c)
	data := pipe.Get(ctx, s.chunkKey(id, c))
	amend := pipe.Exists(ctx, s.key(id, "amend"))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, false, err
	}
	if sealed.Val() == 0 {
		return []byte(data.Val()), amend.Val() > 0, nil
	}
	if s.objects == nil {
		return nil, false, fmt.Errorf("%w: run %s chunk %d (%s)", ErrNoObjects, id, c, ChunkKey(id, c))
	}
	b, err := s.objects(ctx, ChunkKey(id, c))
	if err != nil {
		return nil, false, fmt.Errorf("runs: run %s: sealed chunk %d: %w", id, c, err)
	}
	return b, amend.Val() > 0, nil
}

func rowInfo(rec []byte) RowInfo {
	var ri RowInfo
	switch rec[0] {
	case 's':
		ri.Done = true
	case 'k':
		ri.Done, ri.Skipped = true, true
	case 'f':
		ri.Failed = true
	}
	if ri.Done && len(rec) == recordSize && string(rec[1:]) != string(make([]byte, 32)) {
		ri.SHA256 = append([]byte(nil), rec[1:]...)
	}
	return ri
}

// rowStatus2 is RowStatus for a chunked run: failed rows are those with a
// failure record; a row of a sealed chunk has an outcome.
func (s *Store) rowStatus2(ctx context.Context, id string, size, row int64) (string, error) {
	c, off := row/size, (row%size)*recordSize
	pipe := s.rdb.TxPipeline()
	failed := pipe.HExists(ctx, s.key(id, "f"), strconv.FormatInt(row, 10))
	sealed := pipe.GetBit(ctx, s.key(id, "sealed"), c)
	b := pipe.GetRange(ctx, s.chunkKey(id, c), off, off)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", err
	}
	switch {
	case failed.Val():
		return "failed", nil
	case sealed.Val() == 1 || b.Val() == "s" || b.Val() == "k":
		return "done", nil
	}
	return "", nil
}

// Seal writes every open chunk of run whose rows all have an outcome to
// the store (ChunkKey, replacing any earlier write) and then drops it from
// Redis, unless an outcome came in meanwhile (it is written again on the
// next call). A failed write leaves the chunk in Redis. It returns how
// many chunks are still open.
func (f *Feeder) Seal(ctx context.Context, run Run) (int, error) {
	s := f.Runs
	size, err := s.chunkRows(ctx, run.ID)
	if err != nil || size == 0 {
		return 0, err
	}
	counts, err := s.rdb.HGetAll(ctx, s.key(run.ID, "open")).Result()
	if err != nil {
		return 0, err
	}
	open := len(counts)
	for field, v := range counts {
		c, _ := strconv.ParseInt(field, 10, 64)
		n, _ := strconv.ParseInt(v, 10, 64)
		if n < min(size, run.Total-c*size) {
			continue
		}
		sealed, err := f.sealChunk(ctx, run.ID, c, n)
		if err != nil {
			return open, err
		}
		if sealed {
			open--
		}
	}
	return open, nil
}

func (f *Feeder) sealChunk(ctx context.Context, id string, c, rows int64) (bool, error) {
	s := f.Runs
	data, err := s.rdb.Get(ctx, s.chunkKey(id, c)).Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if int64(len(data)) != rows*recordSize {
		return false, fmt.Errorf("runs: run %s chunk %d: %d bytes for %d rows", id, c, len(data), rows)
	}
	if err := f.Store.Put(ctx, ChunkKey(id, c), data, storage.PutOptions{ContentType: "application/octet-stream"}); err != nil {
		return false, fmt.Errorf("runs: run %s: writing chunk %d: %w", id, c, err)
	}
	sum := sha1.Sum(data)
	keys := []string{s.chunkKey(id, c), s.key(id, "open"), s.key(id, "sealed")}
	n, err := sealScript.Run(ctx, s.rdb, keys, c, hex.EncodeToString(sum[:])).Int()
	return n == 1, err
}
