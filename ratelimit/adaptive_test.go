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
	clock.Add(max(0, st.CooldownUntil.Sub(clock.Now())) + d)
}

// probeThenOpen runs the end of an episode as the fleet would: it waits
// out the pause, sends the round's probes (Take by a), lets their verdict
// time pass without a refusal, and returns the calls of the last minute
// WeChat's acceptance is measured by, read just before the call that
// resumes the rate (also Take by a).
func probeThenOpen(t *testing.T, a *Limiter, clock *fakeClock, app string) float64 {
	t.Helper()
	untilCooldownEnds(t, a, clock, app, 0)
	probes := 0
	for {
		ok, retry, err := a.Take(ctxT(t), app)
		require.NoError(t, err)
		if !ok {
			require.InDelta(t, 3, retry.Seconds(), 0.01, "the others wait for the probes' verdict")
			break
		}
		probes++
		require.LessOrEqual(t, probes, 16, "at most 16 probes in a round")
	}
	require.Positive(t, probes)
	clock.Add(probeWait)
	clm := float64(effective(t, a, app).CallsLastMinute)
	ok, _, err := a.Take(ctxT(t), app)
	require.NoError(t, err)
	require.True(t, ok, "the probe was not refused: the rate resumes")
	return clm
}

const probeWait = 3 * time.Second

// refuseProbes has n probes refused in a row (the pause doubling each
// time) and returns the last pause.
func refuseProbes(t *testing.T, a *Limiter, clock *fakeClock, app string, n int) time.Duration {
	t.Helper()
	var pause time.Duration
	for range n {
		untilCooldownEnds(t, a, clock, app, 0)
		ok, _, err := a.Take(ctxT(t), app)
		require.NoError(t, err)
		require.True(t, ok, "the probe")
		require.NoError(t, a.ReportRateLimited(ctxT(t), app, 45009))
		st := effective(t, a, app)
		pause = st.CooldownUntil.Sub(st.Now)
	}
	return pause
}

// cubic is the documented recovery curve t minutes after the rate resumed
// at e0, below wmax: back at wmax after k, then on to the cap; after a
// minute on it the climb from wmax to the cap takes at most a third of the
// recovery time.
func cubic(wmax, e0, capacity, beta, recoveryMin, t float64) float64 {
	c := capacity * (1 - beta) / (recoveryMin * recoveryMin * recoveryMin)
	k := math.Cbrt((wmax - e0) / c)
	e := wmax + c*math.Pow(t-k, 3)
	if t > 1 {
		e = math.Max(e, wmax+(capacity-wmax)*math.Pow((t-1)/(recoveryMin/3), 3))
	}
	return math.Min(capacity, e)
}

// The rate resumes at 0.97 of what WeChat accepts, estimated when the probe
// goes unrefused: with a sliding window, what the window held at the first
// refusal, however long the pauses drained it since. An estimate far below
// the rate is bounded: never below 0.49 of the rate in one step.
func TestAdaptiveRateResumesAtWhatWeChatAccepted(t *testing.T) {
	const app = "wxadapt"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{})

	require.Equal(t, 4800.0, effective(t, other, app).EffectivePerMinute)
	takeN(t, a, clock, app, 6000, 12500*time.Microsecond) // 4800/min for 75 s
	before := float64(effective(t, other, app).CallsLastMinute)
	require.InDelta(t, 4800, before, 2, "a full window at the cap")
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	st := effective(t, other, app)
	require.True(t, st.InCooldown())
	require.Equal(t, 4800.0, st.EffectivePerMinute, "unchanged until WeChat accepts again")
	require.Equal(t, time.Second, st.CooldownUntil.Sub(st.LastRateLimited), "a first pause of 1 s, not the minute boundary")

	// A report during the pause (a call already in flight): counted only.
	clock.Add(500 * time.Millisecond)
	require.NoError(t, other.ReportRateLimited(ctx, app, 45009))
	st = effective(t, a, app)
	require.EqualValues(t, 2, st.RateLimitedTotal)
	require.EqualValues(t, 2, st.RateLimitedLastHour)
	require.Equal(t, "45009", st.LastErrCode)
	require.Equal(t, 500*time.Millisecond, st.CooldownUntil.Sub(st.Now), "the pause did not grow")

	clm := probeThenOpen(t, a, clock, app)
	require.Less(t, clm, 0.98*before, "the window drained: a sliding limit")
	require.InDelta(t, 0.97*before, effective(t, other, app).EffectivePerMinute, 0.5)

	const long = "wxlong"
	takeN(t, a, clock, long, 3000, 20*time.Millisecond) // a minute at 3000/min
	held := float64(effective(t, a, long).CallsLastMinute)
	require.NoError(t, a.ReportRateLimited(ctx, long, 45009))
	for i := range 8 { // 2 minutes of refused rounds drain the window
		pause := refuseProbes(t, a, clock, long, 1)
		require.LessOrEqual(t, pause, 16*time.Second, "round %d: without a calendar minute learned, rounds are at most 16 s apart", i)
	}
	clm = probeThenOpen(t, a, clock, long)
	require.Less(t, clm, 0.4*held, "the pauses drained the window")
	require.Equal(t, 4800.0, effective(t, other, long).EffectivePerMinute,
		"probes refused with the window far below what it held: no window limit does that, the rate before stands")

	const young = "wxyoung"
	takeN(t, a, clock, young, 1000, 60*time.Millisecond) // a minute at 1000/min
	require.NoError(t, a.ReportRateLimited(ctx, young, 45009))
	probeThenOpen(t, a, clock, young)
	require.InDelta(t, 0.97*0.49*4800, effective(t, other, young).EffectivePerMinute, 0.5, "one episode lowers the rate at most to 0.49 of it")
}

