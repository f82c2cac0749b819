package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBytes(t *testing.T) {
	for in, want := range map[string]int64{"256MiB": 256 << 20, "1GiB": 1 << 30, "64KiB": 65536, "100": 100, "10B": 10, "-1": -1, " 2 MiB": 2 << 20} {
		got, err := parseBytes(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "MiB", "1.5MiB", "12MB", "9999999999GiB", "x"} {
		_, err := parseBytes(in)
		require.Error(t, err, in)
	}
	require.Equal(t, "256MiB", formatBytes(256<<20))
	require.Equal(t, "1GiB", formatBytes(1<<30))
	require.Equal(t, "1000", formatBytes(1000))
	require.Equal(t, "-1", formatBytes(-1))
	require.NoError(t, SizeOrNoLimit(-1))
	require.Error(t, SizeOrNoLimit(0))
}
