package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"syscall"

	"github.com/aws/smithy-go"
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

// IsUnavailable reports whether err means that the store could not be
// reached, or answered that it cannot serve for now: an outage to wait
// out, not a verdict on the request. It is false for nil, for answers
// about the object or the request (ErrNotFound, ErrExists, IsInvalid, and
// 4xx such as 403 AccessDenied, 404 NoSuchBucket or 400), for a server
// certificate the client rejects (configuration, which waiting does not
// fix) and for context.Canceled (the caller gave up; the store said
// nothing). Errors pass through any wrapping, the SDK's "exceeded maximum
// number of attempts" and "retry quota exceeded" included.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || IsNotFound(err) || IsExists(err) || IsInvalid(err) {
		return false
	}
	return isUnreachable(err) || isServerBusy(err) || isDiskTrouble(err)
}

// unreachableErrs mean no answer came: the connection was refused, reset
// or cut mid-answer (EOF), or the host or network is gone.
var unreachableErrs = []error{io.EOF, io.ErrUnexpectedEOF, net.ErrClosed, syscall.ECONNREFUSED,
	syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH,
	syscall.ENETUNREACH, syscall.ENETDOWN}

func isUnreachable(err error) bool {
	return slices.ContainsFunc(unreachableErrs, func(t error) bool { return errors.Is(err, t) }) || inChain(err, isNetError)
}

// isNetError matches the net package's errors: dial and DNS failures (the
// name of a stopped compose service does not resolve) and timeouts,
// context.DeadlineExceeded included (the store did not answer in time).
// *url.Error and syscall.Errno implement net.Error too, but net/http wraps
// every failure in a *url.Error, bad certificates included, and every
// errno has the methods: what they wrap, or which errno it is, decides.
func isNetError(err error) bool {
	switch err.(type) {
	case *url.Error, syscall.Errno:
		return false
	}
	_, ok := err.(net.Error)
	return ok
}

// busyStatus are HTTP answers that mean "try later": S3 asks clients to
// retry 500 and 503, a proxy or load balancer in front of a store that is
// down answers 502 or 504, and some S3-compatible gateways throttle with
// 429 instead of 503 SlowDown.
var busyStatus = []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout}

// busyCodes are S3 error codes with the same meaning, whatever the status
// (RequestTimeout comes as a 400: the server gave up waiting for the body).
var busyCodes = []string{"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}

func isServerBusy(err error) bool {
	var api smithy.APIError
	return slices.Contains(busyStatus, httpStatus(err)) || errors.As(err, &api) && slices.Contains(busyCodes, api.ErrorCode())
}

// isDiskTrouble matches local-store errors that an operator or the system
// clears without any change to wxacode: a full disk or exhausted quota, an
// I/O error of a failing or disconnected disk, an NFS handle gone stale
// after a server restart. Permission and read-only errors are not among
// them: those are configuration.
func isDiskTrouble(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EIO) ||
		errors.Is(err, syscall.ESTALE)
}

// inChain reports whether match holds for err or for any error it wraps.
func inChain(err error, match func(error) bool) bool {
	if err == nil {
		return false
	}
	if match(err) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return inChain(u.Unwrap(), match)
	case interface{ Unwrap() []error }:
		return slices.ContainsFunc(u.Unwrap(), func(e error) bool { return inChain(e, match) })
	}
	return false
}
