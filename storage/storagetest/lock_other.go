//go:build !unix

package storagetest

// lockFile is a no-op where flock is unavailable; the in-process sync.Once
// still prevents concurrent installs from one test binary.
func lockFile(string) (func(), error) { return func() {}, nil }
