package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
)

// checkParams accepts a row's parameters: absent or null (none), or any
// valid JSON; a row with parameters must not also give a scene (its scene
// is issued for them).
func checkParams(raw json.RawMessage, scene string, line int64) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if p := utf8Problem(raw); p != "" {
		return nil, &RowError{Line: line, Field: FieldParams, Reason: p}
	}
	if !json.Valid(raw) {
		return nil, &RowError{Line: line, Field: FieldParams, Value: string(raw), Reason: "not valid JSON"}
	}
	if scene != "" {
		return nil, &RowError{Line: line, Field: FieldParams, Reason: "give a scene or params, not both (a scene is issued for the params)"}
	}
	return append(json.RawMessage(nil), raw...), nil
}

// paramsReader reads FormatParams: one JSON value of parameters per line.
type paramsReader struct {
	lines    *lineReader
	defaults Job
}

// Lines implements LineCounter.
func (p *paramsReader) Lines() Lines { return p.lines.Lines() }

func (p *paramsReader) Next() (Row, error) {
	for {
		b, n, err := p.lines.next()
		if err == errLineTooLong {
			return Row{Line: n}, &RowError{Line: n, Field: FieldParams, Reason: err.Error()}
		}
		if err != nil {
			return Row{}, err
		}
		if p.lines.blank(b) {
			continue
		}
		params, err := checkParams(b, "", n)
		if err != nil {
			return Row{Line: n}, err
		}
		return Row{Line: n, Job: p.defaults, Params: params}, nil
	}
}

// SceneIssuer issues short scenes for rows' parameters (see package
// scenes: Check is scenes.Canonical's error, IssueMany is
// (*scenes.Store).IssueMany).
type SceneIssuer struct {
	// Check rejects parameters no scene can be issued for; such a row
	// becomes a *RowError naming the params field.
	Check func(params []byte) error
	// IssueMany returns one scene per parameter set, in order. Any error
	// stops the reader (Redis unreachable): nothing is enqueued without its
	// scene.
	IssueMany func(ctx context.Context, params [][]byte) ([]string, error)
}

// issueBatch is how many rows WithScenes reads ahead and issues at once.
const issueBatch = 1000

// WithScenes returns a Reader that sets the scene of every row with Params
// to the one iss issues for them (rows without Params pass unchanged),
// issuing a batch of rows at a time.
func WithScenes(ctx context.Context, r Reader, iss SceneIssuer) Reader {
	return &sceneReader{ctx: ctx, r: r, iss: iss}
}

type readResult struct {
	row Row
	err error
}

// Lines implements LineCounter when the wrapped reader does. Rows read
// ahead for a batch are counted as soon as they are read.
func (s *sceneReader) Lines() Lines {
	if lc, ok := s.r.(LineCounter); ok {
		return lc.Lines()
	}
	return Lines{}
}

type sceneReader struct {
	ctx   context.Context
	r     Reader
	iss   SceneIssuer
	buf   []readResult
	fatal error
}

func (s *sceneReader) Next() (Row, error) {
	if len(s.buf) == 0 && s.fatal == nil {
		s.fatal = s.fill()
	}
	if len(s.buf) == 0 {
		return Row{}, s.fatal
	}
	next := s.buf[0]
	s.buf = s.buf[1:]
	return next.row, next.err
}

// fill reads up to issueBatch rows and issues their scenes. It returns the
// error that ends reading (io.EOF at the end), after the rows before it.
func (s *sceneReader) fill() error {
	var end error
	for len(s.buf) < issueBatch {
		row, err := s.r.Next()
		var re *RowError
		if err != nil && (!errors.As(err, &re) || isFatal(err)) {
			end = err
			break
		}
		if err == nil && row.Params != nil {
			if cerr := s.iss.Check(row.Params); cerr != nil {
				err = &RowError{Line: row.Line, Field: FieldParams, Reason: cerr.Error()}
			}
		}
		s.buf = append(s.buf, readResult{row, err})
	}
	if err := s.issue(); err != nil {
		s.buf = nil
		return err
	}
	return end
}

func (s *sceneReader) issue() error {
	var params [][]byte
	var at []int
	for i, rr := range s.buf {
		if rr.err == nil && rr.row.Params != nil {
			params = append(params, rr.row.Params)
			at = append(at, i)
		}
	}
	if len(params) == 0 {
		return nil
	}
	scenes, err := s.iss.IssueMany(s.ctx, params)
	if err != nil {
		return err
	}
	for k, i := range at {
		s.buf[i].row.Job.Scene = scenes[k]
	}
	return nil
}
