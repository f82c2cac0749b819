package ratelimit

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// adaptiveSetup gives two instances on one fake clock, without local pacing
// (its timers would run on the real clock).
func adaptiveSetup(t *testing.T, cfg Config) (*fakeClock, *Limiter, *Limiter) {
	t.Helper()
	b := setup(t)
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC))
	cfg.Clock, cfg.LocalPacing, cfg.CooldownJitter = clock.Now, PacingRedisOnly, -1
	return clock, b.limiter(cfg), b.limiter(cfg)
}

func effective(t *testing.T, l *Limiter, app string) State {
	t.Helper()
	st, err := l.State(ctxT(t), app)
	require.NoError(t, err)
	return st
}

// takeN takes n calls one interval apart, as a busy fleet would.
func takeN(t *testing.T, l *Limiter, clock *fakeClock, app string, n int, every time.Duration) {
	t.Helper()
	for i := range n {
		ok, _, err := l.Take(ctxT(t), app)
		require.NoError(t, err)
		require.True(t, ok, "call %d of %d", i+1, n)
		clock.Add(every)
	}
}

// untilCooldownEnds moves the clock to the end of the cooldown plus d.
func untilCooldownEnds(t *testing.T, l *Limiter, clock *fakeClock, app string, d time.Duration) {
	t.Helper()
	st := effective(t, l, app)
	clock.Add(st.CooldownUntil.Sub(clock.Now()) + d)
}

// cubic is the documented recovery curve, t minutes after the cooldown.
func cubic(wmax, capacity, beta, recoveryMin, t float64) float64 {
	k := recoveryMin * math.Cbrt(wmax/capacity)
	c := wmax * (1 - beta) / (k * k * k)
	return math.Min(capacity, wmax+c*math.Pow(t-k, 3))
}

// The decrease starts from what the fleet actually sent in the last minute:
// 4000 calls, then a 45009, gives 0.7 * 4000. After only 1200 calls it is
// bounded: never below 0.49 of the rate in one step.
func TestAdaptiveDecreaseFromCallsOfTheLastMinute(t *testing.T) {
	const app = "wxadapt"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{})

	require.Equal(t, 4800.0, effective(t, other, app).EffectivePerMinute)
	takeN(t, a, clock, app, 4000, 12500*time.Microsecond) // 4800/min for 50 s
	require.EqualValues(t, 4000, effective(t, other, app).CallsLastMinute)
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	require.InDelta(t, 2800, effective(t, other, app).EffectivePerMinute, 0.01)

	// Same episode (calls already in flight): counted, no second decrease.
	clock.Add(10 * time.Second)
	require.NoError(t, other.ReportRateLimited(ctx, app, 45009))
	st := effective(t, a, app)
	require.InDelta(t, 2800, st.EffectivePerMinute, 0.01)
	require.EqualValues(t, 2, st.RateLimitedTotal)
	require.EqualValues(t, 2, st.RateLimitedLastHour)
	require.Equal(t, "45009", st.LastErrCode)
	require.Equal(t, time.Date(2026, 3, 1, 12, 2, 0, 0, time.UTC), st.CooldownUntil.UTC())

	const young = "wxyoung"
	takeN(t, a, clock, young, 1200, 12500*time.Microsecond)
	require.NoError(t, a.ReportRateLimited(ctx, young, 45009))
	require.InDelta(t, 0.49*4800, effective(t, other, young).EffectivePerMinute, 0.01)
}

