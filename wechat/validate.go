package wechat

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wxacode/wxacode/code"
)

// ValidationError is an argument of a call other than a code's parameters
// (an interface A/C path, a rid, a cgi path) that WeChat would reject; the
// request is never sent. It is permanent: fix the input. A code's
// parameters fail with a *code.FieldError instead.
type ValidationError struct {
	Field  string // JSON name of the field, e.g. "path", "rid"
	Value  string // the offending value (not secret: requests hold no credentials)
	Reason string
}

func (e *ValidationError) Error() string {
	v := e.Value
	if utf8.RuneCountInString(v) > 64 {
		v = string([]rune(v)[:64]) + "…"
	}
	return fmt.Sprintf("wechat: invalid %s %q: %s", e.Field, v, e.Reason)
}

// Path limits of interfaces A and C.
const (
	MaxPathA = 1024 // interface A path, characters
	MaxPathC = 128  // interface C path, bytes
)

// Validate checks r for interface A: a path of 1 to 1024 characters without
// scancode_time, and the rendering as for B (code.Rendering.Validate).
func (r QRCodeRequest) Validate() error {
	if err := validatePath(r.Path, utf8.RuneCountInString(r.Path), MaxPathA, "characters"); err != nil {
		return err
	}
	return r.Rendering.Validate()
}

// validateC checks the arguments of interface C: a path of at most 128 bytes.
func validateC(path string, width int) error {
	if err := validatePath(path, len(path), MaxPathC, "bytes"); err != nil {
		return err
	}
	return code.ValidateWidth(width)
}

func validatePath(path string, n, limit int, unit string) error {
	switch {
	case path == "":
		return &ValidationError{"path", path, "empty; a page path is required"}
	case n > limit:
		return &ValidationError{"path", path, fmt.Sprintf("%d %s, at most %d allowed", n, unit, limit)}
	case strings.Contains(path, "scancode_time"):
		return &ValidationError{"path", path, "scancode_time is reserved by WeChat"}
	}
	return nil
}
