package jobs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/wxacode/wxacode/code"
)

// MaxLineBytes caps one input line, in every format (a CSV record is one
// line). Longer lines are rejected (with their line number) and skipped
// without being held in memory.
const MaxLineBytes = 64 << 10

// Format is an input format.
type Format string

// Input formats.
const (
	FormatLines Format = "lines" // one scene per line
	FormatCSV   Format = "csv"   // header row, then one job per record
	FormatJSONL Format = "jsonl" // one JSON object per line
	// FormatParams is one JSON value per line: the parameters a short scene
	// is issued for (Row.Params), see WithScenes.
	FormatParams Format = "params"
)

// DetectFormat picks the format from a file name: .csv, .jsonl/.ndjson, else lines.
func DetectFormat(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return FormatCSV
	case ".jsonl", ".ndjson":
		return FormatJSONL
	}
	return FormatLines
}

// ParseFormat checks a --format value; "" means detect from the file name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", FormatLines, FormatCSV, FormatJSONL, FormatParams:
		return f, nil
	}
	return "", fmt.Errorf("jobs: unknown input format %q (want lines, csv, jsonl or params)", s)
}

// Row is one job read from the input, with the line it started on.
type Row struct {
	Line int64
	Job  Job
	// Params are the row's parameters (a "params" column or key, or a
	// FormatParams line) when its scene is to be issued for them; nil
	// otherwise. They never go into the task payload.
	Params json.RawMessage
}

// RowError rejects one input row. Reading continues after it.
type RowError struct {
	Line   int64
	Field  string
	Value  string
	Reason string
}

// Error names the line (when known: a job checked outside an input has
// Line 0), the field and the value.
func (e *RowError) Error() string {
	msg := e.Reason
	switch {
	case e.Field != "" && e.Value != "":
		msg = fmt.Sprintf("%s %q: %s", e.Field, clip(e.Value, 64), e.Reason)
	case e.Field != "":
		msg = e.Field + ": " + e.Reason
	}
	if e.Line == 0 {
		return msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, msg)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Reader yields jobs one at a time. Next returns a *RowError for a bad row
// (call Next again to go on), io.EOF at the end, and any other error when
// the input itself cannot be read (stop). Every line of the input is one
// row, one rejected row, the CSV header or an empty line (spaces and tabs
// only): nothing is merged, split or skipped silently.
type Reader interface {
	Next() (Row, error)
}

// Lines accounts for the lines a reader has read.
type Lines struct {
	Read   int64 // every line, the last one without a line break included
	Header int64 // the CSV header line: 0 or 1
	Empty  int64 // lines of nothing but spaces and tabs: no row
}

// LineCounter is implemented by every Reader of this package: once Next
// returned io.EOF, Lines().Read is the input's line count, and every other
// line became exactly one row or one *RowError.
type LineCounter interface {
	Lines() Lines
}

// NewReader returns a streaming reader of the given format. Every job starts
// as a copy of defaults, and the row's own values override it.
func NewReader(r io.Reader, f Format, defaults Job) (Reader, error) {
	switch f {
	case FormatLines, "":
		return &scenesReader{lines: newLineReader(r), defaults: defaults}, nil
	case FormatCSV:
		return &csvReader{lines: newLineReader(r), defaults: defaults}, nil
	case FormatJSONL:
		return &jsonlReader{lines: newLineReader(r), defaults: defaults}, nil
	case FormatParams:
		return &paramsReader{lines: newLineReader(r), defaults: defaults}, nil
	}
	return nil, fmt.Errorf("jobs: unknown input format %q", f)
}

// lineReader splits input into lines, drops a UTF-8 BOM at the start and
// the CR of a CRLF, and caps line length without buffering an over-long
// line. It counts lines and, for its reader, empty ones and the header.
type lineReader struct {
	br     *bufio.Reader
	line   int64
	counts Lines
}

// Lines implements LineCounter for the reader owning l.
func (l *lineReader) Lines() Lines {
	c := l.counts
	c.Read = l.line
	return c
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

var errLineTooLong = errors.New("line longer than 64 KiB")

// next returns the next line (without its end), its number, and
// errLineTooLong or io.EOF.
func (l *lineReader) next() ([]byte, int64, error) {
	buf, tooLong, err := l.readLine()
	if err == io.EOF && len(buf) == 0 && !tooLong {
		return nil, l.line, io.EOF
	}
	if err != nil && err != io.EOF {
		return nil, l.line, err
	}
	l.line++
	if l.line == 1 {
		buf = bytes.TrimPrefix(buf, []byte("\xef\xbb\xbf"))
	}
	if tooLong {
		return nil, l.line, errLineTooLong
	}
	return bytes.TrimSuffix(buf, []byte("\r")), l.line, nil
}

func (l *lineReader) readLine() (buf []byte, tooLong bool, err error) {
	for {
		frag, e := l.br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(frag) > MaxLineBytes+2 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, frag...)
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if e == nil {
			buf = bytes.TrimSuffix(buf, []byte("\n"))
		}
		return buf, tooLong, e
	}
}

// blank reports a line with nothing but spaces and tabs: not a row. It
// counts it as empty.
func (l *lineReader) blank(b []byte) bool {
	if len(bytes.Trim(b, " \t")) != 0 {
		return false
	}
	l.counts.Empty++
	return true
}

// utf8Problem is the reason a field is not valid UTF-8, or "". Such a
// value is never repaired (U+FFFD would make two rows one).
func utf8Problem(b []byte) string {
	if utf8.Valid(b) {
		return ""
	}
	return utf8ProblemString(string(b))
}

// utf8ProblemString is utf8Problem of a string.
func utf8ProblemString(s string) string {
	for i, r := range s {
		if _, n := utf8.DecodeRuneInString(s[i:]); r == utf8.RuneError && n == 1 {
			return fmt.Sprintf("not valid UTF-8 (byte %#02x at offset %d)", s[i], i)
		}
	}
	return ""
}

// scenesReader reads one scene per line.
type scenesReader struct {
	lines    *lineReader
	defaults Job
}

// Lines implements LineCounter.
func (s *scenesReader) Lines() Lines { return s.lines.Lines() }

func (s *scenesReader) Next() (Row, error) {
	for {
		b, n, err := s.lines.next()
		if err == errLineTooLong {
			return Row{Line: n}, &RowError{Line: n, Field: code.FieldScene, Reason: err.Error()}
		}
		if err != nil {
			return Row{}, err
		}
		if s.lines.blank(b) {
			continue
		}
		if p := utf8Problem(b); p != "" {
			return Row{Line: n}, &RowError{Line: n, Field: code.FieldScene, Reason: p}
		}
		j := s.defaults
		j.Scene = string(b)
		return Row{Line: n, Job: j}, nil
	}
}
