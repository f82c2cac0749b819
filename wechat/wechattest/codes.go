package wechattest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

type endpoint int

const (
	endpointB endpoint = iota // /wxa/getwxacodeunlimit
	endpointA                 // /wxa/getwxacode
	endpointC                 // /cgi-bin/wxaapp/createwxaqrcode
)

// codeParams is a validated code request.
type codeParams struct {
	content Content
	width   int
	hyaline bool
	rgb     [3]int
}

func (s *Server) codeHandler(ep endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serveCode(w, r, ep) }
}

// serveCode checks the token, counts the call on arrival (rate limit),
// applies latency and faults, then validates the body and sends an image.
func (s *Server) serveCode(w http.ResponseWriter, r *http.Request, ep endpoint) {
	s.mu.Lock()
	now := s.opts.Now()
	appid, code := s.checkToken(r.URL.Query().Get("access_token"), now)
	s.stats.Calls[appid]++
	if code == 0 && ep == endpointB {
		code = s.admitB(appid, now)
	}
	if code == 0 {
		code = s.opts.CodeErrors[appid]
	}
	f, delay, opts := s.pickFault(), s.pickLatency(), s.opts
	s.mu.Unlock()

	sleep(r.Context(), delay)
	if code == 0 && r.Method != http.MethodPost {
		// 43002 "require POST method"
		code = 43002
	}
	if code != 0 {
		s.writeError(w, code)
		return
	}
	if s.injectEarly(w, f) {
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	p, numUsed, code := s.parse(ep, appid, body, r.Header.Get("Content-Type"), opts)
	if code != 0 {
		s.writeError(w, code)
		return
	}
	s.writeImage(w, p, numUsed, f, ep)
}

// isJSON reports whether a request's Content-Type is application/json (any
// parameters): WeChat takes no form posts, and a body sent without the JSON
// type has been answered with 47001 (spec §1.1).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// injectEarly applies the faults that replace the whole response.
func (s *Server) injectEarly(w http.ResponseWriter, f fault) bool {
	switch f {
	case faultReset:
		s.countFault(f)
		resetConn(w)
	case faultBadGateway:
		s.countFault(f)
		writeBadGateway(w)
	case faultSystemError:
		s.countFault(f)
		s.writeError(w, -1)
	default:
		return false
	}
	return true
}

// parse validates a body for ep and, for A and C, spends the budget.
func (s *Server) parse(ep endpoint, appid string, body []byte, contentType string, opts Options) (codeParams, int, int) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return codeParams{}, 0, 44002
	}
	if !isJSON(contentType) {
		return codeParams{}, 0, 47001 // form posts are not supported (spec §1.1)
	}
	var f fields
	if json.Unmarshal(body, &f) != nil || f == nil {
		return codeParams{}, 0, 47001
	}
	if _, ok := f["access_token"]; ok {
		return codeParams{}, 0, 47001 // observed: a token in the body is refused
	}
	var p codeParams
	var code int
	switch ep {
	case endpointB:
		p, code = parseB(f, opts)
	case endpointA:
		p, code = parseA(f)
	default:
		p, code = parseC(f, opts)
	}
	if code != 0 {
		return p, 0, code
	}
	p.content.AppID = appid
	if ep == endpointB {
		return p, 0, 0
	}
	used, code := s.spendAC(appid, string(body), opts.ACBudget)
	return p, used, code
}

// spendAC counts a distinct A/C body against the lifetime budget; identical
// bodies count once. It returns the number used, or 45029.
func (s *Server) spendAC(appid, key string, budget int) (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	used := s.acUsed[appid]
	if used == nil {
		used = map[string]bool{}
		s.acUsed[appid] = used
	}
	if !used[key] {
		if len(used) >= budget {
			return len(used), 45029
		}
		used[key] = true
	}
	return len(used), 0
}

// style reads the drawing fields shared by A and B: width (default 430),
// auto_color, line_color, is_hyaline.
func style(f fields) (codeParams, int) {
	w, present, ok := f.number("width")
	auto, _, ok2 := f.boolean("auto_color")
	hy, _, ok3 := f.boolean("is_hyaline")
	if !ok || !ok2 || !ok3 {
		return codeParams{}, 47001
	}
	if !present {
		w = 430
	}
	rgb, _, code := f.color("line_color")
	if auto {
		rgb = [3]int{}
	}
	return codeParams{width: w, hyaline: hy, rgb: rgb}, code
}

