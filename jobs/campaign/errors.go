package campaign

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError rejects one field of one campaign:
// `campaign "nightly": schedule "61 * * * *": ...`. Campaign is the name,
// or "#N" (1-based position in the file) when the name is missing or bad.
// Value is left empty where it could hold a secret (webhook, object URLs
// with credentials).
type FieldError struct{ Campaign, Field, Value, Reason string }

func (e *FieldError) Error() string {
	who := fmt.Sprintf("campaign %q", e.Campaign)
	if strings.HasPrefix(e.Campaign, "#") {
		who = "campaign " + e.Campaign
	}
	if e.Value == "" {
		return fmt.Sprintf("%s: %s: %s", who, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: %s %q: %s", who, e.Field, clip(e.Value, 64), e.Reason)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// FieldErrors returns every *FieldError joined in err (as Validate and
// Parse return them), in order.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// SyntaxError is a campaigns file that is not well-formed YAML of the
// expected shape: bad syntax, unknown fields, wrong types, duplicate keys.
// Each problem names its line.
type SyntaxError struct {
	Problems []string
}

func (e *SyntaxError) Error() string {
	return "campaigns file: " + strings.Join(e.Problems, "; ")
}

// IsInvalid reports an error of Parse, Load or Validate that comes from the
// file's content (a *SyntaxError or *FieldError), not from reading it.
func IsInvalid(err error) bool {
	var se *SyntaxError
	var fe *FieldError
	return errors.As(err, &se) || errors.As(err, &fe)
}

// SourceError is a source that cannot be read on: the file or object is
// missing or unreadable, or a CSV header is bad. Unlike a *jobs.RowError it
// ends the source; Next keeps returning it.
type SourceError struct {
	Campaign string
	Reason   string
	Err      error // the cause, if any (never a *jobs.RowError)
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("campaign %q: source: %s", e.Campaign, e.Reason)
}

func (e *SourceError) Unwrap() error { return e.Err }