// A WeChat limit silently lowered below the cap: the rate resumes just
// under the estimate, climbs to what the window held when WeChat refused
// (the limit lies between), stays near it for a while and climbs on to the
// cap on the recovery curve, 90 s by default (a refusal on the way starts
// again).
func TestAdaptiveRecoveryFollowsTheCubicCurve(t *testing.T) {
	const app = "wxcubic"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{})

	takeN(t, a, clock, app, 3000, 20*time.Millisecond) // 60 s at 3000/min: WeChat allows 3000
	before := float64(effective(t, a, app).CallsLastMinute)
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	clm := probeThenOpen(t, a, clock, app)
	require.Less(t, clm, before, "the window drained a little during the pause")
	wmax, e0 := before, 0.97*before // the limit is what the window held; 0.97 is the headroom
	require.Less(t, e0, wmax)
	start := clock.Now()
	require.InDelta(t, e0, effective(t, other, app).EffectivePerMinute, 0.5)
	for _, at := range []float64{0.25, 0.5, 1, 1.25, 1.4, 1.5, 2, 30} {
		clock.Add(start.Add(time.Duration(at * float64(time.Minute))).Sub(clock.Now()))
		require.InDelta(t, cubic(wmax, e0, 4800, 0.7, 1.5, at), effective(t, other, app).EffectivePerMinute, 0.5, "%.2f min after", at)
	}
	require.Equal(t, 4800.0, effective(t, other, app).EffectivePerMinute, "back at the cap")
}

// A limit raised again after a drop: once the rate has held a minute near
// the estimate without a refusal, it climbs to the cap within a third of
// RecoveryTime (30 s by default), not the whole curve's minutes.
func TestAdaptiveClimbsToTheCapAfterAMinuteWithoutRefusals(t *testing.T) {
	const app = "wxclimb"
	clock, a, other := adaptiveSetup(t, Config{DefaultPerMinute: 2400})
	takeN(t, a, clock, app, 1500, 40*time.Millisecond) // 60 s at 1500/min: WeChat allows 1500
	require.NoError(t, a.ReportRateLimited(ctxT(t), app, 45009))
	probeThenOpen(t, a, clock, app)
	start := clock.Now()
	at := func(d time.Duration) float64 {
		clock.Add(start.Add(d).Sub(clock.Now()))
		return effective(t, other, app).EffectivePerMinute
	}
	require.InDelta(t, 1500, at(time.Minute), 15, "near the estimate for a minute")
	require.InDelta(t, 1500+900.0/8, at(75*time.Second), 20, "half way through the climb: (1/2)^3 of the way")
	require.Equal(t, 2400.0, at(90*time.Second), "at the cap 30 s after the minute")
}

