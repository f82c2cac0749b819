package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

type jsonlReader struct {
	lines    *lineReader
	defaults Job
}

// jsonRow is the JSON Lines form of a row; pointers tell "absent" from zero.
type jsonRow struct {
	Scene      *string `json:"scene"`
	Page       *string `json:"page"`
	Width      *int    `json:"width"`
	EnvVersion *string `json:"env_version"`
	CheckPath  *bool   `json:"check_path"`
	AutoColor  *bool   `json:"auto_color"`
	LineColor  *struct {
		R, G, B int
	} `json:"line_color"`
	IsHyaline *bool   `json:"is_hyaline"`
	Key       *string `json:"key"`
}

func (r *jsonlReader) Next() (Row, error) {
	for {
		b, n, err := r.lines.next()
		if err == errLineTooLong {
			return Row{Line: n}, &RowError{Line: n, Reason: err.Error()}
		}
		if err != nil {
			return Row{}, err
		}
		if blank(b) {
			continue
		}
		j, rerr := r.parse(b, n)
		if rerr != nil {
			return Row{Line: n}, rerr
		}
		return Row{Line: n, Job: j}, nil
	}
}

func (r *jsonlReader) parse(b []byte, n int64) (Job, error) {
	var jr jsonRow
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&jr); err != nil {
		return Job{}, jsonRowError(err, n)
	}
	if dec.More() {
		return Job{}, &RowError{Line: n, Reason: "more than one JSON value on the line"}
	}
	j := r.defaults
	set(&j.Scene, jr.Scene)
	set(&j.Page, jr.Page)
	set(&j.Width, jr.Width)
	set(&j.EnvVersion, jr.EnvVersion)
	set(&j.AutoColor, jr.AutoColor)
	set(&j.IsHyaline, jr.IsHyaline)
	set(&j.Key, jr.Key)
	if jr.CheckPath != nil {
		j.CheckPath = jr.CheckPath
	}
	if c := jr.LineColor; c != nil {
		j.LineColor = &[3]int{c.R, c.G, c.B}
	}
	return j, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func jsonRowError(err error, n int64) *RowError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &RowError{Line: n, Field: te.Field, Reason: fmt.Sprintf("want a JSON %s, got %s", te.Type, te.Value)}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return &RowError{Line: n, Field: strings.Trim(f, `"`), Reason: "unknown field (known: " + strings.Join(Columns, ", ") + ")"}
	}
	return &RowError{Line: n, Reason: "not a JSON object: " + strings.TrimPrefix(msg, "json: ")}
}
