package code

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError is a value WeChat would refuse (or wxacode cannot keep apart
// from another): the request is never sent. It is permanent: fix the input.
type FieldError struct {
	Field  string // a Field* name, e.g. "scene", "page", "width"
	Value  string // the offending value (not secret: parameters hold no credentials)
	Reason string
}

func (e *FieldError) Error() string {
	v := e.Value
	if utf8.RuneCountInString(v) > 64 {
		v = string([]rune(v)[:64]) + "…"
	}
	return fmt.Sprintf("invalid %s %q: %s", e.Field, v, e.Reason)
}

// Limits of interface B (and of wxacode's keys, for the page).
const (
	MaxSceneLen = 32
	MinWidth    = 280
	MaxWidth    = 1280
	// MaxPageLen is the longest page in bytes. WeChat documents no limit
	// for B's page; 128 bytes is interface C's path limit, far above any
	// page path, and keeps an ASCII page within one object key segment.
	MaxPageLen = 128
	MaxColor   = 255
)

// SceneChars is the documented scene alphabet beyond [0-9A-Za-z].
const SceneChars = "!#$&'()*+,/:;=?@-._~"

// SceneCharOK reports whether r may appear in a scene.
func SceneCharOK(r rune) bool {
	return r < utf8.RuneSelf && (r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' ||
		strings.ContainsRune(SceneChars, r))
}

// ValidateScene checks a scene: 1 to 32 characters of [0-9A-Za-z] and
// !#$&'()*+,/:;=?@-._~ (no '%': URL-encoding is impossible).
func ValidateScene(scene string) error {
	fail := func(reason string) error { return &FieldError{FieldScene, scene, reason} }
	if scene == "" {
		return fail("empty; 1 to 32 characters required")
	}
	if i := invalidUTF8(scene); i >= 0 {
		return fail(fmt.Sprintf("not valid UTF-8 (byte %#02x at offset %d)", scene[i], i))
	}
	for _, r := range scene {
		if !SceneCharOK(r) {
			return fail(fmt.Sprintf("character %q is not allowed (use [A-Za-z0-9] or %s)", r, SceneChars))
		}
	}
	if len(scene) > MaxSceneLen {
		return fail(fmt.Sprintf("%d characters, at most %d allowed", len(scene), MaxSceneLen))
	}
	return nil
}

// ValidatePage checks the page of interface B: "" (the home page) or a
// path such as "pages/index/index" (see the package documentation).
func ValidatePage(page string) error {
	fail := func(reason string) error { return &FieldError{FieldPage, page, reason} }
	if i := invalidUTF8(page); i >= 0 {
		return fail(fmt.Sprintf("not valid UTF-8 (byte %#02x at offset %d)", page[i], i))
	}
	switch {
	case strings.HasPrefix(page, "/"):
		return fail("must not start with '/'")
	case strings.Contains(page, "?"):
		return fail("must not contain a query string; put parameters in scene")
	case strings.Contains(page, "scancode_time"):
		return fail("scancode_time is reserved by WeChat")
	case strings.ContainsFunc(page, badPageRune):
		r, _ := utf8.DecodeRuneInString(page[strings.IndexFunc(page, badPageRune):])
		return fail(fmt.Sprintf("must not contain spaces, control or format characters or U+FFFD (found %U)", r))
	case len(page) > MaxPageLen:
		return fail(fmt.Sprintf("%d bytes, at most %d allowed", len(page), MaxPageLen))
	}
	return nil
}

func badPageRune(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

// invalidUTF8 is the offset of the first byte of s that is not valid
// UTF-8, or -1.
func invalidUTF8(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return i
			}
		}
	}
	return -1
}

// ValidateWidth checks a width: 0 (WeChat's 430) or 280 to 1280 pixels.
func ValidateWidth(w int) error {
	if w != 0 && (w < MinWidth || w > MaxWidth) {
		return &FieldError{FieldWidth, fmt.Sprint(w), fmt.Sprintf("must be %d to %d pixels (or 0 for WeChat's %d)", MinWidth, MaxWidth, DefaultWidth)}
	}
	return nil
}

// ValidateEnvVersion checks an env_version: "", release, trial or develop.
// WeChat answers anything else, "" sent explicitly included, with 40097.
func ValidateEnvVersion(env string) error {
	switch env {
	case "", EnvRelease, EnvTrial, EnvDevelop:
		return nil
	}
	return &FieldError{FieldEnvVersion, env, `must be "release", "trial", "develop" or omitted`}
}

// ValidateColor checks a line colour: nil (black) or components 0 to 255.
func ValidateColor(c *Color) error {
	if c == nil {
		return nil
	}
	for _, v := range []int{c.R, c.G, c.B} {
		if v < 0 || v > MaxColor {
			return &FieldError{FieldLineColor, c.String(), "each of r,g,b must be 0-255"}
		}
	}
	return nil
}

// Problems returns every field of r WeChat would refuse, in the order of
// Fields: one *FieldError each.
func (r Rendering) Problems() []error {
	return nonNil(ValidateWidth(r.Width), ValidateEnvVersion(r.EnvVersion), ValidateColor(r.LineColor))
}

// Problems returns every field of p WeChat would refuse, in the order of
// Fields: one *FieldError each.
func (p Params) Problems() []error {
	return append(nonNil(ValidateScene(p.Scene), ValidatePage(p.Page)), p.Rendering.Problems()...)
}

// Validate returns nil or the *FieldError of p's first bad field.
func (p Params) Validate() error {
	if errs := p.Problems(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Validate returns nil or the *FieldError of r's first bad field.
func (r Rendering) Validate() error {
	if errs := r.Problems(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

func nonNil(errs ...error) []error {
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// IsInvalid reports whether err is (or wraps) a *FieldError.
func IsInvalid(err error) bool {
	var fe *FieldError
	return errors.As(err, &fe)
}
