package worker

import (
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
