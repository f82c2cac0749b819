package deploy_test

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/metrics"
)

// matcher is one label matcher of a selector: label op "value".
type matcher struct{ label, op, value string }

// promRefs is what an expression refers to.
type promRefs struct {
	selectors map[string][]matcher // metric name -> its matchers
	grouping  []string             // labels of by, without, on, ignoring, group_left/right
	created   []string             // destination labels of label_replace
}

var (
	promFuncs = setOf("abs absent absent_over_time avg_over_time ceil changes clamp clamp_max clamp_min " +
		"count_over_time delta deriv exp floor histogram_quantile idelta increase irate label_join " +
		"label_replace last_over_time ln log2 log10 max_over_time min_over_time predict_linear " +
		"quantile_over_time rate resets round scalar sort sort_desc sqrt stddev_over_time sum_over_time " +
		"time timestamp vector")
	promAggs     = setOf("sum avg min max count group stddev stdvar topk bottomk quantile count_values")
	promGrouping = setOf("by without on ignoring group_left group_right")
	promWords    = setOf("and or unless bool offset")
	// templates of Grafana and prometheus-adapter, removed before lexing
	promTemplates = regexp.MustCompile(`<<\.[A-Za-z]+>>,?`)
)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// parsePromQL is a lexer-level reading of a PromQL expression: enough to
// find every metric name, label matcher and grouping label, and to reject
// unknown functions and stray characters. It is not a full parser.
func parsePromQL(expr string) (promRefs, error) {
	p := &promLexer{src: promTemplates.ReplaceAllString(expr, ""), refs: promRefs{selectors: map[string][]matcher{}}}
	return p.refs, p.run()
}

type promLexer struct {
	src       string
	i         int
	refs      promRefs
	depth     int
	lastIdent string // metric name just read, for a following {...}
	replaceAt []int  // paren depths of open label_replace calls
	strSeen   map[int]int
}

func (p *promLexer) run() error {
	p.strSeen = map[int]int{}
	for p.skipSpace(); p.i < len(p.src); p.skipSpace() {
		if err := p.token(); err != nil {
			return fmt.Errorf("%w at %d in %q", err, p.i, p.src)
		}
	}
	if p.depth != 0 {
		return fmt.Errorf("unbalanced parentheses in %q", p.src)
	}
	return nil
}

func (p *promLexer) token() error {
	c := p.src[p.i]
	metric := p.lastIdent
	p.lastIdent = ""
	switch {
	case c == '"' || c == '\'' || c == '`':
		s, err := p.str()
		if err != nil {
			return err
		}
		p.labelReplaceArg(s)
	case c == '[':
		return p.skipTo(']')
	case c == '{':
		return p.matchers(metric)
	case c == '(':
		p.depth++
		p.i++
	case c == ')':
		if n := len(p.replaceAt); n > 0 && p.replaceAt[n-1] == p.depth {
			p.replaceAt = p.replaceAt[:n-1]
		}
		p.depth--
		p.i++
		if p.depth < 0 {
			return fmt.Errorf("unbalanced )")
		}
	case isIdentStart(c):
		return p.ident()
	case c >= '0' && c <= '9' || c == '.':
		for p.i < len(p.src) && (isIdentChar(p.src[p.i]) || p.src[p.i] == '.') {
			p.i++
		}
	case strings.IndexByte("+-*/%^=!<>,", c) >= 0:
		p.i++
	default:
		return fmt.Errorf("unexpected %q", c)
	}
	return nil
}

func (p *promLexer) ident() error {
	start := p.i
	for p.i < len(p.src) && isIdentChar(p.src[p.i]) {
		p.i++
	}
	id := p.src[start:p.i]
	p.skipSpace()
	next := byte(0)
	if p.i < len(p.src) {
		next = p.src[p.i]
	}
	switch {
	case promGrouping[id]:
		if next == '(' {
			labels, err := p.list()
			p.refs.grouping = append(p.refs.grouping, labels...)
			return err
		}
	case promWords[id], promAggs[id]:
	case promFuncs[id]:
		if next != '(' {
			return fmt.Errorf("%s without (", id)
		}
		if id == "label_replace" {
			p.replaceAt = append(p.replaceAt, p.depth+1)
		}
	case next == '(':
		return fmt.Errorf("unknown function %s", id)
	default:
		if _, ok := p.refs.selectors[id]; !ok {
			p.refs.selectors[id] = nil
		}
		p.lastIdent = id
	}
	return nil
}

// labelReplaceArg records the destination label: the first string
// directly inside a label_replace call.
func (p *promLexer) labelReplaceArg(s string) {
	n := len(p.replaceAt)
	if n == 0 || p.replaceAt[n-1] != p.depth {
		return
	}
	if p.strSeen[p.depth] == 0 {
		p.refs.created = append(p.refs.created, s)
	}
	p.strSeen[p.depth]++
}

