package jobs

import (
	"errors"
	"fmt"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/storage"
)

// Validate checks a job before it is enqueued, and again in the worker
// before anything is done: the appid (code.ValidateApp), every parameter
// with WeChat's rules (code.Params.Validate), that the page fits one
// object key segment (storage.CheckValue), and an explicit key with the
// storage key rules (storage.CheckCodeKey: no empty, '.'-leading or ".."
// segment, no leading '/', no control characters, at most 1024 bytes,
// nothing under _runs/). It returns nil or a *RowError naming the field
// (Line is the caller's).
func Validate(j Job) error {
	if err := code.ValidateApp(j.App); err != nil {
		return rowError(err)
	}
	if err := j.Params.Validate(); err != nil {
		return rowError(err)
	}
	if err := storage.CheckValue(j.Page); err != nil {
		return &RowError{Field: code.FieldPage, Value: j.Page, Reason: keyReason(err)}
	}
	if j.Key != "" {
		if err := storage.CheckCodeKey(j.Key); err != nil {
			return &RowError{Field: FieldKey, Value: j.Key, Reason: keyReason(err)}
		}
	}
	return nil
}

func keyReason(err error) string {
	var ke *storage.KeyError
	if errors.As(err, &ke) {
		return ke.Reason
	}
	return fmt.Sprint(err)
}
