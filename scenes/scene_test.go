package scenes

import (
	"crypto/sha256"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string // "" : accepted
	}{
		{"zero value", Config{}, ""},
		{"prefix and max length", Config{Prefix: "AB12", Length: 28}, ""},
		{"prefix with dash", Config{Prefix: "a-b"}, "Prefix"},
		{"prefix with percent", Config{Prefix: "a%"}, "Prefix"},
		{"prefix non-ASCII", Config{Prefix: "码"}, "Prefix"},
		{"too long", Config{Prefix: "AB12", Length: 29}, "Length"},
		{"length alone too long", Config{Length: 33}, "Length"},
		{"long prefix with default length", Config{Prefix: strings.Repeat("x", 23)}, "Length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(nil, tt.cfg)
			if tt.field == "" {
				require.NoError(t, err)
				require.Positive(t, s.Config().Length)
				return
			}
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "want *ConfigError, got %v", err)
			require.Equal(t, tt.field, ce.Field)
			require.Contains(t, err.Error(), "Config."+tt.field)
		})
	}
	s, err := New(nil, Config{})
	require.NoError(t, err)
	require.Equal(t, Config{Length: 10, KeyPrefix: "wxacode:scenes:", MaxParamsBytes: 1 << 20, BatchSize: 1000}, s.Config())
}

func TestValidateScene(t *testing.T) {
	for _, ok := range []string{"a", "Z9", strings.Repeat("x", 32)} {
		require.NoError(t, ValidateScene(ok), ok)
	}
	for _, bad := range []string{"", strings.Repeat("x", 33), "a-b", "a=b", "a&b", "a%41", "a b", "码", "a/b"} {
		var se *SceneError
		require.True(t, errors.As(ValidateScene(bad), &se), "%q accepted", bad)
		require.Equal(t, bad, se.Scene)
	}
}

// base62 agrees with math/big for many digests and every length.
func TestBase62MatchesBig(t *testing.T) {
	sixtyTwo := big.NewInt(62)
	for i := range 200 {
		d := sha256.Sum256([]byte(strconv.Itoa(i)))
		n := new(big.Int).SetBytes(d[:])
		want := make([]byte, 32)
		for j := 31; j >= 0; j-- {
			var m big.Int
			n.DivMod(n, sixtyTwo, &m)
			want[j] = base62Digits[m.Int64()]
		}
		length := 1 + i%32
		got := make([]byte, length)
		base62(got, d)
		require.Equal(t, string(want[32-length:]), string(got), "digest %d, length %d", i, length)
	}
}

func TestCandidates(t *testing.T) {
	d := sha256.Sum256([]byte(`{"id":1}`))
	c0 := candidate("p", 10, d, 0)
	require.Equal(t, c0, candidate("p", 10, d, 0), "not deterministic")
	require.Len(t, c0, 11)
	require.True(t, strings.HasPrefix(c0, "p"))
	seen := map[string]bool{}
	for k := range maxCandidates {
		c := candidate("p", 10, d, k)
		require.NoError(t, ValidateScene(c))
		require.False(t, seen[c], "candidate %d repeats", k)
		seen[c] = true
	}
}
