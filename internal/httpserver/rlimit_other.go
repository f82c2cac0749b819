//go:build !unix

package httpserver

// RaiseFileLimit does nothing where descriptors have no rlimit.
func RaiseFileLimit() uint64 { return 0 }

// FileLimit is 0 (unknown) where descriptors have no rlimit.
func FileLimit() int { return 0 }
