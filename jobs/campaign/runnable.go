package campaign

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/wxacode/wxacode/storage"
)

// Bounds of a runnable campaign (Runnable).
const (
	// MaxRunRows is the most rows a generator may make: a billion codes
	// take about 140 days at WeChat's 5000/min.
	MaxRunRows = 1_000_000_000
	// MinScheduleInterval is the shortest time between two scheduled runs.
	MinScheduleInterval = time.Minute
	// MaxScheduleInterval is the longest: a schedule must fire at least
	// once a year.
	MaxScheduleInterval = 366 * 24 * time.Hour
)

// Runnable returns the problems, beyond Validate's, that stop the campaign
// from running as defined, one *FieldError each: a source file that does
// not exist or cannot be opened; a generator of more than MaxRunRows rows;
// a schedule that fires more often than once a minute or less often than
// once a year (or never); a file:// object that is neither in store nor
// under one of dirs (CheckLocalObject). now is when the schedule is looked
// at.
func (d Definition) Runnable(now time.Time, store storage.Store, dirs []string) []error {
	v := &validator{d: d}
	s := d.Source
	switch {
	case s.File != "":
		f, err := os.Open(s.File)
		if err != nil {
			v.fail("source.file", s.File, "cannot be opened: "+err.Error())
		} else {
			f.Close()
		}
	case s.Generator != nil && s.Generator.To >= s.Generator.From && s.Generator.To-s.Generator.From >= MaxRunRows:
		v.fail("source.generator.to", strconv.FormatInt(s.Generator.To, 10),
			fmt.Sprintf("makes %d rows; a run may have at most %d (split it into several campaigns)", uint64(s.Generator.To-s.Generator.From)+1, MaxRunRows))
	}
	if err := d.CheckLocalObject(store, dirs); err != nil {
		v.errs = append(v.errs, err)
	}
	if d.Schedule != "" {
		if reason := scheduleProblem(d.Schedule, d.Location(), now); reason != "" {
			v.fail("schedule", d.Schedule, reason)
		}
	}
	return v.errs
}

// scheduleProblem says why spec fires too often or too rarely, or "".
func scheduleProblem(spec string, loc *time.Location, now time.Time) string {
	sched, err := parseSchedule(spec, loc)
	if err != nil {
		return "" // Validate's
	}
	if c, ok := sched.(cron.ConstantDelaySchedule); ok || strings.HasPrefix(strings.TrimSpace(spec), "@every") {
		d, perr := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(spec), "@every")))
		if perr != nil {
			d = c.Delay
		}
		switch {
		case d < MinScheduleInterval:
			return fmt.Sprintf("fires every %s: at most once a minute (@every 1m or more)", d)
		case d > MaxScheduleInterval:
			return "fires less often than once a year"
		}
		return ""
	}
	// Cron fires at most once a minute; check the next two gaps.
	prev := now
	for range 2 {
		next := sched.Next(prev)
		if next.IsZero() {
			return "never fires (no such date within five years)"
		}
		if next.Sub(prev) > MaxScheduleInterval {
			return fmt.Sprintf("fires less often than once a year (next %s after %s)", next.Format("2006-01-02 15:04"), prev.Format("2006-01-02 15:04"))
		}
		prev = next
	}
	return ""
}

// CheckLocalObject refuses a file:// object source that is neither in
// store (a local store reads it as an object) nor under one of dirs, the
// directories the operator allows (WXACODE_SOURCE_DIRS): the processes
// feeding runs must not read whatever local file a campaigns file names.
// It returns nil for every other source.
func (d Definition) CheckLocalObject(store storage.Store, dirs []string) error {
	obj, problem := parseObject(d.Source.Object)
	if d.Source.Object == "" || problem != "" || obj.scheme != "file" {
		return nil
	}
	if _, ok := keyInStore(obj, store); ok {
		return nil
	}
	path := obj.path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	for _, dir := range dirs {
		dir = filepath.Clean(dir)
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
		if rel, err := filepath.Rel(dir, path); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			return nil
		}
	}
	return &FieldError{Campaign: d.Name, Field: "source.object",
		Reason: "a file:// object outside the store is not read: put it in the store (WXACODE_STORAGE_URL), or allow its directory with WXACODE_SOURCE_DIRS"}
}
