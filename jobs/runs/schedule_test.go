package runs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/jobs/campaign"
)

// A scheduled campaign that fails Check is left out, reported once per
// problem; the others keep their schedule.
func TestScheduleSkipsCampaignsThatCannotRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campaigns.yaml")
	gen := "    source:\n      generator: {pattern: \"g{n}\", from: 1, to: 3}\n"
	require.NoError(t, os.WriteFile(path, []byte("campaigns:\n"+
		"  - name: good\n    app: wx1\n    schedule: \"0 2 * * *\"\n"+gen+
		"  - name: bad\n    app: wx1\n    schedule: \"0 3 * * *\"\n"+gen), 0o600))
	var reported []string
	s := &Schedule{Path: path,
		Check: func(d campaign.Definition) []error {
			if d.Name == "bad" {
				return []error{errors.New("campaign \"bad\": cannot run")}
			}
			return nil
		},
		Error: func(msg string, args ...any) { reported = append(reported, msg) }}
	for range 3 {
		cfgs, err := s.GetConfigs()
		require.NoError(t, err)
		require.Len(t, cfgs, 1)
		require.Contains(t, cfgs[0].Cronspec, " 0 2 * * *")
	}
	require.Len(t, reported, 1, "reported once, not at every sync")
	require.Contains(t, reported[0], "campaign not scheduled")
}