// A WeChat limit silently lowered below the cap: one decrease brings the
// rate under it, and the rate climbs back to the refused rate, not above it,
// for minutes (CUBIC's plateau), then on to the cap.
func TestAdaptiveRecoveryFollowsTheCubicCurve(t *testing.T) {
	const app = "wxcubic"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{})

	takeN(t, a, clock, app, 3800, 12500*time.Microsecond) // 47.5 s at 4800/min: WeChat allows 3800
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	end := effective(t, a, app).CooldownUntil
	require.InDelta(t, 2660, effective(t, other, app).EffectivePerMinute, 0.01, "0.7 x 3800 during the cooldown")

	k := 4 * math.Cbrt(3800.0/4800) // minutes back to 3800
	for _, tc := range []struct {
		at   float64 // minutes after the cooldown
		want float64
	}{
		{0, 2660}, {k / 2, 3800 - 1140.0/8}, {k, 3800}, {k + 0.5, cubic(3800, 4800, 0.7, 4, k+0.5)},
		{1.5 * k, 3800 + 1140.0/8}, {30, 4800},
	} {
		clock.Add(end.Add(time.Duration(tc.at * float64(time.Minute))).Sub(clock.Now()))
		require.InDelta(t, tc.want, effective(t, other, app).EffectivePerMinute, 0.05, "%.2f min after the cooldown", tc.at)
	}
}

// A 45009 storm: WeChat refuses the first calls after every cooldown. Only
// the first refusal lowers the rate; those right after a cooldown (within
// 10 s) only pause the fleet again, and the rate keeps recovering.
func TestAdaptiveStormDoesNotCompound(t *testing.T) {
	const app = "wxstorm"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{})

	takeN(t, a, clock, app, 4000, 12500*time.Microsecond) // 50 s at the cap
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	first := effective(t, other, app).EffectivePerMinute
	require.InDelta(t, 0.7*4000, first, 0.01)
	for i := range 6 {
		untilCooldownEnds(t, a, clock, app, 0)
		takeN(t, other, clock, app, 5, 100*time.Millisecond)
		require.NoError(t, other.ReportRateLimited(ctx, app, 45009))
		st := effective(t, a, app)
		require.True(t, st.InCooldown(), "storm refusal %d pauses the fleet", i+1)
		require.GreaterOrEqual(t, st.EffectivePerMinute, first, "storm refusal %d lowered the rate", i+1)
	}
	require.InDelta(t, cubic(4000, 4800, 0.7, 4, 5+0.5/60), effective(t, a, app).EffectivePerMinute, 1,
		"the curve ran on through the storm's pauses")

	// Ten seconds after a cooldown the fleet has sent enough for a refusal
	// to count again; 200 calls are little, so the bound applies.
	untilCooldownEnds(t, a, clock, app, 0)
	takeN(t, a, clock, app, 200, 50*time.Millisecond)
	before := effective(t, other, app).EffectivePerMinute
	require.NoError(t, a.ReportRateLimited(ctx, app, 45011))
	require.InDelta(t, 0.49*before, effective(t, other, app).EffectivePerMinute, 0.01)
}

func TestAdaptiveRatePacesCallsAndHasAFloor(t *testing.T) {
	const app = "wxfloor"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{Burst: 2, MinPerMinute: 2000})

	takeN(t, a, clock, app, 2000, 15*time.Millisecond)
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009)) // 0.49 x 4800 = 2352/min
	untilCooldownEnds(t, a, clock, app, 0)
	for range 2 {
		ok, _, err := other.Take(ctx, app)
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, retry, err := other.Take(ctx, app)
	require.NoError(t, err)
	require.False(t, ok)
	require.InDelta(t, float64(time.Minute)/2352, float64(retry), float64(time.Millisecond), "60 s / 2352")

	// Refused again with few calls: 0.49 x 2352 would be 1152; the floor
	// holds the rate at 2000.
	clock.Add(20 * time.Second)
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	require.InDelta(t, 2000, effective(t, other, app).EffectivePerMinute, 0.01)
}

func TestAdaptiveFactorOneDisablesTheDecrease(t *testing.T) {
	const app = "wxfixed"
	clock, a, other := adaptiveSetup(t, Config{DecreaseFactor: 1})
	takeN(t, a, clock, app, 100, 12500*time.Microsecond)
	require.NoError(t, a.ReportRateLimited(ctxT(t), app, 45009))
	st := effective(t, other, app)
	require.True(t, st.InCooldown())
	require.Equal(t, 4800.0, st.EffectivePerMinute)
}
