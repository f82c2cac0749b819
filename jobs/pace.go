package jobs

import (
	"context"
	"time"
)

// paceBatch is the most rows one schedule reservation covers, and
// paceLinger how long a partial batch waits for more rows: a file is read
// far faster, so batches fill; a slow stdin still flows.
const (
	paceBatch  = 256
	paceLinger = 20 * time.Millisecond
)

// timedRow is a row with the time its job is due (zero: at once).
type timedRow struct {
	Row
	at time.Time
}

// pace batches rows, gives each its due time (Schedule) and passes them on;
// it closes out when in is closed.
func (e *Enqueuer) pace(ctx context.Context, in <-chan Row, out chan<- timedRow) {
	defer close(out)
	batch := make([]Row, 0, paceBatch)
	for open := true; open; {
		row, ok := <-in
		if !ok {
			return
		}
		batch = append(batch[:0], row)
		batch, open = fill(in, batch)
		js := make([]Job, len(batch))
		for i, r := range batch {
			js[i] = r.Job
		}
		for i, at := range e.Schedule(ctx, js) {
			out <- timedRow{batch[i], at}
		}
	}
}

// fill adds rows to batch until it is full, in is closed or no row came
// for paceLinger. It reports whether in is still open.
func fill(in <-chan Row, batch []Row) ([]Row, bool) {
	t := time.NewTimer(paceLinger)
	defer t.Stop()
	for len(batch) < cap(batch) {
		select {
		case r, ok := <-in:
			if !ok {
				return batch, false
			}
			batch = append(batch, r)
		case <-t.C:
			return batch, true
		}
	}
	return batch, true
}

// Schedule returns when each job is due: consecutive slots of its rate
// budget's fleet-wide schedule (one reservation per budget and lane, see
// Pacer). Without a Pacer, or when the reservation fails (Redis down: the
// enqueue that follows fails too and is retried), jobs are due at once;
// the limiter holds the cap either way.
func (e *Enqueuer) Schedule(ctx context.Context, js []Job) []time.Time {
	at := make([]time.Time, len(js))
	if e.cfg.Pacer == nil {
		return at
	}
	type lane struct {
		budget string
		high   bool
	}
	groups := map[lane][]int{}
	var order []lane
	for i, j := range js {
		l := lane{PaceKey(j), j.High}
		if _, ok := groups[l]; !ok {
			order = append(order, l)
		}
		groups[l] = append(groups[l], i)
	}
	for _, l := range order {
		idx := groups[l]
		start, iv, err := e.cfg.Pacer.Schedule(ctx, l.budget, l.high, len(idx))
		if err != nil {
			continue
		}
		for k, i := range idx {
			at[i] = start.Add(time.Duration(k) * iv)
		}
	}
	return at
}

// PaceKey is the rate budget a job is paced on: its campaign's share of
// the app's rate if it has one, else the app's.
func PaceKey(j Job) string {
	if j.Budget != "" {
		return j.Budget
	}
	return j.App
}
