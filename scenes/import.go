package scenes

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/redis/go-redis/v9"
)

//go:embed import.lua
var importLua string

var importScript = redis.NewScript(importLua)

// ConflictKind says why an imported line was not written.
type ConflictKind string

// Conflicts of Import.
const (
	// ConflictSceneTaken: the scene already holds different params.
	ConflictSceneTaken ConflictKind = "scene holds different params"
	// ConflictParamsMapped: the params already map to another scene.
	ConflictParamsMapped ConflictKind = "params already map to another scene"
)

// Conflict is one imported line that was left out because it disagrees
// with the store. The store is never overwritten: a printed code must keep
// resolving to what it resolved to.
type Conflict struct {
	Line     int    // 1-based line of the input
	Scene    string // the scene of the line
	Kind     ConflictKind
	Existing string // ConflictParamsMapped: the scene the params map to
}

// maxConflicts bounds ImportResult.Conflicts; Conflicted counts them all.
const maxConflicts = 1000

// ImportResult counts what Import did.
type ImportResult struct {
	Lines      int        // lines read, blank ones included
	Added      int        // mappings written (or a missing half restored)
	Unchanged  int        // mappings already present, identical
	Conflicted int        // lines left out, see Conflicts
	Conflicts  []Conflict // the first 1000 conflicts, in line order
}

// Import reads JSON Lines in the format of Export and stores each mapping
// that does not disagree with the store, pipelined Config.BatchSize lines
// at a time. A UTF-8 BOM, CRLF line ends and blank lines are accepted; the
// params of a line are canonicalised, so any formatting of the same object
// is the same mapping. The scene must be 1-32 characters of [0-9A-Za-z]; it
// is kept as it is (codes printed with it are in circulation), even if it
// does not have this store's Prefix and Length, and Issue then returns it
// for those params.
//
// A line whose scene holds different params, or whose params already map to
// another scene, is a conflict: it is counted and listed with its line
// number, and nothing of it is written. Importing the same input twice (or an
// export of the same store) changes nothing.
//
// A malformed line (bad JSON, unknown or missing fields, invalid scene or
// params, longer than about 2*MaxParamsBytes) stops the import with a
// *LineError: the lines before it are imported, nothing of it or after it
// is. On a Redis error the current batch may be partly written; importing
// again finishes it.
func (s *Store) Import(ctx context.Context, r io.Reader) (ImportResult, error) {
	var res ImportResult
	maxLine := 2*s.cfg.MaxParamsBytes + 4096 // params written with whitespace or \u escapes
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine)), maxLine)
	var batch []importLine
	for sc.Scan() {
		res.Lines++
		line := sc.Bytes()
		if res.Lines == 1 {
			line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		l, err := s.parseLine(line)
		if err != nil {
			return res, s.flushThen(ctx, &res, batch, &LineError{Line: res.Lines, Err: err})
		}
		l.line = res.Lines
		if batch = append(batch, l); len(batch) == s.cfg.BatchSize {
			if err := s.importBatch(ctx, &res, batch); err != nil {
				return res, err
			}
			batch = batch[:0]
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d bytes", maxLine)
		}
		return res, s.flushThen(ctx, &res, batch, &LineError{Line: res.Lines + 1, Err: err})
	}
	return res, s.importBatch(ctx, &res, batch)
}

// flushThen imports the lines read before a bad one, then returns lineErr
// (or the Redis error of the flush).
func (s *Store) flushThen(ctx context.Context, res *ImportResult, batch []importLine, lineErr error) error {
	if err := s.importBatch(ctx, res, batch); err != nil {
		return err
	}
	return lineErr
}

type importLine struct {
	line  int
	scene string
	row
}

// exportLine is the JSON of one line of Export and Import.
type exportLine struct {
	Scene  *string         `json:"scene"`
	Params json.RawMessage `json:"params"`
}

// parseLine checks one non-blank line.
func (s *Store) parseLine(line []byte) (importLine, error) {
	var e exportLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return importLine{}, fmt.Errorf("want {\"scene\":\"...\",\"params\":{...}}: %w", err)
	}
	if dec.More() {
		return importLine{}, errors.New("trailing data after the JSON object")
	}
	if e.Scene == nil || e.Params == nil {
		return importLine{}, errors.New(`both "scene" and "params" are required`)
	}
	if err := ValidateScene(*e.Scene); err != nil {
		return importLine{}, err
	}
	r, err := s.prepare(e.Params)
	if err != nil {
		return importLine{}, err
	}
	return importLine{scene: *e.Scene, row: r}, nil
}

func (s *Store) importBatch(ctx context.Context, res *ImportResult, batch []importLine) error {
	if len(batch) == 0 {
		return nil
	}
	cmds, err := s.pipeImport(ctx, batch)
	if isNoScript(err) {
		if err = importScript.Load(ctx, s.rdb).Err(); err == nil {
			cmds, err = s.pipeImport(ctx, batch)
		}
	}
	if err != nil {
		return fmt.Errorf("scenes: import lines %d to %d: %w", batch[0].line, batch[len(batch)-1].line, err)
	}
	for i, cmd := range cmds {
		if err := res.count(batch[i], cmd.Val()); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) pipeImport(ctx context.Context, batch []importLine) ([]*redis.Cmd, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, l := range batch {
		cmds[i] = importScript.EvalSha(ctx, pipe,
			[]string{s.keys.params(l.d), s.keys.scene(l.scene)}, l.canon, l.scene)
	}
	_, err := pipe.Exec(ctx)
	return cmds, err
}

// count adds the script reply of one line to the result.
func (res *ImportResult) count(l importLine, v any) error {
	a, _ := v.([]any)
	st, _ := safeIndex(a, 0).(int64)
	other, _ := safeIndex(a, 1).(string)
	var c *Conflict
	switch {
	case len(a) != 2:
		return fmt.Errorf("scenes: import line %d: unexpected script reply %v", l.line, v)
	case st == 0:
		res.Unchanged++
	case st == 1:
		res.Added++
	case st == 2:
		c = &Conflict{Line: l.line, Scene: l.scene, Kind: ConflictParamsMapped, Existing: other}
	default:
		c = &Conflict{Line: l.line, Scene: l.scene, Kind: ConflictSceneTaken}
	}
	if c != nil {
		if res.Conflicted++; len(res.Conflicts) < maxConflicts {
			res.Conflicts = append(res.Conflicts, *c)
		}
	}
	return nil
}

func safeIndex(a []any, i int) any {
	if i < len(a) {
		return a[i]
	}
	return nil
}
