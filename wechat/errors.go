package wechat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/wxacode/wxacode/code"
)

// APIError is a JSON error body returned by WeChat: {"errcode":N,"errmsg":"..."}.
type APIError struct {
	Code     int    // errcode; never 0
	Msg      string // errmsg as sent, including its " rid: ..." suffix
	RID      string // trace id parsed from errmsg, "" when absent; look it up with getRidInfo within 7 days
	Endpoint string // API path, e.g. "/wxa/getwxacodeunlimit"
}

func (e *APIError) Error() string {
	ep := e.Endpoint
	if ep == "" {
		ep = "api"
	}
	return fmt.Sprintf("wechat: %s: errcode %d: %s", ep, e.Code, e.Msg)
}

// parseRID extracts the trace id from an errmsg such as
// "invalid scene rid: 6541c2e1-1d3f5a0b-6e2c4d11".
func parseRID(msg string) string {
	i := strings.LastIndex(msg, "rid:")
	if i < 0 {
		return ""
	}
	f := strings.Fields(msg[i+len("rid:"):])
	if len(f) == 0 {
		return ""
	}
	return strings.TrimRight(f[0], ".,;")
}

// UnknownResponseError is a response that is neither a JSON error nor a
// complete JPEG or PNG: an HTML 502 page, an empty or truncated body, a body
// over the size cap. It is classified retryable.
type UnknownResponseError struct {
	Status      int    // HTTP status code; 0 when unknown (Sniff alone)
	ContentType string // Content-Type header as received
	Sample      []byte // at most the first 128 bytes of the body
	Reason      string // short description, e.g. "truncated JPEG", "empty body"
}

const sampleLen = 128

func (e *UnknownResponseError) Error() string {
	return fmt.Sprintf("wechat: unknown response (%s; HTTP %d, Content-Type %q): sample %q",
		e.Reason, e.Status, e.ContentType, e.Sample)
}

func newUnknown(reason string, body []byte, contentType string) *UnknownResponseError {
	n := min(len(body), sampleLen)
	return &UnknownResponseError{ContentType: contentType, Sample: append([]byte(nil), body[:n]...), Reason: reason}
}

