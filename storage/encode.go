package storage

import (
	"errors"
	"fmt"
	"strings"
)

// escapeChar starts every escape sequence written by EncodeSegment. It is
// legal in a WeChat scene, so it is itself always escaped ("~7E").
const escapeChar = '~'

// emptySegment is what EncodeSegment writes for "": a lone escape character,
// which no non-empty input can produce, so an empty page never yields an
// empty path segment ("a//b").
const emptySegment = "~"

const upperHex = "0123456789ABCDEF"

// ErrBadEncoding is returned (wrapped) by DecodeSegment for input that
// EncodeSegment could not have produced.
var ErrBadEncoding = errors.New("storage: not an EncodeSegment encoding")

// literalByte reports whether EncodeSegment copies b unchanged. The set is
// deliberately small: no '.', '/', '%', '~' or anything that a shell, URL,
// path or S3 console treats specially.
func literalByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// EncodeSegment encodes s (any bytes) into a single safe key or path
// segment: [A-Za-z0-9_-] are copied, every other byte becomes "~XX" with XX
// its value in upper-case hex, and "" becomes "~". The result is never empty,
// never contains '.' or '/', so it can never be "." or "..", and
// DecodeSegment reverses it exactly. See the package documentation.
func EncodeSegment(s string) string {
	if s == "" {
		return emptySegment
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if literalByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(escapeChar)
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0x0f])
	}
	return b.String()
}

// DecodeSegment reverses EncodeSegment. It accepts only the canonical
// encoding (upper-case hex, no escape of a literal byte), so for every s
// that decodes without error EncodeSegment(DecodeSegment(s)) == s. On any
// other input it returns an error wrapping ErrBadEncoding.
func DecodeSegment(s string) (string, error) {
	if s == emptySegment {
		return "", nil
	}
	if s == "" {
		return "", fmt.Errorf("%w: empty input", ErrBadEncoding)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if literalByte(c) {
			out = append(out, c)
			continue
		}
		if c != escapeChar {
			return "", fmt.Errorf("%w: byte %#02x at offset %d", ErrBadEncoding, c, i)
		}
		v, ok := decodeEscape(s[i+1:])
		if !ok {
			return "", fmt.Errorf("%w: bad escape at offset %d", ErrBadEncoding, i)
		}
		out = append(out, v)
		i += 2
	}
	return string(out), nil
}

// decodeEscape reads the two upper-case hex digits after '~' and refuses an
// escaped literal byte (which would make two encodings of one input).
func decodeEscape(s string) (byte, bool) {
	if len(s) < 2 {
		return 0, false
	}
	hi, lo := strings.IndexByte(upperHex, s[0]), strings.IndexByte(upperHex, s[1])
	if hi < 0 || lo < 0 {
		return 0, false
	}
	v := byte(hi<<4 | lo)
	return v, !literalByte(v)
}
