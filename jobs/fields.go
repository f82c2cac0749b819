package jobs

import (
	"errors"
	"slices"
	"strings"

	"github.com/wxacode/wxacode/code"
)

// Input columns (CSV) and keys (JSON Lines) beyond the code's parameters.
const (
	FieldKey    = "key"    // an explicit object key (see Validate)
	FieldParams = "params" // parameters to issue a short scene for (see WithScenes)
)

// Columns are the CSV header names (and JSON Lines keys) a row may carry:
// code.Fields, then key and params.
var Columns = append(slices.Clone(code.Fields), FieldKey, FieldParams)

// setField applies one textual column value to j (params is the caller's).
// An empty value keeps the default. The error is a *RowError naming the
// field; Line is filled in by the caller.
func setField(j *Job, field, v string) error {
	if field == FieldKey {
		if v != "" {
			j.Key = v
		}
		return nil
	}
	return rowError(j.Params.Set(field, v))
}

// rowError turns a *code.FieldError into a *RowError (Line 0).
func rowError(err error) error {
	if err == nil {
		return nil
	}
	var fe *code.FieldError
	if errors.As(err, &fe) {
		return &RowError{Field: fe.Field, Value: fe.Value, Reason: fe.Reason}
	}
	return err
}

func unknownColumn() string { return "unknown column (known: " + strings.Join(Columns, ", ") + ")" }
