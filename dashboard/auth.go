package dashboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"
)

// ErrInsecureListen is wrapped in CheckListen's error.
var ErrInsecureListen = errors.New("dashboard: refusing to serve without authentication on a non-loopback address")

// ErrWeakCredential is wrapped in the error for a dashboard token or
// password that is too short to resist guessing.
var ErrWeakCredential = errors.New("dashboard: credential too weak")

// MinCredentialLen is the fewest characters a bearer token or password
// may have: the dashboard can change queues and shows every campaign, and
// it is often reachable from a whole network.
const MinCredentialLen = 16

// Check refuses a bearer token or password shorter than MinCredentialLen
// characters or made only of whitespace, naming the setting (never its
// value) and saying how to generate a good one.
func (a Auth) Check() error {
	for _, c := range []struct{ setting, value string }{
		{"dashboard token (WXACODE_DASHBOARD_TOKEN)", a.BearerToken},
		{"dashboard password (WXACODE_DASHBOARD_PASSWORD)", a.Password},
	} {
		if c.value == "" {
			continue
		}
		if strings.TrimSpace(c.value) == "" || utf8.RuneCountInString(c.value) < MinCredentialLen {
			return fmt.Errorf("%w: the %s has %d characters%s; use at least %d random ones, e.g. $(openssl rand -hex 32)",
				ErrWeakCredential, c.setting, utf8.RuneCountInString(c.value), blankNote(c.value), MinCredentialLen)
		}
	}
	return nil
}

func blankNote(v string) string {
	if strings.TrimSpace(v) == "" {
		return ", all whitespace"
	}
	return ""
}

// CheckListen returns an error naming addr when addr is not a loopback
// address (127.0.0.0/8, ::1, "localhost"), auth has no credentials and
// allowInsecure is false. ":8080" and "0.0.0.0:8080" listen on every
// interface, so they are not loopback.
//
// It first refuses weak credentials (see Auth.Check), on every address.
func CheckListen(addr string, auth Auth, allowInsecure bool) error {
	if err := auth.Check(); err != nil {
		return err
	}
	if auth.configured() || allowInsecure || isLoopback(addr) {
		return nil
	}
	return fmt.Errorf("%w: %q (set a bearer token or basic auth credentials, listen on 127.0.0.1, or allow it explicitly)",
		ErrInsecureListen, addr)
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr // no port
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// requireAuth lets a request through when it carries one of the configured
// credentials; with none configured it lets everything through.
func requireAuth(a Auth, next http.Handler) http.Handler {
	if !a.configured() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.allows(r) {
			next.ServeHTTP(w, r)
			return
		}
		if a.basic() {
			w.Header().Set("WWW-Authenticate", `Basic realm="wxacode dashboard", charset="UTF-8"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wxacode dashboard"`)
		}
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
}

func (a Auth) allows(r *http.Request) bool {
	if a.BearerToken != "" {
		h := r.Header.Get("Authorization")
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") && same(h[7:], a.BearerToken) {
			return true
		}
	}
	if a.basic() {
		u, p, ok := r.BasicAuth()
		// Both comparisons always run, so timing does not tell which failed.
		uOK, pOK := same(u, a.User), same(p, a.Password)
		return ok && uOK && pOK
	}
	return false
}

// same compares in constant time; hashing first hides the lengths too.
func same(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
