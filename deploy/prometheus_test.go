package deploy_test

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type scrapeFile struct {
	ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
}

type scrapeConfig struct {
	JobName        string `yaml:"job_name"`
	ScrapeInterval string `yaml:"scrape_interval"`
	MetricsPath    string `yaml:"metrics_path"`
	Authorization  *struct {
		Type            string `yaml:"type"`
		CredentialsFile string `yaml:"credentials_file"`
	} `yaml:"authorization"`
	KubernetesSD []struct {
		Role       string `yaml:"role"`
		Namespaces struct {
			Names []string `yaml:"names"`
		} `yaml:"namespaces"`
	} `yaml:"kubernetes_sd_configs"`
	Relabel []relabel `yaml:"relabel_configs"`
}

type relabel struct {
	SourceLabels []string `yaml:"source_labels"`
	Regex        string   `yaml:"regex"`
	Replacement  string   `yaml:"replacement"`
	TargetLabel  string   `yaml:"target_label"`
	Action       string   `yaml:"action"`
}

// decodeStrict decodes YAML refusing unknown fields.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, path)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(v), path)
}

var (
	scrapeOnce sync.Once
	scrape     scrapeFile
)

func scrapeConfigs(t *testing.T) scrapeFile {
	scrapeOnce.Do(func() { decodeStrict(t, "prometheus/scrape.yml", &scrape) })
	require.NotEmpty(t, scrape.ScrapeConfigs)
	return scrape
}

// targetLabels are the labels a scrape adds to every series: job,
// instance, and the target labels of scrape.yml's relabelling.
func targetLabels(t *testing.T) map[string]bool {
	out := map[string]bool{"job": true, "instance": true}
	for _, sc := range scrapeConfigs(t).ScrapeConfigs {
		for _, r := range sc.Relabel {
			if r.TargetLabel != "" && !strings.HasPrefix(r.TargetLabel, "__") {
				out[r.TargetLabel] = true
			}
		}
	}
	return out
}

// scrapeJobs are the job names scrape.yml produces: each job_name, and
// "replacement" of a relabelling onto job for each alternative its source
// label is kept with.
func scrapeJobs(t *testing.T) map[string]bool {
	out := map[string]bool{}
	alternatives := regexp.MustCompile(`^\(([a-z|-]+)\)$`)
	for _, sc := range scrapeConfigs(t).ScrapeConfigs {
		out[sc.JobName] = true
		keep := map[string]string{}
		for _, r := range sc.Relabel {
			src := strings.Join(r.SourceLabels, ";")
			switch {
			case r.Action == "keep":
				keep[src] = r.Regex
			case r.TargetLabel == "job":
				m := alternatives.FindStringSubmatch(keep[src])
				require.NotNil(t, m, "scrape.yml: job %s relabelled from %s without a keep (a|b) before it", sc.JobName, src)
				for _, alt := range strings.Split(m[1], "|") {
					out[strings.ReplaceAll(r.Replacement, "$1", alt)] = true
				}
			}
		}
	}
	return out
}

func TestScrapeConfig(t *testing.T) {
	jobs := scrapeJobs(t)
	for _, j := range []string{"wxacode-worker", "wxacode-scheduler", "wxacode-dashboard"} {
		require.True(t, jobs[j], "scrape.yml makes no job %s (has %v)", j, jobs)
	}
	for _, sc := range scrapeConfigs(t).ScrapeConfigs {
		for _, sd := range sc.KubernetesSD {
			require.Equal(t, []string{k8sNamespace(t)}, sd.Namespaces.Names, "scrape.yml %s: namespace", sc.JobName)
		}
		if sc.JobName != "wxacode-dashboard" {
			continue
		}
		// The dashboard serves /metrics only with its bearer token.
		require.NotNil(t, sc.Authorization, "scrape.yml: the dashboard job needs the bearer token")
		require.Equal(t, "Bearer", sc.Authorization.Type)
		require.NotEmpty(t, sc.Authorization.CredentialsFile)
		require.Equal(t, "/metrics", sc.MetricsPath)
		svc := k8sObjects(t).service(t, "wxacode-dashboard")
		kept := map[string]string{}
		for _, r := range sc.Relabel {
			if r.Action == "keep" {
				kept[strings.Join(r.SourceLabels, ";")] = r.Regex
			}
		}
		require.Equal(t, svc.Name, kept["__meta_kubernetes_service_name"])
		require.Equal(t, svc.Spec.Ports[0].Name, kept["__meta_kubernetes_service_port_name"])
	}
}

var severities = map[string]bool{"info": true, "warning": true, "critical": true}

func TestAlertRules(t *testing.T) {
	var f ruleFile
	decodeStrict(t, "prometheus/alerts.yml", &f)
	require.NotEmpty(t, f.Groups)
	jobs := scrapeJobs(t)
	used := map[string]string{} // metric -> an expression using it
	names := map[string]bool{}
	for _, g := range f.Groups {
		require.NotEmpty(t, g.Name)
		for _, r := range g.Rules {
			where := "alerts.yml " + r.Alert
			require.NotEmpty(t, r.Alert, "a rule without alert: in group %s", g.Name)
			require.False(t, names[r.Alert], "%s: alert name used twice", where)
			names[r.Alert] = true
			_, err := time.ParseDuration(r.For)
			require.NoError(t, err, "%s: for", where)
			require.True(t, severities[r.Labels["severity"]], "%s: severity %q", where, r.Labels["severity"])
			for _, a := range []string{"summary", "description", "runbook"} {
				require.NotEmpty(t, strings.TrimSpace(r.Annotations[a]), "%s: annotation %s", where, a)
			}
			refs := checkExpr(t, where, r.Expr)
			for name, ms := range refs.selectors {
				used[name] = r.Expr
				for _, m := range ms {
					if m.label == "job" {
						checkJobMatcher(t, where, m, jobs)
					}
				}
			}
		}
	}
	// What issue 7 and 9 ask the rules to watch.
	for metric, want := range map[string]string{
		"wxacode_rate_limited_total":           "[10m]",
		"asynq_queue_latency_seconds":          "asynq_queue_latency_seconds",
		"wxacode_wechat_calls_total":           `errcode!~"0|45009|45011"`,
		"wxacode_jobs_total":                   `outcome="failed"`,
		"wxacode_token_fetches_total":          `result="error"`,
		"up":                                   "== 0",
		"wxacode_limiter_cooldown_active":      "wxacode_limiter_cooldown_active",
		"wxacode_stores_total":                 `result="error"`,
		"asynq_tasks_processed_total":          "asynq_tasks_processed_total",
		"wxacode_limiter_cap_per_minute":       "wxacode_limiter_effective_per_minute",
		"asynq_tasks_enqueued_total":           `state="pending"`,
		"asynq_queue_paused_total":             "asynq_queue_paused_total",
		"wxacode_limiter_effective_per_minute": "wxacode_limiter_cap_per_minute",
	} {
		require.Contains(t, used, metric, "no alert uses %s", metric)
		require.Contains(t, used[metric], want, "the alert on %s", metric)
	}
}

// checkJobMatcher checks job="x" and job=~"a|b" against the scrape jobs.
func checkJobMatcher(t *testing.T, where string, m matcher, jobs map[string]bool) {
	t.Helper()
	values := []string{m.value}
	if m.op == "=~" {
		values = strings.Split(m.value, "|")
	}
	for _, v := range values {
		require.True(t, jobs[v], "%s: job %q is not a job of scrape.yml", where, v)
	}
}