// Probes refused one after another (a storm, or a calendar-minute window
// that only empties at the boundary) double the pause, 1 s, 2 s, 4 s, ...,
// never past the next minute boundary, and change no rate. When WeChat
// accepts again with as many calls in its window as when it refused, the
// refusal was not about the count: the rate stands.
func TestAdaptiveStormDoesNotCompound(t *testing.T) {
	const app = "wxstorm"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{})

	takeN(t, a, clock, app, 800, 12500*time.Microsecond) // 10 s at the cap, then a 10 s storm
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	for _, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		untilCooldownEnds(t, a, clock, app, 0)
		ok, _, err := other.Take(ctx, app)
		require.NoError(t, err)
		require.True(t, ok, "the probe")
		clock.Add(200 * time.Millisecond)
		require.NoError(t, other.ReportRateLimited(ctx, app, 45009)) // the probe refused
		st := effective(t, a, app)
		require.Equal(t, 4800.0, st.EffectivePerMinute, "no decrease while probes are refused")
		boundary := st.Now.Truncate(time.Minute).Add(time.Minute)
		require.Equal(t, min(want, boundary.Sub(st.Now)), st.CooldownUntil.Sub(st.Now))
	}
	probeThenOpen(t, a, clock, app) // the storm is over
	require.Equal(t, 4800.0, effective(t, other, app).EffectivePerMinute,
		"accepted with the same 800 calls in the window: not a count limit, the rate stands")
}

// A storm's tail: WeChat keeps refusing the probes while the last 60 s
// drain to nothing, which no window limit does; when it accepts again the
// rate before the episode stands (it used to restart at the floor of the
// decrease, 0.97 x 0.49 of it, as if the limit were the few calls sent
// before the first refusal).
func TestAdaptiveStormTailKeepsTheRate(t *testing.T) {
	const app = "wxtail"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{})
	takeN(t, a, clock, app, 800, 12500*time.Microsecond) // 10 s at the cap
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	refuseProbes(t, a, clock, app, 9) // rounds up to 16 s apart, for more than a minute
	require.Less(t, float64(effective(t, a, app).CallsLastMinute), 800*0.4, "the window had drained when the last probe was refused")
	probeThenOpen(t, a, clock, app)
	require.Equal(t, 4800.0, effective(t, other, app).EffectivePerMinute, "not a count limit: the rate stands")
}

func TestAdaptiveRatePacesCallsAndHasAFloor(t *testing.T) {
	const app = "wxfloor"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{Burst: 2, MinPerMinute: 2000})

	takeN(t, a, clock, app, 2000, 30*time.Millisecond) // a minute at 2000/min
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	refuseProbes(t, a, clock, app, 4)
	probeThenOpen(t, a, clock, app) // at most to 0.49 x 4800, then 0.97 of it: 2281/min
	require.InDelta(t, 0.97*0.49*4800, effective(t, other, app).EffectivePerMinute, 0.5)
	// (TestAdaptiveSlidingProbesAtTheDrainAndCatchesUp checks the pacing at E.)

	// Refused again with few calls: 0.97 x 0.49 x 2281 would be 1084; the
	// floor holds the rate at 2000.
	clock.Add(20 * time.Second)
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	probeThenOpen(t, a, clock, app)
	require.InDelta(t, 2000, effective(t, other, app).EffectivePerMinute, 0.01)
}

func TestAdaptiveFactorOneDisablesTheDecrease(t *testing.T) {
	const app = "wxfixed"
	clock, a, other := adaptiveSetup(t, Config{DecreaseFactor: 1})
	takeN(t, a, clock, app, 100, 12500*time.Microsecond)
	require.NoError(t, a.ReportRateLimited(ctxT(t), app, 45009))
	st := effective(t, other, app)
	require.True(t, st.InCooldown())
	probeThenOpen(t, a, clock, app)
	require.Equal(t, 4800.0, effective(t, other, app).EffectivePerMinute)
}

// An episode whose probe comes minutes later (the app was idle) carries no
// estimate: the rate stays as it was.
func TestAdaptiveIdleEpisodeKeepsTheRate(t *testing.T) {
	const app = "wxidle"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{})
	takeN(t, a, clock, app, 100, 12500*time.Microsecond)
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	clock.Add(10 * time.Minute)
	probeThenOpen(t, a, clock, app)
	require.Equal(t, 4800.0, effective(t, other, app).EffectivePerMinute)
}

