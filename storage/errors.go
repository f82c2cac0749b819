package storage

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is returned (wrapped) by Stat and Get when the key does
	// not exist. Test with errors.Is.
	ErrNotFound = errors.New("storage: object not found")
	// ErrExists is returned (wrapped) by Put with IfAbsent when the key
	// already exists; nothing was written. Test with errors.Is.
	ErrExists = errors.New("storage: object already exists")
)

// URLError reports a storage URL that Open cannot use. It never contains
// the URL itself, which may carry credentials.
type URLError struct {
	Reason string
}

func (e *URLError) Error() string { return "storage: invalid storage URL: " + e.Reason }

// KeyError reports a key or metadata entry that a Store refuses, before any
// I/O is done.
type KeyError struct {
	Key    string
	Reason string
}

func (e *KeyError) Error() string { return fmt.Sprintf("storage: invalid key %q: %s", e.Key, e.Reason) }

// IsNotFound reports whether err means the object does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsExists reports whether err means a conditional create found the key taken.
func IsExists(err error) bool { return errors.Is(err, ErrExists) }

// IsInvalid reports whether err is a *URLError, *KeyError or
// *TemplateError: a configuration or caller mistake that retrying cannot fix.
func IsInvalid(err error) bool {
	var u *URLError
	var k *KeyError
	var t *TemplateError
	return errors.As(err, &u) || errors.As(err, &k) || errors.As(err, &t)
}
