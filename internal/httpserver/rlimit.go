//go:build unix

package httpserver

import "syscall"

// RaiseFileLimit raises the soft limit on open descriptors to the hard
// limit, as far as the system allows, and returns the soft limit in force
// afterwards (0 when it cannot be read). Go's runtime already does this at
// start on most systems; calling it again makes the limit explicit, and it
// is harmless where the raise is not allowed (the old limit stays).
func RaiseFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	if l.Cur < l.Max {
		raised := l
		raised.Cur = l.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			l = raised
		}
	}
	return l.Cur
}

// FileLimit is the soft limit on open descriptors, or 0 when unknown.
func FileLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return int(min(l.Cur, 1<<30))
}
