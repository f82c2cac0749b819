package ratelimit

import (
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

func TestAdaptiveDecreaseOncePerEpisodeAndRecovery(t *testing.T) {
	const app = "wxadapt"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{})

	require.Equal(t, 4800.0, effective(t, other, app).EffectivePerMinute)
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	require.Equal(t, 2400.0, effective(t, other, app).EffectivePerMinute)

	// Same episode (calls already in flight): counted, no second decrease.
	clock.Add(10 * time.Second)
	require.NoError(t, other.ReportRateLimited(ctx, app, 45009))
	st := effective(t, a, app)
	require.Equal(t, 2400.0, st.EffectivePerMinute)
	require.EqualValues(t, 2, st.RateLimitedTotal)
	require.EqualValues(t, 2, st.RateLimitedLastHour)
	require.Equal(t, "45009", st.LastErrCode)
	require.Equal(t, time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC), st.CooldownUntil.UTC())

	// Recovery runs from the cooldown's end (12:01) at 2% of the cap (96)
	// per minute; a new report then halves the recovered rate.
	clock.Add(50 * time.Second) // 12:01:10
	require.InDelta(t, 2400+96.0/6, effective(t, other, app).EffectivePerMinute, 0.01)
	require.NoError(t, a.ReportRateLimited(ctx, app, 45011))
	require.InDelta(t, 1208, effective(t, other, app).EffectivePerMinute, 0.01)
	clock.Add(50*time.Second + 10*time.Minute) // 12:12:00, 10 min after 12:02
	require.InDelta(t, 1208+10*96, effective(t, other, app).EffectivePerMinute, 0.01)
	clock.Add(2 * time.Hour)
	st = effective(t, other, app)
	require.Equal(t, 4800.0, st.EffectivePerMinute)
	require.EqualValues(t, 0, st.RateLimitedLastHour)
	require.EqualValues(t, 3, st.RateLimitedTotal)
}

func TestAdaptiveRatePacesCallsAndHasAFloor(t *testing.T) {
	const app = "wxfloor"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{Burst: 2, MinPerMinute: 500, RecoveryPerMinute: 1})

	require.NoError(t, a.ReportRateLimited(ctx, app, 45009)) // 2400/min from 12:01
	clock.Add(50 * time.Second)
	for range 2 {
		ok, _, err := other.Take(ctx, app)
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, retry, err := other.Take(ctx, app)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, 25*time.Millisecond, retry, "60 s / 2400")

	for range 5 { // 1200, 600, then the 500 floor
		st := effective(t, a, app)
		clock.Add(st.CooldownUntil.Sub(clock.Now()) + time.Second)
		require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	}
	require.InDelta(t, 500, effective(t, other, app).EffectivePerMinute, 0.01)
}
