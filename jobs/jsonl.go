package jobs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/wxacode/wxacode/code"
)

// jsonlReader reads FormatJSONL: one JSON object per line whose keys are
// Columns, exactly: a key given twice, or in another letter case
// ("SCENE", "Width"), is a rejected row, never merged or guessed.
type jsonlReader struct {
	lines    *lineReader
	defaults Job
}

// Lines implements LineCounter.
func (r *jsonlReader) Lines() Lines { return r.lines.Lines() }

func (r *jsonlReader) Next() (Row, error) {
	for {
		b, n, err := r.lines.next()
		if err == errLineTooLong {
			return Row{Line: n}, &RowError{Line: n, Reason: err.Error()}
		}
		if err != nil {
			return Row{}, err
		}
		if r.lines.blank(b) {
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
	members, err := code.ObjectMembers(b)
	if err != nil {
		if p := utf8Problem(b); p != "" {
			return Job{}, nil, &RowError{Line: n, Reason: p}
		}
		return Job{}, nil, &RowError{Line: n, Reason: err.Error()}
	}
	j := r.defaults
	var params json.RawMessage
	seen := map[string]bool{}
	lineBad := utf8Problem(b)
	for _, m := range members {
		if err := checkKey(m, seen, lineBad, n); err != nil {
			return Job{}, nil, err
		}
		switch m.Key {
		case FieldParams:
			params = m.Value
		case FieldKey:
			if string(m.Value) == "null" {
				continue
			}
			k, err := code.JSONString(m.Value)
			if err != nil {
				return Job{}, nil, &RowError{Line: n, Field: FieldKey, Value: string(m.Value), Reason: err.Error()}
			}
			j.Key = k
		default:
			if err := j.Params.SetJSON(m.Key, m.Value); err != nil {
				re := rowError(err).(*RowError)
				re.Line = n
				return Job{}, nil, re
			}
		}
	}
	params, err = checkParams(params, j.Scene, n)
	return j, params, err
}

// checkKey refuses a member whose value is not valid UTF-8, an unknown
// key (also one that is not valid UTF-8: lineBad says where), a key in the
// wrong letter case and a repeated key.
func checkKey(m code.Member, seen map[string]bool, lineBad string, n int64) *RowError {
	if p := utf8Problem(m.Value); p != "" {
		return &RowError{Line: n, Field: m.Key, Reason: p}
	}
	if !slices.Contains(Columns, m.Key) {
		if i := slices.IndexFunc(Columns, func(c string) bool { return strings.EqualFold(c, m.Key) }); i >= 0 {
			return &RowError{Line: n, Field: m.Key, Reason: fmt.Sprintf("keys are case-sensitive: write %q", Columns[i])}
		}
		if lineBad != "" {
			return &RowError{Line: n, Reason: "a key is " + lineBad}
		}
		return &RowError{Line: n, Field: m.Key, Reason: "unknown key (known: " + strings.Join(Columns, ", ") + ")"}
	}
	if seen[m.Key] {
		return &RowError{Line: n, Field: m.Key, Reason: "key given twice (only one value per key)"}
	}
	seen[m.Key] = true
	return nil
}
