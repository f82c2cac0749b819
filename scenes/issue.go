package scenes

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

//go:embed issue.lua
var issueLua string

var issueScript = redis.NewScript(issueLua)

const (
	// firstCandidates is how many candidates the first script call carries:
	// cheap to compute for 100,000 rows, and enough that even a short Length
	// (where the first candidate is often taken) rarely needs a second call.
	firstCandidates = 2
	// maxCandidates bounds the search when the first ones are all taken.
	maxCandidates = 64
)

// Issue returns the scene of params, a JSON object (see Canonical): the
// scene already mapped to the same canonical params if there is one,
// otherwise the first of the row's deterministic candidates that no other
// params hold, claimed atomically together with the reverse mapping. The
// same params always get the same scene, from any process, and two
// different params never share one.
//
// Errors: a *ParamsError (nothing written), an *ExhaustedError when all 64
// candidates are taken (only with a tiny Length), or a wrapped Redis error;
// after a Redis error the row may or may not have been issued, and calling
// Issue again returns the same scene either way.
func (s *Store) Issue(ctx context.Context, params []byte) (string, error) {
	r, err := s.prepare(params)
	if err != nil {
		return "", err
	}
	return s.issue(ctx, r)
}

func (s *Store) issue(ctx context.Context, r row) (string, error) {
	for _, n := range []int{firstCandidates, maxCandidates} {
		keys, args := s.issueArgs(r, n)
		v, err := issueScript.Run(ctx, s.rdb, keys, args...).Result()
		if err != nil {
			return "", fmt.Errorf("scenes: issue: %w", err)
		}
		scene, ok, err := parseIssue(v)
		if err != nil || ok {
			return scene, err
		}
	}
	return "", &ExhaustedError{Candidates: maxCandidates, Length: s.cfg.Length}
}

// issueArgs returns KEYS and ARGV of issue.lua with the first n candidates.
func (s *Store) issueArgs(r row, n int) ([]string, []any) {
	keys := make([]string, 1, n+1)
	args := make([]any, 1, n+1)
	keys[0], args[0] = s.keys.params(r.d), r.canon
	for k := range n {
		c := candidate(s.cfg.Prefix, s.cfg.Length, r.d, k)
		keys = append(keys, s.keys.scene(c))
		args = append(args, c)
	}
	return keys, args
}

// parseIssue reads {status, scene}; ok is false when every candidate was
// taken.
func parseIssue(v any) (scene string, ok bool, err error) {
	a, _ := v.([]any)
	if len(a) == 2 {
		st, ok1 := a[0].(int64)
		sc, ok2 := a[1].(string)
		if ok1 && ok2 {
			return sc, st != 0, nil
		}
	}
	return "", false, fmt.Errorf("scenes: unexpected issue script reply %v", v)
}

// maxRowErrors bounds how many invalid rows IssueMany reports.
const maxRowErrors = 10

// IssueMany returns the scene of every row, exactly what Issue would return
// row by row, but with the script calls pipelined Config.BatchSize rows at
// a time.
//
// Every row is canonicalised first: if any row is invalid, nothing is issued
// and the error joins a *RowError (with the row index) for each of the first
// ten invalid rows. Otherwise rows are issued batch by batch; on a Redis
// error, or a row whose candidates are exhausted (a *RowError wrapping an
// *ExhaustedError), it stops and returns the scenes of the rows done so far
// ("" for the others) with the error. Rows already issued stay issued, and
// calling IssueMany again returns the same scenes.
func (s *Store) IssueMany(ctx context.Context, rows [][]byte) ([]string, error) {
	prepared, err := s.prepareAll(rows)
	if err != nil {
		return nil, err
	}
	scenes := make([]string, len(rows))
	if len(rows) == 0 {
		return scenes, nil
	}
	if err := issueScript.Load(ctx, s.rdb).Err(); err != nil {
		return scenes, fmt.Errorf("scenes: issue: load script: %w", err)
	}
	for start := 0; start < len(rows); start += s.cfg.BatchSize {
		end := min(start+s.cfg.BatchSize, len(rows))
		if err := s.issueBatch(ctx, prepared[start:end], scenes[start:end], start); err != nil {
			return scenes, err
		}
	}
	return scenes, nil
}

func (s *Store) prepareAll(rows [][]byte) ([]row, error) {
	prepared := make([]row, len(rows))
	var errs []error
	for i, p := range rows {
		r, err := s.prepare(p)
		if err != nil {
			if errs = append(errs, &RowError{Row: i, Err: err}); len(errs) == maxRowErrors {
				break
			}
			continue
		}
		prepared[i] = r
	}
	return prepared, errors.Join(errs...)
}

// issueBatch issues rows (indexes first...) in one pipeline; rows whose
// first candidates are all taken are finished one by one.
func (s *Store) issueBatch(ctx context.Context, rows []row, out []string, first int) error {
	cmds, err := s.pipeIssue(ctx, rows)
	if isNoScript(err) { // script cache flushed (restart, failover): load, redo
		if err = issueScript.Load(ctx, s.rdb).Err(); err == nil {
			cmds, err = s.pipeIssue(ctx, rows)
		}
	}
	if err != nil {
		return fmt.Errorf("scenes: issue rows %d to %d: %w", first, first+len(rows)-1, err)
	}
	for i, cmd := range cmds {
		scene, ok, err := parseIssue(cmd.Val())
		if err == nil && !ok {
			scene, err = s.issue(ctx, rows[i])
		}
		if err != nil {
			return &RowError{Row: first + i, Err: err}
		}
		out[i] = scene
	}
	return nil
}

func (s *Store) pipeIssue(ctx context.Context, rows []row) ([]*redis.Cmd, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(rows))
	for i, r := range rows {
		keys, args := s.issueArgs(r, firstCandidates)
		cmds[i] = issueScript.EvalSha(ctx, pipe, keys, args...)
	}
	_, err := pipe.Exec(ctx)
	return cmds, err
}

func isNoScript(err error) bool { return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") }
