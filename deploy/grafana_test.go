package deploy_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type grafanaBoard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []grafanaVar `json:"list"`
	} `json:"templating"`
	Panels []grafanaPanel `json:"panels"`
}

type grafanaVar struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *grafanaDS      `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

type grafanaDS struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaPanel struct {
	ID         int        `json:"id"`
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Datasource *grafanaDS `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string     `json:"refId"`
		Expr       string     `json:"expr"`
		Datasource *grafanaDS `json:"datasource"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

// dsVar is how every panel names its data source: the board's variable,
// so one import works with any Prometheus.
const dsVar = "${DS_PROMETHEUS}"

func TestGrafanaBoard(t *testing.T) {
	var b grafanaBoard
	dec := json.NewDecoder(strings.NewReader(string(readFile(t, "grafana/wxacode.json"))))
	require.NoError(t, dec.Decode(&b))
	require.NotEmpty(t, b.Title)
	require.NotEmpty(t, b.UID)
	vars := map[string]grafanaVar{}
	for _, v := range b.Templating.List {
		vars[v.Name] = v
	}
	require.Equal(t, "datasource", vars["DS_PROMETHEUS"].Type)
	require.JSONEq(t, `"prometheus"`, string(vars["DS_PROMETHEUS"].Query))
	app := vars["app"]
	require.Equal(t, "query", app.Type)
	require.Equal(t, dsVar, app.Datasource.UID)
	require.True(t, app.Multi && app.IncludeAll)
	require.Equal(t, ".*", app.AllValue, "All must work inside the regex matchers")
	var q struct{ Query string }
	require.NoError(t, json.Unmarshal(app.Query, &q))
	lv := regexp.MustCompile(`^label_values\((\w+), *(\w+)\)$`).FindStringSubmatch(q.Query)
	require.NotNil(t, lv, "grafana variable app: want label_values(METRIC, app), have %q", q.Query)
	checkExpr(t, "grafana variable app", lv[1])
	require.Equal(t, "app", lv[2])
	require.True(t, knownMetrics(t)[lv[1]].labels["app"], "grafana variable app: %s has no app label", lv[1])

	used := map[string][]string{}
	ids := map[int]bool{}
	for _, p := range flattenPanels(b.Panels) {
		require.False(t, ids[p.ID], "grafana: panel id %d used twice", p.ID)
		ids[p.ID] = true
		require.Positive(t, p.GridPos.W, "grafana %q: gridPos", p.Title)
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, "grafana %q: no query", p.Title)
		require.Equal(t, dsVar, p.Datasource.UID, "grafana %q: data source", p.Title)
		for _, tg := range p.Targets {
			where := "grafana " + p.Title + " " + tg.RefID
			require.Equal(t, dsVar, tg.Datasource.UID, "%s: data source", where)
			refs := checkExpr(t, where, tg.Expr)
			for name, ms := range refs.selectors {
				used[name] = append(used[name], tg.Expr)
				requireAppFilter(t, where, name, ms)
			}
		}
	}
	for metric, want := range map[string]string{
		"wxacode_wechat_calls_total":                  "by (errcode)",
		"wxacode_wechat_call_duration_seconds_bucket": "histogram_quantile(0.99",
		"wxacode_limiter_wait_seconds_bucket":         "histogram_quantile(0.5",
		"wxacode_limiter_effective_per_minute":        "wxacode_limiter_effective_per_minute",
		"wxacode_limiter_cap_per_minute":              "wxacode_limiter_cap_per_minute",
		"wxacode_limiter_cooldown_active":             "wxacode_limiter_cooldown_active",
		"asynq_tasks_enqueued_total":                  "state",
		"asynq_queue_latency_seconds":                 "asynq_queue_latency_seconds",
		"wxacode_run_rows":                            "wxacode_run_rows_total",
		"wxacode_stores_total":                        "by (result)",
		"wxacode_stored_bytes_total":                  "rate(",
		"wxacode_token_fetches_total":                 "result",
		"wxacode_jobs_total":                          "by (outcome)",
	} {
		require.Contains(t, used, metric, "the board has no panel on %s", metric)
		require.Contains(t, strings.Join(used[metric], "\n"), want, "the board's panels on %s", metric)
	}
}

// requireAppFilter checks that a series with an app dimension follows the
// board's app variable: app=~"$app", or the limiter budget, or the queues
// of the app.
func requireAppFilter(t *testing.T, where, metric string, ms []matcher) {
	t.Helper()
	info, _ := resolveMetric(knownMetrics(t), metric)
	want := ""
	switch {
	case info.labels["app"]:
		want = "app"
	case info.labels["budget"]:
		want = "budget"
	case info.labels["queue"]:
		want = "queue"
	default:
		return
	}
	for _, m := range ms {
		if m.label == want && m.op == "=~" && strings.Contains(m.value, "$app") {
			return
		}
	}
	require.Failf(t, "panel ignores the app variable", "%s: %s has no %s=~ matcher using $app", where, metric, want)
}

func flattenPanels(ps []grafanaPanel) []grafanaPanel {
	var out []grafanaPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flattenPanels(p.Panels)...)
	}
	return out
}
