package wechattest

import (
	"encoding/json"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// codes sends n interface B calls and returns their errcodes.
func (h *harness) codes(tok string, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = h.b(tok, `{"scene":"r"}`).errcode()
	}
	return out
}

func eachWindow(t *testing.T, fn func(t *testing.T, fixed bool)) {
	for _, fixed := range []bool{false, true} {
		name := "sliding"
		if fixed {
			name = "fixed"
		}
		t.Run(name, func(t *testing.T) { fn(t, fixed) })
	}
}

// TestUpdateRateLimitLive: a limit lowered or raised through Update applies
// to the next call, on both window models, with the accepted arrivals
// already counted.
func TestUpdateRateLimitLive(t *testing.T) {
	eachWindow(t, func(t *testing.T, fixed bool) {
		h := start(t, func(o *Options) { o.RateLimit = 5; o.FixedWindow = fixed })
		tok := h.stable(false).AccessToken
		require.Equal(t, []int{0, 0}, h.codes(tok, 2))
		h.fake.Update(func(o *Options) { o.RateLimit = 2 })
		require.Equal(t, []int{45009}, h.codes(tok, 1), "3 arrivals > new limit 2")
		h.fake.Update(func(o *Options) { o.RateLimit = 10 })
		require.Equal(t, []int{0, 0, 0, 0, 0, 0, 0, 0, 45009}, h.codes(tok, 9), "the refused call did not count: 3rd..10th allowed, 11th refused")
	})
}

// TestRateSchedule: the limit changes silently at the scheduled offsets from
// the fake's start, on both window models; config and JSON carry it.
func TestRateSchedule(t *testing.T) {
	eachWindow(t, func(t *testing.T, fixed bool) {
		h := start(t, func(o *Options) {
			o.RateLimit, o.FixedWindow = 4, fixed
			o.RateSchedule = []RateStep{{After: 20 * time.Second, Limit: -1}, {After: 10 * time.Second, Limit: 2}}
		})
		require.Equal(t, h.clock.Now(), h.fake.Started())
		tok := h.stable(false).AccessToken
		require.Equal(t, []int{0, 0, 0}, h.codes(tok, 3), "limit 4 before the first step")
		h.clock.Advance(10 * time.Second) // 10:00:40, same wall-clock minute
		require.Equal(t, []int{45009}, h.codes(tok, 1), "limit 2 from 10 s on")
		h.clock.Advance(10 * time.Second)
		require.Equal(t, []int{0, 0, 0, 0, 0}, h.codes(tok, 5), "unlimited from 20 s on")
	})

	h := start(t, nil)
	r := h.do("POST", "/_fake/config", `{"rate_schedule":[{"after":"25s","limit":1500},{"after":90,"limit":2500}],"isolated_every":"2m"}`)
	require.Equal(t, 200, r.status, string(r.body))
	o := h.fake.Options()
	require.Equal(t, []RateStep{{25 * time.Second, 1500}, {90 * time.Second, 2500}}, o.RateSchedule)
	require.Equal(t, 2*time.Minute, o.IsolatedEvery)
	b, err := json.Marshal(o)
	require.NoError(t, err)
	require.Contains(t, string(b), `"rate_schedule":[{"after":"25s","limit":1500},{"after":"1m30s","limit":2500}]`)
	require.Contains(t, string(b), `"isolated_every":"2m0s"`)
	r = h.do("POST", "/_fake/config", `{"rate_schedule":[{"after":"5s","limit":0}]}`)
	require.Equal(t, 400, r.status, "a zero limit is refused")
	require.Len(t, h.fake.Options().RateSchedule, 2, "a refused patch changes nothing")
}

// TestIsolatedRefusals: with IsolatedEvery, one call in each period gets
// 45009 far below the limit, the first a period after the app's first call.
func TestIsolatedRefusals(t *testing.T) {
	eachWindow(t, func(t *testing.T, fixed bool) {
		h := start(t, func(o *Options) { o.IsolatedEvery = 2 * time.Minute; o.FixedWindow = fixed })
		tok := h.stable(false).AccessToken
		require.Equal(t, []int{0, 0}, h.codes(tok, 2))
		h.clock.Advance(119 * time.Second)
		require.Equal(t, []int{0}, h.codes(tok, 1), "not yet due")
		h.clock.Advance(time.Second)
		require.Equal(t, []int{45009, 0, 0}, h.codes(tok, 3), "one refusal when due, then none")
		h.clock.Advance(119 * time.Second)
		require.Equal(t, []int{0}, h.codes(tok, 1))
		h.clock.Advance(time.Second)
		require.Equal(t, []int{45009, 0}, h.codes(tok, 2), "the next period after the refusal")
		h.fake.Update(func(o *Options) { o.IsolatedEvery = 0 })
		h.clock.Advance(10 * time.Minute)
		require.Equal(t, []int{0, 0}, h.codes(tok, 2), "off")
		require.EqualValues(t, 2, h.fake.Stats().Errcodes[45009])
	})
}

// TestSeconds: every interface B call is in its app's per-second record as
// accepted or refused, and /_fake/seconds serves it.
func TestSeconds(t *testing.T) {
	h := start(t, func(o *Options) { o.RateLimit = 3 })
	tok := h.stable(false).AccessToken
	t0 := h.clock.Now().Unix()
	h.codes(tok, 2)
	h.clock.Advance(time.Second)
	h.codes(tok, 3) // 3rd accepted, then 2 refused
	h.clock.Advance(2 * time.Second)
	h.fake.BurstRateLimit(app, 1)
	h.codes(tok, 1)
	want := []Second{{t0, 2, 0}, {t0 + 1, 1, 2}, {t0 + 3, 0, 1}}
	require.Equal(t, want, h.fake.Seconds(app))
	r := h.do("GET", "/_fake/seconds?appid="+app, "")
	require.Equal(t, 200, r.status)
	var got []Second
	require.NoError(t, json.Unmarshal(r.body, &got))
	require.Equal(t, want, got)
	require.Equal(t, "[]\n", string(h.do("GET", "/_fake/seconds?appid=wxother", "").body))
	require.Equal(t, 400, h.do("GET", "/_fake/seconds", "").status)

	h.fake.mu.Lock() // a clock that stepped back lands in its own second
	h.fake.recordB(app, time.Unix(t0+2, 0), false)
	h.fake.mu.Unlock()
	require.Equal(t, []Second{{t0, 2, 0}, {t0 + 1, 1, 2}, {t0 + 2, 1, 0}, {t0 + 3, 0, 1}}, h.fake.Seconds(app))
}

func TestRateFaultFlags(t *testing.T) {
	var o Options
	fs := flag.NewFlagSet("fake-wechat", flag.ContinueOnError)
	o.RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"-rate-schedule", "25s=1500, 90s=2500", "-isolated-45009-every", "2m"}))
	require.Equal(t, []RateStep{{25 * time.Second, 1500}, {90 * time.Second, 2500}}, o.RateSchedule)
	require.Equal(t, 2*time.Minute, o.IsolatedEvery)
	for _, bad := range []string{"25s", "25s=0", "x=10", "-1s=10", "25s=1500,"} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		(&Options{}).RegisterFlags(fs)
		require.Error(t, fs.Parse([]string{"-rate-schedule", bad}), bad)
	}
}
