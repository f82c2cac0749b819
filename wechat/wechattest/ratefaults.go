package wechattest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The rate faults of issue 21: a limit that changes silently on a schedule,
// isolated 45009s at an unchanged limit, and a per-second record of what
// interface B accepted and refused, for the recovery benchmark.

// RateStep is one silent change of the interface B limit: from After (since
// the fake started) on, the limit is Limit (negative = unlimited) instead of
// Options.RateLimit, until a later step. Nothing tells the caller: quota/get
// keeps reporting RateLimit.
type RateStep struct {
	After time.Duration `json:"after"`
	Limit int           `json:"limit"`
}

// UnmarshalJSON reads {"after":"25s","limit":1500} (after may be seconds).
func (r *RateStep) UnmarshalJSON(b []byte) error {
	var w struct {
		After duration `json:"after"`
		Limit int      `json:"limit"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Limit == 0 || w.After < 0 {
		return fmt.Errorf("rate step needs after ≥ 0 and a non-zero limit, got %s", b)
	}
	*r = RateStep{After: time.Duration(w.After), Limit: w.Limit}
	return nil
}

// MarshalJSON writes after as a string such as "25s".
func (r RateStep) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		After duration `json:"after"`
		Limit int      `json:"limit"`
	}{duration(r.After), r.Limit})
}

// ParseRateSchedule reads "25s=1500,90s=2500": at 25 s after the fake's
// start the limit becomes 1500, at 90 s 2500.
func ParseRateSchedule(v string) ([]RateStep, error) {
	var out []RateStep
	for _, f := range strings.Split(v, ",") {
		at, lim, ok := strings.Cut(strings.TrimSpace(f), "=")
		d, derr := time.ParseDuration(at)
		n, nerr := strconv.Atoi(lim)
		if !ok || derr != nil || nerr != nil || d < 0 || n == 0 {
			return nil, fmt.Errorf("want DURATION=LIMIT[,...] such as 25s=1500, got %q", f)
		}
		out = append(out, RateStep{After: d, Limit: n})
	}
	return out, nil
}

// Second is what interface B did for one app in one wall-clock second of
// the fake's clock: calls that passed the rate check and calls refused
// with 45009 (limit, burst or isolated refusal).
type Second struct {
	Unix     int64 `json:"unix"`
	Accepted int   `json:"accepted"`
	Refused  int   `json:"refused"`
}

// maxSeconds bounds the per-second record of each app (the newest 6 hours).
const maxSeconds = 6 * 3600

// rateFaults is the Server's state for the rate faults. s.mu guards it.
type rateFaults struct {
	start   time.Time            // the fake's start, origin of RateSchedule
	isoNext map[string]time.Time // appid -> when its next isolated 45009 is due
	seconds map[string][]Second  // appid -> per-second record, oldest first
}

func newRateFaults(start time.Time) rateFaults {
	return rateFaults{start: start, isoNext: map[string]time.Time{}, seconds: map[string][]Second{}}
}

// rateLimitAt is the interface B limit in force at now: the latest
// RateSchedule step due, else RateLimit. s.mu must be held.
func (s *Server) rateLimitAt(now time.Time) int {
	limit, latest := s.opts.RateLimit, time.Duration(-1)
	for _, st := range s.opts.RateSchedule {
		if st.After > latest && !now.Before(s.rf.start.Add(st.After)) {
			limit, latest = st.Limit, st.After
		}
	}
	return limit
}

// isolatedDue reports whether this interface B call of appid gets an
// isolated 45009: with IsolatedEvery set, the first call at or after each
// due time does, the first due time being IsolatedEvery after the app's
// first call with the option on. s.mu must be held.
func (s *Server) isolatedDue(appid string, now time.Time) bool {
	every := s.opts.IsolatedEvery
	if every <= 0 {
		delete(s.rf.isoNext, appid)
		return false
	}
	next, ok := s.rf.isoNext[appid]
	if !ok {
		s.rf.isoNext[appid] = now.Add(every)
		return false
	}
	if now.Before(next) {
		return false
	}
	s.rf.isoNext[appid] = now.Add(every)
	return true
}

// recordB adds an interface B call's outcome to appid's per-second record.
// s.mu must be held.
func (s *Server) recordB(appid string, now time.Time, refused bool) {
	sec := now.Unix()
	rec := s.rf.seconds[appid]
	i := len(rec) - 1
	for i >= 0 && rec[i].Unix > sec { // a clock that stepped back
		i--
	}
	if i < 0 || rec[i].Unix != sec {
		rec = slices.Insert(rec, i+1, Second{Unix: sec})
		i++
	}
	if refused {
		rec[i].Refused++
	} else {
		rec[i].Accepted++
	}
	if len(rec) > maxSeconds {
		rec = append(rec[:0], rec[len(rec)-maxSeconds:]...)
	}
	s.rf.seconds[appid] = rec
}

// Seconds returns appid's per-second record of interface B calls, oldest
// first; seconds without a call are absent.
func (s *Server) Seconds(appid string) []Second {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rf.seconds[appid])
}

// Started is the fake's start on its clock, the origin of RateSchedule.
func (s *Server) Started() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rf.start
}

// handleSeconds serves GET /_fake/seconds?appid=...: the app's Seconds.
func (s *Server) handleSeconds(w http.ResponseWriter, r *http.Request) {
	appid := r.URL.Query().Get("appid")
	if appid == "" {
		http.Error(w, "appid required", http.StatusBadRequest)
		return
	}
	rec := s.Seconds(appid)
	if rec == nil {
		rec = []Second{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rec)
}
