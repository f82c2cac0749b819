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
	Scene      *string         `json:"scene"`
	Page       *string         `json:"page"`
	Width      *int            `json:"width"`
	EnvVersion *string         `json:"env_version"`
	CheckPath  *bool           `json:"check_path"`
	AutoColor  *bool           `json:"auto_color"`
	LineColor  json.RawMessage `json:"line_color"` // {"r":..,"g":..,"b":..}, "r,g,b" or "#rrggbb"
	IsHyaline  *bool           `json:"is_hyaline"`
	Key        *string         `json:"key"`
	Params     json.RawMessage `json:"params"`
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
		j, params, rerr := r.parse(b, n)
		if rerr != nil {
			return Row{Line: n}, rerr
		}
		return Row{Line: n, Job: j, Params: params}, nil
	}
}

func (r *jsonlReader) parse(b []byte, n int64) (Job, json.RawMessage, error) {
	var jr jsonRow
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&jr); err != nil {
		return Job{}, nil, jsonRowError(err, n)
	}
	if dec.More() {
		return Job{}, nil, &RowError{Line: n, Reason: "more than one JSON value on the line"}
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
	if len(jr.LineColor) > 0 {
		c, err := jsonColor(jr.LineColor)
		if err != nil {
			return Job{}, nil, &RowError{Line: n, Field: "line_color", Value: string(jr.LineColor), Reason: err.Error()}
		}
		j.LineColor = c
	}
	params, err := checkParams(jr.Params, j.Scene, n)
	return j, params, err
}

// jsonColor reads a colour as {"r","g","b"} numbers or as a CSV-style string.
func jsonColor(raw json.RawMessage) (*[3]int, error) {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return ParseColor(str)
	}
	var c struct{ R, G, B *int }
	if err := json.Unmarshal(raw, &c); err != nil || c.R == nil || c.G == nil || c.B == nil {
		return nil, fmt.Errorf(`want {"r":0,"g":0,"b":0}, "r,g,b" or "#rrggbb"`)
	}
	for _, v := range []int{*c.R, *c.G, *c.B} {
		if v < 0 || v > 255 {
			return nil, fmt.Errorf("each of r,g,b must be 0-255")
		}
	}
	return &[3]int{*c.R, *c.G, *c.B}, nil
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
