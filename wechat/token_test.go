package wechat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

const stablePath = "/cgi-bin/stable_token"

func fetches(e *env, path string) int64 { return e.fake.Stats().TokenFetches[path] }

// process mimics one worker process: its own Client (HTTP pool) and source.
func (e *env) process(t *testing.T, rdb redis.UniversalClient) *StableTokenSource {
	t.Helper()
	c := NewClient(Config{BaseURL: e.srv.URL, Logger: testLogger()})
	t.Cleanup(c.http.CloseIdleConnections)
	ts, err := NewStableTokenSource(StableTokenConfig{AppID: appA, Secret: secretA, Client: c, Redis: rdb, Clock: e.clock.Now})
	require.NoError(t, err)
	return ts
}

func TestStableTokenCachedInProcess(t *testing.T) {
	e := newEnv(t, nil)
	ts := e.stable(t, StableTokenConfig{})
	ctx := context.Background()
	first, err := ts.Token(ctx)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(first, wechattest.TokenPrefix))
	for range 20 {
		tok, err := ts.Token(ctx)
		require.NoError(t, err)
		require.Equal(t, first, tok)
	}
	require.EqualValues(t, 1, fetches(e, stablePath))
	require.NotContains(t, fmt.Sprint(ts), secretA)
}

// Three independent sources (three "processes") on one real Redis start at
// once and make one stable_token fetch in total.
func TestThreeSourcesShareOneFetch(t *testing.T) {
	e := newEnv(t, nil)
	rs := redistest.Start(t)
	srcs := []*StableTokenSource{e.process(t, rs.Client(t)), e.process(t, rs.Client(t)), e.process(t, rs.Client(t))}
	var wg sync.WaitGroup
	toks := make(chan string, 60)
	for _, ts := range srcs {
		for range 20 {
			wg.Go(func() {
				tok, err := ts.Token(context.Background())
				if err != nil {
					t.Error(err)
				}
				toks <- tok
			})
		}
	}
	wg.Wait()
	close(toks)
	seen := map[string]bool{}
	for tok := range toks {
		seen[tok] = true
	}
	require.Len(t, seen, 1, "every process uses the same token")
	require.EqualValues(t, 1, fetches(e, stablePath))
	keys, err := rs.Client(t).Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	require.Equal(t, []string{"wxacode:token:{" + appA + "}"}, keys, "hash-tagged key, lock released")
}

// 50 concurrent 40001s cost at most one refetch per process.
func TestConcurrent40001OneRefetchPerProcess(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("redis=%v", shared), func(t *testing.T) {
			e := newEnv(t, nil)
			var rdb redis.UniversalClient
			if shared {
				rdb = redistest.Start(t).Client(t)
			}
			procs := []*StableTokenSource{e.process(t, rdb), e.process(t, rdb)}
			ctx := context.Background()
			old, err := procs[0].Token(ctx)
			require.NoError(t, err)
			_, err = procs[1].Token(ctx)
			require.NoError(t, err)
			before := fetches(e, stablePath)
			e.fake.RevokeTokens(appA)
			// Latency keeps all 100 first calls in flight together: a real burst.
			e.fake.Update(func(o *wechattest.Options) { o.LatencyMedian = 150 * time.Millisecond })

			var wg sync.WaitGroup
			for i := range 100 {
				ts := procs[i%2]
				wg.Go(func() {
					img, err := e.client.CodeUnlimited(ctx, ts, code.Params{Scene: fmt.Sprintf("r%d", i), Rendering: code.Rendering{Width: 280}})
					if err != nil {
						t.Error(err)
						return
					}
					if i%10 != 0 {
						return // decoding is slow under -race: check a sample
					}
					if c, err := wechattest.DecodeImage(img.Data); err != nil || c.Scene != fmt.Sprintf("r%d", i) {
						t.Errorf("image of r%d decodes to %+v, %v", i, c, err)
					}
				})
			}
			wg.Wait()
			refetches := fetches(e, stablePath) - before
			require.GreaterOrEqual(t, refetches, int64(1))
			require.LessOrEqual(t, refetches, int64(len(procs)), "at most one refetch per process")
			require.EqualValues(t, 100, e.fake.Stats().Errcodes[40001], "every first call hit the revoked token")
			now, err := procs[0].Token(ctx)
			require.NoError(t, err)
			require.NotEqual(t, old, now)
		})
	}
}

