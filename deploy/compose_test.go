package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// composeFile is the subset of the Compose specification deploy/ uses,
// decoded strictly: a misspelt or unsupported key fails the test.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Configs  map[string]composeFileRef `yaml:"configs"`
	Secrets  map[string]composeFileRef `yaml:"secrets"`
	Volumes  map[string]any            `yaml:"volumes"`
	Ext      map[string]any            `yaml:",inline"` // x-* extensions only
}

type composeFileRef struct {
	File string `yaml:"file"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Environment map[string]string `yaml:"environment"`
	EnvFile     []string          `yaml:"env_file"`
	Configs     []struct {
		Source string `yaml:"source"`
		Target string `yaml:"target"`
	} `yaml:"configs"`
	Secrets   []string `yaml:"secrets"`
	Volumes   []string `yaml:"volumes"`
	Ports     []string `yaml:"ports"`
	Profiles  []string `yaml:"profiles"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test     []string `yaml:"test"`
		Interval string   `yaml:"interval"`
		Timeout  string   `yaml:"timeout"`
		Retries  int      `yaml:"retries"`
		Disable  bool     `yaml:"disable"`
	} `yaml:"healthcheck"`
	Deploy *struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
	StopGracePeriod string   `yaml:"stop_grace_period"`
	Restart         string   `yaml:"restart"`
	ReadOnly        bool     `yaml:"read_only"`
	CapDrop         []string `yaml:"cap_drop"`
	SecurityOpt     []string `yaml:"security_opt"`
}

var (
	composeOnce sync.Once
	composeDoc  composeFile
)

func compose(t *testing.T) composeFile {
	composeOnce.Do(func() { decodeStrict(t, "docker-compose.yml", &composeDoc) })
	require.NotEmpty(t, composeDoc.Services)
	return composeDoc
}

// wxacodeServices are the compose services running the wxacode image.
func wxacodeServices(t *testing.T) map[string]composeService {
	out := map[string]composeService{}
	for name, s := range compose(t).Services {
		if s.Image == imageRef(t) {
			out[name] = s
		}
	}
	return out
}

// imageRef is the wxacode image every deployment names.
func imageRef(t *testing.T) string {
	t.Helper()
	s, ok := compose(t).Services["worker"]
	require.True(t, ok, "compose has no worker service")
	require.NotEmpty(t, s.Image)
	return s.Image
}

var interpolation = regexp.MustCompile(`\$\{([A-Z0-9_]+):-([^}]*)\}`)

// serviceEnv is a service's environment as the container sees it with no
// variable exported in the shell: ${X:-default} gives the default, and
// env_file files (from dir, see initSecrets) are read.
func serviceEnv(t *testing.T, s composeService, secretsDir string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for k, v := range s.Environment {
		env[k] = interpolation.ReplaceAllString(v, "$2")
	}
	for _, f := range s.EnvFile {
		for k, v := range readEnvFile(t, filepath.Join(secretsDir, secretFileName(t, f))) {
			env[k] = v
		}
	}
	return env
}

// secretFileName maps a compose path under ./secrets/ to its file name.
func secretFileName(t *testing.T, p string) string {
	t.Helper()
	name, ok := strings.CutPrefix(p, "./secrets/")
	require.True(t, ok, "compose: %s is not under ./secrets/ (created by compose-init.sh)", p)
	return name
}

// readEnvFile reads KEY=VALUE lines.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, l := range strings.Split(string(readFile(t, path)), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		require.True(t, ok, "%s: %q is not KEY=VALUE", path, l)
		env[k] = v
	}
	return env
}

// initSecrets runs compose-init.sh into a fresh directory.
func initSecrets(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	out, err := exec.Command("sh", "compose-init.sh", dir).CombinedOutput()
	require.NoError(t, err, "compose-init.sh:\n%s", out)
	return dir
}

// serviceCommand returns the wxacode command line of a service.
func serviceCommand(t *testing.T, name string, s composeService) []string {
	t.Helper()
	require.Empty(t, s.Entrypoint, "compose %s: the image's entrypoint is wxacode", name)
	require.NotEmpty(t, s.Command, "compose %s: no command", name)
	return s.Command
}

