package ratelimit

import (
	"fmt"
	"strings"
	"unicode"
)

// Key names inside one app's hash tag. See doc.go.
const (
	keyState  = "state"
	keyCap    = "cap"
	keyHoles  = "holes"
	keyEvents = "events"
)

// Keys returns the four Redis keys of app, in the order the script expects
// them as KEYS[1..4]: state, cap, holes, events. prefix "" means the default
// "wxacode:rl:".
func Keys(prefix, app string) []string {
	if prefix == "" {
		prefix = "wxacode:rl:"
	}
	base := prefix + "{" + app + "}:"
	return []string{base + keyState, base + keyCap, base + keyHoles, base + keyEvents}
}

// CapKey is the string key holding app's cap per minute (absent: default).
func CapKey(prefix, app string) string { return Keys(prefix, app)[1] }

func validApp(app string) error {
	if app == "" || len(app) > 128 {
		return fmt.Errorf("%w: %q", ErrInvalidApp, app)
	}
	if strings.ContainsFunc(app, func(r rune) bool {
		return r == '{' || r == '}' || unicode.IsSpace(r) || unicode.IsControl(r)
	}) {
		return fmt.Errorf("%w: %q", ErrInvalidApp, app)
	}
	return nil
}
