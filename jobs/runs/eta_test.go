package runs

import (
	"math"
	"testing"
	"time"
)

func TestTimeLeft(t *testing.T) {
	for _, c := range []struct {
		left      int64
		perMinute float64
		want      time.Duration
		ok        bool
		shown     string
	}{
		{4800, 4800, time.Minute, true, "about 1m0s"},
		{0, 4800, 0, true, "about 0s"},
		{-5, 4800, 0, true, "about 0s"},                                // more finished than total: never negative
		{1_000_000_000_000, 4800, MaxLeft, true, "more than 10 years"}, // 10^12 rows: no overflow
		{math.MaxInt64, 1e-300, MaxLeft, true, "more than 10 years"},
		{100, 0, 0, false, ""},
		{100, -3, 0, false, ""},
		{100, math.NaN(), 0, false, ""},
	} {
		got, ok := TimeLeft(c.left, c.perMinute)
		if got != c.want || ok != c.ok {
			t.Errorf("TimeLeft(%d, %v) = %v, %v; want %v, %v", c.left, c.perMinute, got, ok, c.want, c.ok)
		}
		if ok && FormatLeft(got) != c.shown {
			t.Errorf("FormatLeft(%v) = %q, want %q", got, FormatLeft(got), c.shown)
		}
	}
}

func TestCountsAddUpWhenCancelled(t *testing.T) {
	c := Counts{Stored: 5, Skipped: 1, Failed: 2, Fed: 20, Cancelled: 12}
	if c.InFlight() != 0 || c.Finished()+c.InFlight()+c.Cancelled != c.Fed {
		t.Fatalf("in flight %d, finished %d, cancelled %d, fed %d", c.InFlight(), c.Finished(), c.Cancelled, c.Fed)
	}
}
