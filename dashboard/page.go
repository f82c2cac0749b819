package dashboard

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wxacode/wxacode/jobs/runs"
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"num":   formatNum,
	"secs":  func(s *Seconds) string { return strconv.FormatFloat(time.Duration(*s).Seconds(), 'f', 0, 64) },
	"rate":  formatRate,
	"pct":   func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"when":  formatTime,
	"until": func(t, now time.Time) string { return t.Sub(now).Round(time.Second).String() },
	"dur":   func(d time.Duration) string { return d.Round(time.Second).String() },
	"isWeb": func(u string) bool { return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") },
	"head":  func(fs []File, n int) []File { return fs[:min(len(fs), n)] },
	"rest":  func(fs []File, n int) int { return max(0, len(fs)-n) },
}).Parse(pageHTML))

// pageData is what page.html renders.
type pageData struct {
	Snapshot
	Refresh  int // seconds
	Writable bool
	// Run is set on a run's own page; the apps are then left out.
	Run *RunStatus
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	snap, ok := s.collect(w, r, false)
	if ok {
		s.render(w, r, pageData{Snapshot: snap})
	}
}

func (s *Server) serveRunPage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	rs, err := s.CollectRun(ctx, r.PathValue("id"))
	switch {
	case errors.Is(err, runs.ErrNoRun):
		http.Error(w, "no such run", http.StatusNotFound)
	case err != nil:
		s.fail(w, r, err, false)
	default:
		s.render(w, r, pageData{Snapshot: Snapshot{At: time.Now().UTC(), Runs: []RunStatus{rs}}, Run: &rs})
	}
}

// render executes the template into a buffer first, so a failure halfway
// gives a 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Refresh = max(1, int(s.cfg.Refresh.Round(time.Second)/time.Second))
	d.Writable = s.cfg.Writable
	var buf bytes.Buffer
	if err := s.page.Execute(&buf, d); err != nil {
		s.cfg.Logger.Error("dashboard: rendering the page", "path", r.URL.Path, "err", redactErr(err))
		http.Error(w, "rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = buf.WriteTo(w)
}

// formatNum groups an integer's digits by thousands: 1234567 -> "1,234,567".
func formatNum(v any) string {
	var n int64
	switch v := v.(type) {
	case int:
		n = int64(v)
	case int64:
		n = v
	default:
		return "?"
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// formatRate shows a rate with one decimal at most, digits grouped:
// 4800 -> "4,800", 3.96 -> "4", 0.25 -> "0.3".
func formatRate(f float64) string {
	f = math.Round(f*10) / 10
	whole := math.Trunc(f)
	s := formatNum(int64(whole))
	if frac := f - whole; frac >= 0.05 {
		s += strconv.FormatFloat(frac, 'f', 1, 64)[1:]
	}
	return s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
