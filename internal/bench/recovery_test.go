package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/wechat/wechattest"
)

// flat returns per-second records from t0 on, one per rate.
func flat(t0 int64, perSec ...[2]int) []wechattest.Second {
	out := make([]wechattest.Second, len(perSec))
	for i, p := range perSec {
		out[i] = wechattest.Second{Unix: t0 + int64(i), Accepted: p[0], Refused: p[1]}
	}
	return out
}

func repeat(n int, p [2]int) [][2]int {
	out := make([][2]int, n)
	for i := range out {
		out[i] = p
	}
	return out
}

// TestRecoveryFigures: a drop from 2500 to 1500 at cap 2400 where the fleet
// stops for 30 s after the first refusal, then runs at 20/s (1200/min), then
// 25/s: the used share, the time to 0.95 and the refused share follow the
// definitions in the command's help.
func TestRecoveryFigures(t *testing.T) {
	t0 := int64(1_800_000_000)
	var secs [][2]int
	secs = append(secs, repeat(30, [2]int{40, 0})...)  // 0..29 s at cap
	secs = append(secs, [2]int{10, 30})                // 30 s: first refusals
	secs = append(secs, repeat(29, [2]int{0, 0})...)   // 31..59 s: nothing
	secs = append(secs, repeat(30, [2]int{20, 0})...)  // 60..89 s: 1200/min
	secs = append(secs, repeat(100, [2]int{25, 0})...) // 90..189 s: 1500/min
	start := time.Unix(t0, 0)
	o := recoveryOutcome{start: start, end: time.Unix(t0+190, 0), finished: true, seconds: flat(t0, secs...),
		limits: []limitChange{{start, 2500}, {start.Add(25 * time.Second), 1500}}}
	f := o.figures(2400, false)
	require.Equal(t, 30*time.Second, f.firstRefusal)
	// 120 s from 30 s: 10 + 30×20 + 60×25 = 2110 accepted of 120 × 25 = 3000 allowed.
	require.InDelta(t, 2110.0/3000, f.used, 1e-9)
	// 0.95 × 1500/min over 10 s = 237.5: ten 20/s seconds hold 200; the
	// first window to reach it is 88..97 s (2×20 + 8×25 = 240), whose end
	// is 68 s after the refusal's second.
	require.Equal(t, 68*time.Second, f.recover)
	require.Equal(t, 30, f.refused)
	require.Equal(t, 30*40+40+30*20+100*25, f.calls)

	// rise: counted from the raise; the work ending cuts the used span.
	o.limits = []limitChange{{start, 1500}, {start.Add(89*time.Second + 300*time.Millisecond), 2500}}
	o.end = time.Unix(t0+100, 0)
	f = o.figures(2400, true)
	require.Equal(t, time.Duration(-1), f.recover, "25/s never reaches 0.95 × 2400/min")
	// 30..99 s: 10 + 30×20 + 10×25 = 860 accepted of 59×25 + 11×40 allowed.
	require.InDelta(t, 860.0/(59*25+11*40), f.used, 1e-9)

	o.seconds = flat(t0, repeat(10, [2]int{40, 0})...)
	f = o.figures(2400, false)
	require.Equal(t, time.Duration(-1), f.firstRefusal)
	require.Equal(t, -1.0, f.used)
	require.Zero(t, f.refusedShare)
	require.Equal(t, " 400", o.timeline())
}

func TestPickRecovery(t *testing.T) {
	got, err := pickRecovery("isolated, drop")
	require.NoError(t, err)
	require.Equal(t, []string{"isolated", "drop"}, []string{got[0].name, got[1].name})
	_, err = pickRecovery("drop,nope")
	require.ErrorContains(t, err, `no scenario "nope"`)
	w, err := pickWindows("fixed,sliding")
	require.NoError(t, err)
	require.Equal(t, []bool{true, false}, w)
	_, err = pickWindows("calendar")
	require.Error(t, err)
	require.True(t, strings.HasPrefix(recoveryHeader, "scenario"))
}
