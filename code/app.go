package code

import "fmt"

// MaxAppLen is the longest appid accepted. WeChat's appids are 18
// characters ("wx" and 16 hex digits); the rule leaves room for other
// schemes but keeps an appid one short key segment and queue name.
const MaxAppLen = 64

// ValidateApp checks an appid: 1 to 64 of [A-Za-z0-9_], starting with a
// letter or digit. It is a queue name, a Redis key part and the first
// segment of object keys, so it holds nothing that a path, a key or a
// queue name would treat specially ('/', '.', '-' of "-high", '{', spaces),
// and never starts with '_' (the "_runs/" area of the store).
func ValidateApp(app string) error {
	fail := func(reason string) error { return &FieldError{FieldApp, app, reason} }
	switch {
	case app == "":
		return fail("empty; an appid such as wx0123456789abcdef is required")
	case len(app) > MaxAppLen:
		return fail(fmt.Sprintf("not an appid: %d bytes, at most %d allowed", len(app), MaxAppLen))
	case !alnum(app[0]):
		return fail("not an appid: must start with a letter or digit")
	}
	for i := 0; i < len(app); i++ {
		if c := app[i]; !alnum(c) && c != '_' {
			return fail(fmt.Sprintf("not an appid: byte %q at offset %d (an appid has only A-Z a-z 0-9 _)", c, i))
		}
	}
	return nil
}

func alnum(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
