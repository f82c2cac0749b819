package campaign

import (
	"cmp"
	"time"
	_ "time/tzdata" // schedules name IANA zones; do not depend on the host's zoneinfo

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/jobs"
)

// Defaults of a definition's optional fields.
const (
	DefaultTimeZone  = "Asia/Shanghai"
	DefaultRateShare = 1.0
	DefaultWindow    = 100_000
	PriorityBulk     = "bulk"
	PriorityUrgent   = "urgent"
)

// Definition is one campaign of the campaigns file (WXACODE_CAMPAIGNS_FILE).
// Zero values of optional fields mean their documented default.
type Definition struct {
	Name       string `yaml:"name"`                  // required, [A-Za-z0-9_-]{1,64}, unique in the file
	App        string `yaml:"app"`                   // required appid
	Source     Source `yaml:"source"`                // required, exactly one kind
	Page       string `yaml:"page,omitempty"`        // "" = the app's home page
	Width      int    `yaml:"width,omitempty"`       // 0 = WeChat's 430; else 280-1280
	EnvVersion string `yaml:"env_version,omitempty"` // "", release, trial, develop
	CheckPath  *bool  `yaml:"check_path,omitempty"`  // nil = WeChat's default (true)
	AutoColor  bool   `yaml:"auto_color,omitempty"`
	LineColor  string `yaml:"line_color,omitempty"` // "r,g,b" or "#rrggbb" (code.ParseColor); "" = none
	IsHyaline  bool   `yaml:"is_hyaline,omitempty"`
	// KeyTemplate is a storage key template; "" = the worker's default.
	KeyTemplate string `yaml:"key_template,omitempty"`
	// Schedule is a cron spec of 5 fields (robfig/cron/v3 standard parser,
	// also @daily, @every 1h...); "" = run only by hand. A time that a DST
	// change skips in TimeZone does not fire that day (robfig/cron).
	Schedule string `yaml:"schedule,omitempty"`
	// TimeZone is the IANA zone of Schedule; "" = Asia/Shanghai.
	TimeZone string `yaml:"time_zone,omitempty"`
	// RateShare is the share of the app's rate the campaign may use,
	// 0 < x <= 1; 0 (unset) = 1.
	RateShare float64 `yaml:"rate_share,omitempty"`
	// Priority is "bulk" (default, also "") or "urgent".
	Priority string `yaml:"priority,omitempty"`
	// SkipExisting skips codes whose object is already stored; nil = true.
	SkipExisting *bool `yaml:"skip_existing,omitempty"`
	// Window caps the pending jobs of a run; 0 (unset) = 100000.
	Window int `yaml:"window,omitempty"`
	// Webhook is an optional http(s) URL that receives the run's summary.
	Webhook string `yaml:"webhook,omitempty"`
}

// Source says where a campaign's rows come from. Exactly one of File,
// Object and Generator is set.
type Source struct {
	// File is a local path; its format comes from Format or its extension
	// (.csv, .jsonl/.ndjson, else one scene per line).
	File string `yaml:"file,omitempty"`
	// Object is "s3://bucket/key" or "file:///abs/path", read through the
	// store (see Definition.Open).
	Object string `yaml:"object,omitempty"`
	// Format is "", lines, csv or jsonl; "" = from the file name.
	Format string `yaml:"format,omitempty"`
	// Generator makes one scene per number of a range.
	Generator *Generator `yaml:"generator,omitempty"`
}

// Generator makes the scene Pattern with {n} replaced by each number of
// From..To (inclusive), in order. Row i is the number From+i.
type Generator struct {
	// Pattern contains {n} exactly once, e.g. "c{n}"; "{n:08}" pads the
	// number with zeros to 8 digits.
	Pattern string `yaml:"pattern"`
	From    int64  `yaml:"from"` // >= 0
	To      int64  `yaml:"to"`   // >= From
}

// Defaults returns the job every row starts from: the campaign's app and
// code options. A LineColor that does not parse is left out (Validate
// reports it).
func (d Definition) Defaults() jobs.Job {
	p, _ := d.params()
	return jobs.Job{App: d.App, Params: p}
}

// params are the campaign's code options (without a scene: rows give it),
// and the *code.FieldError of a LineColor that does not parse.
func (d Definition) params() (code.Params, error) {
	p := code.Params{Page: d.Page, CheckPath: d.CheckPath,
		Rendering: code.Rendering{Width: d.Width, EnvVersion: d.EnvVersion, AutoColor: d.AutoColor, IsHyaline: d.IsHyaline}}
	return p, p.Set(code.FieldLineColor, d.LineColor)
}

// Location returns the schedule's time zone. A zone that does not load
// (Validate reports it) gives UTC.
func (d Definition) Location() *time.Location {
	loc, err := time.LoadLocation(cmp.Or(d.TimeZone, DefaultTimeZone))
	if err != nil {
		return time.UTC
	}
	return loc
}

// Urgent reports a campaign marked priority: urgent, whose jobs are served
// with on-demand codes rather than with bulk work.
func (d Definition) Urgent() bool { return d.Priority == PriorityUrgent }

// SkipExistingOrDefault reports whether already stored codes are skipped
// (default true).
func (d Definition) SkipExistingOrDefault() bool {
	return d.SkipExisting == nil || *d.SkipExisting
}

// WindowOrDefault returns the cap on pending jobs of a run (default 100000).
func (d Definition) WindowOrDefault() int { return cmp.Or(d.Window, DefaultWindow) }

// RateShareOrDefault returns the share of the app's rate (default 1).
func (d Definition) RateShareOrDefault() float64 { return cmp.Or(d.RateShare, DefaultRateShare) }

// Scheduled reports whether the campaign has a schedule (else it runs only
// by hand).
func (d Definition) Scheduled() bool { return d.Schedule != "" }
