package scenes

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// Canonical agrees with encoding/json: it accepts only valid JSON, keeps
// its meaning, is a fixed point, and refuses valid JSON only on purpose.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{
		`{"b":1,"a":[true,false,null,{"y":"\u00e9","x":-1.5e+3}]}`, `{"q":"a=1\u0026b"}`, `{"t":"\ud83c\udf89\ud800"}`,
		`{"a":1,"a":2}`, `[]`, `{}`, ` {"k" : "v" } `, `{"a":"\u2028"}`, `{"a":01}`, `{"a":"\"\\\/\b\f\n\r\t"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Canonical(data)
		if err != nil {
			pe, ok := err.(*ParamsError)
			require.True(t, ok, "%T", err)
			if json.Valid(data) && utf8.Valid(data) {
				onPurpose := strings.HasPrefix(pe.Reason, "top level is") || pe.Reason == "empty object" ||
					strings.HasPrefix(pe.Reason, "duplicate key") || strings.HasPrefix(pe.Reason, "nested deeper")
				require.True(t, onPurpose, "valid JSON refused: %v", err)
			}
			return
		}
		require.True(t, json.Valid(data), "accepted invalid JSON, canonical %q", out)
		require.Equal(t, decodeNumbers(t, data), decodeNumbers(t, out))
		again, err := Canonical(out)
		require.NoError(t, err)
		require.Equal(t, out, again)
	})
}

func decodeNumbers(t *testing.T, b []byte) any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}

// parseLine never panics, and what it accepts is a valid scene with
// canonical params.
func FuzzImportLine(f *testing.F) {
	for _, s := range []string{
		`{"scene":"Ab3","params":{"id":1}}`, `{"params":{"b":2,"a":1},"scene":"x"}`, `{"scene":"a-b","params":{"a":1}}`,
		`{"scene":"x","params":[1]}`, `{"scene":"x"}`, `{"scene":"x","params":{"a":1},"extra":1}`, `not json`,
	} {
		f.Add([]byte(s))
	}
	s, err := New(nil, Config{})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := s.parseLine(line)
		if err != nil {
			return
		}
		require.NoError(t, ValidateScene(l.scene))
		again, err := Canonical(l.canon)
		require.NoError(t, err)
		require.Equal(t, l.canon, again)
	})
}
