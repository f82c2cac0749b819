package campaign

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/storage"
)

// SampleRows is how many rows, from the first, CheckSource checks.
const SampleRows = 1000

// RowProblem is a row of a campaign's source that a run would reject.
// Row is 0-based, as runs number rows (the manifest's row, explain RUN
// --row N); Err is its *jobs.RowError, which names the file line for file
// and object sources (1-based, header included).
type RowProblem struct {
	Campaign string
	Row      int64
	Err      error
}

func (e *RowProblem) Error() string {
	return fmt.Sprintf("campaign %q: source row %d: %v", e.Campaign, e.Row, e.Err)
}

func (e *RowProblem) Unwrap() error { return e.Err }

// CheckSource checks what a run would read, before it runs: an object
// source in store is looked up (a HEAD, store.Stat: it must exist), and
// the first limit rows of any source (SampleRows if limit <= 0) are read
// and each checked with check (the rules a run applies to its jobs; nil:
// jobs.Validate). It returns one error per problem: a *FieldError for a
// missing object, a *SourceError for a source that cannot be read on, a
// *RowProblem per bad row. Rows whose scene is issued from params are
// checked for everything but the scene. A definition with Validate or
// Runnable problems should not be passed: its source is not opened.
func (d Definition) CheckSource(ctx context.Context, store storage.Store, limit int, check func(jobs.Job) error) []error {
	if limit <= 0 {
		limit = SampleRows
	}
	if check == nil {
		check = jobs.Validate
	}
	if err := d.objectExists(ctx, store); err != nil {
		return []error{err}
	}
	src, err := d.Open(ctx, store, 0)
	if err != nil {
		return []error{err}
	}
	defer src.Close()
	var errs []error
	for range limit {
		i, row, err := src.Next()
		if err == io.EOF {
			break
		}
		var re *jobs.RowError
		if err != nil && !errors.As(err, &re) {
			return append(errs, err)
		}
		if err == nil {
			err = checkRow(row, check, d.Source.Generator == nil)
		}
		if err != nil {
			errs = append(errs, &RowProblem{Campaign: d.Name, Row: i, Err: err})
		}
	}
	return errs
}

// checkRow applies check to a row's job, naming the row's file line if
// withLine.
func checkRow(row jobs.Row, check func(jobs.Job) error, withLine bool) error {
	j := row.Job
	if row.Params != nil && j.Scene == "" {
		j.Scene = "0" // issued by the run from params: any valid scene
	}
	err := check(j)
	var re *jobs.RowError
	if withLine && errors.As(err, &re) && re.Line == 0 {
		c := *re
		c.Line = row.Line
		return &c
	}
	return err
}

// objectExists looks up an object source that lies in store; nil for
// other sources (opening them says what is wrong).
func (d Definition) objectExists(ctx context.Context, store storage.Store) error {
	if d.Source.Object == "" {
		return nil
	}
	obj, problem := parseObject(d.Source.Object)
	if problem != "" {
		return nil
	}
	key, ok := keyInStore(obj, store)
	if !ok {
		return nil
	}
	_, err := store.Stat(ctx, key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return &FieldError{Campaign: d.Name, Field: "source.object",
			Reason: fmt.Sprintf("no such object in the store (key %s)", key)}
	case err != nil:
		return &FieldError{Campaign: d.Name, Field: "source.object",
			Reason: fmt.Sprintf("cannot be looked up in the store (key %s): %s", key, storage.Brief(err))}
	}
	return nil
}
