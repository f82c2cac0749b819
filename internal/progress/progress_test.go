package progress

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRate(t *testing.T) {
	start := time.Now().Add(-10 * time.Second)
	s := Rate(250, 1000, start)
	require.Contains(t, s, "250/1000 (25.0%), 25.0/s")
	require.Contains(t, s, "about 30s left", "a quarter in 10 s leaves 30 s")
	require.NotContains(t, Rate(5, 0, start), "left", "no estimate without a total")
}

// Off a terminal nothing is drawn in place: the description goes out as
// whole lines only (every 10 s), and quiet prints nothing at all.
func TestOffTerminalAndQuiet(t *testing.T) {
	var b bytes.Buffer
	stop := Start(context.Background(), &b, false, func() (int64, int64, string) { return 1, 2, "half" })
	stop()
	stop()
	require.NotContains(t, b.String(), "\r", "no redrawn bar off a terminal")
	var q bytes.Buffer
	Start(context.Background(), &q, true, func() (int64, int64, string) { return 1, 2, "x" })()
	require.Empty(t, q.String())
}
