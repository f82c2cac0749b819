package worker

import (
	"context"
	"sync"
	"time"

	"github.com/wxacode/wxacode/storage"
)

// defaultStoreRecheck is how often a held store is probed again.
const defaultStoreRecheck = 30 * time.Second

// storeHold is this process's hold on the store after an answer that means
// configuration (storage.IsConfigAnswer: a missing bucket, refused
// credentials, a directory that denies writing). While it holds, jobs are
// handed back before anything is called, so no WeChat quota is spent on a
// code that cannot be stored and no try is used; a probe every recheck
// (storage.Probe: a write and a delete) lifts it.
type storeHold struct {
	mu      sync.Mutex
	cause   string // "" while not held
	since   time.Time
	every   time.Duration // recheck interval; 0: defaultStoreRecheck
	probing bool
}

func (s *storeHold) interval() time.Duration {
	if s.every > 0 {
		return s.every
	}
	return defaultStoreRecheck
}

// held returns the hold's cause, or "" when the store is not held.
func (s *storeHold) held() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// StoreHold returns why this process holds its store and since when; ""
// while it does not. The cause names what the store answered (a missing
// bucket, access denied, a directory that denies writing), never a
// credential.
func (h *Handler) StoreHold() (cause string, since time.Time) {
	h.storeHold.mu.Lock()
	defer h.storeHold.mu.Unlock()
	if h.storeHold.cause == "" {
		return "", time.Time{}
	}
	return h.storeHold.cause, h.storeHold.since
}

// storeHeld hands the job back while the store is held; nil otherwise.
func (h *Handler) storeHeld(ctx context.Context, j *job) error {
	cause := h.storeHold.held()
	if cause == "" {
		return nil
	}
	every := h.storeHold.interval()
	return h.yield(ctx, j, &YieldError{After: every + jitter(every), Reason: "store held: " + cause})
}

// holdStore holds the store after err (an IsConfigAnswer), logging the
// cause and what to do once, and starts the recheck if none runs. It
// returns the job's yield.
func (h *Handler) holdStore(ctx context.Context, j *job, err error) error {
	d := storage.Diagnose(err)
	h.storeHold.mu.Lock()
	first := h.storeHold.cause == ""
	if first {
		h.storeHold.cause, h.storeHold.since = d.Cause+" ("+storage.Brief(err)+")", time.Now()
		h.deps.Metrics.StoreHeld(d.Cause)
	}
	start := !h.storeHold.probing
	h.storeHold.probing = true
	h.storeHold.mu.Unlock()
	if first {
		h.log.Error("store held: its answer means configuration; jobs wait without calling WeChat until a probe succeeds",
			"cause", d.Cause, "err", err, "advice", d.Advice, "recheck", h.storeHold.interval().String())
	}
	if start {
		go h.recheckStore()
	}
	return h.storeHeld(ctx, j)
}

// recheckStore probes the held store every interval until a probe passes,
// then lifts the hold.
func (h *Handler) recheckStore() {
	t := time.NewTicker(h.storeHold.interval())
	defer t.Stop()
	for range t.C {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err := storage.Probe(ctx, h.deps.Store)
		cancel()
		if err != nil {
			h.log.Debug("store still held", "err", err)
			continue
		}
		h.storeHold.mu.Lock()
		held := time.Since(h.storeHold.since)
		h.storeHold.cause, h.storeHold.probing = "", false
		h.storeHold.mu.Unlock()
		h.deps.Metrics.StoreReleased()
		h.log.Info("store hold lifted: a probe object was written and removed", "held", held.Round(time.Millisecond).String())
		return
	}
}
