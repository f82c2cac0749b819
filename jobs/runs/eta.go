package runs

import "time"

// MaxLeft is the longest time left that is shown as a duration; beyond it
// (a generator of 10^12 rows, say) FormatLeft says "more than 10 years".
const MaxLeft = 10 * 365 * 24 * time.Hour

// TimeLeft is how long left rows take at perMinute, capped at MaxLeft so
// that it never overflows; ok is false when the rate is unknown (zero,
// negative or not a number). It is never negative.
func TimeLeft(left int64, perMinute float64) (time.Duration, bool) {
	if !(perMinute > 0) {
		return 0, false
	}
	minutes := float64(max(left, 0)) / perMinute
	if minutes >= MaxLeft.Minutes() {
		return MaxLeft, true
	}
	return time.Duration(minutes * float64(time.Minute)), true
}

// FormatLeft prints a TimeLeft: "about 1m0s" (rounded to the second), or
// "more than 10 years" at MaxLeft.
func FormatLeft(d time.Duration) string {
	if d >= MaxLeft {
		return "more than 10 years"
	}
	return "about " + d.Round(time.Second).String()
}
