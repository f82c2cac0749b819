package campaign

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const goodFile = `
campaigns:
  - name: nightly
    app: wx0123456789abcdef
    source:
      generator: {pattern: "c{n:08}", from: 1, to: 2000000}
    page: pages/coupon/index
    width: 430
    line_color: "#102030"
    check_path: false
    schedule: "0 2 * * *"
    rate_share: 0.5
    priority: bulk
    skip_existing: false
    window: 50000
    webhook: https://hooks.example.com/done
  - name: partners
    app: wxfedcba9876543210
    source: {object: "s3://codes-in/partners.csv"}
    time_zone: UTC
    schedule: "@daily"
    priority: urgent
  - name: by-hand
    app: wx0123456789abcdef
    source: {file: ./scenes.txt, format: lines}
`

func TestParseGoodFile(t *testing.T) {
	f, err := Parse([]byte(goodFile))
	require.NoError(t, err)
	require.Equal(t, []string{"nightly", "partners", "by-hand"}, f.Names())
	want := Definition{
		Name: "nightly", App: "wx0123456789abcdef",
		Source: Source{Generator: &Generator{Pattern: "c{n:08}", From: 1, To: 2_000_000}},
		Page:   "pages/coupon/index", Width: 430, LineColor: "#102030", CheckPath: ptr(false),
		Schedule: "0 2 * * *", RateShare: 0.5, Priority: "bulk", SkipExisting: ptr(false),
		Window: 50000, Webhook: "https://hooks.example.com/done",
	}
	got, ok := f.Get("nightly")
	require.True(t, ok)
	require.Equal(t, want, got)
	p, ok := f.Get("partners")
	require.True(t, ok)
	require.True(t, p.Urgent())
	require.Equal(t, "CRON_TZ=UTC @daily", p.CronSpec())
	_, ok = f.Get("missing")
	require.False(t, ok)
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing yet\n", "campaigns: []\n"} {
		f, err := Parse([]byte(in))
		require.NoError(t, err, "%q", in)
		require.Empty(t, f.Campaigns)
	}
}

func TestParseRejectsShape(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"unknown field", "campaigns:\n  - name: a\n    app: wx1\n    sauce: {file: x}\n", "line 4: field sauce not found in a campaign"},
		{"unknown top", "campaign:\n  - name: a\n", "line 1: field campaign not found at the top level"},
		{"unknown source field", "campaigns:\n  - name: a\n    app: b\n    source: {path: x}\n", "line 4: field path not found in source"},
		{"unknown generator field", "campaigns:\n  - name: a\n    app: b\n    source:\n      generator: {pattern: x, step: 2}\n", "line 5: field step not found in generator"},
		{"duplicate key", "campaigns:\n  - name: a\n    app: b\n    app: c\n", `line 4: mapping key "app" already defined at line 3`},
		{"wrong type", "campaigns:\n  - name: a\n    width: wide\n", "line 3: cannot unmarshal !!str `wide` into int"},
		{"not a list", "campaigns: {name: a}\n", "into campaigns (want a list)"},
		{"bad yaml", "campaigns:\n  - name: [a\n", "did not find expected"},
		{"two documents", "campaigns: []\n---\ncampaigns: []\n", "line 2: only one YAML document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "%v", err)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, IsInvalid(err))
		})
	}
}

func TestParseReportsEveryFieldAtOnce(t *testing.T) {
	in := `campaigns:
  - name: nightly
    app: wx1
    source: {generator: {pattern: "c{n}", from: 5, to: 1}, file: x.txt}
    schedule: "61 * * * *"
    time_zone: Mars/Base
    window: 0
    rate_share: 0
  - name: nightly
    app: wx1
    source: {file: x.txt}
    rate_share: 2
  - app: wx2
    source: {file: y.txt}
    window: -5
`
	_, err := Parse([]byte(in))
	require.Error(t, err)
	for _, fe := range []struct{ campaign, field string }{
		{"nightly", "source"}, {"nightly", "schedule"}, {"nightly", "time_zone"},
		{"nightly", "window"}, {"nightly", "rate_share"}, {"nightly", "name"},
		{"#3", "name"}, {"#3", "window"},
	} {
		requireField(t, err, fe.campaign, fe.field)
	}
	require.Len(t, FieldErrors(err), 9, "%v", err)
	require.Contains(t, err.Error(), `campaign "nightly": schedule "61 * * * *": not a cron schedule`)
	require.Contains(t, err.Error(), `campaign "nightly": window "0": must be more than 0`)
}

func TestParseNullKeepsDefault(t *testing.T) {
	f, err := Parse([]byte("campaigns:\n  - {name: a, app: b, source: {file: x}, window: ~, rate_share: null}\n"))
	require.NoError(t, err)
	require.Equal(t, DefaultWindow, f.Campaigns[0].WindowOrDefault())
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "campaigns.yaml")
	require.NoError(t, os.WriteFile(path, []byte(goodFile), 0o600))
	f, err := Load(path)
	require.NoError(t, err)
	require.Len(t, f.Campaigns, 3)

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.False(t, IsInvalid(err))

	require.NoError(t, os.WriteFile(path, []byte("campaigns:\n  - name: a\n    ap: b\n"), 0o600))
	_, err = Load(path)
	require.ErrorContains(t, err, path+": campaigns file: line 3: field ap not found")
}
