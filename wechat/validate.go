package wechat

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidationError is a request field that WeChat would reject; the request
// is never sent. It is permanent: fix the input.
type ValidationError struct {
	Field  string // JSON name of the field, e.g. "scene", "page", "width"
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

// Scene and width limits of interface B.
const (
	MaxSceneLen = 32
	MinWidth    = 280
	MaxWidth    = 1280
	MaxPathA    = 1024 // interface A path, characters
	MaxPathC    = 128  // interface C path, bytes
)

// sceneChars is the documented scene alphabet beyond [A-Za-z0-9].
const sceneChars = "!#$&'()*+,/:;=?@-._~"

func sceneCharOK(r rune) bool {
	return r < utf8.RuneSelf && (r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' ||
		strings.ContainsRune(sceneChars, r))
}

// ValidateScene checks a scene: 1 to 32 characters of [A-Za-z0-9] and
// !#$&'()*+,/:;=?@-._~ (no '%': URL-encoding is impossible).
func ValidateScene(scene string) error {
	if scene == "" {
		return &ValidationError{"scene", scene, "empty; 1 to 32 characters required"}
	}
	for _, r := range scene {
		if !sceneCharOK(r) {
			return &ValidationError{"scene", scene, fmt.Sprintf("character %q is not allowed (use [A-Za-z0-9] or %s)", r, sceneChars)}
		}
	}
	if len(scene) > MaxSceneLen {
		return &ValidationError{"scene", scene, fmt.Sprintf("%d characters, at most %d allowed", len(scene), MaxSceneLen)}
	}
	return nil
}

// ValidatePage checks a page path of interface B: "" (home page) or a path
// such as "pages/index/index" without a leading '/', without a query string
// and without the reserved scancode_time.
func ValidatePage(page string) error {
	switch {
	case strings.HasPrefix(page, "/"):
		return &ValidationError{"page", page, "must not start with '/'"}
	case strings.Contains(page, "?"):
		return &ValidationError{"page", page, "must not contain a query string; put parameters in scene"}
	case strings.Contains(page, "scancode_time"):
		return &ValidationError{"page", page, "scancode_time is reserved by WeChat"}
	case strings.IndexFunc(page, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return &ValidationError{"page", page, "must not contain spaces or control characters"}
	}
	return nil
}

func validateWidth(w int) error {
	if w != 0 && (w < MinWidth || w > MaxWidth) {
		return &ValidationError{"width", fmt.Sprint(w), fmt.Sprintf("must be %d to %d pixels (or 0 for WeChat's 430)", MinWidth, MaxWidth)}
	}
	return nil
}

func validateEnv(env string) error {
	switch env {
	case "", "release", "trial", "develop":
		return nil
	}
	return &ValidationError{"env_version", env, `must be "release", "trial", "develop" or omitted`}
}

func validateColor(c *Color) error {
	if c == nil {
		return nil
	}
	for _, v := range []int{c.R, c.G, c.B} {
		if v < 0 || v > 255 {
			return &ValidationError{"line_color", fmt.Sprintf("%d,%d,%d", c.R, c.G, c.B), "components must be 0 to 255"}
		}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Validate checks r against WeChat's documented rules for interface B and
// returns a *ValidationError naming the first bad field.
func (r CodeRequest) Validate() error {
	return firstErr(ValidateScene(r.Scene), ValidatePage(r.Page), validateWidth(r.Width),
		validateEnv(r.EnvVersion), validateColor(r.LineColor))
}

// Validate checks r for interface A: a path of 1 to 1024 characters without
// scancode_time, width, env_version and colour as for B.
func (r QRCodeRequest) Validate() error {
	return firstErr(validatePath(r.Path, utf8.RuneCountInString(r.Path), MaxPathA, "characters"),
		validateWidth(r.Width), validateEnv(r.EnvVersion), validateColor(r.LineColor))
}

// validateC checks the arguments of interface C: a path of at most 128 bytes.
func validateC(path string, width int) error {
	return firstErr(validatePath(path, len(path), MaxPathC, "bytes"), validateWidth(width))
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
