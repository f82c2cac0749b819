package ratelimit

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKeysShareOneHashTag(t *testing.T) {
	keys := Keys("", "wx123")
	require.Equal(t, []string{
		"wxacode:rl:{wx123}:state", "wxacode:rl:{wx123}:cap",
		"wxacode:rl:{wx123}:holes", "wxacode:rl:{wx123}:events",
	}, keys)
	require.Equal(t, "p:{a}:cap", CapKey("p:", "a"))
}

func TestScriptUsesRedisTime(t *testing.T) {
	require.Contains(t, Script(), "redis.call('TIME')")
}

// TestRawScriptSharesTheBudget: a non-Go program calling the script with
// EVAL takes from the same budget as a Limiter.
func TestRawScriptSharesTheBudget(t *testing.T) {
	const app = "wxraw"
	b := setup(t)
	ctx := ctxT(t)
	l := b.limiter(Config{LocalPacing: PacingRedisOnly})
	require.NoError(t, l.SetCap(ctx, app, 60, false))
	raw := b.client()
	for i := range 6 {
		v, err := raw.Eval(ctx, Script(), Keys("", app), "acquire", 4800, 5, 0, 0.5, 0, 60, 0).Slice()
		require.NoError(t, err)
		r, err := parseReply(v)
		require.NoError(t, err)
		require.Equal(t, i < 5, r.granted, "call %d", i)
		if !r.granted {
			require.Equal(t, 1, r.reason)
			require.InDelta(t, 1.0, r.wait.Seconds(), 0.05, "one slot per second at 60/min")
		}
	}
	ok, _, err := l.Take(ctx, app)
	require.NoError(t, err)
	require.False(t, ok, "the Limiter did not see the raw caller's calls")
}

func TestScriptRejectsUnknownOp(t *testing.T) {
	b := setup(t)
	err := b.client().Eval(ctxT(t), Script(), Keys("", "wx"), "nope").Err()
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "unknown op"), "err = %v", err)
}
