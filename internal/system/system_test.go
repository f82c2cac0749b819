package system

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://127.0.0.1:6379/0":                             "redis://127.0.0.1:6379/0",
		"redis://u:pw-123@h:6379/0":                            "redis://u:xxxxx@h:6379/0",
		"redis://h:26379/0?master_name=m&password=pw-456":      "redis://h:26379/0?master_name=m&password=xxxxx",
		"redis://h:26379/0?sentinel_password=pw-789&addr=h2:1": "redis://h:26379/0?addr=h2%3A1&sentinel_password=xxxxx",
	} {
		require.Equal(t, want, RedactURL(raw), raw)
	}
}

// The one-app setup's mistakes are told in the words of its flags and
// variables, as configuration errors.
func TestAppsConfigErrors(t *testing.T) {
	for a, want := range map[Apps]string{
		{}:             "no app configured: set WXACODE_APPID",
		{AppID: "wx1"}: "no secret for app wx1: set WXACODE_SECRET_FILE",
		{AppID: "wx1", Secret: "s", SecretFile: "f"}: "give one of WXACODE_SECRET_FILE and WXACODE_SECRET",
		{AppID: "wx1", Secret: "s", Rate: 6000}:      "6000 is above WeChat's 5000/min: set --force-rate",
		{AppID: "wx1", File: "apps.yaml"}:            "give one of them, not both",
	} {
		_, err := a.Configs()
		var ce *ConfigError
		require.True(t, errors.As(err, &ce), "%+v: %v", a, err)
		require.Contains(t, err.Error(), want)
		require.NotContains(t, err.Error(), "secret_file", "not in apps.yaml words")
	}
	cfgs, err := Apps{AppID: "wx1", Secret: "s"}.Configs()
	require.NoError(t, err)
	require.Equal(t, 4800, cfgs[0].Rate(), "the default rate is ratelimit's")
	_, err = Apps{AppID: "wx1", Secret: "s"}.Pick("wx2")
	require.ErrorContains(t, err, `"wx2" is not a configured app`)
}

func TestLogSettings(t *testing.T) {
	_, err := Log{Level: "loud"}.New(nil)
	require.ErrorContains(t, err, "want one of debug, info, warn, error")
	_, err = Log{Format: "xml"}.New(nil)
	require.ErrorContains(t, err, "want one of auto, text, json")
}
