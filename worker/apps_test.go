package worker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, name, body string, mode os.FileMode) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), mode))
	return p
}

func TestLoadApps(t *testing.T) {
	secret := writeFile(t, "s", "top-secret\n", 0o600)
	apps, err := LoadApps(writeFile(t, "apps.yaml", `apps:
  - appid: wxA
    secret_file: `+secret+`
    rate_per_minute: 4000
    weight: 2
  - appid: wxB
    token:
      redis_key: "platform:token:wxB"
`, 0o600))
	require.NoError(t, err)
	require.Len(t, apps, 2)
	require.Equal(t, 4000, apps[0].Rate())
	require.Equal(t, 4800, apps[1].Rate())
	s, err := apps[0].ReadSecret()
	require.NoError(t, err)
	require.Equal(t, "top-secret", s)
}

func TestLoadAppsErrorsNameTheField(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown field": {"apps:\n  - appid: wxA\n    secrte: x\n", "secrte"},
		"two sources":   {"apps:\n  - appid: wxA\n    secret: x\n    token:\n      url: http://t\n", "exactly one"},
		"no source":     {"apps:\n  - appid: wxA\n", "exactly one"},
		"rate":          {"apps:\n  - appid: wxA\n    secret: x\n    rate_per_minute: 6000\n", "force_rate"},
		"duplicate":     {"apps:\n  - appid: wxA\n    secret: x\n  - appid: wxA\n    secret: y\n", "twice"},
		"empty":         {"apps: []\n", "no apps"},
		"bad appid":     {"apps:\n  - appid: 'wx{A}'\n    secret: x\n", "not an appid"},
		"path appid":    {"apps:\n  - appid: '../../x y'\n    secret: x\n", "not an appid"},
		"long appid":    {"apps:\n  - appid: " + strings.Repeat("w", 3000) + "\n    secret: x\n", "not an appid: 3000 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadApps(writeFile(t, "apps.yaml", tc.yaml, 0o600))
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "secret: x")
		})
	}
}

func TestSecretFileMustBePrivate(t *testing.T) {
	a := AppConfig{AppID: "wxA", SecretFile: writeFile(t, "s", "top-secret", 0o644)}
	_, err := a.ReadSecret()
	require.ErrorContains(t, err, "readable by others")
	require.NotContains(t, err.Error(), "top-secret")
}

// The platform template: an app needs only its appid; {appid} is replaced
// in the token source; an app's own settings win.
func TestAppsFileTemplate(t *testing.T) {
	f, err := LoadAppsFile(writeFile(t, "apps.yaml", `defaults:
  rate_per_minute: 3000
  weight: 2
  token: {redis_key: "platform:token:{appid}"}
apps:
  - appid: wxA
  - appid: wxB
    rate_per_minute: 100
    token: {url: "http://tokens.internal/wxB"}
`, 0o600))
	require.NoError(t, err)
	require.Equal(t, "platform:token:wxA", f.Apps[0].Token.RedisKey)
	require.Equal(t, 3000, f.Apps[0].Rate())
	require.Equal(t, 2, f.Apps[0].Weight)
	require.Equal(t, "", f.Apps[1].Token.RedisKey)
	require.Equal(t, "http://tokens.internal/wxB", f.Apps[1].Token.URL)
	require.Equal(t, 100, f.Apps[1].Rate())
}

func TestAppsFileTemplateErrors(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"literal secret": {"defaults:\n  secret: hunter2hunter2\napps:\n  - appid: wxA\n", "defaults.secret"},
		"two sources":    {"defaults:\n  secret_file: /s/{appid}\n  token: {url: http://t}\napps:\n  - appid: wxA\n", "at most one"},
		"no source":      {"defaults:\n  rate_per_minute: 10\napps:\n  - appid: wxA\n", "apps[0]: app wxA: give exactly one"},
		"nothing":        {"defaults:\n  rate_per_minute: 10\n", "no apps"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadAppsFile(writeFile(t, "apps.yaml", tc.yaml, 0o600))
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "hunter2")
		})
	}
}

// BenchmarkLoadAppsFile10000 loads a platform template with 10,000 apps
// that give only their appid.
func BenchmarkLoadAppsFile10000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("defaults:\n  token: {redis_key: \"platform:token:{appid}\"}\napps:\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "  - appid: wx%016d\n", i)
	}
	p := filepath.Join(b.TempDir(), "apps.yaml")
	require.NoError(b, os.WriteFile(p, []byte(sb.String()), 0o600))
	b.ResetTimer()
	for b.Loop() {
		f, err := LoadAppsFile(p)
		if err != nil || len(f.Apps) != 10000 {
			b.Fatal(err, len(f.Apps))
		}
	}
}