// list reads "(a, b, c)".
func (p *promLexer) list() ([]string, error) {
	end := strings.IndexByte(p.src[p.i:], ')')
	if end < 0 {
		return nil, fmt.Errorf("unclosed label list")
	}
	var out []string
	for _, l := range strings.Split(p.src[p.i+1:p.i+end], ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	p.i += end + 1
	return out, nil
}

// matchers reads {label op "value", ...} after metric ("" if none).
func (p *promLexer) matchers(metric string) error {
	p.i++
	for {
		p.skipSpace()
		if p.i >= len(p.src) {
			return fmt.Errorf("unclosed {")
		}
		if p.src[p.i] == '}' {
			p.i++
			return nil
		}
		start := p.i
		for p.i < len(p.src) && isIdentChar(p.src[p.i]) {
			p.i++
		}
		label := p.src[start:p.i]
		p.skipSpace()
		opStart := p.i
		for p.i < len(p.src) && strings.IndexByte("=!~", p.src[p.i]) >= 0 {
			p.i++
		}
		op := p.src[opStart:p.i]
		p.skipSpace()
		if label == "" || !map[string]bool{"=": true, "!=": true, "=~": true, "!~": true}[op] {
			return fmt.Errorf("bad matcher %q %q", label, op)
		}
		v, err := p.str()
		if err != nil {
			return err
		}
		p.refs.selectors[metric] = append(p.refs.selectors[metric], matcher{label, op, v})
		p.skipSpace()
		if p.i < len(p.src) && p.src[p.i] == ',' {
			p.i++
		}
	}
}

func (p *promLexer) str() (string, error) {
	q := p.src[p.i]
	var b strings.Builder
	for p.i++; p.i < len(p.src); p.i++ {
		c := p.src[p.i]
		switch {
		case c == '\\' && q != '`' && p.i+1 < len(p.src):
			p.i++
			b.WriteByte(p.src[p.i])
		case c == q:
			p.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unclosed string")
}

func (p *promLexer) skipTo(end byte) error {
	j := strings.IndexByte(p.src[p.i:], end)
	if j < 0 {
		return fmt.Errorf("unclosed %c", p.src[p.i])
	}
	p.i += j + 1
	return nil
}

func (p *promLexer) skipSpace() {
	for p.i < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.i]) >= 0 {
		p.i++
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// metricInfo is one series family the code registers.
type metricInfo struct {
	labels    map[string]bool
	histogram bool
}

var (
	metricsOnce sync.Once
	metricsList map[string]metricInfo
)

// knownMetrics returns every series wxacode exports, derived from the
// code: the worker's series (metrics.NewWorker, each touched once), the
// fleet collector's descriptions (metrics.NewFleet), asynq's queue
// collector scraped over a real Redis holding one task, and the Go and
// process collectors of metrics.NewRegistry. "up" is Prometheus's own.
func knownMetrics(t *testing.T) map[string]metricInfo {
	metricsOnce.Do(func() { metricsList = gatherKnownMetrics(t) })
	require.NotEmpty(t, metricsList)
	return metricsList
}

func gatherKnownMetrics(t *testing.T) map[string]metricInfo {
	out := map[string]metricInfo{"up": {labels: map[string]bool{}}}
	reg := metrics.NewRegistry()
	w, err := metrics.NewWorker(reg)
	require.NoError(t, err)
	w.Call("wxa", 0, time.Millisecond)
	w.LimiterWait("wxa", time.Millisecond)
	w.RateLimited("wxa", 45009)
	w.Store("wxa", 100, nil)
	w.Job("wxa", "stored")
	w.TokenFetch("wxa", "stable_token", nil)

	rdb := redistest.Start(t).Client(t)
	_, err = asynq.NewClientFromRedisClient(rdb).Enqueue(asynq.NewTask("x", nil), asynq.Queue(jobs.LaneBulk))
	require.NoError(t, err)
	reg.MustRegister(metrics.Queues(asynq.NewInspectorFromRedisClient(rdb)))
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		info := metricInfo{labels: map[string]bool{}, histogram: f.GetType() == dto.MetricType_HISTOGRAM}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				info.labels[l.GetName()] = true
			}
		}
		out[f.GetName()] = info
	}

	descs := make(chan *prometheus.Desc, 64)
	metrics.NewFleet(metrics.FleetConfig{}).Describe(descs)
	close(descs)
	descRE := regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)
	for d := range descs {
		m := descRE.FindStringSubmatch(d.String())
		require.NotNil(t, m, "unexpected Desc format: %s", d)
		info := metricInfo{labels: map[string]bool{}}
		for _, l := range strings.Split(m[2], ",") {
			if l != "" {
				info.labels[l] = true
			}
		}
		out[m[1]] = info
	}
	for _, name := range []string{"wxacode_wechat_calls_total", "wxacode_limiter_cap_per_minute", "asynq_queue_size", "process_cpu_seconds_total"} {
		require.Contains(t, out, name, "the metric list derived from the code lacks %s", name)
	}
	return out
}

