package storage_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
)

func TestEncodeSegment(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                  "~",
		"abcXYZ019-_":       "abcXYZ019-_",
		".":                 "~2E",
		"..":                "~2E~2E",
		"../":               "~2E~2E~2F",
		"/":                 "~2F",
		"%2e%2e":            "~252e~252e",
		"?#":                "~3F~23",
		"~":                 "~7E",
		"~7E":               "~7E7E",
		"a=1&b=2":           "a~3D1~26b~3D2",
		"pages/index/index": "pages~2Findex~2Findex",
		"é":                 "~C3~A9",
		"\x00":              "~00",
	} {
		got := storage.EncodeSegment(in)
		require.Equal(t, want, got, "EncodeSegment(%q)", in)
		back, err := storage.DecodeSegment(got)
		require.NoError(t, err)
		require.Equal(t, in, back)
	}
}

func TestDecodeSegmentRejectsNonCanonical(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"",      // EncodeSegment never writes an empty segment
		"~~",    // bad escape
		"a~",    // truncated escape
		"a~2",   // truncated escape
		"~2e",   // lower-case hex: would alias ~2E on case-insensitive systems
		"~41",   // escaped literal 'A': a second encoding of "A"
		"~5F",   // escaped literal '_'
		"a.b",   // '.' is never literal
		"a/b",   // '/' is never literal
		"a%2Fb", // '%' is never literal
		"~p0123456789ab",
	} {
		_, err := storage.DecodeSegment(in)
		require.ErrorIs(t, err, storage.ErrBadEncoding, "DecodeSegment(%q)", in)
	}
}

// checkEncoding asserts everything the package promises about one input.
func checkEncoding(t *testing.T, s string) string {
	enc := storage.EncodeSegment(s)
	if enc == "" || enc == "." || enc == ".." || strings.ContainsAny(enc, "./") {
		t.Fatalf("EncodeSegment(%q) = %q: empty, a dot segment or contains '.' or '/'", s, enc)
	}
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '~'
		if !ok {
			t.Fatalf("EncodeSegment(%q) = %q: byte %q outside [A-Za-z0-9_~-]", s, enc, c)
		}
	}
	if strings.Contains(enc, "~p") {
		t.Fatalf("EncodeSegment(%q) = %q contains the {params} marker", s, enc)
	}
	dec, err := storage.DecodeSegment(enc)
	if err != nil || dec != s {
		t.Fatalf("DecodeSegment(EncodeSegment(%q)) = %q, %v", s, dec, err)
	}
	return enc
}

// FuzzEncodeSegment checks that EncodeSegment is reversible (hence
// injective: it has a left inverse), that two different inputs never share
// an encoding, that DecodeSegment accepts only canonical encodings, and that
// an encoding is never "", ".", ".." and never contains '.' or '/'.
// Run: go test ./storage -run '^$' -fuzz FuzzEncodeSegment -fuzztime 30s
func FuzzEncodeSegment(f *testing.F) {
	for _, seed := range []string{"", ".", "..", "../", "/", "%2e%2e", "?#", strings.Repeat(".", 32), "~", "~7E",
		"~p0123456789ab", "Scene", "scene", "a=1&b=2", "pages/index/index", "é", "\x00\xff"} {
		f.Add(seed, seed+".")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ea, eb := checkEncoding(t, a), checkEncoding(t, b)
		if a != b && ea == eb {
			t.Fatalf("EncodeSegment(%q) == EncodeSegment(%q) == %q", a, b, ea)
		}
		// Any string DecodeSegment accepts must be the canonical encoding.
		if dec, err := storage.DecodeSegment(b); err == nil && storage.EncodeSegment(dec) != b {
			t.Fatalf("DecodeSegment(%q) = %q, which encodes to %q", b, dec, storage.EncodeSegment(dec))
		}
	})
}