func envCode(f fields) int {
	env, present, ok := f.str("env_version")
	switch {
	case !ok:
		return 47001
	case present && env != "release" && env != "trial" && env != "develop":
		return 40097
	}
	return 0
}

const sceneExtra = "!#$&'()*+,/:;=?@-._~"

func sceneOK(scene string) bool {
	for _, r := range scene {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || strings.ContainsRune(sceneExtra, r)) {
			return false
		}
	}
	return true
}

// parseB applies interface B's rules; a width outside 280-1280 gets 40189
// (see Options.ClampWidth).
func parseB(f fields, opts Options) (codeParams, int) {
	p, code := style(f)
	scene, present, ok := f.str("scene")
	page, _, ok2 := f.str("page")
	check, checkSet, ok3 := f.boolean("check_path")
	if !ok || !ok2 || !ok3 || code == 47001 {
		return p, 47001
	}
	switch n := utf8.RuneCountInString(scene); {
	case !present || n == 0 || n > 32:
		return p, 40169
	case !sceneOK(scene):
		return p, 40129
	}
	if c := firstCode(pageCode(page, check || !checkSet, opts.Pages), envCode(f), code, widthCode(&p.width, opts)); c != 0 {
		return p, c
	}
	p.content.Page, p.content.Scene = page, scene
	return p, 0
}

func pageCode(page string, checkPath bool, published []string) int {
	switch {
	case strings.Contains(page, "scancode_time"):
		return 85096
	case strings.HasPrefix(page, "/"), strings.Contains(page, "?"):
		return 41030
	case checkPath && page != "" && !slices.Contains(published, "*") && !slices.Contains(published, page):
		return 41030
	}
	return 0
}

func firstCode(codes ...int) int {
	for _, c := range codes {
		if c != 0 {
			return c
		}
	}
	return 0
}

// parseA applies interface A's rules: path 1-1024 characters (40159), width
// 280-1280 (40189).
func parseA(f fields) (codeParams, int) {
	p, code := style(f)
	path, _, ok := f.str("path")
	if !ok || code == 47001 {
		return p, 47001
	}
	switch n := utf8.RuneCountInString(path); {
	case n == 0 || n > 1024:
		return p, 40159
	case strings.Contains(path, "scancode_time"):
		return p, 85096
	case widthCode(&p.width, Options{}) != 0:
		return p, 40189
	}
	if c := firstCode(envCode(f), code); c != 0 {
		return p, c
	}
	p.content.Page = path
	return p, 0
}

// widthCode is 40189 for a width outside 280-1280, or with
// opts.ClampWidth 0 after moving *w to the nearest bound.
func widthCode(w *int, opts Options) int {
	switch {
	case *w >= 280 && *w <= 1280:
		return 0
	case opts.ClampWidth:
		*w = min(max(*w, 280), 1280)
		return 0
	}
	return 40189
}

// parseC applies interface C's rules: path 1-128 bytes (40159), width
// 280-1280 (40189, see Options.ClampWidth), always a plain JPEG.
func parseC(f fields, opts Options) (codeParams, int) {
	path, _, ok := f.str("path")
	w, present, ok2 := f.number("width")
	if !ok || !ok2 {
		return codeParams{}, 47001
	}
	switch {
	case len(path) == 0 || len(path) > 128:
		return codeParams{}, 40159
	case strings.Contains(path, "scancode_time"):
		return codeParams{}, 85096
	}
	if !present {
		w = 430
	}
	if c := widthCode(&w, opts); c != 0 {
		return codeParams{}, c
	}
	return codeParams{content: Content{Page: path}, width: w}, 0
}

// trailer is what faultTrailing appends after an image's end marker.
const trailer = "\x00\x00\x00\x00trailing bytes after the end marker"

// writeImage renders the code and sends it labelled image/jpeg whatever
// its format; faultTruncate sends only the first half with matching
// framing, faultTrailing the whole image followed by a few bytes.
func (s *Server) writeImage(w http.ResponseWriter, p codeParams, numUsed int, f fault, ep endpoint) {
	data, err := Render(p.content, p.width, p.rgb, p.hyaline)
	if err != nil {
		s.writeError(w, -1)
		return
	}
	switch f {
	case faultTruncate:
		s.countFault(f)
		data = data[:len(data)/2]
	case faultTrailing:
		s.countFault(f)
		data = append(data, trailer...)
	}
	s.mu.Lock()
	s.stats.Images++
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if ep != endpointB {
		h.Set("Num-Used", strconv.Itoa(numUsed))
	}
	_, _ = w.Write(data)
}
