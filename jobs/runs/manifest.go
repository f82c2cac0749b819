package runs

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/storage"
)

// ManifestRow is one line of a run's manifest (JSON Lines).
type ManifestRow struct {
	Row    int64  `json:"row"`
	Scene  string `json:"scene"`
	Status string `json:"status"` // stored, skipped, failed
	Key    string `json:"key,omitempty"`
	URL    string `json:"url,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Code   int    `json:"errcode,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Params are the parameters the scene was issued for (rows that carry
	// parameters only), so the manifest also keeps the scene mapping.
	Params json.RawMessage `json:"params,omitempty"`
}

// finish writes the manifest and the failures file to storage, marks the
// run done and calls its webhook. Written files are complete objects; a
// crash before the state changes writes them again on resume.
func (f *Feeder) finish(ctx context.Context, run Run, def campaign.Definition) error {
	if _, err := f.Seal(ctx, run); err != nil {
		return err
	}
	parts, err := f.manifest(ctx, run, def)
	if err != nil {
		return fmt.Errorf("runs: manifest of %s: %w", run.ID, err)
	}
	failures, err := f.failuresFile(ctx, run.ID)
	if err != nil {
		return fmt.Errorf("runs: failures of %s: %w", run.ID, err)
	}
	fkey := FailuresKey(run.ID)
	if err := f.put(ctx, fkey, failures); err != nil {
		return err
	}
	mkey := ManifestKey(run.ID, 0)
	err = f.Runs.Update(ctx, run.ID, func(r *Run) {
		r.State, r.Finished, r.Manifest, r.ManifestParts, r.Failures = StateDone, time.Now().UTC(), f.Store.URL(mkey), parts, f.Store.URL(fkey)
	})
	if err != nil {
		return err
	}
	f.Log.Info("run done", "run", run.ID, "manifest", f.Store.URL(mkey))
	if def.Webhook != "" {
		f.notify(ctx, def.Webhook, run.ID)
	}
	return nil
}

// ManifestPartRows is how many rows one manifest object holds by default,
// so that a run of millions of rows never needs its whole manifest in memory.
const ManifestPartRows = 100_000

// ManifestKey is the key of part n of a run's manifest (JSON Lines).
func ManifestKey(id string, n int) string {
	return fmt.Sprintf("%s%s/manifest-%05d.jsonl", storage.RunsPrefix, id, n)
}

func (f *Feeder) put(ctx context.Context, key string, data []byte) error {
	return f.Store.Put(ctx, key, data, storage.PutOptions{ContentType: "application/x-ndjson"})
}

// FailuresKey is the object key of a run's failures file.
func FailuresKey(id string) string { return storage.RunsPrefix + id + "/failures.jsonl" }

// manifest writes every row with its outcome, in parts of ManifestPartRows
// rows, reading the source again and the run's ledger a batch of rows at a
// time. It returns how many parts it wrote.
func (f *Feeder) manifest(ctx context.Context, run Run, def campaign.Definition) (int, error) {
	src, err := def.Open(ctx, f.Store, 0)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	fails := map[int64]Failure{}
	if err := f.Runs.Failures(ctx, run.ID, func(fl Failure) error { fails[fl.Row] = fl; return nil }); err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	batch := cmp.Or(run.ChunkRows, 1000) // a chunk of the ledger a time
	ledger := f.Runs.WithObjects(StoreObjects(f.Store))
	var info []RowInfo
	parts := 0
	flush := func() error {
		err := f.put(ctx, ManifestKey(run.ID, parts), buf.Bytes())
		buf.Reset()
		parts++
		return err
	}
	for idx := int64(0); idx < run.Total; idx++ {
		i, row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *jobs.RowError
		if err != nil && !errors.As(err, &re) {
			return parts, err
		}
		if i%batch == 0 || info == nil {
			if info, err = ledger.Rows(ctx, run.ID, i, int(min(batch, run.Total-i))); err != nil {
				return parts, err
			}
		}
		j := row.Job
		if re == nil {
			if j, err = f.sceneOf(ctx, row); err != nil && !errors.As(err, &re) {
				return parts, err
			}
		}
		m, err := f.manifestRow(run, def, i, j, info[i%batch], fails)
		if err != nil {
			return parts, err
		}
		m.Params = row.Params
		if err := enc.Encode(m); err != nil {
			return parts, err
		}
		if (i+1)%int64(cmp.Or(f.PartRows, ManifestPartRows)) == 0 {
			if err := flush(); err != nil {
				return parts, err
			}
		}
	}
	if buf.Len() > 0 || parts == 0 {
		err := flush()
		return parts, err
	}
	return parts, nil
}

func (f *Feeder) manifestRow(run Run, def campaign.Definition, idx int64, j jobs.Job, ri RowInfo, fails map[int64]Failure) (ManifestRow, error) {
	m := ManifestRow{Row: idx, Scene: j.Scene}
	switch fl, failed := fails[idx]; {
	case failed:
		m.Status, m.Code, m.Reason = "failed", fl.Code, fl.Reason
		return m, nil
	case !ri.Done:
		m.Status = "unknown"
		return m, nil
	case ri.Skipped:
		m.Status = "skipped"
	default:
		m.Status = "stored"
	}
	j, err := runJob(run, def, idx, j)
	if err != nil {
		return m, err
	}
	if f.KeyOf != nil {
		m.Key = f.KeyOf(j)
		m.URL = f.Store.URL(m.Key)
	}
	if ri.SHA256 != nil {
		m.SHA256 = hex.EncodeToString(ri.SHA256)
	}
	return m, nil
}

// failuresFile lists every failure of the run by row (JSON Lines).
func (f *Feeder) failuresFile(ctx context.Context, id string) ([]byte, error) {
	var all []Failure
	if err := f.Runs.Failures(ctx, id, func(fl Failure) error { all = append(all, fl); return nil }); err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b Failure) int { return int(a.Row - b.Row) })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, fl := range all {
		if err := enc.Encode(fl); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

var webhookClient = &http.Client{Timeout: 10 * time.Second}

// notify posts the run's summary to url, three tries; failures are logged.
func (f *Feeder) notify(ctx context.Context, url, id string) {
	run, c, err := f.Runs.Get(ctx, id)
	if err != nil {
		return
	}
	body, _ := json.Marshal(map[string]any{"run": run.ID, "campaign": run.Campaign, "app": run.App, "state": run.State,
		"total": run.Total, "stored": c.Stored, "skipped": c.Skipped, "failed": c.Failed, "manifest": run.Manifest, "failures": run.Failures})
	for try := 1; try <= 3; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			break
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := webhookClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		f.Log.Warn("run webhook failed", "run", id, "try", try, "err", err)
		if sleep(ctx, time.Duration(try)*2*time.Second) != nil {
			return
		}
	}
}
