package jobs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/wxacode/wxacode/code"
)

// csvReader reads FormatCSV: a header line naming the columns, then one
// record per line (RFC 4180 fields: quoted fields may hold ',' and '""',
// but no line break, since no value may). Each line is read with the
// 64 KiB line cap, so memory stays flat however long a record is, and a
// malformed record is rejected by its line while reading resumes at the
// next line: an unclosed quote costs one row, never the rest of the file.
type csvReader struct {
	lines    *lineReader
	defaults Job
	header   []string
	fields   []string // reused by record
	err      error    // a header problem, returned on every call
}

// Lines implements LineCounter.
func (c *csvReader) Lines() Lines { return c.lines.Lines() }

func (c *csvReader) readHeader() error {
	var b []byte
	var n int64
	for {
		var err error
		b, n, err = c.lines.next()
		if err == errLineTooLong {
			return &RowError{Line: n, Field: "header", Reason: err.Error()}
		}
		if err != nil {
			return &RowError{Line: max(n, 1), Reason: "empty input: want a CSV header row naming the columns (scene, ...)"}
		}
		if !c.lines.blank(b) {
			break
		}
	}
	c.lines.counts.Header = 1
	names, problem, _ := splitCSV(nil, string(b))
	if problem != "" {
		return &RowError{Line: n, Field: "header", Reason: problem}
	}
	for _, h := range names {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(Columns, h) {
			return &RowError{Line: n, Field: "header", Value: h, Reason: unknownColumn()}
		}
		if slices.Contains(c.header, h) {
			return &RowError{Line: n, Field: "header", Value: h, Reason: "column given twice"}
		}
		c.header = append(c.header, h)
	}
	if !slices.Contains(c.header, code.FieldScene) && !slices.Contains(c.header, FieldParams) {
		return &RowError{Line: n, Field: "header", Reason: "no scene column (or params column to issue scenes for)"}
	}
	return nil
}

// Next returns the next CSV record as a job. A header error is fatal for
// the whole input (it is returned as a plain error, not a *RowError).
func (c *csvReader) Next() (Row, error) {
	if c.header == nil && c.err == nil {
		if err := c.readHeader(); err != nil {
			c.err = fatalHeader{err}
		}
	}
	if c.err != nil {
		return Row{}, c.err
	}
	for {
		b, n, err := c.lines.next()
		if err == errLineTooLong {
			return Row{Line: n}, &RowError{Line: n, Reason: "record " + err.Error()}
		}
		if err != nil {
			return Row{}, err
		}
		if c.lines.blank(b) {
			continue
		}
		j, params, rerr := c.record(string(b))
		if rerr != nil {
			rerr.Line = n
			return Row{Line: n}, rerr
		}
		p, err := checkParams(json.RawMessage(params), j.Scene, n)
		if err != nil {
			return Row{Line: n}, err
		}
		return Row{Line: n, Job: j, Params: p}, nil
	}
}

// record turns one line into a job and its params cell.
func (c *csvReader) record(line string) (Job, string, *RowError) {
	fields, problem, at := splitCSV(c.fields[:0], line)
	c.fields = fields
	if problem != "" {
		re := &RowError{Reason: problem}
		if at < len(c.header) {
			re.Field = c.header[at]
		}
		return Job{}, "", re
	}
	if len(fields) != len(c.header) {
		return Job{}, "", &RowError{Reason: fmt.Sprintf("wrong number of fields: %d, the header has %d", len(fields), len(c.header))}
	}
	j := c.defaults
	var params string
	for i, v := range fields {
		if p := utf8ProblemString(v); p != "" {
			return Job{}, "", &RowError{Field: c.header[i], Reason: p}
		}
		if c.header[i] == FieldParams {
			params = v
			continue
		}
		if err := setField(&j, c.header[i], v); err != nil {
			re := err.(*RowError)
			cp := *re
			cp.Value = v
			return Job{}, "", &cp
		}
	}
	return j, params, nil
}

// splitCSV appends the fields of one CSV line to fields. A field is
// unquoted (no '"' in it) or quoted ("..." with "" for a quote, closed on
// the same line and followed by ',' or the end). On a malformed line it
// returns the problem and the index of the field it is in.
func splitCSV(fields []string, line string) (_ []string, problem string, at int) {
	first := len(fields)
	for {
		if rest, ok := strings.CutPrefix(line, `"`); ok {
			f, rest, closed := unquote(rest)
			if !closed {
				return fields, "a quoted field is not closed on its line (a record never spans lines)", len(fields) - first
			}
			fields = append(fields, f)
			if rest == "" {
				return fields, "", 0
			}
			if rest[0] != ',' {
				return fields, `a closing '"' must be followed by ',' or the end of the line`, len(fields) - 1 - first
			}
			line = rest[1:]
			continue
		}
		f, rest, more := strings.Cut(line, ",")
		if strings.Contains(f, `"`) {
			return fields, `a '"' in an unquoted field (quote the field and double the '"')`, len(fields) - first
		}
		fields = append(fields, f)
		if !more {
			return fields, "", 0
		}
		line = rest
	}
}

// fatalHeader wraps a header problem so that callers stop reading.
type fatalHeader struct{ err error }

func (f fatalHeader) Error() string { return f.err.Error() }
func (f fatalHeader) Unwrap() error { return f.err }

// unquote reads a quoted field after its opening quote: the value ("" is
// one quote), the rest of the line after the closing quote, and whether
// a closing quote was found.
func unquote(s string) (field, rest string, closed bool) {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return "", "", false
	}
	if !strings.HasPrefix(s[i+1:], `"`) {
		return s[:i], s[i+1:], true // no doubled quote: the value is part of the line
	}
	var b strings.Builder
	for {
		b.WriteString(s[:i])
		s = s[i+1:]
		if !strings.HasPrefix(s, `"`) {
			return b.String(), s, true
		}
		b.WriteByte('"')
		s = s[1:]
		if i = strings.IndexByte(s, '"'); i < 0 {
			return "", "", false
		}
	}
}
