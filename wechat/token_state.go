package wechat

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// SharedTokenState is what Redis holds about an app's shared token,
// without the token itself: for dashboards.
type SharedTokenState struct {
	// Cached is true while a token is stored for the app.
	Cached bool
	// ExpiresAt and RefreshAt are the stored token's expiry and the time a
	// process will fetch the next one (zero when none is cached).
	ExpiresAt, RefreshAt time.Time
}

// ReadSharedTokenState reads the state of appid's token shared by
// NewStableTokenSource (prefix "" means its default "wxacode:token:"). It
// never returns the token. A Redis error is returned as is.
func ReadSharedTokenState(ctx context.Context, rdb redis.UniversalClient, prefix, appid string) (SharedTokenState, error) {
	if prefix == "" {
		prefix = "wxacode:token:"
	}
	e, ok, err := newSharedStore(rdb, prefix, appid).get(ctx)
	if err != nil || !ok {
		return SharedTokenState{}, err
	}
	return SharedTokenState{Cached: true, ExpiresAt: e.expiresAt, RefreshAt: e.refreshAt}, nil
}
