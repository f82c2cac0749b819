package campaign

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/storage"
)

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	appidRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Validate checks every campaign and that names are unique. It returns nil
// or the errors.Join of one *FieldError per problem, all at once.
func (f *File) Validate() error {
	var errs []error
	seen := map[string]int{}
	for i, d := range f.Campaigns {
		for _, err := range d.Validate() {
			errs = append(errs, renameUnnamed(err, i))
		}
		if d.Name == "" {
			continue
		}
		if j, dup := seen[d.Name]; dup {
			errs = append(errs, &FieldError{Campaign: d.Name, Field: "name",
				Reason: fmt.Sprintf("campaign #%d has the same name (names must be unique)", j+1)})
			continue
		}
		seen[d.Name] = i
	}
	return errors.Join(errs...)
}

// renameUnnamed names a campaign without a usable name by its position.
func renameUnnamed(err error, i int) error {
	if fe, ok := err.(*FieldError); ok && !nameRE.MatchString(fe.Campaign) {
		fe.Campaign = fmt.Sprintf("#%d", i+1)
	}
	return err
}

// Validate returns one *FieldError per problem of the definition, or nil.
// It does not open the source (see Count for that).
func (d Definition) Validate() []error {
	v := &validator{d: d}
	v.identity()
	v.source()
	v.codeOptions()
	v.schedule()
	v.run()
	return v.errs
}

type validator struct {
	d    Definition
	errs []error
}

func (v *validator) fail(field, value, reason string) {
	v.errs = append(v.errs, &FieldError{Campaign: v.d.Name, Field: field, Value: value, Reason: reason})
}

func (v *validator) identity() {
	switch d := v.d; {
	case d.Name == "":
		v.fail("name", "", "required")
	case !nameRE.MatchString(d.Name):
		v.fail("name", d.Name, "want 1 to 64 of A-Z a-z 0-9 _ -")
	}
	switch d := v.d; {
	case d.App == "":
		v.fail("app", "", "required (the appid)")
	case !appidRE.MatchString(d.App):
		v.fail("app", d.App, "want an appid: 1 to 64 of A-Z a-z 0-9 _ -")
	}
}

func (v *validator) codeOptions() {
	d := v.d
	if d.Width != 0 && (d.Width < 280 || d.Width > 1280) {
		v.fail("width", strconv.Itoa(d.Width), "must be 280 to 1280 pixels (or omitted for 430)")
	}
	switch d.EnvVersion {
	case "", "release", "trial", "develop":
	default:
		v.fail("env_version", d.EnvVersion, `must be "release", "trial", "develop" or omitted`)
	}
	if d.LineColor != "" {
		if _, err := jobs.ParseColor(d.LineColor); err != nil {
			v.fail("line_color", d.LineColor, err.Error())
		}
	}
	if problem := pageProblem(d.Page); problem != "" {
		v.fail("page", d.Page, problem)
	}
	if d.KeyTemplate != "" {
		if _, err := storage.ParseKeyTemplate(d.KeyTemplate); err != nil {
			v.fail("key_template", d.KeyTemplate, templateReason(err))
		}
	}
}

func templateReason(err error) string {
	var te *storage.TemplateError
	if errors.As(err, &te) {
		return te.Problem
	}
	return err.Error()
}

// pageProblem mirrors WeChat's rules for the page of interface B.
func pageProblem(page string) string {
	switch {
	case strings.HasPrefix(page, "/"):
		return "must not start with '/'"
	case strings.Contains(page, "?"):
		return "must not contain a query string; put parameters in scene"
	case strings.ContainsFunc(page, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "must not contain spaces or control characters"
	}
	return ""
}

func (v *validator) schedule() {
	d := v.d
	tz := d.TimeZone
	if tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			v.fail("time_zone", tz, "not an IANA time zone (e.g. Asia/Shanghai, UTC)")
		}
	}
	if d.Schedule != "" {
		if _, err := parseSchedule(d.Schedule, time.UTC); err != nil {
			v.fail("schedule", d.Schedule, err.Error())
		}
	}
}

func (v *validator) run() {
	d := v.d
	if r := d.RateShare; math.IsNaN(r) || r < 0 || r > 1 {
		v.fail("rate_share", strconv.FormatFloat(r, 'g', -1, 64), "must be more than 0 and at most 1 (a share of the app's rate)")
	}
	switch d.Priority {
	case "", PriorityBulk, PriorityUrgent:
	default:
		v.fail("priority", d.Priority, `must be "bulk" or "urgent"`)
	}
	if d.Window < 0 {
		v.fail("window", strconv.Itoa(d.Window), "must be at least 1 (pending jobs of a run)")
	}
	if d.Webhook != "" {
		if problem := webhookProblem(d.Webhook); problem != "" {
			v.fail("webhook", "", problem) // the URL may carry a token: never echoed
		}
	}
}

func webhookProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an http:// or https:// URL"
	case u.Host == "":
		return "has no host"
	}
	return ""
}
