package storage

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

const (
	// MaxKeyLen is the longest key (with the URL prefix) a Store accepts:
	// S3's limit.
	MaxKeyLen = 1024
	// MaxSegmentLen is the longest path segment a Store accepts: a file
	// name limit of 255 bytes minus room for the local sidecar name.
	MaxSegmentLen = 240
	// MaxMetadataSize is S3's limit for user metadata (keys plus values).
	MaxMetadataSize = 2048
)

// CheckKey returns a *KeyError unless key is usable by every backend: at
// most MaxKeyLen bytes of valid UTF-8 without control characters or '\',
// split by '/' into segments that are non-empty, at most MaxSegmentLen bytes
// and do not start with '.' (so never "." or "..", and never a name the
// local backend reserves for sidecars and temporary files). Keys from a
// KeyTemplate always pass.
func CheckKey(key string) error {
	if reason := keyProblem(key); reason != "" {
		return &KeyError{Key: key, Reason: reason}
	}
	return nil
}

func keyProblem(key string) string {
	switch {
	case key == "":
		return "empty"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(key):
		return "not valid UTF-8"
	case strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }):
		return "contains a control character or '\\'"
	case key[0] == '/':
		return "starts with '/'"
	}
	for _, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return "empty path segment"
		case seg == "." || seg == "..":
			return fmt.Sprintf("a %q segment", seg)
		case seg[0] == '.':
			return "a segment starts with '.' (hidden names are reserved)"
		case len(seg) > MaxSegmentLen:
			return fmt.Sprintf("a segment is longer than %d bytes", MaxSegmentLen)
		}
	}
	return ""
}

// RunsPrefix is the area of the store where runs keep their manifests and
// failures files (jobs/runs). No code is ever stored there: CheckCodeKey
// refuses it and ParseKeyTemplate refuses templates that start with it.
const RunsPrefix = "_runs/"

// CheckCodeKey returns a *KeyError unless key can hold a code: it passes
// CheckKey and is outside RunsPrefix. Explicit keys of input rows are
// checked with it at enqueue and again by the worker.
func CheckCodeKey(key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if strings.HasPrefix(key, RunsPrefix) {
		return &KeyError{Key: key, Reason: "keys under " + RunsPrefix + " are reserved for run manifests and failures"}
	}
	return nil
}

// CheckValue returns a *KeyError when v (an appid, page or scene) would
// not fit one key segment once encoded (EncodeSegment, at most
// MaxSegmentLen bytes), so that no key template could store it.
func CheckValue(v string) error {
	if n := len(EncodeSegment(v)); n > MaxSegmentLen {
		return &KeyError{Key: clip(v, 64), Reason: fmt.Sprintf("encoded for the object key it is %d bytes, more than the %d of one key segment", n, MaxSegmentLen)}
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// checkMetadata requires lower-case keys of [a-z0-9-] and printable ASCII
// values, which survive every S3 server and HTTP proxy unchanged.
func checkMetadata(key string, md map[string]string) error {
	size := 0
	for k, v := range md {
		size += len(k) + len(v)
		if k == "" || strings.ContainsFunc(k, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
		}) {
			return &KeyError{Key: key, Reason: fmt.Sprintf("metadata key %q must be lower-case [a-z0-9-]", k)}
		}
		if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r > 0x7e }) || v != strings.TrimSpace(v) {
			// HTTP would drop the surrounding spaces, breaking the round trip.
			return &KeyError{Key: key, Reason: fmt.Sprintf("metadata %q: value must be printable ASCII without surrounding spaces", k)}
		}
	}
	if size > MaxMetadataSize {
		return &KeyError{Key: key, Reason: fmt.Sprintf("metadata is %d bytes, limit %d", size, MaxMetadataSize)}
	}
	return nil
}
