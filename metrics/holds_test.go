package metrics_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/apphold"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/metrics"
)

// TestAppHeldGauge: wxacode_app_held{app,cause} is 1 for each app held for
// the fleet, and gone once it is released.
func TestAppHeldGauge(t *testing.T) {
	ctx := context.Background()
	reg := apphold.New(redistest.Start(t).Client(t), apphold.Config{})
	_, _, err := reg.Hold(ctx, apphold.Hold{App: "wxa", Cause: apphold.CauseAccount, Code: 48001}, 0)
	require.NoError(t, err)
	_, _, err = reg.Hold(ctx, apphold.Hold{App: "wxb", Cause: apphold.CauseTokenQuota, Code: 45009}, 3600e9)
	require.NoError(t, err)
	pr := prometheus.NewRegistry()
	pr.MustRegister(metrics.Holds(reg))
	require.Equal(t, map[string]string{"wxa": "account", "wxb": "token-quota"}, held(t, pr))
	_, _, err = reg.Release(ctx, "wxa")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"wxb": "token-quota"}, held(t, pr))
}

// held gathers wxacode_app_held: cause by app, each series checked to be 1.
func held(t *testing.T, g prometheus.Gatherer) map[string]string {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	out := map[string]string{}
	for _, mf := range mfs {
		if mf.GetName() != "wxacode_app_held" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			require.EqualValues(t, 1, m.GetGauge().GetValue())
			out[l["app"]] = l["cause"]
		}
	}
	return out
}
