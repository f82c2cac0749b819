package deploy_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// dockerfile is what the tests need of deploy/Dockerfile.
type dockerfile struct {
	from        []string // base image of each stage
	runs        []string
	copyDest    string   // where the binary is copied in the final stage
	user        string   // USER of the final stage
	expose      []string // EXPOSEd ports
	healthcheck []string // HEALTHCHECK CMD, exec form
	entrypoint  []string
	cmd         []string
}

// instructions joins continuation lines and drops comments.
func instructions(src string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(src, "\n") {
		t := strings.TrimSpace(l)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	var d dockerfile
	execForm := func(arg string) []string {
		var v []string
		require.NoError(t, json.Unmarshal([]byte(arg), &v), "Dockerfile: %s is not in exec (JSON) form", arg)
		return v
	}
	for _, in := range instructions(string(readFile(t, "Dockerfile"))) {
		op, arg, _ := strings.Cut(in, " ")
		arg = strings.TrimSpace(arg)
		switch strings.ToUpper(op) {
		case "FROM":
			d.from = append(d.from, strings.Fields(arg)[0])
		case "RUN":
			d.runs = append(d.runs, arg)
		case "COPY":
			if f := strings.Fields(arg); strings.HasPrefix(f[0], "--from=") {
				d.copyDest = f[len(f)-1]
			}
		case "USER":
			d.user = arg
		case "EXPOSE":
			d.expose = strings.Fields(arg)
		case "HEALTHCHECK":
			_, c, ok := strings.Cut(arg, "CMD ")
			require.True(t, ok, "Dockerfile: HEALTHCHECK without CMD")
			d.healthcheck = execForm(strings.TrimSpace(c))
		case "ENTRYPOINT":
			d.entrypoint = execForm(arg)
		case "CMD":
			d.cmd = execForm(arg)
		}
	}
	return d
}

// imageUID is the numeric user of the image.
func (d dockerfile) imageUID(t *testing.T) int64 {
	uid, _, _ := strings.Cut(d.user, ":")
	n, err := strconv.ParseInt(uid, 10, 64)
	require.NoError(t, err, "Dockerfile: USER %q must be numeric (Kubernetes checks runAsNonRoot against it)", d.user)
	return n
}

func TestDockerfile(t *testing.T) {
	d := parseDockerfile(t)
	require.Len(t, d.from, 2, "multi-stage: a builder and the final image")
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(readFile(t, "../go.mod")))
	require.NotNil(t, goVersion)
	require.Equal(t, "golang:"+goVersion[1], d.from[0], "the builder's Go matches go.mod")
	require.Contains(t, []string{"gcr.io/distroless/static-debian12:nonroot", "scratch"}, d.from[1])

	build := strings.Join(d.runs, "\n")
	for _, want := range []string{"--mount=type=cache,target=/go/pkg/mod", "--mount=type=cache,target=/root/.cache/go-build",
		"CGO_ENABLED=0", "-trimpath", `-ldflags="-s -w"`, "./cmd/wxacode", "go mod download"} {
		require.Contains(t, build, want, "Dockerfile build")
	}
	require.Regexp(t, `-o (\S+)/wxacode `, build)

	require.Positive(t, d.imageUID(t), "the image runs as a non-root user")
	require.Equal(t, []string{d.copyDest}, d.entrypoint, "ENTRYPOINT runs the copied binary")
	checkArgv(t, "Dockerfile CMD", d.cmd)
	require.Equal(t, "worker", d.cmd[0])

	require.Len(t, d.healthcheck, 3)
	require.Equal(t, d.copyDest, d.healthcheck[0], "HEALTHCHECK runs the copied binary")
	checkArgv(t, "Dockerfile HEALTHCHECK", d.healthcheck[1:2])
	require.Regexp(t, `^http://127\.0\.0\.1:\d+/healthz$`, d.healthcheck[2])
	hcPort := portOf(t, d.healthcheck[2])
	require.Contains(t, d.expose, hcPort, "the health-checked port is exposed")

	// Both ports the deployments listen on are exposed, and the health
	// check is the worker's and scheduler's metrics port.
	c := compose(t)
	for _, name := range []string{"worker", "scheduler"} {
		require.Equal(t, hcPort, portOf(t, c.Services[name].Environment["WXACODE_METRICS_LISTEN"]),
			"compose %s: --metrics-listen is the port the image's HEALTHCHECK probes", name)
	}
	require.Contains(t, d.expose, portOf(t, c.Services["dashboard"].Environment["WXACODE_LISTEN"]))
}

// TestContainerEngine builds the image when a container engine with a
// running daemon is there and DEPLOY_TEST_BUILD_IMAGE=1 (the build pulls
// base images from registries); otherwise it says so: everything else in
// this package checks the Dockerfile and compose file statically.
func TestContainerEngine(t *testing.T) {
	engine := ""
	for _, e := range []string{"docker", "podman"} {
		if _, err := exec.LookPath(e); err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := exec.CommandContext(ctx, e, "info").Run()
		cancel()
		if err == nil {
			engine = e
			break
		}
	}
	if engine == "" || os.Getenv("DEPLOY_TEST_BUILD_IMAGE") != "1" {
		why := "no docker or podman with a running daemon"
		if engine != "" {
			why = engine + " is running but DEPLOY_TEST_BUILD_IMAGE=1 is not set"
		}
		t.Logf("container engine unavailable (%s): Dockerfile and compose checked statically, image not built", why)
		return
	}
	image := imageRef(t)
	build := exec.Command(engine, "build", "-f", "deploy/Dockerfile", "-t", image, ".")
	build.Dir = ".." // the documented command, from the repository root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s build:\n%s", engine, out)
	out, err = exec.Command(engine, "run", "--rm", image, "--help").CombinedOutput()
	require.NoError(t, err, "%s run %s --help:\n%s", engine, image, out)
	require.Contains(t, string(out), "worker")
}
