package wechattest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Server is the fake WeChat API; it is an http.Handler and safe for
// concurrent use.
type Server struct {
	mux *http.ServeMux

	mu       sync.Mutex
	opts     Options // defaults applied
	rng      *rand.Rand
	tokens   map[string]*tokenInfo
	stable   map[string]*stableState
	lastCC   map[string]string // appid -> newest cgi-bin/token token
	arrivals map[string]*window
	limited  map[string]*window
	fixed    map[string]*fixedCount
	bursts   map[string]int
	acUsed   map[string]map[string]bool // appid -> distinct A/C bodies
	rids     *ridLog                    // errors' rids, for rid/get
	usage    usage                      // today's requests per app and path, for quota/get
	stats    Stats
	rf       rateFaults // schedule, isolated refusals, per-second record
}

// New returns a fake configured by opts (zero fields take their defaults).
func New(opts Options) *Server {
	o := opts.clone().withDefaults()
	s := &Server{
		opts:     o,
		rng:      rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed)),
		tokens:   map[string]*tokenInfo{},
		stable:   map[string]*stableState{},
		lastCC:   map[string]string{},
		arrivals: map[string]*window{},
		limited:  map[string]*window{},
		fixed:    map[string]*fixedCount{},
		bursts:   map[string]int{},
		acUsed:   map[string]map[string]bool{},
		rids:     newRIDLog(ridCapacity),
		stats:    newStats(),
		rf:       newRateFaults(o.Now()),
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/cgi-bin/token", s.handleToken)
	s.mux.HandleFunc("/cgi-bin/stable_token", s.handleStableToken)
	s.mux.HandleFunc("/wxa/getwxacodeunlimit", s.codeHandler(endpointB))
	s.mux.HandleFunc("/wxa/getwxacode", s.codeHandler(endpointA))
	s.mux.HandleFunc("/cgi-bin/wxaapp/createwxaqrcode", s.codeHandler(endpointC))
	s.mux.HandleFunc(pathQuota, s.handleQuota)
	s.mux.HandleFunc(pathRID, s.handleRID)
	s.mux.HandleFunc("GET /_fake/stats", s.handleStats)
	s.mux.HandleFunc("POST /_fake/config", s.handleConfig)
	s.mux.HandleFunc("POST /_fake/revoke", s.handleRevoke)
	s.mux.HandleFunc("POST /_fake/burst", s.handleBurst)
	s.mux.HandleFunc("GET /_fake/seconds", s.handleSeconds)
	return s
}

// ServeHTTP serves the fake API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Endpoints[r.URL.Path]++
	s.mu.Unlock()
	if apiPaths[r.URL.Path] {
		w = s.begin(w, r)
	}
	s.mux.ServeHTTP(w, r)
}

// Update changes the options at run time (rate limit, faults, pages, ...);
// zero fields set by fn take their defaults. Counters and tokens are kept.
func (s *Server) Update(fn func(*Options)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opts.clone() // fn never writes into what a running request reads
	fn(&o)
	s.opts = o.withDefaults()
}

// Options returns the current options, defaults applied.
func (s *Server) Options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts
}

// RevokeTokens makes every current token of appid invalid: calls with them
// get 40001, and the next stable_token fetch returns a new token (with
// Options.RevokeKeepsStable: the revoked one, as RevokeTokensKeepStable).
func (s *Server) RevokeTokens(appid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.RevokeKeepsStable {
		s.revokeKeepStable(appid)
		return
	}
	for tok, ti := range s.tokens {
		if ti.appid == appid {
			delete(s.tokens, tok)
		}
	}
	delete(s.stable, appid)
	delete(s.lastCC, appid)
}

// RevokeTokensKeepStable makes every current token of appid invalid (40001)
// but lets stable_token keep returning the revoked token until it would
// rotate it: a refetch does not heal the 40001.
func (s *Server) RevokeTokensKeepStable(appid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeKeepStable(appid)
}

// revokeKeepStable marks the tokens revoked, keeping them. s.mu must be held.
func (s *Server) revokeKeepStable(appid string) {
	for _, ti := range s.tokens {
		if ti.appid == appid {
			ti.revoked = true
		}
	}
}

// BurstRateLimit makes the next n interface B calls of appid get 45009,
// whatever the window says.
func (s *Server) BurstRateLimit(appid string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bursts[appid] += n
}

// errmsgs are WeChat's messages for the codes the fake returns.
var errmsgs = map[int]string{
	-1:    "system error",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40013: "invalid appid",
	40014: "invalid access_token",
	40097: "invalid args",
	40125: "invalid appsecret",
	40129: "invalid scene",
	40159: "invalid length for path, or the data is not json string",
	40164: "invalid ip, not in whitelist",
	40169: "invalid length for scene, or the data is not json string",
	40189: "invalid width",
	40243: "AppSecret已被冻结，请登录MP解冻后再次调用。",
	41001: "access_token missing",
	41002: "appid missing",
	41004: "appsecret missing",
	41030: "invalid page",
	42001: "access_token expired",
	43002: "require POST method",
	44002: "empty post data",
	45009: "reach max api daily quota limit",
	45029: "qrcode count out of limit",
	47001: "data format error",
	48001: "api unauthorized",
	48004: "api forbidden for irregularities",
	50002: "user limited",
	61007: "api is unauthorized to component",
	76001: "rid not found",
	76002: "rid is error",
	76003: "could not query this rid,no permission",
	76021: "cgi_path not found, please check",
	76022: "could not use this cgi_path, no permission",
	85096: "not allow include scancode_time field",
}

// writeError sends WeChat's error shape: HTTP 200, the non-standard
// "encoding=utf-8" content type, and a rid suffix on errmsg. The request
// behind it is kept for rid/get when w comes from ServeHTTP.
func (s *Server) writeError(w http.ResponseWriter, code int) {
	s.mu.Lock()
	s.stats.Errcodes[code]++
	rid := fmt.Sprintf("%08x-%08x-%08x", s.rng.Uint32(), s.rng.Uint32(), s.rng.Uint32())
	s.mu.Unlock()
	msg, ok := errmsgs[code]
	if !ok {
		msg = "fake error"
	}
	reply := map[string]any{"errcode": code, "errmsg": msg + " rid: " + rid}
	writeJSON(w, reply)
	if cw, ok := w.(*callWriter); ok {
		s.remember(cw.call, rid, reply)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.Now()
}