func TestComposeFile(t *testing.T) {
	c := compose(t)
	for k := range c.Ext {
		require.True(t, strings.HasPrefix(k, "x-"), "compose: unknown top-level key %q", k)
	}
	want := map[string][]string{"redis": nil, "minio": nil, "minio-init": nil, "fake-wechat": {"fake"},
		"worker": nil, "scheduler": nil, "dashboard": nil, "cli": {"tools"}}
	for name, profiles := range want {
		require.Contains(t, c.Services, name)
		require.Equal(t, profiles, c.Services[name].Profiles, "compose %s: profiles", name)
	}
	require.Equal(t, 2, c.Services["worker"].Deploy.Replicas, "two workers")

	redis := c.Services["redis"]
	require.Regexp(t, `^redis:7(\.|-|$)`, redis.Image)
	args := strings.Join(redis.Command, " ")
	for _, want := range []string{"--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"} {
		require.Contains(t, args, want, "compose redis: command")
	}
	require.Equal(t, "redis-server", redis.Command[0])
	require.Equal(t, []string{"redis-data:/data"}, redis.Volumes)

	bucket := minioBucket(t)
	for name, s := range wxacodeServices(t) {
		if url, ok := s.Environment["WXACODE_STORAGE_URL"]; ok {
			require.True(t, strings.HasPrefix(url, "s3://"+bucket+"/"), "compose %s: the store is the bucket minio-init creates", name)
		}
	}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			vol, _, _ := strings.Cut(v, ":")
			require.Contains(t, c.Volumes, vol, "compose %s: volume %s is not declared", name, vol)
		}
		for dep, d := range s.DependsOn {
			target, ok := c.Services[dep]
			require.True(t, ok, "compose %s depends on %s, which does not exist", name, dep)
			require.Empty(t, target.Profiles, "compose %s depends on %s, which only runs with a profile", name, dep)
			switch d.Condition {
			case "service_healthy":
				require.NotNil(t, target.Healthcheck, "compose %s waits for %s to be healthy: it has no healthcheck", name, dep)
			case "service_completed_successfully":
				require.Equal(t, "no", target.Restart, "compose %s waits for %s to finish: it must not restart", name, dep)
			default:
				require.Equal(t, "service_started", d.Condition, "compose %s: depends_on %s", name, dep)
			}
		}
	}
}

// minioBucket is the bucket minio-init creates.
func minioBucket(t *testing.T) string {
	t.Helper()
	init := strings.Join(compose(t).Services["minio-init"].Command, " ")
	m := regexp.MustCompile(`mc mb --ignore-existing local/([a-z0-9.-]+)`).FindStringSubmatch(init)
	require.NotNil(t, m, "compose minio-init: no bucket created")
	return m[1]
}

func TestComposeWxacodeServices(t *testing.T) {
	c := compose(t)
	d := parseDockerfile(t)
	secrets := initSecrets(t)
	services := wxacodeServices(t)
	require.Len(t, services, 5, "worker, scheduler, dashboard, fake-wechat, cli run the wxacode image")
	for name, s := range services {
		where := "compose " + name
		require.NotNil(t, s.Build, "%s: builds the image it names", where)
		require.Equal(t, "..", s.Build.Context, "%s: the build context is the repository root", where)
		require.Equal(t, "deploy/Dockerfile", s.Build.Dockerfile, where)
		require.True(t, s.ReadOnly, "%s: read-only root file system", where)
		require.Equal(t, []string{"ALL"}, s.CapDrop, where)

		argv := serviceCommand(t, name, s)
		cmd := checkArgv(t, where, argv)
		env := serviceEnv(t, s, secrets)
		if name == "cli" {
			// The documented uses of the cli service.
			checkEnv(t, where, env, cli(t, "enqueue"), cli(t, "status"), cli(t, "campaign", "run"))
		} else {
			checkEnv(t, where, env, cmd)
		}
		checkComposeFiles(t, where, s, env)
		checkComposeHealth(t, where, s, d, listenAddr(t, argv, env))
	}

	w := services["worker"]
	grace, err := time.ParseDuration(w.StopGracePeriod)
	require.NoError(t, err, "compose worker: stop_grace_period")
	require.Greater(t, grace, shutdownTimeout(t, w.Environment), "compose worker: stop_grace_period must exceed --shutdown-timeout")
	require.Equal(t, "${WXACODE_WECHAT_BASE_URL:-"+cli(t, "worker").defaults["wechat-base-url"]+"}",
		w.Environment["WXACODE_WECHAT_BASE_URL"], "compose worker: WeChat unless the fake is asked for")

	// The dashboard is published on loopback only, on the port it listens on.
	dash := services["dashboard"]
	require.Len(t, dash.Ports, 1)
	parts := strings.Split(dash.Ports[0], ":")
	require.Len(t, parts, 3, "compose dashboard: publish as 127.0.0.1:HOST:CONTAINER")
	require.Equal(t, "127.0.0.1", parts[0])
	require.Equal(t, portOf(t, dash.Environment["WXACODE_LISTEN"]), parts[2])
	require.True(t, serviceEnv(t, dash, secrets)["WXACODE_DASHBOARD_TOKEN"] != "", "compose dashboard: token from dashboard.env")
	for name, s := range services {
		if name != "dashboard" {
			require.Empty(t, s.Ports, "compose %s: publishes nothing", name)
		}
	}
	require.NotNil(t, c.Services["cli"].Healthcheck)
	require.True(t, c.Services["cli"].Healthcheck.Disable, "compose cli: one-shot commands have no health check")
}

