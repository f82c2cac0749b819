package scenes

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrNotFound is returned by Lookup for a well-formed scene that this store
// never issued or imported.
var ErrNotFound = errors.New("scenes: scene not found")

// ErrNoPersistence is returned by CheckPersistence when the Redis holding the
// mappings has neither AOF nor RDB snapshots enabled: a restart would lose
// every mapping while the printed codes stay in circulation.
var ErrNoPersistence = errors.New("scenes: redis has neither AOF (appendonly) nor RDB (save) persistence enabled")

// ConfigError is a Config field that New refuses.
type ConfigError struct {
	Field  string // Go name of the field, e.g. "Prefix", "Length"
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("scenes: invalid Config.%s: %s", e.Field, e.Reason)
}

// ParamsError is a parameter row that is not a usable JSON object. Nothing
// is written for it. The row's content is never quoted (it may hold
// personal data); Offset points at the problem instead.
type ParamsError struct {
	Reason string // what is wrong, e.g. "empty input", "duplicate key \"id\""
	Offset int64  // byte offset in the row where it was found; -1 if unknown
	Err    error  // the underlying encoding/json error, if any
}

func (e *ParamsError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("scenes: invalid params: %s (at byte %d)", e.Reason, e.Offset)
	}
	return "scenes: invalid params: " + e.Reason
}

func (e *ParamsError) Unwrap() error { return e.Err }

// SceneError is a scene that cannot have been issued by any store: empty,
// longer than 32 characters, or with a character outside [0-9A-Za-z].
type SceneError struct {
	Scene  string // the offending scene, cut to 64 characters in Error
	Reason string
}

func (e *SceneError) Error() string {
	s := e.Scene
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:64]) + "…"
	}
	return fmt.Sprintf("scenes: invalid scene %q: %s", s, e.Reason)
}

// RowError is the error of one row of IssueMany.
type RowError struct {
	Row int // index into the rows given to IssueMany, from 0
	Err error
}

func (e *RowError) Error() string { return fmt.Sprintf("scenes: row %d: %v", e.Row, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// LineError is the error of one line of Import input. Lines before it were
// imported; nothing of this line was written.
type LineError struct {
	Line int // 1-based, counting blank lines
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("scenes: import line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ExhaustedError means every candidate scene of a row is held by other
// parameters. It only happens when Prefix+Length leaves too few scenes for
// the number of rows (for example Length 1 or 2): raise Length.
type ExhaustedError struct {
	Candidates int // how many deterministic candidates were tried
	Length     int // Config.Length of the store
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("scenes: all %d candidate scenes of length %d are taken by other params; raise Config.Length",
		e.Candidates, e.Length)
}

// IsExhausted reports whether err is or wraps an *ExhaustedError.
func IsExhausted(err error) bool {
	var e *ExhaustedError
	return errors.As(err, &e)
}
