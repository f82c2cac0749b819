package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/ratelimit"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat/wechattest"
	"github.com/wxacode/wxacode/worker"
)

// chaosTally is what the check found: per row, a correct stored object, a
// recorded failure, or neither (lost); and objects that are not what
// their row asked for.
type chaosTally struct {
	stored, failed, lost int
	// both counts rows with a correct object and a recorded failure.
	both int
	// wrong objects decode to another code; unreadable ones do not
	// decode; sha ones differ from the digest the ledger recorded; stray
	// ones belong to no row.
	wrong, unreadable, sha, stray int
	dupes                         int // successful uploads of a code's key beyond its first
	examples                      []string
}

// rowCheck is one row whose key holds an object.
type rowCheck struct {
	row         int64
	key, scene  string
	ledgerSHA   []byte
	wrong       string // "" if the object is right
	unreadable  bool
	shaMismatch bool
}

// verify reads the run's ledger and every object in the bucket: each row
// must have an object that decodes to its own app, page and scene, or a
// recorded failure. It fails only if Redis or the ledger cannot be read.
func (r *chaosRig) verify(ctx context.Context) (chaosTally, error) {
	var t chaosTally
	keys, err := r.s3.Keys()
	if err != nil {
		return t, err
	}
	present := make(map[string]bool, len(keys))
	for _, k := range keys {
		present[k] = true
	}
	checks, expected, err := r.tallyRows(ctx, present, &t)
	if err != nil {
		return t, err
	}
	r.decodeAll(checks)
	for _, c := range checks {
		switch {
		case c.unreadable:
			t.unreadable++
			t.example("row %d (%s): object does not decode", c.row, c.scene)
		case c.wrong != "":
			t.wrong++
			t.example("row %d (%s): object holds %s", c.row, c.scene, c.wrong)
		default:
			t.stored++
		}
		if c.shaMismatch {
			t.sha++
			t.example("row %d (%s): ledger SHA-256 differs from the object's", c.row, c.scene)
		}
	}
	for _, k := range keys {
		if !expected[k] && !strings.HasPrefix(k, chaosPrefix+"_runs/") {
			t.stray++
			t.example("stray object %s", k)
		}
	}
	for k, n := range r.s3.Puts() {
		if expected[k] && n > 1 {
			t.dupes += n - 1
		}
	}
	return t, nil
}

func (t *chaosTally) example(format string, args ...any) {
	if len(t.examples) < 5 {
		t.examples = append(t.examples, fmt.Sprintf(format, args...))
	}
}

// tallyRows reads the ledger a thousand rows at a time, counts failures and
// lost rows, and returns the rows that have an object to check and the set
// of every row's key.
func (r *chaosRig) tallyRows(ctx context.Context, present map[string]bool, t *chaosTally) ([]rowCheck, map[string]bool, error) {
	keyOf := worker.KeyOf(storage.DefaultTemplate(), false)
	expected := make(map[string]bool, r.total)
	var checks []rowCheck
	ledger := r.runs.WithObjects(func(_ context.Context, key string) ([]byte, error) { return r.s3.Get(chaosPrefix + key) })
	for from := int64(0); from < r.total; from += 1000 {
		info, err := ledger.Rows(ctx, r.runID, from, int(min(1000, r.total-from)))
		if err != nil {
			return nil, nil, err
		}
		for i, ri := range info {
			row := from + int64(i)
			scene := "c" + strconv.FormatInt(row+1, 10)
			key := chaosPrefix + keyOf(jobs.Job{App: chaosApp, Params: code.Params{Page: chaosPage, Scene: scene}})
			expected[key] = true
			has := present[key]
			if has {
				checks = append(checks, rowCheck{row: row, key: key, scene: scene, ledgerSHA: ri.SHA256})
			}
			switch {
			case ri.Failed && has:
				t.failed++
				t.both++
				t.example("row %d (%s): stored and recorded as failed", row, scene)
			case ri.Failed:
				t.failed++
			case !has:
				t.lost++
				t.example("row %d (%s): no object, no failure (ledger done: %t)", row, scene, ri.Done)
			}
		}
	}
	return checks, expected, nil
}

// decodeAll reads and decodes the objects of checks, on every CPU.
func (r *chaosRig) decodeAll(checks []rowCheck) {
	var wg sync.WaitGroup
	next := make(chan *rowCheck)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for c := range next {
				r.decodeOne(c)
			}
		})
	}
	for i := range checks {
		next <- &checks[i]
	}
	close(next)
	wg.Wait()
}

func (r *chaosRig) decodeOne(c *rowCheck) {
	data, err := r.s3.Get(c.key)
	if err != nil {
		c.unreadable = true
		return
	}
	got, err := wechattest.DecodeImage(data)
	switch want := (wechattest.Content{AppID: chaosApp, Page: chaosPage, Scene: c.scene}); {
	case err != nil:
		c.unreadable = true
	case got != want:
		c.wrong = fmt.Sprintf("app %q page %q scene %q", got.AppID, got.Page, got.Scene)
	}
	sum := sha256.Sum256(data)
	c.shaMismatch = c.ledgerSHA != nil && !bytes.Equal(sum[:], c.ledgerSHA)
}

// checkManifest reads the run's manifest: it must list every row once,
// none of them "unknown".
func (r *chaosRig) checkManifest(run runs.Run) {
	var rows, unknown int64
	for p := range run.ManifestParts {
		data, err := r.s3.Get(chaosPrefix + runs.ManifestKey(run.ID, p))
		if err != nil {
			r.event("manifest part %d missing", p)
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var m runs.ManifestRow
			if json.Unmarshal(sc.Bytes(), &m) != nil || m.Status == "unknown" {
				unknown++
			}
			rows++
		}
	}
	if rows != run.Total || unknown > 0 {
		r.event("manifest lists %d rows of %d, %d without a known outcome", rows, run.Total, unknown)
	}
}

// fakeNotes describes what the fake WeChat saw besides images: errcodes,
// injected faults, token fetches, and the limiter's rate at the end.
func (r *chaosRig) fakeNotes(ctx context.Context, st wechattest.Stats) {
	if s := countList(st.Errcodes); s != "" {
		r.setNote("errcodes", "errcodes %s", s)
	}
	if s := countList(st.Faults); s != "" {
		r.setNote("faults", "faults %s", s)
	}
	if st.Errcodes[45009] > 0 {
		r.setNote("last45009", "the last 45009 came %s after the start", r.last45009.Round(100*time.Millisecond))
	}
	r.setNote("tokens", "%d tokens issued", st.TokensIssued)
	if n := r.s3.Refused(); n > 0 {
		r.setNote("refused", "%d duplicate uploads refused by If-None-Match", n)
	}
	insp := asynq.NewInspectorFromRedisClient(r.rdb)
	for _, lane := range []string{jobs.LaneBulk, jobs.LaneBacklog} {
		if q, err := insp.GetQueueInfo(lane); err == nil && q.Pending+q.Active+q.Scheduled+q.Retry > 0 {
			r.setNote("queued", "left queued in %s: %d pending, %d active, %d scheduled, %d retry", lane, q.Pending, q.Active, q.Scheduled, q.Retry)
		}
	}
	if s, err := ratelimit.New(r.rdb, ratelimit.Config{}).State(ctx, chaosApp); err == nil && s.EffectivePerMinute < chaosCap {
		r.setNote("rate", "limiter rate at the end %.0f/min", s.EffectivePerMinute)
	}
}

// countList formats a count map as "k×n k×n" in key order.
func countList[K int | string](m map[K]int64) string {
	keys := make([]K, 0, len(m))
	for k, n := range m {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%v×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
