package campaign

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/require"
)

func TestNextRunUsesTheCampaignZone(t *testing.T) {
	d := valid()
	d.Schedule = "0 2 * * *"
	// 2024-03-01 17:59 UTC is 01:59 in Shanghai (UTC+8): fires a minute later.
	after := time.Date(2024, 3, 1, 17, 59, 0, 0, time.UTC)
	next, err := d.NextRun(after)
	require.NoError(t, err)
	require.True(t, next.Equal(time.Date(2024, 3, 1, 18, 0, 0, 0, time.UTC)), "%v", next)
	require.Equal(t, "Asia/Shanghai", next.Location().String())

	d.TimeZone = "UTC"
	next, err = d.NextRun(after)
	require.NoError(t, err)
	require.True(t, next.Equal(time.Date(2024, 3, 2, 2, 0, 0, 0, time.UTC)), "%v", next)

	// 02:00 does not exist on 2024-03-31 in Paris: robfig/cron (and so
	// asynq's scheduler) skips that day. The default zone has no DST.
	d.TimeZone = "Europe/Paris"
	next, err = d.NextRun(time.Date(2024, 3, 30, 12, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, "2024-04-01T02:00:00+02:00", next.Format(time.RFC3339))
}

func TestNextRunDescriptors(t *testing.T) {
	d := valid()
	d.TimeZone = "UTC"
	after := time.Date(2024, 1, 1, 10, 30, 0, 0, time.UTC)
	for spec, want := range map[string]time.Time{
		"@daily":       time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC),
		"@hourly":      time.Date(2024, 1, 1, 11, 0, 0, 0, time.UTC),
		"@every 1h":    time.Date(2024, 1, 1, 11, 30, 0, 0, time.UTC),
		"*/15 * * * *": time.Date(2024, 1, 1, 10, 45, 0, 0, time.UTC),
	} {
		d.Schedule = spec
		require.Empty(t, d.Validate(), spec)
		next, err := d.NextRun(after)
		require.NoError(t, err, spec)
		require.True(t, next.Equal(want), "%s: %v", spec, next)
	}
}

func TestNextRunFailures(t *testing.T) {
	d := valid()
	_, err := d.NextRun(time.Now())
	requireField(t, err, "nightly", "schedule")
	d.Schedule = "0 0 31 2 *" // Feb 31st
	_, err = d.NextRun(time.Now())
	require.ErrorContains(t, err, "never fires")
	d.Schedule = "bogus"
	_, err = d.NextRun(time.Now())
	require.ErrorContains(t, err, "not a cron schedule")
}

func TestCronSpecParsesAsAsynqWould(t *testing.T) {
	d := valid()
	require.Empty(t, d.CronSpec())
	d.Schedule, d.TimeZone = " 30 2 * * 1-5 ", "America/New_York"
	spec := d.CronSpec()
	require.Equal(t, "CRON_TZ=America/New_York 30 2 * * 1-5", spec)
	// asynq's scheduler uses cron's standard parser.
	sched, err := cron.ParseStandard(spec)
	require.NoError(t, err)
	next := sched.Next(time.Date(2024, 6, 7, 12, 0, 0, 0, time.UTC)) // a Friday
	want, err := d.NextRun(time.Date(2024, 6, 7, 12, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.True(t, next.Equal(want))
	require.Equal(t, time.Monday, want.Weekday())
}
