package wechattest

import "time"

// window holds the arrival times of the last span, oldest first.
type window struct {
	times []time.Time
	head  int
}

// add records t, drops arrivals at or before t-span and returns how many
// arrivals the window holds now, t included.
func (w *window) add(t time.Time, span time.Duration) int {
	w.trim(t.Add(-span))
	w.times = append(w.times, t)
	return len(w.times) - w.head
}

// count drops arrivals at or before t-span and returns how many remain.
func (w *window) count(t time.Time, span time.Duration) int {
	w.trim(t.Add(-span))
	return len(w.times) - w.head
}

func (w *window) trim(cut time.Time) {
	for w.head < len(w.times) && !w.times[w.head].After(cut) {
		w.head++
	}
	if w.head > 1024 && w.head > len(w.times)/2 {
		w.times = append(w.times[:0], w.times[w.head:]...)
		w.head = 0
	}
}

// fixedCount counts arrivals in the current wall-clock-aligned window.
type fixedCount struct {
	start time.Time
	n     int
}

func (f *fixedCount) add(t time.Time, span time.Duration) int {
	f.count(t, span)
	f.n++
	return f.n
}

// count starts a new window at a boundary and returns the arrivals of the
// current one.
func (f *fixedCount) count(t time.Time, span time.Duration) int {
	if start := t.Truncate(span); !start.Equal(f.start) {
		f.start, f.n = start, 0
	}
	return f.n
}

// statSpan is the window of Stats.MaxWindowCalls.
const statSpan = 60 * time.Second

// admitB counts an interface B arrival for appid and returns 45009 (or
// Options.RateLimitCode) when the
// call is over the limit in force (or in a burst, or an isolated refusal is
// due), else 0. s.mu must be held.
func (s *Server) admitB(appid string, now time.Time) int {
	a := s.arrivals[appid]
	if a == nil {
		a = &window{}
		s.arrivals[appid] = a
	}
	if n := a.add(now, statSpan); n > s.stats.MaxWindowCalls[appid] {
		s.stats.MaxWindowCalls[appid] = n
	}
	n := s.countLimited(appid, now) + 1 // this call included
	var refused bool
	switch {
	case s.bursts[appid] > 0:
		s.bursts[appid]--
		refused = true
	case s.isolatedDue(appid, now):
		refused = true
	default:
		limit := s.rateLimitAt(now)
		refused = limit > 0 && n > limit
	}
	if !refused || s.opts.CountRefused {
		s.addLimited(appid, now)
	}
	s.recordB(appid, now, refused)
	if refused {
		return s.opts.RateLimitCode
	}
	return 0
}

// countLimited is how many arrivals the rate limit's window holds at now,
// before this one. s.mu must be held.
func (s *Server) countLimited(appid string, now time.Time) int {
	if s.opts.FixedWindow {
		return s.fixedOf(appid).count(now, s.opts.RateWindow)
	}
	return s.windowOf(appid).count(now, s.opts.RateWindow)
}

// addLimited counts an arrival in the rate limit's window. s.mu must be held.
func (s *Server) addLimited(appid string, now time.Time) {
	if s.opts.FixedWindow {
		s.fixedOf(appid).add(now, s.opts.RateWindow)
		return
	}
	s.windowOf(appid).add(now, s.opts.RateWindow)
}

func (s *Server) fixedOf(appid string) *fixedCount {
	f := s.fixed[appid]
	if f == nil {
		f = &fixedCount{}
		s.fixed[appid] = f
	}
	return f
}

func (s *Server) windowOf(appid string) *window {
	w := s.limited[appid]
	if w == nil {
		w = &window{}
		s.limited[appid] = w
	}
	return w
}