func TestRefreshAhead(t *testing.T) {
	e := newEnv(t, nil)
	rs := redistest.Start(t)
	ts := e.process(t, rs.Client(t))
	ctx := context.Background()
	first, err := ts.Token(ctx)
	require.NoError(t, err)

	e.clock.Advance(7200*time.Second - 4*time.Minute) // inside the 5 min refresh window
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, first, tok, "the still-valid token is served while refreshing")
	require.Eventually(t, func() bool {
		tok, _ := ts.Token(ctx)
		return tok != first
	}, 5*time.Second, 10*time.Millisecond)
	require.EqualValues(t, 2, fetches(e, stablePath))

	// Another process sees the refreshed token in Redis without fetching.
	other := e.process(t, rs.Client(t))
	tok2, err := other.Token(ctx)
	require.NoError(t, err)
	require.NotEqual(t, first, tok2)
	require.EqualValues(t, 2, fetches(e, stablePath))
}

func TestInvalidateComparesBeforeDeleting(t *testing.T) {
	e := newEnv(t, nil)
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	ts := e.process(t, rdb)
	ctx := context.Background()
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	key := "wxacode:token:{" + appA + "}"

	require.NoError(t, ts.Invalidate(ctx, "some-older-token"))
	got, err := rdb.HGet(ctx, key, "token").Result()
	require.NoError(t, err)
	require.Equal(t, tok, got, "a token that is not the failed one survives")
	tok2, _ := ts.Token(ctx)
	require.Equal(t, tok, tok2)

	require.NoError(t, ts.Invalidate(ctx, tok))
	require.EqualValues(t, 0, rdb.Exists(ctx, key).Val())
}

// A rejected token that Redis still holds after the invalidation (another
// goroutine's load read it between the process cache's drop and Redis's, or
// a late store put it back) is not taken again: the source fetches anew.
func TestInvalidatedTokenNotRetakenFromRedis(t *testing.T) {
	e := newEnv(t, nil)
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	ts := e.process(t, rdb)
	ctx := context.Background()
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	key := "wxacode:token:{" + appA + "}"
	saved, err := rdb.HGetAll(ctx, key).Result()
	require.NoError(t, err)

	e.fake.RevokeTokens(appA)
	require.NoError(t, ts.Invalidate(ctx, tok))
	require.NoError(t, rdb.HSet(ctx, key, saved).Err()) // put back
	tok2, err := ts.Token(ctx)
	require.NoError(t, err)
	require.NotEqual(t, tok, tok2, "the rejected token is not offered again")
	require.EqualValues(t, 2, fetches(e, stablePath))
	got, err := rdb.HGet(ctx, key, "token").Result()
	require.NoError(t, err)
	require.Equal(t, tok2, got, "the new token replaces it for the fleet")
}

// A load that started before an invalidation may return the rejected
// token: callers after the invalidation do not wait for it, and its result
// is not cached.
func TestInvalidateDetachesLoadInFlight(t *testing.T) {
	release := make(chan struct{})
	var loads atomic.Int32
	m := &memo{now: time.Now, load: func(context.Context) (tokenEntry, error) {
		n := loads.Add(1)
		if n == 1 {
			<-release
			return tokenEntry{token: "old", expiresAt: time.Now().Add(time.Hour), refreshAt: time.Now().Add(time.Hour)}, nil
		}
		return tokenEntry{token: "new", expiresAt: time.Now().Add(time.Hour), refreshAt: time.Now().Add(time.Hour)}, nil
	}}
	first := make(chan string)
	go func() { tok, _ := m.token(context.Background()); first <- tok }()
	require.Eventually(t, func() bool { return loads.Load() == 1 }, time.Second, time.Millisecond)
	m.invalidate("old")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, err := m.token(ctx)
	close(release)
	require.NoError(t, err, "not waiting for the load begun before")
	require.Equal(t, "new", tok, "a load of its own, not the one begun before")
	require.Equal(t, "old", <-first, "the caller before the invalidation gets what it waited for")
	tok, err = m.token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "new", tok, "the detached load's result is not cached")
	require.EqualValues(t, 2, loads.Load())
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name, appid, secret string
		code                int
		reason              string
	}{
		{"unknown appid", "wxnobody", secretA, 40013, "invalid appid"},
		{"wrong secret", appA, "SECRETwrongwrongwrongwrongwrong1", 40125, "invalid app secret"},
		{"ip whitelist", appB, secretB, 40164, "IP whitelist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *wechattest.Options) { o.TokenErrors = map[string]int{appB: 40164} })
			ts := e.stable(t, StableTokenConfig{AppID: tc.appid, Secret: tc.secret})
			for range 5 {
				_, err := ts.Token(context.Background())
				require.True(t, IsConfigError(err), "%v", err)
				require.True(t, IsPermanent(err))
				require.False(t, IsRetryable(err))
				require.False(t, IsTokenInvalid(err))
				var ae *APIError
				require.ErrorAs(t, err, &ae)
				require.Equal(t, tc.code, ae.Code)
				require.Contains(t, err.Error(), tc.reason)
				require.NotContains(t, err.Error(), tc.secret)
			}
			require.EqualValues(t, 1, fetches(e, stablePath), "a config error is remembered: no retry storm")
			// CodeUnlimited stops with the same error.
			_, err := e.client.CodeUnlimited(context.Background(), ts, code.Params{Scene: "a"})
			require.True(t, IsConfigError(err))
		})
	}
	_, err := NewStableTokenSource(StableTokenConfig{AppID: appA, Client: NewClient(Config{})})
	require.True(t, IsConfigError(err), "missing secret")
	_, err = NewStableTokenSource(StableTokenConfig{AppID: appA, Secret: "x"})
	require.Error(t, err, "missing client")
}

