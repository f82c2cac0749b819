package jobs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
)

// DefaultEnqueueConfig is EnqueueConfig{} with every default filled in.
func DefaultEnqueueConfig() EnqueueConfig { return EnqueueConfig{}.withDefaults() }

// ErrStrict is returned by EnqueueFile.Run when the strict pass found
// invalid rows: nothing was enqueued.
var ErrStrict = errors.New("strict: invalid rows, nothing enqueued")

// EnqueueFile enqueues one input file (or standard input) of rows: it
// picks the format, runs the strict first pass if asked, validates and
// enqueues every row, writes every rejected row to Rejects, and adds the
// enqueued counts to the per-app ledger.
type EnqueueFile struct {
	// Enqueuer enqueues; its Counts are the running tally. Required.
	Enqueuer *Enqueuer
	// Ledger receives each app's enqueued count. Nil: none is recorded.
	Ledger *Ledger
	// Defaults is the job every row starts from.
	Defaults Job
	// Format of the input; "" detects it from the file name (standard
	// input: lines).
	Format Format
	// Params reads lines and JSON Lines as parameter rows (FormatParams).
	Params bool
	// Strict validates the whole input first and enqueues nothing if any
	// row is invalid (standard input is copied to a temporary file).
	Strict bool
	// Scenes issues short scenes for parameter rows.
	Scenes SceneIssuer
	// Validate checks each job. Required.
	Validate Validator
	// Rejects receives every rejected row as one JSON object per line
	// (line, field, value, reason). Nil: none is written.
	Rejects io.Writer
	// OnReject is called for each rejected row (from one goroutine at a
	// time). Nil: nothing.
	OnReject func(*RowError)
	// Progress, if set, is called when enqueueing starts with the input's
	// size (0 when unknown: standard input, a pipe) and the count of bytes
	// read so far; the func it returns is called at the end.
	Progress func(size int64, read *atomic.Int64) (stop func())
	// Stdin is standard input, read for the path "-". Default os.Stdin.
	Stdin io.Reader

	mu         sync.Mutex
	rejectsOut *bufio.Writer
	rejectErr  error
}

// Run enqueues path ("-": standard input). It returns the summary and,
// when the strict pass found invalid rows, ErrStrict (the summary then
// counts what that pass read and rejected); an error when the input
// cannot be read or Redis refuses rows for good (counted as Failed, never
// silently dropped); and any error writing the rejects or the ledger.
// Rejected rows alone are not an error: check Summary.Rejected.
func (e *EnqueueFile) Run(ctx context.Context, path string) (Summary, error) {
	in, name, cleanup, err := e.open(path)
	if err != nil {
		return Summary{}, err
	}
	defer cleanup()
	format, err := e.format(name)
	if err != nil {
		return Summary{}, err
	}
	if e.Rejects != nil {
		e.rejectsOut = bufio.NewWriter(e.Rejects)
	}
	if e.Strict {
		if sum, err := e.check(ctx, in, format); err != nil || sum.Rejected > 0 {
			return sum, errors.Join(orErr(err, ErrStrict), e.flushRejects())
		}
		if _, err := in.(io.Seeker).Seek(0, io.SeekStart); err != nil {
			return Summary{}, err
		}
	}
	sum, err := e.enqueue(ctx, in, format)
	return sum, errors.Join(err, e.flushRejects(), e.record(ctx, sum))
}

func (e *EnqueueFile) enqueue(ctx context.Context, in io.Reader, format Format) (Summary, error) {
	counted := &countingReader{r: in}
	if e.Progress != nil {
		stop := e.Progress(inputSize(in), &counted.n)
		defer stop()
	}
	r, err := NewReader(counted, format, e.Defaults)
	if err != nil {
		return Summary{}, err
	}
	return e.Enqueuer.Run(ctx, WithScenes(ctx, r, e.Scenes), e.Validate, e.reject)
}

// record adds the enqueued counts to the ledger, even when ctx is done:
// the jobs are in the queue.
func (e *EnqueueFile) record(ctx context.Context, sum Summary) error {
	if e.Ledger == nil {
		return nil
	}
	var errs []error
	for app, n := range sum.PerApp {
		if err := e.Ledger.AddEnqueued(context.WithoutCancel(ctx), app, n); err != nil {
			errs = append(errs, fmt.Errorf("ledger of %s: %w", app, err))
		}
	}
	return errors.Join(errs...)
}

// check is the strict first pass: it issues no scene (rows with valid
// params get a stand-in) and enqueues nothing.
func (e *EnqueueFile) check(ctx context.Context, in io.Reader, f Format) (Summary, error) {
	r, err := NewReader(in, f, e.Defaults)
	if err != nil {
		return Summary{}, err
	}
	stand := SceneIssuer{Check: e.Scenes.Check, IssueMany: func(_ context.Context, p [][]byte) ([]string, error) {
		return slices.Repeat([]string{"checked"}, len(p)), nil
	}}
	var c Counts
	err = Check(ctx, WithScenes(ctx, r, stand), e.Validate, &c, e.reject, nil)
	return Summary{Read: c.Read.Load(), Rejected: c.Rejected.Load()}, err
}

func (e *EnqueueFile) reject(re *RowError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.OnReject != nil {
		e.OnReject(re)
	}
	if e.rejectsOut == nil || e.rejectErr != nil {
		return
	}
	b, _ := json.Marshal(map[string]any{"line": re.Line, "field": re.Field, "value": re.Value, "reason": re.Reason})
	_, e.rejectErr = e.rejectsOut.Write(append(b, '\n'))
}

func (e *EnqueueFile) flushRejects() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rejectsOut == nil {
		return nil
	}
	if err := orErr(e.rejectErr, e.rejectsOut.Flush()); err != nil {
		return fmt.Errorf("rejects file: %w", err)
	}
	return nil
}

func (e *EnqueueFile) format(name string) (Format, error) {
	f := e.Format
	if f == "" {
		f = DetectFormat(name)
	}
	if e.Params && (f == FormatLines || f == FormatJSONL) {
		f = FormatParams
	}
	return f, nil
}

// open opens path or standard input. For the strict pass standard input
// is copied to a temporary file, so that it can be read twice.
func (e *EnqueueFile) open(path string) (io.Reader, string, func(), error) {
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", nil, err
		}
		return f, path, func() { f.Close() }, nil
	}
	stdin := e.Stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	if !e.Strict {
		return stdin, "", func() {}, nil
	}
	tmp, err := os.CreateTemp("", "wxacode-stdin-*")
	if err != nil {
		return nil, "", nil, err
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, stdin); err != nil {
		cleanup()
		return nil, "", nil, err
	}
	_, err = tmp.Seek(0, io.SeekStart)
	return tmp, "", cleanup, err
}

// inputSize is the size of a regular input file, or 0 (stdin, pipes).
func inputSize(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return 0
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	return st.Size()
}

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func orErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
