package campaign

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/code/codetest"
)

func ptr[T any](v T) *T { return &v }

func TestValidateAcceptsFullDefinition(t *testing.T) {
	d := Definition{
		Name: "Nightly_coupons-2", App: "wx0123456789abcdef",
		Source: Source{File: "/data/coupons.csv", Format: "csv"},
		Page:   "pages/coupon/index", Width: 430, EnvVersion: "trial", CheckPath: ptr(false),
		AutoColor: true, LineColor: "#ff8000", IsHyaline: true,
		KeyTemplate: "{appid}/{scene}/{hash}.{ext}", Schedule: "0 2 * * *", TimeZone: "Europe/Paris",
		RateShare: 0.25, Priority: "urgent", SkipExisting: ptr(false), Window: 5000,
		Webhook: "https://hooks.example.com/wxacode?token=s3cret",
	}
	require.Empty(t, d.Validate())
	for _, src := range []Source{
		{Object: "s3://codes-in/coupons/2024.jsonl"},
		{Object: "file:///srv/in/scenes.txt", Format: "lines"},
		{Generator: &Generator{Pattern: "{n:08}", From: 0, To: 99_999_999}},
	} {
		d.Source = src
		require.Empty(t, d.Validate(), "%+v", src)
	}
}

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Definition)
		field  string
		reason string
	}{
		{"no name", func(d *Definition) { d.Name = "" }, "name", "required"},
		{"bad name", func(d *Definition) { d.Name = "night ly" }, "name", "A-Z"},
		{"long name", func(d *Definition) { d.Name = strings.Repeat("n", 65) }, "name", "64"},
		{"no app", func(d *Definition) { d.App = "" }, "app", "required"},
		{"bad app", func(d *Definition) { d.App = "wx/../x" }, "app", "appid"},
		{"no source", func(d *Definition) { d.Source = Source{} }, "source", "required"},
		{"file and generator", func(d *Definition) { d.Source.File = "a.txt" }, "source", "exactly one"},
		{"file and object", func(d *Definition) { d.Source = Source{File: "a", Object: "s3://b-1/k"} }, "source", "exactly one"},
		{"bad format", func(d *Definition) { d.Source = Source{File: "a", Format: "xml"} }, "source.format", "lines, csv or jsonl"},
		{"format on generator", func(d *Definition) { d.Source.Format = "csv" }, "source.format", "generator"},
		{"pattern without n", func(d *Definition) { d.Source.Generator.Pattern = "coupon" }, "source.generator.pattern", "{n}"},
		{"pattern n twice", func(d *Definition) { d.Source.Generator.Pattern = "{n}-{n}" }, "source.generator.pattern", "exactly once"},
		{"pattern bad pad", func(d *Definition) { d.Source.Generator.Pattern = "c{n:8}" }, "source.generator.pattern", "{n:0W}"},
		{"pattern pad too wide", func(d *Definition) { d.Source.Generator.Pattern = "c{n:020}" }, "source.generator.pattern", "1 to 19"},
		{"pattern unclosed", func(d *Definition) { d.Source.Generator.Pattern = "c{n" }, "source.generator.pattern", "unclosed"},
		{"pattern bad char", func(d *Definition) { d.Source.Generator.Pattern = "c%{n}" }, "source.generator.pattern", "'%'"},
		{"pattern other placeholder", func(d *Definition) { d.Source.Generator.Pattern = "{x}{n}" }, "source.generator.pattern", "'{'"},
		{"scene too long", func(d *Definition) { d.Source.Generator.Pattern = strings.Repeat("a", 31) + "{n}" }, "source.generator.pattern", "32"},
		{"from > to", func(d *Definition) { d.Source.Generator.From = 11 }, "source.generator.to", "at least from"},
		{"negative from", func(d *Definition) { d.Source.Generator.From = -1 }, "source.generator.from", "0 or more"},
		{"range overflow", func(d *Definition) { d.Source.Generator = &Generator{Pattern: "{n}", To: math.MaxInt64} }, "source.generator.to", "too large"},
		{"object scheme", func(d *Definition) { d.Source = Source{Object: "https://x/y"} }, "source.object", "scheme"},
		{"object no key", func(d *Definition) { d.Source = Source{Object: "s3://bucket/"} }, "source.object", "s3://bucket/key"},
		{"object relative file", func(d *Definition) { d.Source = Source{Object: "file://rel/x"} }, "source.object", "file:///abs/path"},
		{"width small", func(d *Definition) { d.Width = 100 }, "width", "280 to 1280"},
		{"width large", func(d *Definition) { d.Width = 2000 }, "width", "280 to 1280"},
		{"env", func(d *Definition) { d.EnvVersion = "prod" }, "env_version", "release"},
		{"color", func(d *Definition) { d.LineColor = "red" }, "line_color", "#rrggbb"},
		{"color range", func(d *Definition) { d.LineColor = "0,0,256" }, "line_color", "0-255"},
		{"page slash", func(d *Definition) { d.Page = "/pages/x" }, "page", "'/'"},
		{"page query", func(d *Definition) { d.Page = "pages/x?a=1" }, "page", "query"},
		{"key template", func(d *Definition) { d.KeyTemplate = "{nope}" }, "key_template", "unknown placeholder"},
		{"bad cron", func(d *Definition) { d.Schedule = "61 * * * *" }, "schedule", "not a cron schedule"},
		{"six fields", func(d *Definition) { d.Schedule = "0 0 2 * * *" }, "schedule", "5 fields"},
		{"zone in cron", func(d *Definition) { d.Schedule = "CRON_TZ=UTC 0 2 * * *" }, "schedule", "time_zone"},
		{"bad tz", func(d *Definition) { d.TimeZone = "Mars/Olympus" }, "time_zone", "IANA"},
		{"local tz", func(d *Definition) { d.TimeZone = "Local" }, "time_zone", "IANA"},
		{"rate share > 1", func(d *Definition) { d.RateShare = 1.5 }, "rate_share", "at most 1"},
		{"rate share < 0", func(d *Definition) { d.RateShare = -0.1 }, "rate_share", "more than 0"},
		{"rate share NaN", func(d *Definition) { d.RateShare = math.NaN() }, "rate_share", "more than 0"},
		{"priority", func(d *Definition) { d.Priority = "high" }, "priority", "bulk"},
		{"window", func(d *Definition) { d.Window = -1 }, "window", "at least 1"},
		{"webhook scheme", func(d *Definition) { d.Webhook = "ftp://x/y" }, "webhook", "http"},
		{"webhook host", func(d *Definition) { d.Webhook = "https:///hook" }, "webhook", "host"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(&d)
			errs := d.Validate()
			require.Len(t, errs, 1, "%v", errs)
			var fe *FieldError
			require.True(t, errors.As(errs[0], &fe))
			require.Equal(t, tc.field, fe.Field)
			require.Contains(t, fe.Reason, tc.reason)
			if d.Name != "" {
				require.Contains(t, fe.Error(), `campaign "`+d.Name+`": `+tc.field)
			}
		})
	}
}

