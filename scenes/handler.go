package scenes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// HandlerConfig tunes the resolver. The zero value is ready to use.
type HandlerConfig struct {
	// MaxAge is the Cache-Control max-age of a found scene. A mapping never
	// changes once issued, so browsers, the mini-program's HTTP layer and
	// CDNs may keep it. Zero: 24h. Negative: "no-cache" (revalidate with
	// the ETag every time).
	MaxAge time.Duration
	// RatePerSecond is each client's sustained request rate. Zero or
	// negative: 20. math.Inf(1) turns limiting off.
	RatePerSecond float64
	// Burst is how many requests a client may make at once. Zero or
	// negative: 40.
	Burst int
	// MaxClients bounds how many clients' buckets are kept; the least
	// recently seen one is dropped when it is full. Zero or negative: 10,000
	// (a few MB).
	MaxClients int
	// TrustProxy limits by the last X-Forwarded-For entry instead of the
	// peer address. Set it only when the handler is reachable solely through
	// one reverse proxy (or load balancer) that appends that header: then
	// every peer address is the proxy's and would put all clients in one
	// bucket. Without such a proxy anyone can send the header, and would
	// pick a fresh bucket per request. Zero value: false.
	TrustProxy bool
	// RedisTimeout bounds the Redis lookup of one request: when Redis is
	// slow or down the request is answered 503 with Retry-After within it,
	// instead of holding a connection and a goroutine while Redis stalls.
	// Zero or negative: 1s.
	RedisTimeout time.Duration
	// Logger receives Redis errors (never params). Nil: slog.Default().
	Logger *slog.Logger
}

func (c HandlerConfig) withDefaults() HandlerConfig {
	if c.MaxAge == 0 {
		c.MaxAge = 24 * time.Hour
	}
	if c.RatePerSecond <= 0 {
		c.RatePerSecond = 20
	}
	if c.Burst <= 0 {
		c.Burst = 40
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 10_000
	}
	if c.RedisTimeout <= 0 {
		c.RedisTimeout = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

const allowedMethods = "GET, HEAD, OPTIONS"

type handler struct {
	s       *Store
	cfg     HandlerConfig
	clients *clients
	cache   string // Cache-Control of a found scene
}

// Handler serves the params of a scene at GET (and HEAD) /s/{scene},
// relative to where it is mounted (use http.StripPrefix under a longer
// path). The mini-program passes decodeURIComponent(options.scene) through
// encodeURIComponent into the path; the path is unescaped exactly once.
//
// Answers, all JSON with Access-Control-Allow-Origin: * (the params are
// public by design: anyone holding the printed code can read them):
//   - 200 with the canonical params, a strong ETag and
//     Cache-Control: public, max-age=...; 304 when If-None-Match matches;
//   - 400 for a scene no store could issue, 404 for one never issued (not
//     cached: it may be issued later), 404 outside /s/;
//   - 405 with Allow for other methods (OPTIONS answers CORS preflights);
//   - 429 with Retry-After when the client is over its rate;
//   - 503 with Retry-After when Redis fails or does not answer within
//     RedisTimeout (logged, never detailed to the client).
//
// It needs no authentication, so every client address (see
// HandlerConfig.TrustProxy) has its own token bucket.
func Handler(s *Store, cfg HandlerConfig) http.Handler {
	cfg = cfg.withDefaults()
	cache := "no-cache"
	if cfg.MaxAge > 0 {
		cache = "public, max-age=" + strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10)
	}
	return &handler{
		s: s, cfg: cfg, cache: cache,
		clients: newClients(cfg.MaxClients, rate.Limit(cfg.RatePerSecond), cfg.Burst),
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if !h.allow(w, r) {
		return
	}
	scene, ok := strings.CutPrefix(r.URL.Path, "/s/")
	switch {
	case !ok:
		h.fail(w, r, http.StatusNotFound, "not found")
	case r.Method == http.MethodOptions:
		hdr.Set("Access-Control-Allow-Methods", "GET, HEAD")
		hdr.Set("Access-Control-Max-Age", "86400")
		hdr.Set("Allow", allowedMethods)
		w.WriteHeader(http.StatusNoContent)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		hdr.Set("Allow", allowedMethods)
		h.fail(w, r, http.StatusMethodNotAllowed, "method not allowed")
	default:
		h.serveScene(w, r, scene)
	}
}

func (h *handler) serveScene(w http.ResponseWriter, r *http.Request, scene string) {
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.RedisTimeout)
	defer cancel()
	params, err := h.s.Lookup(ctx, scene)
	switch {
	case errors.Is(err, ErrNotFound):
		h.fail(w, r, http.StatusNotFound, "scene not found")
		return
	case errors.As(err, new(*SceneError)):
		h.fail(w, r, http.StatusBadRequest, "malformed scene: 1 to 32 characters of [0-9A-Za-z]")
		return
	case err != nil && r.Context().Err() != nil:
		return // the client went away: nothing to answer, nothing wrong with Redis
	case err != nil:
		h.cfg.Logger.ErrorContext(r.Context(), "scenes: lookup failed", "scene", scene, "err", err)
		w.Header().Set("Retry-After", "1")
		h.fail(w, r, http.StatusServiceUnavailable, "temporarily unavailable")
		return
	}
	sum := sha256.Sum256(params)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	hdr := w.Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", h.cache)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(len(params)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(params)
	}
}

// allow takes a token from the client's bucket or answers 429.
func (h *handler) allow(w http.ResponseWriter, r *http.Request) bool {
	key, _ := clientKey(r, h.cfg.TrustProxy)
	lim := h.clients.limiter(key)
	now := time.Now()
	res := lim.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if res.OK() && delay == 0 {
		return true
	}
	res.CancelAt(now)
	secs := max(1, int64(math.Ceil(delay.Seconds())))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	h.fail(w, r, http.StatusTooManyRequests, "too many requests")
	return false
}

// fail writes a JSON error that no cache keeps.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	body := `{"error":` + strconv.Quote(msg) + "}\n"
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}

// etagMatch implements the weak comparison of If-None-Match (RFC 9110
// 13.1.2): "*" or any listed tag equal to etag, ignoring W/.
func etagMatch(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// Ready answers GET /readyz: 200 "ok" while Redis answers a PING within
// cfg.RedisTimeout, else 503 with Retry-After, so a load balancer takes a
// resolver whose Redis is slow or down out of rotation. GET /healthz (the
// process is up) is always 200.
func Ready(s *Store, cfg HandlerConfig) http.Handler {
	cfg = cfg.withDefaults()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), cfg.RedisTimeout)
		defer cancel()
		w.Header().Set("Cache-Control", "no-store")
		if err := s.rdb.Ping(ctx).Err(); err != nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "redis: not answering", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
