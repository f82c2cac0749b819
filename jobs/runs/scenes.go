package runs

import (
	"context"
	"errors"

	"github.com/wxacode/wxacode/jobs"
)

// errNoIssuer rejects a row with parameters when no issuer is configured.
var errNoIssuer = errors.New("the row has params but this worker issues no scenes (configure the scene store)")

// sceneOf returns row's job with its scene issued for its parameters (a
// row without parameters is returned as it is). Issuing is deterministic:
// the same parameters get the same scene on every call, so the manifest
// and explain find the scene the feeder issued. A *jobs.RowError means
// the row cannot have a scene; any other error is Redis's.
func (f *Feeder) sceneOf(ctx context.Context, row jobs.Row) (jobs.Job, error) {
	j := row.Job
	if row.Params == nil {
		return j, nil
	}
	if f.Scenes.IssueMany == nil {
		return j, &jobs.RowError{Line: row.Line, Field: "params", Reason: errNoIssuer.Error()}
	}
	if f.Scenes.Check != nil {
		if err := f.Scenes.Check(row.Params); err != nil {
			return j, &jobs.RowError{Line: row.Line, Field: "params", Reason: err.Error()}
		}
	}
	scenes, err := f.Scenes.IssueMany(ctx, [][]byte{row.Params})
	if err != nil {
		return j, err
	}
	j.Scene = scenes[0]
	return j, nil
}