// listenAddr is the address a command serves on: --listen or
// WXACODE_LISTEN, else --metrics-listen or WXACODE_METRICS_LISTEN (flags
// win over the environment); "" if none.
func listenAddr(t *testing.T, argv []string, env map[string]string) string {
	for _, f := range []string{"listen", "metrics-listen"} {
		if v, ok := flagValue(argv, f); ok {
			return v
		}
		if v, ok := env[envName(f)]; ok {
			return v
		}
	}
	return ""
}

// envName is the variable of a flag, as wxacode derives it.
func envName(flag string) string {
	return "WXACODE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// checkComposeFiles checks that every file a service's configuration
// names is mounted there: apps and campaigns files as configs, app
// secrets and the fake's config as secrets.
func checkComposeFiles(t *testing.T, where string, s composeService, env map[string]string) {
	t.Helper()
	c := compose(t)
	mounted := map[string]string{} // path in the container -> config or secret name
	for _, cf := range s.Configs {
		ref, ok := c.Configs[cf.Source]
		require.True(t, ok, "%s: config %s is not declared", where, cf.Source)
		require.FileExists(t, ref.File)
		mounted[cf.Target] = cf.Source
	}
	for _, sec := range s.Secrets {
		_, ok := c.Secrets[sec]
		require.True(t, ok, "%s: secret %s is not declared", where, sec)
		mounted["/run/secrets/"+sec] = sec
	}
	for k, file := range map[string]string{"WXACODE_APPS_FILE": "./examples/apps.yaml", "WXACODE_CAMPAIGNS_FILE": "./examples/campaigns.yaml"} {
		if p, ok := env[k]; ok {
			require.Contains(t, mounted, p, "%s: %s=%s is not mounted", where, k, p)
			require.Equal(t, file, c.Configs[mounted[p]].File, "%s: %s", where, k)
		}
	}
	if _, ok := env["WXACODE_APPS_FILE"]; ok && s.Command[0] == "worker" {
		for _, a := range exampleApps(t) {
			require.Contains(t, mounted, a.SecretFile, "%s: the secret of %s is not mounted", where, a.AppID)
		}
	}
	if p, ok := flagValue(s.Command, "config"); ok {
		require.Contains(t, mounted, p, "%s: --config %s is not mounted", where, p)
	}
}

// checkComposeHealth checks the health check a service gets: the image's
// (which probes the metrics port) or its own, on the port it serves.
func checkComposeHealth(t *testing.T, where string, s composeService, d dockerfile, listen string) {
	t.Helper()
	hc := s.Healthcheck
	switch {
	case hc != nil && hc.Disable:
		require.Contains(t, s.Profiles, "tools", "%s: only one-shot tools go without a health check", where)
	case hc == nil:
		require.NotEmpty(t, listen, "%s: the image's HEALTHCHECK needs --metrics-listen", where)
		require.Equal(t, portOf(t, d.healthcheck[2]), portOf(t, listen), "%s: the image's HEALTHCHECK probes another port", where)
	default:
		require.Equal(t, "CMD", hc.Test[0], where)
		require.Equal(t, d.copyDest, hc.Test[1], "%s: health check runs the binary", where)
		checkArgv(t, where+" healthcheck", hc.Test[2:3])
		require.Equal(t, portOf(t, listen), portOf(t, hc.Test[3]), "%s: health check on another port than it serves", where)
	}
}

// TestComposeInit runs compose-init.sh and checks what compose needs of
// its output: every secret and env file named, app secrets private.
func TestComposeInit(t *testing.T) {
	dir := initSecrets(t)
	c := compose(t)
	for name, ref := range c.Secrets {
		p := filepath.Join(dir, secretFileName(t, ref.File))
		st, err := os.Stat(p)
		require.NoError(t, err, "compose secret %s: compose-init.sh does not create it", name)
		require.Zero(t, st.Mode().Perm()&0o077, "compose secret %s: readable by group or others", name)
	}
	for name, s := range c.Services {
		for _, f := range s.EnvFile {
			env := readEnvFile(t, filepath.Join(dir, secretFileName(t, f)))
			require.NotEmpty(t, env, "compose %s: %s is empty", name, f)
		}
	}
	s3 := readEnvFile(t, filepath.Join(dir, "s3.env"))
	require.NotEmpty(t, s3["AWS_ACCESS_KEY_ID"])
	require.GreaterOrEqual(t, len(s3["AWS_SECRET_ACCESS_KEY"]), 8, "MinIO wants secret keys of 8 characters or more")
	minio := readEnvFile(t, filepath.Join(dir, "minio.env"))
	require.GreaterOrEqual(t, len(minio["MINIO_ROOT_PASSWORD"]), 8)

	// A second run keeps what is there (real secrets put in by hand).
	before := readFile(t, filepath.Join(dir, "dashboard.env"))
	out, err := exec.Command("sh", "compose-init.sh", dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, before, readFile(t, filepath.Join(dir, "dashboard.env")))
}
