package campaign

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parseSchedule parses a 5-field cron spec or a descriptor (@daily,
// @every 1h) in loc. Zone prefixes are refused: time_zone says the zone.
func parseSchedule(spec string, loc *time.Location) (cron.Schedule, error) {
	s := strings.TrimSpace(spec)
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		return nil, errors.New("set the zone with time_zone, not in the schedule")
	}
	sched, err := cron.ParseStandard("CRON_TZ=" + loc.String() + " " + s)
	if err != nil {
		return nil, fmt.Errorf("not a cron schedule (5 fields: minute hour day-of-month month day-of-week, or @daily, @every 1h...): %v", err)
	}
	return sched, nil
}

// CronSpec returns the schedule with its zone, as robfig/cron and asynq's
// scheduler accept it ("CRON_TZ=Asia/Shanghai 0 2 * * *"), or "" for a
// campaign without a schedule.
func (d Definition) CronSpec() string {
	if d.Schedule == "" {
		return ""
	}
	return "CRON_TZ=" + d.Location().String() + " " + strings.TrimSpace(d.Schedule)
}

// NextRun returns the first scheduled time strictly after after, in the
// campaign's zone. It fails for a campaign without a schedule or with an
// invalid one.
func (d Definition) NextRun(after time.Time) (time.Time, error) {
	if d.Schedule == "" {
		return time.Time{}, &FieldError{Campaign: d.Name, Field: "schedule", Reason: "none: the campaign runs only by hand"}
	}
	sched, err := parseSchedule(d.Schedule, d.Location())
	if err != nil {
		return time.Time{}, &FieldError{Campaign: d.Name, Field: "schedule", Value: d.Schedule, Reason: err.Error()}
	}
	next := sched.Next(after.In(d.Location()))
	if next.IsZero() {
		return time.Time{}, &FieldError{Campaign: d.Name, Field: "schedule", Value: d.Schedule, Reason: "never fires"}
	}
	return next, nil
}