// A source that offers the rejected token again (here a static one) gets no
// second call: a *TokenRejectedError, Reused.
func TestCodeUnlimitedGivesUpAfterOneRetry(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t)
	e.fake.RevokeTokens(appA)
	_, err := e.client.CodeUnlimited(context.Background(), StaticToken(tok), code.Params{Scene: "a"})
	var tr *TokenRejectedError
	require.ErrorAs(t, err, &tr)
	require.True(t, tr.Reused)
	require.Equal(t, 40001, tr.Err.Code)
	require.False(t, IsTokenInvalid(err), "not the transient token path")
	require.False(t, IsRetryable(err))
	require.NotContains(t, err.Error(), tok)
	require.Contains(t, err.Error(), TokenFingerprint(tok))
	require.EqualValues(t, 1, e.fake.Stats().Errcodes[40001], "the same token is not sent twice")
	_, err = e.client.CodeUnlimited(context.Background(), StaticToken(tok), code.Params{Scene: "%"})
	require.True(t, IsPermanent(err), "validated before any token or call")
	require.EqualValues(t, 1, e.fake.Stats().Errcodes[40001])
}

// freshTokens hands out a new well-formed token on every call, none of
// which the fake knows: a fresh token is rejected too.
type freshTokens struct{ n atomic.Int32 }

func (f *freshTokens) Token(context.Context) (string, error) {
	return fmt.Sprintf("%s%048d", wechattest.TokenPrefix, f.n.Add(1)), nil
}
func (f *freshTokens) Invalidate(context.Context, string) error { return nil }

// Repeated token errors escalate (spec §9.4): a rejection of the token
// fetched after a rejection is a *TokenRejectedError after exactly two calls;
// a stable token WeChat keeps issuing although it rejects it is a Reused one
// after one call, and TokenReplaced says so until WeChat issues another.
func TestRepeatedTokenErrorsEscalate(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, err := e.client.CodeUnlimited(ctx, &freshTokens{}, code.Params{Scene: "a"})
	var tr *TokenRejectedError
	require.ErrorAs(t, err, &tr)
	require.False(t, tr.Reused)
	require.False(t, IsTokenInvalid(err))
	require.EqualValues(t, 2, e.fake.Stats().Endpoints[EndpointUnlimited], "one call, one retry, no more")

	rdb := redistest.Start(t).Client(t)
	ts := e.stable(t, StableTokenConfig{Redis: rdb})
	_, err = e.client.CodeUnlimited(ctx, ts, code.Params{Scene: "b"})
	require.NoError(t, err)
	e.fake.RevokeTokensKeepStable(appA)
	_, err = e.client.CodeUnlimited(ctx, ts, code.Params{Scene: "c"})
	require.ErrorAs(t, err, &tr)
	require.True(t, tr.Reused, "WeChat issued the rejected token again: %v", err)
	require.EqualValues(t, 4, e.fake.Stats().Endpoints[EndpointUnlimited], "no second call with the same token")
	replaced, err := TokenReplaced(ctx, ts, tr)
	require.NoError(t, err)
	require.False(t, replaced)
	e.fake.RevokeTokens(appA) // now stable_token issues a new one
	replaced, err = TokenReplaced(ctx, ts, tr)
	require.NoError(t, err)
	require.True(t, replaced)
	_, err = e.client.CodeUnlimited(ctx, ts, code.Params{Scene: "d"})
	require.NoError(t, err)
}

func TestStableTokenWithoutRedisServer(t *testing.T) {
	e := newEnv(t, nil)
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer rdb.Close()
	ts := e.process(t, rdb)
	rs.Stop()
	tok, err := ts.Token(context.Background())
	require.NoError(t, err, "stable tokens keep working while Redis is down")
	require.NotEmpty(t, tok)
	require.Error(t, ts.Invalidate(context.Background(), tok), "the Redis failure is reported")
}