// resolveMetric finds a series name among the known families, allowing
// the _bucket/_sum/_count series of histograms.
func resolveMetric(known map[string]metricInfo, name string) (metricInfo, bool) {
	if m, ok := known[name]; ok {
		return m, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if m, found := known[base]; ok && found && m.histogram {
			labels := map[string]bool{}
			for l := range m.labels {
				labels[l] = true
			}
			if suffix == "_bucket" {
				labels["le"] = true
			}
			return metricInfo{labels: labels, histogram: true}, true
		}
	}
	return metricInfo{}, false
}

// checkExpr checks that an expression refers only to series the code
// exports, with their labels or labels the scrape adds (targetLabels), and
// groups only by labels one of its series has. It returns the refs.
func checkExpr(t *testing.T, where, expr string) promRefs {
	t.Helper()
	refs, err := parsePromQL(expr)
	require.NoError(t, err, "%s", where)
	require.NotEmpty(t, refs.selectors, "%s: no metric in %q", where, expr)
	known := knownMetrics(t)
	target := targetLabels(t)
	all := map[string]bool{"le": true}
	for l := range target {
		all[l] = true
	}
	for _, l := range refs.created {
		all[l] = true
	}
	for name, ms := range refs.selectors {
		require.NotEmpty(t, name, "%s: a selector without a metric name in %q", where, expr)
		info, ok := resolveMetric(known, name)
		require.True(t, ok, "%s: wxacode exports no metric %s", where, name)
		for l := range info.labels {
			all[l] = true
		}
		for _, m := range ms {
			require.True(t, info.labels[m.label] || target[m.label], "%s: %s has no label %q", where, name, m.label)
			if m.label == "queue" {
				checkQueueMatcher(t, where, m)
			}
		}
	}
	for _, l := range refs.grouping {
		require.True(t, all[l], "%s: grouping by %q, which none of its series has", where, l)
	}
	return refs
}

// checkQueueMatcher checks a queue matcher against the queue names the
// code uses: the lanes, the per-app queues of older releases (drained after
// an upgrade) and the campaign feeder queue.
func checkQueueMatcher(t *testing.T, where string, m matcher) {
	t.Helper()
	names := append([]string{jobs.LaneBulk, jobs.LaneBacklog, jobs.LaneHigh, "wxacode-feed"}, jobs.LegacyQueues("wxA")...)
	value := strings.NewReplacer("$app", "wxA").Replace(m.value)
	matches := 0
	for _, n := range names {
		switch m.op {
		case "=", "!=":
			if value == n {
				matches++
			}
		default:
			re, err := regexp.Compile("^(?:" + value + ")$")
			require.NoError(t, err, "%s: queue regex %q", where, m.value)
			if re.MatchString(n) {
				matches++
			}
		}
	}
	require.Positive(t, matches, "%s: queue%s%q names none of %v", where, m.op, m.value, names)
}

func TestPromQLLexer(t *testing.T) {
	refs, err := parsePromQL(`sum by (app, errcode) (rate(a_total{errcode!~"0|45009",app=~"$app"}[$__rate_interval]))
		/ on (app) group_left sum by (app) (rate(a_total[10m])) > 0.05`)
	require.NoError(t, err)
	require.Equal(t, []matcher{{"errcode", "!~", "0|45009"}, {"app", "=~", "$app"}}, refs.selectors["a_total"])
	require.Equal(t, []string{"app", "errcode", "app", "app"}, refs.grouping)

	refs, err = parsePromQL(`count(label_replace(q{s="x",<<.LabelMatchers>>}, "app", "$1", "queue", "w-(.+)")) or vector(0)`)
	require.NoError(t, err)
	require.Equal(t, []string{"app"}, refs.created)
	require.Contains(t, refs.selectors, "q")

	for _, bad := range []string{`rate(x[5m]`, `nosuchfn(x)`, `x{a="b"`, `x{a=b}`, `x # y`} {
		_, err := parsePromQL(bad)
		require.Error(t, err, bad)
	}
}

func TestKnownMetricsComeFromTheCode(t *testing.T) {
	known := knownMetrics(t)
	h, ok := resolveMetric(known, "wxacode_wechat_call_duration_seconds_bucket")
	require.True(t, ok)
	require.True(t, h.labels["le"] && h.labels["app"])
	_, ok = resolveMetric(known, "wxacode_wechat_calls_total_bucket")
	require.False(t, ok, "a counter has no buckets")
	require.True(t, known["wxacode_run_rows"].labels["status"])
	require.True(t, known["asynq_tasks_enqueued_total"].labels["state"])
}
