package wechattest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// TokenPrefix starts every token the fake issues, so a test can look for
// leaked tokens in logs.
const TokenPrefix = "wxfake_"

const tokenRandLen = 48 // base64url characters after the prefix

type tokenInfo struct {
	appid     string
	expiresAt time.Time
	revoked   bool // rejected with 40001 but kept (RevokeTokensKeepStable)
}

// stableState is one appid's stable_token: one current token, rotated in
// its last TokenOverlap, and the force_refresh bookkeeping.
type stableState struct {
	cur       string
	lastForce time.Time
	forceDay  string
	forces    int
}

func newToken() string {
	var b [tokenRandLen * 3 / 4]byte
	_, _ = rand.Read(b[:])
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func wellFormed(tok string) bool {
	rest, ok := strings.CutPrefix(tok, TokenPrefix)
	if !ok || len(rest) != tokenRandLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

// checkToken returns the token's appid, or the errcode WeChat gives:
// 41001 missing, 40014 malformed, 40001 unknown or revoked, 42001 expired.
// s.mu must be held.
func (s *Server) checkToken(tok string, now time.Time) (string, int) {
	switch ti := s.tokens[tok]; {
	case tok == "":
		return "", 41001
	case !wellFormed(tok):
		return "", 40014
	case ti == nil, ti.revoked:
		return "", 40001
	case !now.Before(ti.expiresAt):
		return ti.appid, 42001
	default:
		return ti.appid, 0
	}
}

// issue creates a token for appid. s.mu must be held.
func (s *Server) issue(appid string, now time.Time) string {
	if len(s.tokens) > 4096 {
		s.pruneTokens(now)
	}
	tok := newToken()
	s.tokens[tok] = &tokenInfo{appid: appid, expiresAt: now.Add(s.opts.TokenTTL)}
	s.stats.TokensIssued++
	return tok
}

func (s *Server) pruneTokens(now time.Time) {
	for tok, ti := range s.tokens {
		if now.Sub(ti.expiresAt) > time.Hour {
			delete(s.tokens, tok)
		}
	}
}

// checkApp validates credentials; 0 means good. s.mu must be held.
func (s *Server) checkApp(grant, appid, secret string) int {
	want, known := s.opts.Apps[appid]
	switch {
	case grant != "client_credential":
		return 40002
	case appid == "":
		return 41002
	case secret == "":
		return 41004
	case !known:
		return 40013
	case secret != want:
		return 40125
	}
	return s.opts.TokenErrors[appid]
}

func (s *Server) writeToken(w http.ResponseWriter, tok string, expiresIn time.Duration) {
	writeJSON(w, map[string]any{"access_token": tok, "expires_in": int(expiresIn / time.Second)})
}

// handleToken is cgi-bin/token: a new token per call; the previous one
// stays valid for TokenOverlap.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appid := q.Get("appid")
	s.mu.Lock()
	s.stats.TokenFetches["/cgi-bin/token"]++
	if code := s.checkApp(q.Get("grant_type"), appid, q.Get("secret")); code != 0 {
		s.mu.Unlock()
		s.writeError(w, code)
		return
	}
	now := s.opts.Now()
	if prev := s.tokens[s.lastCC[appid]]; prev != nil {
		prev.expiresAt = minTime(prev.expiresAt, now.Add(s.opts.TokenOverlap))
	}
	tok := s.issue(appid, now)
	s.lastCC[appid] = tok
	ttl := s.opts.TokenTTL
	s.mu.Unlock()
	s.writeToken(w, tok, ttl)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

type stableRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// handleStableToken is cgi-bin/stable_token: POST JSON only (another
// Content-Type gets 47001); normal mode
// returns the same token while it has more than TokenOverlap left.
func (s *Server) handleStableToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.TokenFetches["/cgi-bin/stable_token"]++
	s.mu.Unlock()
	if r.Method != http.MethodPost {
		s.writeError(w, 43002)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	var req stableRequest
	if len(strings.TrimSpace(string(body))) == 0 {
		s.writeError(w, 44002)
		return
	}
	if !isJSON(r.Header.Get("Content-Type")) || json.Unmarshal(body, &req) != nil {
		s.writeError(w, 47001)
		return
	}
	tok, left, code := s.stableToken(req)
	if code != 0 {
		s.writeError(w, code)
		return
	}
	s.writeToken(w, tok, left)
}

func (s *Server) stableToken(req stableRequest) (string, time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.checkApp(req.GrantType, req.AppID, req.Secret); code != 0 {
		return "", 0, code
	}
	now := s.opts.Now()
	st := s.stable[req.AppID]
	if st == nil {
		st = &stableState{}
		s.stable[req.AppID] = st
	}
	if req.ForceRefresh {
		if code := s.force(st, now); code != 0 {
			return "", 0, code
		}
	}
	cur := s.tokens[st.cur]
	if cur == nil || cur.expiresAt.Sub(now) <= s.opts.TokenOverlap {
		st.cur = s.issue(req.AppID, now) // the old one lives out its lifetime
		cur = s.tokens[st.cur]
	}
	return st.cur, cur.expiresAt.Sub(now), 0
}

// force applies force_refresh: at most 20 a day (45009 beyond), and none
// within 30 s of the previous one (the current token is kept).
func (s *Server) force(st *stableState, now time.Time) int {
	if day := now.Format(time.DateOnly); day != st.forceDay {
		st.forceDay, st.forces = day, 0
	}
	if st.forces >= 20 {
		return 45009
	}
	if !st.lastForce.IsZero() && now.Sub(st.lastForce) < 30*time.Second {
		return 0
	}
	st.forces++
	st.lastForce = now
	s.stats.ForcedRefreshes++
	delete(s.tokens, st.cur)
	st.cur = ""
	return 0
}
