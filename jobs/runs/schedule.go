package runs

import (
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxacode/wxacode/jobs/campaign"
)

// DefaultSyncInterval is how often a scheduler re-reads its campaigns file
// when given no interval.
const DefaultSyncInterval = 30 * time.Second

// Schedule gives asynq's PeriodicTaskManager one fire task per scheduled
// campaign of a campaigns file, read again at every sync so that edits
// take effect without a restart. Several schedulers may run: the worker
// that handles a fire task claims (campaign, scheduled time) once, so a
// tick starts one run.
type Schedule struct {
	// Path is the campaigns file.
	Path string
	// Log receives a warning when the file has become invalid; the last
	// good schedule is kept. Nil: none.
	Log func(msg string, args ...any)
	// Check, if set, returns what stops a scheduled campaign from running
	// (campaign.Definition.Runnable, an app not configured); such a
	// campaign is left out of the schedule and Error is told, once per
	// problem, while the others keep their schedule.
	Check func(campaign.Definition) []error
	// Error receives the campaigns left out. Nil: Log.
	Error func(msg string, args ...any)

	last   []*asynq.PeriodicTaskConfig
	logged map[string]bool // problems already reported
}

// skip reports whether d fails Check, telling Error about new problems.
func (s *Schedule) skip(d campaign.Definition, seen map[string]bool) bool {
	if s.Check == nil {
		return false
	}
	errs := s.Check(d)
	for _, err := range errs {
		msg := err.Error()
		seen[msg] = true
		if s.logged[msg] {
			continue
		}
		report := s.Error
		if report == nil {
			report = s.Log
		}
		if report != nil {
			report("campaign not scheduled: it cannot run as defined (wxacode campaign validate lists every problem)",
				"campaigns_file", s.Path, "campaign", d.Name, "err", msg)
		}
	}
	return len(errs) > 0
}

// GetConfigs implements asynq.PeriodicTaskConfigProvider. An invalid file
// keeps the previous schedule (and is logged); a campaign that cannot be
// turned into a task is an error.
func (s *Schedule) GetConfigs() ([]*asynq.PeriodicTaskConfig, error) {
	f, err := campaign.Load(s.Path)
	if err != nil {
		if s.Log != nil {
			s.Log("campaigns file invalid: keeping the previous schedule", "err", err)
		}
		return s.last, nil
	}
	var out []*asynq.PeriodicTaskConfig
	seen := map[string]bool{}
	for _, d := range f.Campaigns {
		if d.CronSpec() == "" || s.skip(d, seen) {
			continue
		}
		task, err := FireTask(d)
		if err != nil {
			return nil, err
		}
		out = append(out, &asynq.PeriodicTaskConfig{Cronspec: d.CronSpec(), Task: task})
	}
	s.last, s.logged = out, seen
	return out, nil
}
