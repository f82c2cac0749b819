package scenes

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCanonicalForms(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"sorted keys", `{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{"whitespace", " {\r\n\t\"a\" : [ 1 , 2 ] }\n", `{"a":[1,2]}`},
		{"nested sorted", `{"z":{"y":1,"x":[{"d":0,"c":0}]},"a":null}`, `{"a":null,"z":{"x":[{"c":0,"d":0}],"y":1}}`},
		{"no HTML escaping", `{"q":"a=1\u0026b=\u003c2\u003e"}`, `{"q":"a=1&b=<2>"}`},
		{"unicode escapes decoded", `{"t":"\u4e2d\u6587 \ud83c\udf89"}`, `{"t":"中文 🎉"}`},
		{"raw unicode kept", `{"t":"中文 🎉"}`, `{"t":"中文 🎉"}`},
		{"control escapes", `{"t":"a\u0001\n\t\"\\\/"}`, `{"t":"a\u0001\n\t\"\\/"}`},
		{"line separators escaped", "{\"t\":\"a\u2028b\u2029\"}", `{"t":"a\u2028b\u2029"}`},
		{"lone surrogate", `{"t":"\ud800x"}`, "{\"t\":\"\uFFFDx\"}"},
		{"numbers verbatim", `{"a":1.0,"b":-0,"c":1E+5,"d":12345678901234567890123}`, `{"a":1.0,"b":-0,"c":1E+5,"d":12345678901234567890123}`},
		{"literals", `{"a":true,"b":false,"c":null,"d":[],"e":{}}`, `{"a":true,"b":false,"c":null,"d":[],"e":{}}`},
		{"escaped keys sort by value", `{"\u0062":1,"a":2}`, `{"a":2,"b":1}`},
		{"keys by bytes", `{"é":1,"z":2,"Z":3}`, `{"Z":3,"z":2,"é":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical([]byte(tt.in))
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
			sameMeaning(t, []byte(tt.in), got)
			again, err := Canonical(got)
			require.NoError(t, err)
			require.Equal(t, string(got), string(again), "canonical form is not a fixed point")
		})
	}
}

func TestCanonicalErrors(t *testing.T) {
	tests := []struct {
		name, in, reason string
		jsonValid        bool // encoding/json accepts it: refused on purpose
	}{
		{"empty", "", "empty input", false},
		{"blank", " \n\t", "empty input", false},
		{"array", `[1,2]`, "top level is an array", true},
		{"string", `"x"`, "top level is a string", true},
		{"number", `12`, "top level is a number", true},
		{"null", `null`, "top level is null", true},
		{"not JSON", `scene=1&b=2`, "top level is not JSON", false},
		{"empty object", `{}`, "empty object", true},
		{"duplicate key", `{"a":1,"b":2,"a":3}`, `duplicate key "a"`, true},
		{"duplicate after unescape", `{"a":1,"\u0061":2}`, `duplicate key "a"`, true},
		{"nested duplicate", `{"x":{"k":1,"k":1}}`, `duplicate key "k"`, true},
		{"trailing", `{"a":1} {"b":2}`, "trailing data", false},
		{"trailing comma", `{"a":1,}`, "want a string key", false},
		{"missing colon", `{"a" 1}`, "want ':'", false},
		{"unterminated", `{"a":"x`, "unexpected end of input", false},
		{"bad escape", `{"a":"\x"}`, "want an escape character", false},
		{"short unicode", `{"a":"\u12"}`, "bad \\u escape", false},
		{"control char", "{\"a\":\"x\ny\"}", "control character", false},
		{"bad number", `{"a":01}`, "want ',' or '}'", false},
		{"bare minus", `{"a":-}`, "want a digit", false},
		{"bad fraction", `{"a":1.}`, "want a digit", false},
		{"bad exponent", `{"a":1e}`, "want a digit", false},
		{"bad literal", `{"a":tru}`, "want true", false},
		{"single quotes", `{'a':1}`, "want a string key", false},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", "not valid UTF-8", true}, // encoding/json would turn it into U+FFFD
		{"too deep", strings.Repeat(`{"a":`, 101) + "1" + strings.Repeat("}", 101), "nested deeper than 100", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Canonical([]byte(tt.in))
			var pe *ParamsError
			require.True(t, errors.As(err, &pe), "want *ParamsError, got %v", err)
			require.Contains(t, pe.Error(), tt.reason)
			require.Equal(t, tt.jsonValid, json.Valid([]byte(tt.in)), "encoding/json's view of validity")
		})
	}
}

func TestCanonicalDepthLimitAccepts100(t *testing.T) {
	in := strings.Repeat(`{"a":`, 99) + "[1]" + strings.Repeat("}", 99)
	_, err := Canonical([]byte(in))
	require.NoError(t, err)
}

// sameMeaning checks that in and out decode to the same value with
// encoding/json (numbers as json.Number compare by text, so compare them
// as float64 instead).
func sameMeaning(t testing.TB, in, out []byte) {
	t.Helper()
	var a, b any
	require.NoError(t, json.Unmarshal(in, &a))
	require.NoError(t, json.Unmarshal(out, &b))
	require.Equal(t, a, b)
}

func TestWriteStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "a&b<c>", "\x00\x1f\x7f", "中文\u2028\u2029\u2027\u202a", "\"\\/", "🎉", "\u00e2\u0080"} {
		var enc bytes.Buffer
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false)
		require.NoError(t, e.Encode(s))
		var got bytes.Buffer
		writeString(&got, []byte(s))
		require.Equal(t, strings.TrimSuffix(enc.String(), "\n"), got.String(), "%q", s)
	}
}
