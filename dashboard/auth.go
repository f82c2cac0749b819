package dashboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// ErrInsecureListen is wrapped in CheckListen's error.
var ErrInsecureListen = errors.New("dashboard: refusing to serve without authentication on a non-loopback address")

// CheckListen returns an error naming addr when addr is not a loopback
// address (127.0.0.0/8, ::1, "localhost"), auth has no credentials and
// allowInsecure is false. ":8080" and "0.0.0.0:8080" listen on every
// interface, so they are not loopback.
func CheckListen(addr string, auth Auth, allowInsecure bool) error {
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
