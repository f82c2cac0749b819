package wechattest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"time"
)

// apiPaths are the WeChat API paths the fake serves (every route in New but
// the /_fake/ ones). Requests to them are recorded and counted per app and
// day; quota/get knows exactly these cgi_paths.
var apiPaths = map[string]bool{
	"/cgi-bin/token":                  true,
	"/cgi-bin/stable_token":           true,
	"/wxa/getwxacodeunlimit":          true,
	"/wxa/getwxacode":                 true,
	"/cgi-bin/wxaapp/createwxaqrcode": true,
	pathQuota:                         true,
	pathRID:                           true,
}

// Limits of the rid log: WeChat answers for rids up to 7 days old; the fake
// also forgets all but the newest ridCapacity, so a long benchmark full of
// errors stays bounded.
const (
	ridTTL      = 7 * 24 * time.Hour
	ridCapacity = 10000
	// maxRecordedBody bounds request_body in the rid log.
	maxRecordedBody = 4 << 10
)

// call is one API request while it is served: what a rid lookup returns
// later, and who owns it.
type call struct {
	start    time.Time // wall clock, for cost_in_ms
	invoked  time.Time // the fake's clock
	appid    string    // owner: the token's app, or the known appid a token fetch names; "" = nobody
	rawQuery string    // as received, credentials included: never stored
	body     []byte    // at most maxRecordedBody bytes
	clientIP string
}

// callWriter carries the call to writeError, so every error path records
// its rid without each handler passing the request along.
type callWriter struct {
	http.ResponseWriter
	call *call
}

// Unwrap lets http.ResponseController reach the connection.
func (cw *callWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }

// Hijack keeps the reset-connection fault working behind the wrapper.
func (cw *callWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(cw.ResponseWriter).Hijack()
}

// begin reads r's body (handing the same bytes on to the handler), counts
// the request for its app's daily usage and returns w wrapped with the call.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	c := &call{start: time.Now(), rawQuery: r.URL.RawQuery, body: body[:min(len(body), maxRecordedBody)]}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		c.clientIP = host
	}
	s.mu.Lock()
	c.invoked = s.opts.Now()
	c.appid = s.owner(r, body)
	if c.appid != "" {
		s.usage.add(c.appid, r.URL.Path, c.invoked)
	}
	s.mu.Unlock()
	return &callWriter{ResponseWriter: w, call: c}
}

// owner is the app a request belongs to: the app of its access token (even
// expired), else, for a token fetch, the appid it names if the fake knows
// it. s.mu must be held.
func (s *Server) owner(r *http.Request, body []byte) string {
	q := r.URL.Query()
	if tok := q.Get("access_token"); tok != "" {
		if ti := s.tokens[tok]; ti != nil {
			return ti.appid
		}
		return ""
	}
	appid := q.Get("appid")
	if appid == "" {
		var b struct {
			AppID string `json:"appid"`
		}
		_ = json.Unmarshal(body, &b)
		appid = b.AppID
	}
	if _, known := s.opts.Apps[appid]; known {
		return appid
	}
	return ""
}

// ridRequest is the "request" object of a rid/get reply.
type ridRequest struct {
	InvokeTime   int64  `json:"invoke_time"`
	CostInMS     int64  `json:"cost_in_ms"`
	RequestURL   string `json:"request_url"`
	RequestBody  string `json:"request_body"`
	ResponseBody string `json:"response_body"`
	ClientIP     string `json:"client_ip"`
}

type ridRecord struct {
	appid   string
	invoked time.Time
	req     ridRequest
}

// remember stores the call behind an error reply under its rid. Credentials
// in the query and the body are replaced by REDACTED first: unlike WeChat,
// the fake never hands a token or secret back.
func (s *Server) remember(c *call, rid string, reply any) {
	resp, _ := json.Marshal(reply)
	rec := ridRecord{appid: c.appid, invoked: c.invoked, req: ridRequest{
		InvokeTime:   c.invoked.Unix(),
		CostInMS:     time.Since(c.start).Milliseconds(),
		RequestURL:   redactCredentials(c.rawQuery),
		RequestBody:  redactCredentials(string(c.body)),
		ResponseBody: string(resp),
		ClientIP:     c.clientIP,
	}}
	s.mu.Lock()
	s.rids.add(rid, rec)
	s.mu.Unlock()
}

// credentialNames are the parameters whose values never leave the fake.
const credentialNames = `access_token|authorizer_access_token|component_access_token|secret|appsecret|component_appsecret`

var (
	// credentialParam is name=value in a query or form body.
	credentialParam = regexp.MustCompile(`(?i)((?:^|[?&;\s"'])(?:` + credentialNames + `)=)[^&#\s"']*`)
	// credentialField is "name": "value" in a JSON body.
	credentialField = regexp.MustCompile(`(?i)("(?:` + credentialNames + `)"\s*:\s*")(?:[^"\\]|\\.)*"`)
)

// redactCredentials replaces the values of credential parameters and JSON
// fields in s with REDACTED.
func redactCredentials(s string) string {
	s = credentialParam.ReplaceAllString(s, "${1}REDACTED")
	return credentialField.ReplaceAllString(s, `${1}REDACTED"`)
}

// ridLog maps the newest rids to their records, forgetting the oldest
// beyond its capacity.
type ridLog struct {
	capacity int
	order    []string // ring of rids, oldest at next once full
	next     int
	byRID    map[string]ridRecord
}

func newRIDLog(capacity int) *ridLog {
	return &ridLog{capacity: capacity, byRID: map[string]ridRecord{}}
}

func (l *ridLog) add(rid string, rec ridRecord) {
	if _, dup := l.byRID[rid]; dup {
		l.byRID[rid] = rec
		return
	}
	if len(l.order) < l.capacity {
		l.order = append(l.order, rid)
	} else {
		delete(l.byRID, l.order[l.next])
		l.order[l.next] = rid
		l.next = (l.next + 1) % l.capacity
	}
	l.byRID[rid] = rec
}

func (l *ridLog) get(rid string) (ridRecord, bool) {
	rec, ok := l.byRID[rid]
	return rec, ok
}

// beijing is WeChat's day boundary for daily quotas (UTC+8, no DST).
var beijing = time.FixedZone("CST", 8*3600)

type usageKey struct{ appid, path string }

// usage counts today's requests per app and path; it starts again at
// midnight Beijing time.
type usage struct {
	day string
	n   map[usageKey]int64
}

func (u *usage) roll(now time.Time) {
	if day := now.In(beijing).Format(time.DateOnly); day != u.day || u.n == nil {
		u.day, u.n = day, map[usageKey]int64{}
	}
}

func (u *usage) add(appid, path string, now time.Time) {
	u.roll(now)
	u.n[usageKey{appid, path}]++
}

func (u *usage) get(appid, path string, now time.Time) int64 {
	u.roll(now)
	return u.n[usageKey{appid, path}]
}
