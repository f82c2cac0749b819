package campaign

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/storage"
)

// RowSource streams a campaign's rows in index order.
//
// Next returns the row's 0-based index and the row. A row that fails to
// parse comes back as a *jobs.RowError (the index is still returned and
// still counts: call Next again to go on); io.EOF ends the source; any
// other error (a *SourceError: unreadable input, bad CSV header) also ends
// it and is returned again by every later call.
type RowSource interface {
	Next() (index int64, row jobs.Row, err error)
	Close() error
}

// Open streams the campaign's rows starting at row index from (>= 0), so a
// feeder resumes from a checkpoint without gaps or duplicates. Generator
// sources jump straight to from; file and object sources re-read the input
// and skip the rows before it. Every row starts as Defaults(); generator
// rows set Scene, and Row.Line is index+1 for them.
//
// store is used for Object sources only: an object under the store's URL
// (always the case for s3://) is read with store.Get, whole; a file://
// object outside it (or with a nil store) is read from the local disk as a
// stream. Open fails with a *SourceError when the input cannot be opened,
// and with the *FieldErrors of Validate for an invalid definition.
func (d Definition) Open(ctx context.Context, store storage.Store, from int64) (RowSource, error) {
	if errs := d.Validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if from < 0 {
		return nil, fmt.Errorf("campaign %q: open at row %d: rows start at 0", d.Name, from)
	}
	if g := d.Source.Generator; g != nil {
		return newGeneratorSource(g, d.Defaults(), from), nil
	}
	in, name, err := d.openInput(ctx, store)
	if err != nil {
		return nil, err
	}
	format := jobs.Format(d.Source.Format)
	if format == "" {
		format = jobs.DetectFormat(name)
	}
	r, err := jobs.NewReader(in, format, d.Defaults())
	if err != nil {
		in.Close()
		return nil, &SourceError{Campaign: d.Name, Reason: err.Error(), Err: err}
	}
	return &readerSource{campaign: d.Name, r: r, in: in, from: from}, nil
}

// Count returns the number of rows of the source (rejected rows included):
// To-From+1 for a generator; files and objects are read through. It fails
// like Open, or with the *SourceError that ends the input.
func (d Definition) Count(ctx context.Context, store storage.Store) (int64, error) {
	if g := d.Source.Generator; g != nil && len(d.Validate()) == 0 {
		return g.To - g.From + 1, nil
	}
	src, err := d.Open(ctx, store, 0)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		_, _, err := src.Next()
		if err == io.EOF {
			return n, nil
		}
		if _, rejected := err.(*jobs.RowError); err != nil && !rejected {
			return n, err
		}
		n++
	}
}

// readerSource numbers the rows of a jobs.Reader: one index per row or
// *jobs.RowError, which is what the readers yield per non-blank row.
type readerSource struct {
	campaign string
	r        jobs.Reader
	in       io.Closer
	next     int64 // index of the next row the reader yields
	from     int64
	err      error // sticky end-of-source error
}

func (s *readerSource) Next() (int64, jobs.Row, error) {
	for s.err == nil {
		row, err := s.r.Next()
		if _, rejected := err.(*jobs.RowError); err != nil && !rejected {
			s.err = s.fatal(err)
			break
		}
		i := s.next
		s.next++
		if i >= s.from {
			return i, row, err
		}
	}
	return s.next, jobs.Row{}, s.err
}

// fatal turns an error that ends the reader into a *SourceError. A CSV
// header error wraps a *jobs.RowError; it is flattened so that callers
// who skip row errors with errors.As do not loop on it.
func (s *readerSource) fatal(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	var re *jobs.RowError
	if errors.As(err, &re) {
		return &SourceError{Campaign: s.campaign, Reason: "input rejected: " + re.Error()}
	}
	return &SourceError{Campaign: s.campaign, Reason: err.Error(), Err: err}
}

func (s *readerSource) Close() error { return s.in.Close() }
