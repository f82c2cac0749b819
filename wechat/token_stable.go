package wechat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// StableTokenConfig configures a token source for an app's own appid and
// secret (NewStableTokenSource, NewClientCredentialTokenSource).
type StableTokenConfig struct {
	AppID  string // required
	Secret string // required; never logged nor put in errors
	// Client sends the token requests (its BaseURL, HTTP client and
	// logger). Required.
	Client *Client
	// Redis shares the token between processes. Nil keeps it in process
	// only: every process then fetches its own (same) stable token.
	Redis redis.UniversalClient
	// KeyPrefix of the Redis keys; the key is KeyPrefix+"{appid}" (a hash
	// tag, so it is Redis Cluster safe) and the lock KeyPrefix+"{appid}:lock".
	// Default "wxacode:token:" (stable) or "wxacode:cctoken:" (cgi-bin/token).
	KeyPrefix string
	// RefreshBefore is how long before expiry a new token is fetched.
	// Default 5 minutes (a stable token has at least 300 s left when issued).
	RefreshBefore time.Duration
	// LockWait bounds how long Token waits for another process's refresh
	// before it returns a *TokenUnavailableError. Default 15 s.
	LockWait time.Duration
	// Clock is the time source. Default time.Now.
	Clock func() time.Time
}

// StableTokenSource fetches cgi-bin/stable_token in normal mode, caches the
// token in process and in Redis, refreshes it ahead of expiry, and lets one
// goroutine per process (and, through a Redis lock, usually one process per
// fleet) fetch at a time. It is safe for concurrent use.
type StableTokenSource struct{ *cachedSource }

// ClientCredentialTokenSource fetches cgi-bin/token. It is safe for
// concurrent use.
//
// Warning: every cgi-bin/token fetch invalidates, five minutes later, the
// token that every other holder of this appid uses (other services, the
// production app server). Use it only when this fleet is the app's single
// token owner; prefer NewStableTokenSource. Fetches are serialised across
// processes through a Redis lock; without Redis only one process may use it.
type ClientCredentialTokenSource struct{ *cachedSource }

// NewStableTokenSource returns the default token source for an appid and
// secret. A missing appid or secret is a *ConfigError; a missing Client an
// error.
func NewStableTokenSource(cfg StableTokenConfig) (*StableTokenSource, error) {
	s, err := newCachedSource(cfg, "wxacode:token:", EndpointStableToken)
	if err != nil {
		return nil, err
	}
	s.fetch = func(ctx context.Context) (tokenResponse, error) {
		return cfg.Client.fetchStable(ctx, cfg.AppID, cfg.Secret)
	}
	return &StableTokenSource{s}, nil
}

// NewClientCredentialTokenSource returns a source that uses cgi-bin/token;
// read the warning on ClientCredentialTokenSource first.
func NewClientCredentialTokenSource(cfg StableTokenConfig) (*ClientCredentialTokenSource, error) {
	s, err := newCachedSource(cfg, "wxacode:cctoken:", EndpointToken)
	if err != nil {
		return nil, err
	}
	s.fetch = func(ctx context.Context) (tokenResponse, error) {
		return cfg.Client.fetchClientCredential(ctx, cfg.AppID, cfg.Secret)
	}
	if cfg.Redis == nil {
		cfg.Client.log.Warn("wechat: cgi-bin/token without Redis: run a single process for this app or tokens will invalidate each other",
			"appid", cfg.AppID)
	}
	return &ClientCredentialTokenSource{s}, nil
}

// cachedSource is the shared machinery of the two appid+secret sources.
type cachedSource struct {
	appid         string
	endpoint      string
	fetch         func(ctx context.Context) (tokenResponse, error)
	store         *sharedStore // nil without Redis
	refreshBefore time.Duration
	lockWait      time.Duration
	now           func() time.Time
	log           *slog.Logger
	memo          *memo
}

func newCachedSource(cfg StableTokenConfig, defPrefix, endpoint string) (*cachedSource, error) {
	if cfg.AppID == "" || cfg.Secret == "" {
		return nil, &ConfigError{AppID: cfg.AppID, Reason: "appid and secret are required"}
	}
	if cfg.Client == nil {
		return nil, errors.New("wechat: StableTokenConfig.Client is required")
	}
	s := &cachedSource{
		appid:         cfg.AppID,
		endpoint:      endpoint,
		refreshBefore: cmp.Or(cfg.RefreshBefore, 5*time.Minute),
		lockWait:      cmp.Or(cfg.LockWait, 15*time.Second),
		now:           cfg.Clock,
		log:           cfg.Client.log,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.Redis != nil {
		s.store = newSharedStore(cfg.Redis, cmp.Or(cfg.KeyPrefix, defPrefix), cfg.AppID)
	}
	s.memo = &memo{now: s.now, load: s.load}
	return s, nil
}

// Token returns the app's token; see TokenSource.
func (s *cachedSource) Token(ctx context.Context) (string, error) {
	return s.memo.token(ctx)
}

// Invalidate drops failed from the process cache and, by compare-and-delete,
// from Redis. It never calls WeChat. A Redis error is returned (the process
// cache is dropped anyway).
func (s *cachedSource) Invalidate(ctx context.Context, failed string) error {
	s.memo.invalidate(failed)
	if s.store == nil {
		return nil
	}
	if err := s.store.deleteIf(ctx, failed); err != nil {
		return fmt.Errorf("wechat: invalidate token of %s in redis: %w", s.appid, err)
	}
	return nil
}

// String names the source without its secret.
func (s *cachedSource) String() string {
	return fmt.Sprintf("wechat token source %s for %s", s.endpoint, s.appid)
}
