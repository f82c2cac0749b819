package wechat

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"
)

// Sources for platforms that own tokens elsewhere: a third-party platform's
// authorizer_access_token, a central token service. They never call WeChat.

// RedisKeyTokenSource reads a token that another system maintains under a
// Redis key, on every call (a GET is cheap and always current).
type RedisKeyTokenSource struct {
	rdb redis.UniversalClient
	key string
}

// NewRedisKeyTokenSource reads the token from key. The value is the raw
// token or a JSON object with access_token (or authorizer_access_token).
func NewRedisKeyTokenSource(rdb redis.UniversalClient, key string) *RedisKeyTokenSource {
	return &RedisKeyTokenSource{rdb: rdb, key: key}
}

// Token reads the key. A missing key or a Redis failure is a
// *TokenUnavailableError (retryable).
func (s *RedisKeyTokenSource) Token(ctx context.Context) (string, error) {
	v, err := s.rdb.Get(ctx, s.key).Bytes()
	if errors.Is(err, redis.Nil) {
		err = errors.New("key does not exist")
	}
	if err != nil {
		return "", &TokenUnavailableError{Source: "redis key " + s.key, Err: err}
	}
	tok, _, err := parseExternalToken(v)
	if err != nil {
		return "", &TokenUnavailableError{Source: "redis key " + s.key, Err: err}
	}
	return tok, nil
}

// Invalidate does nothing: the owning system replaces the token; the next
// Token call reads whatever it stored.
func (s *RedisKeyTokenSource) Invalidate(context.Context, string) error { return nil }

// HTTPTokenSource gets the token from a central token service with GET url.
// The response is the raw token (text) or JSON {"access_token": "...",
// "expires_in": N} (authorizer_access_token is accepted too). It is cached
// for at most a minute (less than expires_in allows), per WeChat's
// recommended central-service scheme.
type HTTPTokenSource struct {
	url    string
	client *http.Client
	memo   *memo
}

// NewHTTPTokenSource returns a source reading url; client nil means
// NewHTTPClient(). The URL may carry credentials: it is redacted in errors.
func NewHTTPTokenSource(url string, client *http.Client) *HTTPTokenSource {
	s := &HTTPTokenSource{url: url, client: client}
	if s.client == nil {
		s.client = NewHTTPClient()
	}
	s.memo = &memo{now: time.Now, load: s.load}
	return s
}

// Token returns the cached token or asks the service.
func (s *HTTPTokenSource) Token(ctx context.Context) (string, error) { return s.memo.token(ctx) }

// Invalidate drops failed from the cache, so the next Token asks the service.
func (s *HTTPTokenSource) Invalidate(_ context.Context, failed string) error {
	s.memo.invalidate(failed)
	return nil
}

func (s *HTTPTokenSource) load(ctx context.Context) (tokenEntry, error) {
	src := "http " + RedactURL(s.url)
	req, err := http.NewRequestWithContext(ctx, "GET", s.url, nil)
	if err != nil {
		return tokenEntry{}, &TokenUnavailableError{Source: src, Err: redactErr(err)}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return tokenEntry{}, &TokenUnavailableError{Source: src, Err: redactErr(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err != nil {
		return tokenEntry{}, &TokenUnavailableError{Source: src, Err: err}
	}
	return externalEntry(src, body)
}

// CommandTokenSource runs a command that prints the token (raw, or the same
// JSON as HTTPTokenSource) on stdout. Results are cached like
// HTTPTokenSource's; each run is limited to 10 s.
type CommandTokenSource struct {
	argv []string
	memo *memo
}

// NewCommandTokenSource runs argv[0] with argv[1:]; no shell is involved.
func NewCommandTokenSource(argv ...string) *CommandTokenSource {
	s := &CommandTokenSource{argv: argv}
	s.memo = &memo{now: time.Now, load: s.load}
	return s
}

// Token returns the cached token or runs the command.
func (s *CommandTokenSource) Token(ctx context.Context) (string, error) { return s.memo.token(ctx) }

// Invalidate drops failed from the cache, so the next Token runs the command.
func (s *CommandTokenSource) Invalidate(_ context.Context, failed string) error {
	s.memo.invalidate(failed)
	return nil
}

func (s *CommandTokenSource) load(ctx context.Context) (tokenEntry, error) {
	if len(s.argv) == 0 {
		return tokenEntry{}, &ConfigError{Reason: "token command is empty"}
	}
	// Only argv[0] is named: arguments may carry credentials.
	src := "command " + s.argv[0]
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, s.argv[0], s.argv[1:]...)
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return tokenEntry{}, &TokenUnavailableError{Source: src, Err: err}
	}
	return externalEntry(src, out.Bytes())
}

// externalEntry caches an external token for at most a minute, and never
// past half its announced lifetime.
func externalEntry(src string, body []byte) (tokenEntry, error) {
	tok, ttl, err := parseExternalToken(body)
	if err != nil {
		return tokenEntry{}, &TokenUnavailableError{Source: src, Err: err}
	}
	now := time.Now()
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	return tokenEntry{token: tok, expiresAt: now.Add(ttl), refreshAt: now.Add(min(time.Minute, ttl/2))}, nil
}

// parseExternalToken reads a raw token or a JSON object holding one.
func parseExternalToken(b []byte) (string, time.Duration, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var v struct {
			AccessToken     string `json:"access_token"`
			AuthorizerToken string `json:"authorizer_access_token"`
			ExpiresIn       int    `json:"expires_in"`
			ErrCode         int    `json:"errcode"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return "", 0, errors.New("token JSON does not parse")
		}
		if v.ErrCode != 0 {
			return "", 0, fmt.Errorf("token service returned errcode %d", v.ErrCode)
		}
		b = []byte(cmp.Or(v.AccessToken, v.AuthorizerToken))
		return checkToken(string(b), time.Duration(v.ExpiresIn)*time.Second)
	}
	return checkToken(string(b), 0)
}

func checkToken(tok string, ttl time.Duration) (string, time.Duration, error) {
	if tok == "" {
		return "", 0, errors.New("empty token")
	}
	if strings.IndexFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", 0, errors.New("token contains spaces or control characters")
	}
	return tok, ttl, nil
}
