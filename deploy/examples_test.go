package deploy_test

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/worker"
)

// exampleApps loads deploy/examples/apps.yaml as the workers do.
func exampleApps(t *testing.T) []worker.AppConfig {
	t.Helper()
	apps, err := worker.LoadApps("examples/apps.yaml")
	require.NoError(t, err)
	return apps
}

// TestExampleApps loads the apps file and reads every secret through the
// worker's own permission check, from private temporary files standing in
// for /run/secrets.
func TestExampleApps(t *testing.T) {
	apps := exampleApps(t)
	require.GreaterOrEqual(t, len(apps), 2, "the example shows several apps")
	dir := t.TempDir()
	src := string(readFile(t, "examples/apps.yaml"))
	for _, a := range apps {
		require.Equal(t, "/run/secrets/"+a.AppID, a.SecretFile,
			"%s: secrets are /run/secrets/<appid> in every deployment (compose secrets, the Kubernetes init container, systemd's bind mount)", a.AppID)
		require.NoError(t, os.WriteFile(filepath.Join(dir, a.AppID), []byte("s3cr3t-"+a.AppID+"\n"), 0o600))
	}
	local := filepath.Join(dir, "apps.yaml")
	require.NoError(t, os.WriteFile(local, []byte(strings.ReplaceAll(src, "/run/secrets/", dir+"/")), 0o600))
	loaded, err := worker.LoadApps(local)
	require.NoError(t, err)
	for _, a := range loaded {
		s, err := a.ReadSecret()
		require.NoError(t, err)
		require.Equal(t, "s3cr3t-"+a.AppID, s)
	}
}

// TestExampleCampaigns loads the campaigns file with the scheduler's loader
// and checks that it fits the deployments: its apps are configured, and
// its objects lie in the store every deployment uses.
func TestExampleCampaigns(t *testing.T) {
	f, err := campaign.Load("examples/campaigns.yaml")
	require.NoError(t, err)
	require.NoError(t, f.Validate())
	require.NotEmpty(t, f.Campaigns)
	apps := map[string]bool{}
	for _, a := range exampleApps(t) {
		apps[a.AppID] = true
	}
	stores := deploymentStores(t)
	scheduled := 0
	for _, d := range f.Campaigns {
		require.True(t, apps[d.App], "campaign %s: app %s is not in apps.yaml", d.Name, d.App)
		require.Empty(t, d.Source.File, "campaign %s: a local file exists on one machine only; use an object or a generator", d.Name)
		for where, store := range stores {
			if d.Source.Object != "" {
				require.True(t, strings.HasPrefix(d.Source.Object, store+"/"),
					"campaign %s: %s is outside the store %s of %s", d.Name, d.Source.Object, store, where)
			}
		}
		if d.Scheduled() {
			scheduled++
			require.NotContains(t, d.Schedule, "@every", "campaign %s: @every ticks are not aligned between schedulers", d.Name)
		}
	}
	require.Positive(t, scheduled, "the example shows a scheduled campaign")
	_, ok := f.Get(demoCampaign)
	require.True(t, ok, "deploy/README.md runs campaign %s", demoCampaign)
}

// demoCampaign is the campaign deploy/README.md runs by hand.
const demoCampaign = "demo-1000"

// deploymentStores returns WXACODE_STORAGE_URL of each deployment (its S3
// form for systemd, whose sample also shows a local directory).
func deploymentStores(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{
		"compose":    compose(t).Services["worker"].Environment["WXACODE_STORAGE_URL"],
		"kubernetes": k8sObjects(t).configMap(t, "wxacode-env").Data["WXACODE_STORAGE_URL"],
		"systemd":    readEnvFile(t, "systemd/wxacode.env")["WXACODE_STORAGE_URL"],
	}
	for where, s := range out {
		require.NotEmpty(t, s, "%s: no WXACODE_STORAGE_URL", where)
		require.Equal(t, out["compose"], s, "%s: the examples assume one store everywhere", where)
	}
	return out
}

// secretDirs returns the directories of the example apps' secret files.
func secretDirs(t *testing.T) map[string]bool {
	out := map[string]bool{}
	for _, a := range exampleApps(t) {
		if a.SecretFile != "" {
			out[path.Dir(a.SecretFile)] = true
		}
	}
	return out
}

// TestExamplePlatformApps loads the platform template as the workers do:
// every app takes the template's token source with its own appid.
func TestExamplePlatformApps(t *testing.T) {
	f, err := worker.LoadAppsFile("examples/platform-apps.yaml")
	require.NoError(t, err)
	require.Len(t, f.Apps, 2)
	for _, a := range f.Apps {
		require.Equal(t, "platform:token:"+a.AppID, a.Token.RedisKey)
	}
	require.Equal(t, 3000, f.Apps[0].Rate())
	require.Equal(t, 1000, f.Apps[1].Rate())
}
