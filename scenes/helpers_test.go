package scenes

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
)

// setup starts a private redis-server and a store on it.
func setup(t *testing.T, cfg Config) (*Store, *redis.Client) {
	t.Helper()
	rdb := redistest.Start(t).Client(t)
	s, err := New(rdb, cfg)
	require.NoError(t, err)
	return s, rdb
}

// paramsRow returns row i of the big data set: mostly small objects, every
// fifth one about 2 KB of Chinese, emoji and nested objects.
func paramsRow(i int) map[string]any {
	m := map[string]any{"id": i, "kind": "poster", "ch": fmt.Sprintf("c%d", i%7)}
	if i%3 == 0 {
		m["q"] = "a=1&b=<2>" // HTML-escaped by json.Marshal, not by Canonical
	}
	if i%5 == 0 {
		m["title"] = strings.Repeat("小程序码参数", 115) // 690 runes, ~2 KB
		m["emoji"] = "🎉😀👨‍👩‍👧 ok"
		m["nested"] = map[string]any{"z": []any{1, 2.5, map[string]any{"b": "x", "a": nil}}, "a": true, "i": i}
	}
	return m
}

// asciiJSON quotes s with every non-ASCII rune as a \u escape.
func asciiJSON(s string) string {
	b := []byte{'"'}
	u := func(r rune) {
		b = append(b, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
	}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			u(r)
		case r < 0x80:
			b = append(b, byte(r))
		case r > 0xFFFF:
			r -= 0x10000
			u(0xD800 + r>>10)
			u(0xDC00 + r&0x3FF)
		default:
			u(r)
		}
	}
	return string(append(b, '"'))
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
