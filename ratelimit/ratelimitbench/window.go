package ratelimitbench

import (
	"slices"
	"time"
)

// maxInWindow returns the largest number of instants in any closed window
// [t, t+w] (a window can always slide right until it starts at an instant).
func maxInWindow(ts []int64, w time.Duration, unit time.Duration) int {
	s := slices.Clone(ts)
	slices.Sort(s)
	width := int64(w / unit)
	best, j := 0, 0
	for i := range s {
		for j < len(s) && s[j] <= s[i]+width {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// countIn counts instants (ns) in [from, to).
func countIn(ts []int64, from, to int64) int {
	n := 0
	for _, t := range ts {
		if t >= from && t < to {
			n++
		}
	}
	return n
}