func TestValidateNeverEchoesSecrets(t *testing.T) {
	d := valid()
	d.Webhook = "gopher://hooks.example.com/?token=s3cret"
	d.Source = Source{Object: "s3://AKIA:s3cret@bucket/key"}
	errs := d.Validate()
	require.Len(t, errs, 2)
	msg := errors.Join(errs...).Error()
	require.NotContains(t, msg, "s3cret")
	require.Contains(t, msg, "credentials")
}

func TestFileValidateReportsEveryProblem(t *testing.T) {
	a, b, c := valid(), valid(), valid()
	b.Name, b.Width, b.Priority = "other", 1, "high"
	c.Name = ""
	f := &File{Campaigns: []Definition{a, b, c, a}}
	err := f.Validate()
	require.Len(t, FieldErrors(err), 4, "%v", err)
	requireField(t, err, "other", "width")
	requireField(t, err, "other", "priority")
	requireField(t, err, "#3", "name")
	requireField(t, err, "nightly", "name")
	require.Contains(t, err.Error(), "campaign #3: name: required")
	require.Contains(t, err.Error(), "campaign #1 has the same name")
	require.True(t, IsInvalid(err))
}

func TestDefaultsAndAccessors(t *testing.T) {
	d := valid()
	require.Equal(t, "Asia/Shanghai", d.Location().String())
	require.False(t, d.Urgent())
	require.True(t, d.SkipExistingOrDefault())
	require.Equal(t, 100_000, d.WindowOrDefault())
	require.Equal(t, 1.0, d.RateShareOrDefault())
	require.False(t, d.Scheduled())

	d.Page, d.Width, d.EnvVersion, d.CheckPath = "pages/a", 300, "develop", ptr(false)
	d.AutoColor, d.LineColor, d.IsHyaline = true, "1, 2, 3", true
	d.Priority, d.SkipExisting, d.Window, d.RateShare, d.TimeZone = "urgent", ptr(false), 7, 0.5, "UTC"
	j := d.Defaults()
	require.Equal(t, "wx0123456789abcdef", j.App)
	require.Equal(t, "pages/a", j.Page)
	require.Equal(t, 300, j.Width)
	require.Equal(t, "develop", j.EnvVersion)
	require.Equal(t, ptr(false), j.CheckPath)
	require.True(t, j.AutoColor && j.IsHyaline)
	require.Equal(t, &code.Color{R: 1, G: 2, B: 3}, j.LineColor)
	require.Empty(t, j.Scene)
	require.True(t, d.Urgent())
	require.False(t, d.SkipExistingOrDefault())
	require.Equal(t, 7, d.WindowOrDefault())
	require.Equal(t, 0.5, d.RateShareOrDefault())
	require.Equal(t, "UTC", d.Location().String())

	d.TimeZone = "Nowhere/Such"
	require.Equal(t, "UTC", d.Location().String())
	d.LineColor = "bad"
	require.Nil(t, d.Defaults().LineColor)
}

// TestValidateSharedCases: campaign validation refuses exactly the pages
// and options of the vocabulary's shared table (which enqueue and the
// worker also run), naming the same field.
func TestValidateSharedCases(t *testing.T) {
	for _, tc := range codetest.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			d := valid()
			d.Page, d.Width, d.EnvVersion, d.LineColor = tc.Page, tc.Width, tc.EnvVersion, tc.LineColor
			var fields []string
			for _, err := range d.Validate() {
				var fe *FieldError
				require.ErrorAs(t, err, &fe)
				fields = append(fields, fe.Field)
			}
			if tc.Field == "" {
				require.Empty(t, fields)
			} else {
				require.Equal(t, []string{tc.Field}, fields)
			}
		})
	}
	d := valid()
	for _, app := range []string{"../../x y", strings.Repeat("w", 3000), "wx-high"} {
		d.App = app
		errs := d.Validate()
		require.Len(t, errs, 1, app)
		require.Equal(t, code.ValidateApp(app).(*code.FieldError).Reason, errs[0].(*FieldError).Reason)
	}
}
