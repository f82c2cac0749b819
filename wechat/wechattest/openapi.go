package wechattest

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
)

// The openApi management endpoints (getApiQuota, getRidInfo).
const (
	pathQuota = "/cgi-bin/openapi/quota/get"
	pathRID   = "/cgi-bin/openapi/rid/get"
)

// openAPIAuth checks the token (41001, 40014, 40001, 42001), the method
// (43002) and Options.OpenAPIErrors, and returns the caller's appid.
func (s *Server) openAPIAuth(r *http.Request) (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	appid, code := s.checkToken(r.URL.Query().Get("access_token"), s.opts.Now())
	switch {
	case code != 0:
		return appid, code
	case r.Method != http.MethodPost:
		return appid, 43002
	}
	return appid, s.opts.OpenAPIErrors[appid]
}

// readFields reads a JSON object body: 44002 when empty, 47001 when not an
// object.
func readFields(r *http.Request) (fields, int) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, 44002
	}
	var f fields
	if json.Unmarshal(body, &f) != nil || f == nil {
		return nil, 47001
	}
	return f, 0
}

type quotaCounts struct {
	DailyLimit int64 `json:"daily_limit"`
	Used       int64 `json:"used"`
	Remain     int64 `json:"remain"`
}

type rateLimit struct {
	CallCount     int `json:"call_count"`
	RefreshSecond int `json:"refresh_second"`
}

type quotaReply struct {
	ErrCode            int         `json:"errcode"`
	ErrMsg             string      `json:"errmsg"`
	Quota              quotaCounts `json:"quota"`
	RateLimit          *rateLimit  `json:"rate_limit,omitempty"`
	ComponentRateLimit *rateLimit  `json:"component_rate_limit,omitempty"`
}

// handleQuota is getApiQuota: today's calls of cgi_path by the caller's app
// against Options.DailyLimit and, for interface B, the configured rate
// limit. Errors: 76022 for a /sns/ path, 76003 for a path without its
// leading '/' (or with the host in front, as the docs warn), 76021 for a
// path the fake does not serve.
func (s *Server) handleQuota(w http.ResponseWriter, r *http.Request) {
	appid, code := s.openAPIAuth(r)
	var f fields
	if code == 0 {
		f, code = readFields(r)
	}
	var path string
	if code == 0 {
		path, code = cgiPath(f)
	}
	if code != 0 {
		s.writeError(w, code)
		return
	}
	writeJSON(w, s.quota(appid, path))
}

func cgiPath(f fields) (string, int) {
	p, _, ok := f.str("cgi_path")
	switch {
	case !ok:
		return "", 47001
	case strings.Contains(p, "/sns/"):
		return "", 76022
	case p != "" && !strings.HasPrefix(p, "/"):
		return "", 76003
	case !apiPaths[p]:
		return "", 76021
	}
	return p, 0
}

func (s *Server) quota(appid, path string) quotaReply {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opts
	used := s.usage.get(appid, path, o.Now())
	limit := int64(o.DailyLimit)
	rep := quotaReply{ErrMsg: "ok", Quota: quotaCounts{DailyLimit: limit, Used: used, Remain: max(limit-used, 0)}}
	if path == "/wxa/getwxacodeunlimit" && o.RateLimit > 0 {
		// Whole seconds, rounded up: the reported rate is never above the real one.
		rl := &rateLimit{CallCount: o.RateLimit, RefreshSecond: int(math.Ceil(o.RateWindow.Seconds()))}
		rep.RateLimit, rep.ComponentRateLimit = rl, rl // the fake meters every caller alike
	}
	return rep
}

// ridFormat is the shape of the rids the fake (and WeChat) issue.
var ridFormat = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

// handleRID is getRidInfo: the request behind a rid the fake issued to the
// caller's app. Errors: 76002 for an empty or malformed rid, 76001 for one
// never issued, forgotten or older than 7 days, 76003 for another app's rid
// (or one no app owns, e.g. from a call with an unknown token).
func (s *Server) handleRID(w http.ResponseWriter, r *http.Request) {
	appid, code := s.openAPIAuth(r)
	var f fields
	if code == 0 {
		f, code = readFields(r)
	}
	var rec ridRecord
	if code == 0 {
		rec, code = s.lookupRID(appid, f)
	}
	if code != 0 {
		s.writeError(w, code)
		return
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "request": rec.req})
}

func (s *Server) lookupRID(appid string, f fields) (ridRecord, int) {
	rid, _, ok := f.str("rid")
	if !ok {
		return ridRecord{}, 47001
	}
	if !ridFormat.MatchString(rid) {
		return ridRecord{}, 76002
	}
	s.mu.Lock()
	rec, found := s.rids.get(rid)
	now := s.opts.Now()
	s.mu.Unlock()
	switch {
	case !found || now.Sub(rec.invoked) > ridTTL:
		return ridRecord{}, 76001
	case rec.appid != appid:
		return ridRecord{}, 76003
	}
	return rec, 0
}
