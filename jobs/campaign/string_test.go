package campaign

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStringHidesWebhookSecrets(t *testing.T) {
	d := valid()
	d.Schedule, d.Priority = "@daily", "urgent"
	d.Webhook = "https://user:pw@hooks.example.com/t/s3cret?token=s3cret"
	for _, s := range []string{d.String(), fmt.Sprint(d), fmt.Sprintf("%+v", d), fmt.Sprintf("%#v", d)} {
		require.Equal(t, `nightly (app wx0123456789abcdef, generator c{n} 1..10, schedule "@daily" Asia/Shanghai, urgent, webhook https://hooks.example.com/…)`, s)
	}
	d.Source = Source{Object: "s3://AKIA:s3cret@b/k"}
	d.Webhook = ""
	require.NotContains(t, d.String(), "s3cret")
	d.Source = Source{File: "/in/a.txt"}
	d.Schedule, d.Priority = "", ""
	require.Equal(t, "nightly (app wx0123456789abcdef, file /in/a.txt, by hand)", d.String())
}
