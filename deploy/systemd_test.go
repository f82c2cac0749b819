package deploy_test

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// unit is a parsed systemd unit file: section -> key -> values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, file string) unit {
	t.Helper()
	u := unit{}
	section := ""
	var cont strings.Builder
	for n, l := range strings.Split(string(readFile(t, file)), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasSuffix(l, "\\") {
			cont.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		l = cont.String() + l
		cont.Reset()
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			section = l[1 : len(l)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(l, "=")
			require.True(t, ok && section != "", "%s:%d: not KEY=VALUE in a section: %q", file, n+1, l)
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

// one returns the single value of a key.
func (u unit) one(t *testing.T, where, section, key string) string {
	t.Helper()
	v := u[section][key]
	require.Len(t, v, 1, "%s: want one %s= in [%s]", where, key, section)
	return v[0]
}

// unitFiles maps each unit file to the instance name its checks use.
var unitFiles = map[string]string{
	"systemd/wxacode-worker@.service":   "9091",
	"systemd/wxacode-scheduler.service": "",
	"systemd/wxacode-dashboard.service": "",
}

// execArgv returns ExecStart= as argv with %i expanded.
func execArgv(t *testing.T, where string, u unit, instance string) []string {
	t.Helper()
	line := strings.TrimLeft(u.one(t, where, "Service", "ExecStart"), "-@+!:")
	return strings.Fields(strings.ReplaceAll(line, "%i", instance))
}

// envFileSample maps an EnvironmentFile= of a unit to its sample here.
func envFileSample(t *testing.T, where, p string) string {
	t.Helper()
	p = strings.TrimPrefix(p, "-")
	dir, name := path.Split(p)
	require.Equal(t, "/etc/wxacode/", dir, "%s: EnvironmentFile=%s", where, p)
	require.FileExists(t, filepath.Join("systemd", name), "%s: no sample for %s", where, p)
	return filepath.Join("systemd", name)
}

func TestSystemdUnits(t *testing.T) {
	d := parseDockerfile(t)
	loaders := map[string][]*command{} // sample env file -> commands of the units loading it
	ports := map[string]string{}
	for file, instance := range unitFiles {
		where := file
		u := parseUnit(t, file)
		argv := execArgv(t, where, u, instance)
		require.Equal(t, d.copyDest, argv[0], "%s: the binary is installed where the image has it", where)
		cmd := checkArgv(t, where, argv[1:])

		svc := u["Service"]
		require.Equal(t, []string{"SIGTERM"}, svc["KillSignal"], where)
		require.Equal(t, []string{"on-failure"}, svc["Restart"], where)
		require.Equal(t, []string{"yes"}, svc["NoNewPrivileges"], where)
		require.Equal(t, []string{"strict"}, svc["ProtectSystem"], where)
		require.True(t, u.one(t, where, "Service", "User") == "wxacode" || u.one(t, where, "Service", "DynamicUser") == "yes", "%s: a dedicated user", where)
		require.Equal(t, []string{"multi-user.target"}, u["Install"]["WantedBy"], where)

		env := map[string]string{}
		files := svc["EnvironmentFile"]
		require.Contains(t, files, "/etc/wxacode/wxacode.env", where)
		for _, f := range files {
			sample := envFileSample(t, where, f)
			loaders[sample] = append(loaders[sample], cmd)
			for k, v := range readEnvFile(t, sample) {
				env[k] = v
			}
		}
		require.Empty(t, svc["Environment"], "%s: settings belong in the env files or on ExecStart", where)

		addr := listenAddr(t, argv, env)
		require.NotEmpty(t, addr, "%s: serves no health endpoint", where)
		require.True(t, strings.HasPrefix(addr, "127.0.0.1:"), "%s: listens on loopback only (%s)", where, addr)
		p := portOf(t, addr)
		require.NotContains(t, ports, p, "%s: port %s is also used by %s", where, p, ports[p])
		ports[p] = file

		stop, err := time.ParseDuration(u.one(t, where, "Service", "TimeoutStopSec") + "s")
		require.NoError(t, err, "%s: TimeoutStopSec in seconds", where)
		if cmd.name == "worker" {
			require.Greater(t, stop, shutdownTimeout(t, env), "%s: TimeoutStopSec must exceed --shutdown-timeout", where)
			checkWorkerUnit(t, where, u, env)
		}
		for k, want := range map[string]string{"WXACODE_APPS_FILE": "apps.yaml", "WXACODE_CAMPAIGNS_FILE": "campaigns.yaml"} {
			if v, ok := env[k]; ok && cmd.envs[k] {
				require.Equal(t, "/etc/wxacode/"+want, v, "%s: %s (deploy/README.md installs examples/%s there)", where, k, want)
			}
		}
	}
	// A file shared by several units may hold settings of any of them.
	for sample, cmds := range loaders {
		checkEnv(t, sample, readEnvFile(t, sample), cmds...)
		for k, v := range readEnvFile(t, sample) {
			if strings.Contains(k, "SECRET") || strings.Contains(k, "TOKEN") || strings.Contains(k, "PASSWORD") {
				require.Contains(t, v, "REPLACE", "%s: %s must be a placeholder", sample, k)
			}
		}
	}
	require.Contains(t, readEnvFile(t, "systemd/wxacode.env")["WXACODE_REDIS_URL"], "REPLACE")
}

var fileURL = regexp.MustCompile(`file://(/[^\s"]+)`)

// checkWorkerUnit checks that the worker may write its local store and
// reads app secrets where apps.yaml says.
func checkWorkerUnit(t *testing.T, where string, u unit, env map[string]string) {
	t.Helper()
	svc := u["Service"]
	writable := []string{}
	for _, p := range svc["ReadWritePaths"] {
		writable = append(writable, strings.Fields(strings.ReplaceAll(p, "-", ""))...)
	}
	for _, s := range svc["StateDirectory"] {
		writable = append(writable, "/var/lib/"+s)
	}
	// Every local store the sample mentions, commented out or not.
	stores := fileURL.FindAllStringSubmatch(string(readFile(t, "systemd/wxacode.env")), -1)
	require.NotEmpty(t, stores, "%s: the sample shows a local store", where)
	for _, m := range stores {
		ok := false
		for _, w := range writable {
			ok = ok || m[1] == w || strings.HasPrefix(m[1], strings.TrimSuffix(w, "/")+"/")
		}
		require.True(t, ok, "%s: ProtectSystem=strict, and the store %s is not in ReadWritePaths %v", where, m[1], writable)
	}

	binds := map[string]bool{}
	for _, b := range svc["BindReadOnlyPaths"] {
		for _, pair := range strings.Fields(b) {
			src, dst, _ := strings.Cut(strings.TrimPrefix(pair, "-"), ":")
			require.True(t, strings.HasPrefix(src, "/etc/wxacode/"), "%s: secrets come from /etc/wxacode", where)
			binds[dst] = true
		}
	}
	for dir := range secretDirs(t) {
		require.True(t, binds[dir], "%s: apps.yaml reads secrets from %s, which the unit does not bind", where, dir)
	}
	require.NotEmpty(t, env["WXACODE_APPS_FILE"], "%s: no apps file", where)
}

// TestSystemdAnalyze has systemd check the units when it is installed:
// unknown keys, bad values, a missing binary.
func TestSystemdAnalyze(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not found: units checked by the parser above only")
		return
	}
	dir := t.TempDir()
	var files []string
	for file, instance := range unitFiles {
		b := strings.ReplaceAll(string(readFile(t, file)), parseDockerfile(t).copyDest, wxacodeBin)
		name := filepath.Base(file)
		if instance != "" {
			name = strings.Replace(name, "@.", "@"+instance+".", 1)
		}
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(b), 0o644))
		files = append(files, p)
	}
	out, err := exec.Command(sa, append([]string{"verify", "--man=no"}, files...)...).CombinedOutput()
	require.NoError(t, err, "systemd-analyze verify:\n%s", out)
	for _, l := range strings.Split(string(out), "\n") {
		require.NotContains(t, l, dir, "systemd-analyze verify complains")
	}
	t.Logf("systemd-analyze verify: %d units clean (%s)", len(files), strconv.Quote(strings.TrimSpace(string(out))))
}
