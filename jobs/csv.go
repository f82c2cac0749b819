package jobs

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
)

type csvReader struct {
	cr       *csv.Reader
	defaults Job
	header   []string
	err      error // a header problem, returned on every call
}

func newCSVReader(r io.Reader, defaults Job) *csvReader {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked per row, to name the line
	return &csvReader{cr: cr, defaults: defaults}
}

func (c *csvReader) readHeader() error {
	rec, err := c.cr.Read()
	if err == io.EOF {
		return &RowError{Line: 1, Reason: "empty input: want a CSV header row naming the columns (scene, ...)"}
	}
	if err != nil {
		return csvRowError(err)
	}
	for _, h := range rec {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(Columns, h) {
			return &RowError{Line: 1, Field: "header", Value: h, Reason: "unknown column (known: " + strings.Join(Columns, ", ") + ")"}
		}
		if slices.Contains(c.header, h) {
			return &RowError{Line: 1, Field: "header", Value: h, Reason: "column given twice"}
		}
		c.header = append(c.header, h)
	}
	if !slices.Contains(c.header, "scene") && !slices.Contains(c.header, "params") {
		return &RowError{Line: 1, Field: "header", Reason: "no scene column (or params column to issue scenes for)"}
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
		rec, err := c.cr.Read()
		if err == io.EOF {
			return Row{}, io.EOF
		}
		if err != nil {
			return Row{}, csvRowError(err)
		}
		line, _ := c.cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(c.header) {
			return Row{Line: int64(line)}, &RowError{Line: int64(line), Reason: "wrong number of fields for the header"}
		}
		j := c.defaults
		var params string
		for i, v := range rec {
			if c.header[i] == "params" {
				params = v
				continue
			}
			if err := setField(&j, c.header[i], v); err != nil {
				return Row{Line: int64(line)}, &RowError{Line: int64(line), Field: c.header[i], Value: v, Reason: err.Error()}
			}
		}
		p, err := checkParams(json.RawMessage(params), j.Scene, int64(line))
		if err != nil {
			return Row{Line: int64(line)}, err
		}
		return Row{Line: int64(line), Job: j, Params: p}, nil
	}
}

// fatalHeader wraps a header problem so that callers stop reading.
type fatalHeader struct{ err error }

func (f fatalHeader) Error() string { return f.err.Error() }
func (f fatalHeader) Unwrap() error { return f.err }

// csvRowError turns a CSV syntax error into a rejection of the record it
// starts on; other errors (reading the input) stay as they are.
func csvRowError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &RowError{Line: int64(pe.StartLine), Reason: pe.Err.Error()}
	}
	return err
}
