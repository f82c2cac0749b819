package campaign

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/storage"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

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
	if v.d.App == "" {
		v.fail("app", "", "required (the appid)")
	} else {
		v.code(code.ValidateApp(v.d.App))
	}
}

// code records a *code.FieldError of the vocabulary's rules, the same
// functions enqueue and the worker call, under its field.
func (v *validator) code(err error) {
	var fe *code.FieldError
	if errors.As(err, &fe) {
		v.fail(fe.Field, fe.Value, fe.Reason)
	} else if err != nil {
		v.fail("", "", err.Error())
	}
}

// codeOptions checks the page and rendering with the vocabulary's rules
// (code.ValidatePage, code.Rendering.Problems), exactly as enqueue and the
// worker do for each row.
func (v *validator) codeOptions() {
	d := v.d
	p, err := d.params()
	v.code(err)
	v.code(code.ValidatePage(p.Page))
	for _, err := range p.Rendering.Problems() {
		v.code(err)
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
