package wechat

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// TokenSource gives a valid access token for one appid.
type TokenSource interface {
	// Token returns a token, from cache when it is fresh. Errors: a
	// *ConfigError stops the app's work; a *TokenUnavailableError or a
	// transport error is retryable.
	Token(ctx context.Context) (string, error)
	// Invalidate drops the cached token only if it is still failed, so a burst
	// of rejections of one token causes at most one fetch.
	Invalidate(ctx context.Context, failed string) error
}

// StaticToken is a fixed token, for tests and one-off commands. Invalidate
// does nothing.
type StaticToken string

// Token returns the token.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// Invalidate does nothing: a static token cannot be replaced.
func (t StaticToken) Invalidate(context.Context, string) error { return nil }

// String hides the token.
func (t StaticToken) String() string { return "StaticToken(REDACTED)" }

// TokenUnavailableError says a token could not be had right now: an external
// source failed, or another process holds the refresh lock for too long. It
// is retryable.
type TokenUnavailableError struct {
	Source string // e.g. "redis key wxacode:tok:{wx1}", "http", "command fetch-token"
	Err    error
}

func (e *TokenUnavailableError) Error() string {
	return fmt.Sprintf("wechat: token unavailable from %s: %v", e.Source, e.Err)
}

func (e *TokenUnavailableError) Unwrap() error { return e.Err }

// tokenEntry is a token with its lifetime. refreshAt ≤ expiresAt: after
// refreshAt a new fetch starts, but the token is served until expiresAt.
type tokenEntry struct {
	token     string
	expiresAt time.Time
	refreshAt time.Time
}

// flight is one fetch in progress; waiters read ent/err after done closes.
type flight struct {
	done chan struct{}
	ent  tokenEntry
	err  error
}

// memo caches one token in process with single-flight loading: however many
// goroutines ask, at most one load runs at a time.
type memo struct {
	now  func() time.Time
	load func(ctx context.Context) (tokenEntry, error)

	mu     sync.Mutex
	cur    tokenEntry
	flight *flight
	// rejected is the token last invalidated: a load must not take it
	// from a shared cache again (another process, or a load that read it
	// before the invalidation, may have put it back).
	rejected  string
	failErr   error // last load failure, returned until failUntil
	failUntil time.Time
}

// loadTimeout bounds one load; loads are detached from the callers' contexts
// so one caller giving up does not fail the others.
const loadTimeout = 30 * time.Second

// token returns the cached token while it is fresh; a token past refreshAt
// but not expired is returned at once while a refresh runs in background.
func (m *memo) token(ctx context.Context) (string, error) {
	m.mu.Lock()
	now := m.now()
	cur := m.cur
	if cur.token != "" && now.Before(cur.refreshAt) {
		m.mu.Unlock()
		return cur.token, nil
	}
	valid := cur.token != "" && now.Before(cur.expiresAt)
	if m.failErr != nil && now.Before(m.failUntil) {
		// A load failed recently: no new attempt yet, whatever the callers' rate.
		err := m.failErr
		m.mu.Unlock()
		if valid {
			return cur.token, nil
		}
		return "", err
	}
	f := m.start()
	m.mu.Unlock()
	if valid {
		return cur.token, nil
	}
	select {
	case <-f.done:
		return f.ent.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// start returns the running flight or starts one. m.mu must be held.
func (m *memo) start() *flight {
	if m.flight != nil {
		return m.flight
	}
	f := &flight{done: make(chan struct{})}
	m.flight = f
	go m.run(f)
	return f
}

func (m *memo) run(f *flight) {
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	f.ent, f.err = m.load(ctx)
	m.mu.Lock()
	switch {
	case m.flight != f:
		// Detached by invalidate: its result may be the rejected token.
	case f.err == nil:
		m.cur, m.failErr, m.flight = f.ent, nil, nil
	default:
		m.failErr, m.failUntil, m.flight = f.err, m.now().Add(failBackoff(f.err)), nil
	}
	m.mu.Unlock()
	close(f.done)
}

// failBackoff is how long a failed load is remembered: long for a
// configuration problem (no retry storm), short otherwise.
func failBackoff(err error) time.Duration {
	if IsConfigError(err) || IsTokenQuota(err) {
		return time.Minute
	}
	return time.Second
}

// invalidate drops the cached token if it is still failed. The first
// invalidation of a token also detaches a load in progress: it may have
// read failed before, so the next caller starts a load of its own rather
// than wait for it. Loads started after it skip failed, so a burst of
// rejections of one token still causes one load.
func (m *memo) invalidate(failed string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if failed == "" {
		return false
	}
	if m.rejected != failed {
		m.rejected, m.flight = failed, nil
	}
	if m.cur.token != failed {
		return false
	}
	m.cur = tokenEntry{}
	return true
}

// wasRejected reports whether tok is the token last invalidated.
func (m *memo) wasRejected(tok string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return tok != "" && tok == m.rejected
}