// A calendar-minute window: WeChat refuses from the 3200th call of a
// minute until the minute ends. The probes are refused up to the boundary
// and the first one after it is accepted: the limit is what the fleet had
// sent in that minute, and the rate resumes just below it.
func TestAdaptiveLearnsACalendarMinute(t *testing.T) {
	const app = "wxfixedwin"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{})
	takeN(t, a, clock, app, 4000, 12500*time.Microsecond) // 12:00:10 to 12:01:00
	takeN(t, a, clock, app, 3200, 12500*time.Microsecond) // 3200 in the minute 12:01
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	boundary := time.Date(2026, 3, 1, 12, 2, 0, 0, time.UTC)
	for range 10 {
		untilCooldownEnds(t, a, clock, app, 0)
		if !clock.Now().Before(boundary) {
			break
		}
		ok, _, err := other.Take(ctx, app)
		require.NoError(t, err)
		require.True(t, ok, "the probe")
		clock.Add(100 * time.Millisecond)
		require.NoError(t, other.ReportRateLimited(ctx, app, 45009)) // refused until the minute ends
	}
	require.Equal(t, boundary, clock.Now().UTC(), "the pauses grew up to the boundary, not past it")
	probeThenOpen(t, a, clock, app)
	require.InDelta(t, 0.97*3200, effective(t, other, app).EffectivePerMinute, 0.5)

	// Learned: each calendar minute gets 3104 calls at the cap's pace, then
	// a wait for the next minute (not 3104 spread over the whole minute,
	// which loses what a refusal late in the minute left unused).
	sent := 0
	for {
		ok, retry, err := other.Take(ctx, app)
		require.NoError(t, err)
		if !ok && retry > time.Second {
			require.Equal(t, boundary.Add(time.Minute), clock.Now().Add(retry).UTC(), "until the next minute")
			break
		}
		if ok {
			sent++
			continue
		}
		require.Equal(t, 12500*time.Microsecond, retry, "the cap's pace")
		clock.Add(retry)
		require.Less(t, sent, 4000)
	}
	require.GreaterOrEqual(t, sent, 3104-40, "the minute's budget, less the probes")
	require.Less(t, clock.Now().Sub(boundary), 45*time.Second, "the verdict's 3 s, then 3104 at 4800/min in under 40 s")

	// Refused (a call late in flight) with the minute's budget spent: the
	// count explains it, so the fleet pauses until the next minute without
	// refused probes.
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	st := effective(t, other, app)
	require.Equal(t, boundary.Add(time.Minute), st.CooldownUntil.UTC(), "no probes before the next minute")
}

// A sliding window at its limit after a silent drop (1500 in the last
// 60 s, cap 2400): probes are refused until the window drains; the pause
// that would have doubled past the moment the first calls leave the window
// ends then instead, and while the window holds fewer calls than the
// resumed rate the fleet catches up at the cap's pace, then paces at E.
func TestAdaptiveSlidingProbesAtTheDrainAndCatchesUp(t *testing.T) {
	const app = "wxdrain"
	ctx := ctxT(t)
	clock, a, other := adaptiveSetup(t, Config{DefaultPerMinute: 2400})
	takeN(t, a, clock, app, 1500, 25*time.Millisecond) // 12:00:10 to 12:00:47.5 at the cap
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	refuseProbes(t, a, clock, app, 3) // 48.5, 50.5, 54.5: pauses 2, 4, then 8 up to the boundary
	untilCooldownEnds(t, a, clock, app, 0)
	require.Equal(t, time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC), clock.Now().UTC())
	refuseProbes(t, a, clock, app, 1) // refused at the boundary: not a calendar minute
	st := effective(t, a, app)
	drain := time.Date(2026, 3, 1, 12, 1, 10, 750_000_000, time.UTC) // 30 of the 400 calls of 12:00:10-20 gone
	require.Equal(t, drain, st.CooldownUntil.UTC(), "the window drains from 12:01:10: probe then, not at 12:01:16")

	probeThenOpen(t, a, clock, app)
	eff := effective(t, other, app).EffectivePerMinute
	require.Less(t, eff, 1500.0)
	// Until the pre-drop calls have left (12:01:47.5) and a while after.
	end := time.Date(2026, 3, 1, 12, 2, 0, 0, time.UTC)
	fast, slow := 0, 0
	var slots []time.Time
	for clock.Now().Before(end) {
		st := effective(t, other, app)
		before, eff := st.CallsLastMinute, st.EffectivePerMinute
		ok, retry, err := other.Take(ctx, app)
		require.NoError(t, err)
		if ok {
			slots = append(slots, clock.Now())
			continue
		}
		if retry == 25*time.Millisecond {
			require.LessOrEqual(t, float64(before), eff, "the cap's pace only while the window holds fewer than E (State rounds)")
			fast++
		} else {
			require.LessOrEqual(t, retry, 5*time.Duration(float64(time.Minute)/eff), "else paced at E (within the burst)")
			slow++
		}
		clock.Add(retry)
	}
	t.Logf("%d denials at the cap's pace, %d at E's", fast, slow)
	require.Greater(t, fast, 300, "caught up at the cap as the window drained")
	require.Positive(t, slow)
	// Switching between the two paces keeps the guarantee at the cap.
	for _, w := range []time.Duration{100 * time.Millisecond, time.Second, 10 * time.Second} {
		require.LessOrEqual(t, maxInWindow(slots, w), int(w/(25*time.Millisecond))+5, "window %v", w)
	}
}

