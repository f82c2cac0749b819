package campaign

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// FuzzParse: Parse never panics; what it accepts is valid, opens, and
// survives a YAML round trip unchanged.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("testdata/campaigns.yaml")
	require.NoError(f, err)
	for _, seed := range []string{
		string(example),
		goodFile,
		"",
		"campaigns: []",
		"campaigns:\n  - {name: a, app: b, source: {generator: {pattern: 'x{n:03}y', from: 0, to: 999}}}\n",
		"campaigns:\n  - {name: a, app: b, source: {file: x.csv}, window: 0}\n",
		"campaigns:\n  - {name: a, app: b, source: {object: 's3://b-1/k'}, rate_share: 1e-9}\n",
		"campaigns:\n  - &x {name: a, app: b, source: {file: y}}\n  - *x\n",
		"campaigns:\n  - name: a\n    <<: {app: b}\n",
		"campaigns:\n  - {name: a, app: b, source: {file: y}, schedule: '@every 1m', time_zone: UTC}\n",
		"campaigns: [{name: ü, app: '', source: {}}]",
		"campaigns:\n- name: a\n  app: b\n  source: {file: f}\n---\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			require.True(t, IsInvalid(err), "%v", err)
			return
		}
		require.NoError(t, file.Validate())
		for _, d := range file.Campaigns {
			_ = d.Defaults()
			_ = d.Location()
			_ = d.CronSpec()
			if g := d.Source.Generator; g != nil {
				src, err := d.Open(context.Background(), nil, 0)
				require.NoError(t, err)
				i, row, err := src.Next()
				require.NoError(t, err)
				require.Equal(t, int64(0), i)
				require.LessOrEqual(t, len(row.Job.Scene), maxSceneLen)
			}
		}
		out, err := yaml.Marshal(file)
		require.NoError(t, err)
		again, err := Parse(out)
		require.NoError(t, err, "%s", out)
		if len(file.Campaigns) == 0 { // nil and [] are the same file
			require.Empty(t, again.Campaigns)
			return
		}
		require.Equal(t, file, again)
	})
}
