package deploy_test

import (
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// readmeLines returns the lines of deploy/README.md's code blocks, with
// continuation lines joined.
func readmeLines(t *testing.T) []string {
	t.Helper()
	var out []string
	in := false
	var cur strings.Builder
	for _, l := range strings.Split(string(readFile(t, "README.md")), "\n") {
		if strings.HasPrefix(l, "```") {
			in = !in
			continue
		}
		if !in {
			continue
		}
		l = strings.TrimSpace(l)
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		out = append(out, cur.String()+l)
		cur.Reset()
	}
	return out
}

// readmeLine returns the one code line containing s.
func readmeLine(t *testing.T, s string) string {
	t.Helper()
	var found []string
	for _, l := range readmeLines(t) {
		if strings.Contains(l, s) {
			found = append(found, l)
		}
	}
	require.Len(t, found, 1, "deploy/README.md: want one code line with %q", s)
	return found[0]
}

// words splits a shell line on blanks, dropping a trailing comment.
func words(line string) []string {
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	return strings.Fields(line)
}

// cliRuns returns the wxacode command lines deploy/README.md runs through
// the compose cli service.
func cliRuns(t *testing.T) [][]string {
	t.Helper()
	var out [][]string
	for _, l := range readmeLines(t) {
		_, after, ok := strings.Cut(l, "docker compose run --rm ")
		if !ok {
			continue
		}
		w := words(after)
		if w[0] == "-T" {
			w = w[1:]
		}
		require.Equal(t, "cli", w[0], "deploy/README.md runs the compose service %s, not cli: %s", w[0], l)
		out = append(out, w[1:])
	}
	require.NotEmpty(t, out)
	return out
}

func TestReadmeCommands(t *testing.T) {
	commands := map[string]bool{}
	for _, argv := range cliRuns(t) {
		c := checkArgv(t, "deploy/README.md", argv)
		commands[c.name] = true
		if c.name == "campaign run" {
			require.Equal(t, demoCampaign, argv[2])
		}
	}
	for _, want := range []string{"enqueue", "status", "campaign run"} {
		require.True(t, commands[want], "deploy/README.md shows no `docker compose run --rm cli %s`", want)
	}

	// The fake profile and the variable that points the workers at it.
	require.Contains(t, readmeLine(t, "docker compose --profile"), "--profile "+compose(t).Services["fake-wechat"].Profiles[0]+" up")
	exp := words(readmeLine(t, "export WXACODE_WECHAT_BASE_URL="))
	u, err := url.Parse(strings.TrimPrefix(exp[1], "WXACODE_WECHAT_BASE_URL="))
	require.NoError(t, err)
	fake := compose(t).Services["fake-wechat"]
	listen, ok := flagValue(fake.Command, "listen")
	require.True(t, ok)
	require.Equal(t, "fake-wechat", u.Hostname(), "the workers reach the fake by its service name")
	require.Equal(t, portOf(t, listen), u.Port(), "the fake listens on another port")

	// The image name of the build command is the one deployments run.
	build := words(readmeLine(t, "docker build -f deploy/Dockerfile"))
	i := slices.Index(build, "-t")
	require.Positive(t, i)
	require.Equal(t, imageRef(t), build[i+1])
	require.Equal(t, ".", build[len(build)-1], "the build context is the repository root")
	require.Contains(t, string(readFile(t, "Dockerfile")), strings.Join(build, " "), "the Dockerfile documents the same command")

	kubectl := readmeLine(t, "kubectl apply -k ")
	require.DirExists(t, strings.TrimPrefix(words(kubectl)[3], "deploy/"))
}

var secretCreate = regexp.MustCompile(`create secret generic (\S+)`)
var secretKey = regexp.MustCompile(`--from-(?:literal|file)=([^=\s]+)=`)

// TestReadmeSecrets checks that the Secrets deploy/README.md creates have
// the names and keys the manifests read.
func TestReadmeSecrets(t *testing.T) {
	s := k8sObjects(t)
	seen := 0
	for _, l := range readmeLines(t) {
		m := secretCreate.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		seen++
		sec := s.secret(t, m[1])
		var keys []string
		for _, k := range secretKey.FindAllStringSubmatch(l, -1) {
			keys = append(keys, k[1])
		}
		var want []string
		for k := range sec.StringData {
			want = append(want, k)
		}
		require.ElementsMatch(t, want, keys, "deploy/README.md creates Secret %s with other keys than secret.yaml", m[1])
	}
	require.Equal(t, len(s.secrets), seen, "deploy/README.md shows how to create every Secret")
}

// TestReadmeRedisURLs parses each WXACODE_REDIS_URL example the way
// wxacode does (cmd/wxacode openRedis): Cluster by scheme, Sentinel by
// master_name, else a single server.
func TestReadmeRedisURLs(t *testing.T) {
	kinds := map[string]bool{}
	for _, l := range readmeLines(t) {
		raw, ok := strings.CutPrefix(l, "WXACODE_REDIS_URL=")
		if !ok {
			continue
		}
		u, err := url.Parse(raw)
		require.NoError(t, err, raw)
		switch {
		case strings.HasSuffix(u.Scheme, "-cluster"):
			u.Scheme = strings.TrimSuffix(u.Scheme, "-cluster")
			o, err := redis.ParseClusterURL(u.String())
			require.NoError(t, err, raw)
			require.GreaterOrEqual(t, len(o.Addrs), 3, "%s: name several nodes", raw)
			require.NotEmpty(t, o.Password, raw)
			kinds["cluster"] = true
		case u.Query().Has("master_name"):
			o, err := redis.ParseFailoverURL(raw)
			require.NoError(t, err, raw)
			require.NotEmpty(t, o.MasterName, raw)
			require.GreaterOrEqual(t, len(o.SentinelAddrs), 3, "%s: name every sentinel", raw)
			require.NotEmpty(t, o.Password, "%s: the master's password is the password= parameter", raw)
			kinds["sentinel"] = true
		default:
			o, err := redis.ParseURL(raw)
			require.NoError(t, err, raw)
			require.NotEmpty(t, o.Password, raw)
			kinds["single"] = true
		}
	}
	require.Equal(t, map[string]bool{"single": true, "sentinel": true, "cluster": true}, kinds)
	require.Contains(t, string(readFile(t, "README.md")), "asynq:{queue}", "the Cluster caveat: one queue lives on one node")
}

// TestReadmeUnitsExist checks the units deploy/README.md enables.
func TestReadmeUnitsExist(t *testing.T) {
	line := words(readmeLine(t, "systemctl enable --now"))
	for _, u := range line[3:] {
		name := u
		if at := strings.IndexByte(u, '@'); at >= 0 {
			name = u[:at+1]
		}
		_, err := os.Stat("systemd/" + name + ".service")
		require.NoError(t, err, "deploy/README.md enables %s", u)
	}
}

// TestCIRunsREADMETestCommand: the test command README.md gives is the one
// .ci/run and `make test` run, word for word.
func TestCIRunsREADMETestCommand(t *testing.T) {
	readme := string(readFile(t, "../README.md"))
	m := regexp.MustCompile("The test command that `.ci/run` runs is:\n\n```sh\n(go test [^\n]+)\n```").FindStringSubmatch(readme)
	require.NotNil(t, m, "README.md gives the test command")
	for _, f := range []string{"../.ci/run", "../Makefile"} {
		var found bool
		for _, l := range strings.Split(string(readFile(t, f)), "\n") {
			l = strings.ReplaceAll(strings.TrimSpace(l), "$(GO)", "go")
			found = found || l == m[1]
		}
		require.True(t, found, "%s runs %q", f, m[1])
	}
}