func TestClientCredentialSource(t *testing.T) {
	e := newEnv(t, nil)
	rs := redistest.Start(t)
	ctx := context.Background()
	var srcs []*ClientCredentialTokenSource
	for range 3 {
		c := NewClient(Config{BaseURL: e.srv.URL, Logger: testLogger()})
		ts, err := NewClientCredentialTokenSource(StableTokenConfig{AppID: appA, Secret: secretA, Client: c,
			Redis: rs.Client(t), Clock: e.clock.Now})
		require.NoError(t, err)
		srcs = append(srcs, ts)
	}
	var wg sync.WaitGroup
	for _, ts := range srcs {
		for range 10 {
			wg.Go(func() {
				if _, err := ts.Token(ctx); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	require.EqualValues(t, 1, fetches(e, "/cgi-bin/token"), "one refresher through the lock")
	tok, err := srcs[0].Token(ctx)
	require.NoError(t, err)
	_, err = e.client.GetUnlimited(ctx, tok, code.Params{Scene: "cc"})
	require.NoError(t, err)
	require.Contains(t, fmt.Sprint(srcs[0]), "/cgi-bin/token")
	require.EqualValues(t, 1, rs.Client(t).Exists(ctx, "wxacode:cctoken:{"+appA+"}").Val())

	// Without Redis coordination cgi-bin/token refuses to fetch.
	broken := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer broken.Close()
	ts, err := NewClientCredentialTokenSource(StableTokenConfig{AppID: appA, Secret: secretA, Client: e.client, Redis: broken})
	require.NoError(t, err)
	_, err = ts.Token(ctx)
	var tu *TokenUnavailableError
	require.ErrorAs(t, err, &tu)
	require.True(t, IsRetryable(err))
	require.EqualValues(t, 1, fetches(e, "/cgi-bin/token"))
}

// cgi-bin/token invalidates the previous token after the overlap.
func TestFakeClientCredentialOverlap(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tr1, err := e.client.fetchClientCredential(ctx, appA, secretA)
	require.NoError(t, err)
	tr2, err := e.client.fetchClientCredential(ctx, appA, secretA)
	require.NoError(t, err)
	require.NotEqual(t, tr1.AccessToken, tr2.AccessToken)
	_, err = e.client.GetUnlimited(ctx, tr1.AccessToken, code.Params{Scene: "a"})
	require.NoError(t, err, "old token valid during the overlap")
	e.clock.Advance(301 * time.Second)
	_, err = e.client.GetUnlimited(ctx, tr1.AccessToken, code.Params{Scene: "a"})
	require.True(t, IsTokenInvalid(err))
	_, err = e.client.GetUnlimited(ctx, tr2.AccessToken, code.Params{Scene: "a"})
	require.NoError(t, err)
}

func TestMemoFailureAndContext(t *testing.T) {
	calls := 0
	m := &memo{now: time.Now, load: func(context.Context) (tokenEntry, error) {
		calls++
		return tokenEntry{}, errors.New("boom")
	}}
	_, err := m.token(context.Background())
	require.EqualError(t, err, "boom")
	_, err = m.token(context.Background())
	require.EqualError(t, err, "boom")
	require.Equal(t, 1, calls, "a failure is remembered for a second")

	block := make(chan struct{})
	slow := &memo{now: time.Now, load: func(context.Context) (tokenEntry, error) {
		<-block
		return tokenEntry{token: "t", expiresAt: time.Now().Add(time.Hour), refreshAt: time.Now().Add(time.Hour)}, nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = slow.token(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(block)
	require.Eventually(t, func() bool { tok, _ := slow.token(context.Background()); return tok == "t" }, time.Second, time.Millisecond)
}

// The retry after a token error is paced: pace runs once, before the second
// B call, and its error sends no second call.
func TestCodeUnlimitedPacedPacesTheRetry(t *testing.T) {
	e := newEnv(t, nil)
	ts := e.stable(t, StableTokenConfig{})
	ctx := context.Background()
	_, err := ts.Token(ctx)
	require.NoError(t, err)
	paced := 0
	pace := func(context.Context) error { paced++; return nil }
	_, err = e.client.CodeUnlimitedPaced(ctx, ts, code.Params{Scene: "p1"}, pace)
	require.NoError(t, err)
	require.Zero(t, paced, "no token error, no retry to pace")

	e.fake.RevokeTokens(appA)
	_, err = e.client.CodeUnlimitedPaced(ctx, ts, code.Params{Scene: "p2"}, pace)
	require.NoError(t, err)
	require.Equal(t, 1, paced)
	require.EqualValues(t, 3, e.fake.Stats().Endpoints[EndpointUnlimited])

	e.fake.RevokeTokens(appA)
	stop := errors.New("budget spent")
	_, err = e.client.CodeUnlimitedPaced(ctx, ts, code.Params{Scene: "p3"}, func(context.Context) error { return stop })
	require.ErrorIs(t, err, stop)
	require.EqualValues(t, 4, e.fake.Stats().Endpoints[EndpointUnlimited], "no second call without a slot")
}