// The probe timed to the drain takes the oldest 10 s bucket's calls as
// spread over it. A fleet that started late in a bucket sent them all at
// its end, so that probe is refused; the next comes when the bucket has
// wholly left the window, not a doubled pause (16 s) later.
func TestAdaptiveSlidingProbesAgainWhenTheOldestBucketHasLeft(t *testing.T) {
	const app = "wxlate"
	ctx := ctxT(t)
	clock, a, _ := adaptiveSetup(t, Config{DefaultPerMinute: 2400})
	clock.Add(8 * time.Second)                         // 12:00:18, late in the bucket 12:00:10-20
	takeN(t, a, clock, app, 1500, 25*time.Millisecond) // to 12:00:55.5 at the cap
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	optimistic := time.Date(2026, 3, 1, 12, 1, 13, 750_000_000, time.UTC) // 30 of the bucket's 80 calls "gone" if spread
	for clock.Now().Before(optimistic) {
		refuseProbes(t, a, clock, app, 1) // the window really holds 1500 until 12:01:18
	}
	require.Equal(t, optimistic, clock.Now().UTC(), "the drain-timed probe came and was refused")
	st := effective(t, a, app)
	require.Equal(t, time.Date(2026, 3, 1, 12, 1, 20, 0, time.UTC), st.CooldownUntil.UTC(), "the next round when the bucket 12:00:10-20 has left")
	refuseProbes(t, a, clock, app, 1) // refused once more: doubled pauses from here
	st = effective(t, a, app)
	require.Equal(t, 16*time.Second, st.CooldownUntil.Sub(st.Now), "the 16 s pause, no third drain probe")
	probeThenOpen(t, a, clock, app)
	require.InDelta(t, 0.97*1500, effective(t, a, app).EffectivePerMinute, 1, "what the window held when WeChat refused")
}

// Each refused round doubles the probes as well as the pause (1, 2, 4, ...
// up to 16), so a fault that refuses the next N calls, whatever the time,
// is used up in a few rounds rather than one call per pause.
func TestAdaptiveProbeRoundsGrow(t *testing.T) {
	const app = "wxrounds"
	ctx := ctxT(t)
	clock, a, _ := adaptiveSetup(t, Config{})
	takeN(t, a, clock, app, 100, 12500*time.Microsecond)
	require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	for _, want := range []int{1, 2, 4, 8, 16, 16} {
		untilCooldownEnds(t, a, clock, app, 0)
		got := 0
		for {
			ok, _, err := a.Take(ctx, app)
			require.NoError(t, err)
			if !ok {
				break
			}
			got++
			require.LessOrEqual(t, got, want)
		}
		require.Equal(t, want, got, "probes in this round")
		require.NoError(t, a.ReportRateLimited(ctx, app, 45009))
	}
}