// TransportError is a failure to complete the HTTP exchange: connection
// refused or reset, timeout, body cut off. Its message never holds the token:
// URLs are redacted.
type TransportError struct {
	Endpoint string
	Err      error // the underlying error with any URL redacted
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("wechat: %s: %v", e.Endpoint, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// ConfigError says an app's credentials or account are unusable for token
// fetching (wrong appid or secret, IP not whitelisted, secret frozen, admin
// confirmation pending). Retrying does not help: stop that app's work and
// alert a human.
type ConfigError struct {
	AppID  string
	Reason string
	Err    error // the *APIError from the token endpoint, or nil for a local problem
}

func (e *ConfigError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("wechat: configuration problem for app %q: %s", e.AppID, e.Reason)
	}
	return fmt.Sprintf("wechat: configuration problem for app %q: %s: %v", e.AppID, e.Reason, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// TokenQuotaError is a 45009 from a token endpoint (cgi-bin/stable_token or
// cgi-bin/token): that endpoint's daily quota is spent (spec §5.4). It is
// not interface B's minute limit: no cooldown of B, no lower B rate. No
// token can be had until WeChat's daily reset or a clear_quota call, so the
// app's work stops and a human is alerted. It is neither retryable nor
// permanent.
type TokenQuotaError struct {
	AppID string
	Err   *APIError // the token endpoint's answer; Err.Endpoint names it
}

func (e *TokenQuotaError) Error() string {
	return fmt.Sprintf("wechat: the token endpoint's daily quota is spent for app %q (restored at WeChat's daily reset or by clear_quota): %v",
		e.AppID, e.Err)
}

func (e *TokenQuotaError) Unwrap() error { return e.Err }

// IsTokenQuota reports whether err is a *TokenQuotaError: hold the app and
// alert; never treat it as interface B's rate limit.
func IsTokenQuota(err error) bool {
	var tq *TokenQuotaError
	return errors.As(err, &tq)
}

// TokenRejectedError says a token error (40001, 40014, 42001) repeated: WeChat
// rejected the token the source handed out after the rejected one was
// invalidated, or the source offered the rejected token again (Reused; then no
// second call was sent). Retrying cannot help until the token source changes:
// the secret, the token owner or an external source needs a human (spec
// §9.4). It is neither retryable nor a plain token error.
type TokenRejectedError struct {
	Err *APIError // the last rejection
	// Reused is true when the source offered the very token WeChat had just
	// rejected (an external source that has not replaced it, or a stable
	// token WeChat keeps issuing).
	Reused bool
	// Fingerprint names the rejected token without revealing it
	// (TokenFingerprint).
	Fingerprint string
	token       string // the rejected token; never printed
}

func (e *TokenRejectedError) Error() string {
	what := "a freshly fetched token was rejected too"
	if e.Reused {
		what = "the token source offers the rejected token again"
	}
	return fmt.Sprintf("wechat: token rejected again (%s; token %s): %v", what, e.Fingerprint, e.Err)
}

func (e *TokenRejectedError) Unwrap() error { return e.Err }

// newTokenRejected wraps the token error err (an *APIError inside) for the
// rejected token tok.
func newTokenRejected(err error, tok string, reused bool) *TokenRejectedError {
	var ae *APIError
	errors.As(err, &ae)
	return &TokenRejectedError{Err: ae, Reused: reused, Fingerprint: TokenFingerprint(tok), token: tok}
}

// IsTokenRejected reports whether err is a *TokenRejectedError: hold the
// app and alert instead of retrying.
func IsTokenRejected(err error) bool {
	var tr *TokenRejectedError
	return errors.As(err, &tr)
}

// TokenReplaced reports whether ts now offers a token other than the one
// rejected in e: it invalidates the rejected token (compare-and-delete, so
// a replacement another process stored survives) and asks ts for one. Use it
// to release an app held after a Reused rejection.
func TokenReplaced(ctx context.Context, ts TokenSource, e *TokenRejectedError) (bool, error) {
	if err := ts.Invalidate(ctx, e.token); err != nil {
		return false, err
	}
	tok, err := ts.Token(ctx)
	if err != nil {
		return false, err
	}
	return tok != e.token, nil
}

// TokenFingerprint names a token in logs without revealing it: the first 12
// hex digits of its SHA-256.
func TokenFingerprint(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:6])
}

// BudgetError is returned, without any request, when an interface A or C call
// would exceed the configured A+C budget (Config.ACBudget).
type BudgetError struct {
	Budget int
	Used   int  // with Shared: the app's count of A+C requests, ever
	Shared bool // counted for the app by every process (Config.ACCounter)
}

func (e *BudgetError) Error() string {
	if e.Shared {
		return fmt.Sprintf("wechat: interface A/C budget of %d codes is spent: %d already sent for this app by wxacode (WeChat allows 100,000 per account, ever)", e.Budget, e.Used)
	}
	return fmt.Sprintf("wechat: interface A/C budget of %d codes is spent (WeChat allows 100,000 per account, ever)", e.Budget)
}

var (
	rateLimitedCodes  = codeSet(45009, 45011)
	tokenInvalidCodes = codeSet(40001, 40014, 42001)
	permanentCodes    = codeSet(40097, 40129, 40169, 41030, 47001, 44002, 85096, 48001, 48004,
		61007, 50002, 45029, 40159, 40189, 45063, 41001,
		ErrcodeRIDNotFound, ErrcodeRIDInvalid, ErrcodeNoPermission, ErrcodeCGIPathNotFound, ErrcodeCGIPathNoPermission)
)

// accountCodes are answers of a code interface about the whole account, not
// the request: every call of the app would get the same.
var accountCodes = codeSet(48001, 48004, 50002, 61007)

// IsAccountBlocked reports whether err is a code interface's answer about
// the account (48001 API unauthorized, 48004 API banned, 50002 account
// limited, 61007 third-party permission missing): every other call of the
// app would get it too, so stop the app's work and alert rather than fail
// job after job. It is also IsPermanent.
func IsAccountBlocked(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && accountCodes[ae.Code] && !isTokenEndpoint(ae.Endpoint)
}

func codeSet(codes ...int) map[int]bool {
	m := make(map[int]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

func apiCode(err error) (int, bool) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code, true
	}
	return 0, false
}

// IsRateLimited reports whether err is a code interface's per-minute limit
// (45009, 45011): pause the app and retry later; it is not an item failure.
// The same errcodes from a token endpoint are not: a 45009 there is that
// endpoint's daily quota (*TokenQuotaError).
func IsRateLimited(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || !rateLimitedCodes[ae.Code] || isTokenEndpoint(ae.Endpoint) {
		return false
	}
	return !IsConfigError(err) && !IsTokenQuota(err)
}

func isTokenEndpoint(ep string) bool { return ep == EndpointStableToken || ep == EndpointToken }

// IsTokenInvalid reports whether err says the access token was rejected
// (40001, 40014, 42001): invalidate that token, fetch again and retry once.
// A repeated rejection (*TokenRejectedError) is not: it holds the app.
func IsTokenInvalid(err error) bool {
	c, ok := apiCode(err)
	return ok && tokenInvalidCodes[c] && !IsConfigError(err) && !IsTokenRejected(err)
}

// IsConfigError reports whether err is a token-fetch configuration problem
// (the token endpoints' 40001 40002 40013 40125 40164 40243 41002 41004
// 50004 50007 89503 89506 89507, see configReasons, or a missing
// appid/secret): stop the app's work, do not retry.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// IsPermanent reports whether retrying the same request cannot succeed: a
// documented permanent errcode, a request that failed validation (a
// *ValidationError or a code's *code.FieldError), a spent
// A/C budget or a configuration problem. Record it with its errcode and rid.
func IsPermanent(err error) bool {
	var ve *ValidationError
	var be *BudgetError
	if errors.As(err, &ve) || errors.As(err, &be) || code.IsInvalid(err) || IsConfigError(err) {
		return true
	}
	c, ok := apiCode(err)
	return ok && permanentCodes[c]
}

// IsRetryable reports whether err is transient: errcode -1, HTTP 5xx,
// timeouts and network errors, unknown or truncated bodies. A cancelled
// context is not retryable (the caller gave up).
func IsRetryable(err error) bool {
	if err == nil || IsConfigError(err) || IsTokenQuota(err) || errors.Is(err, context.Canceled) {
		return false
	}
	if c, ok := apiCode(err); ok {
		return c == -1
	}
	var ue *UnknownResponseError
	var te *TransportError
	var tu *TokenUnavailableError
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &te) || errors.As(err, &tu) || errors.As(err, &ne) ||
		errors.Is(err, context.DeadlineExceeded)
}
