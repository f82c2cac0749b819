// Package campaign reads the campaigns file (WXACODE_CAMPAIGNS_FILE):
// definitions of recurring or on-demand bulk runs, their validation, their
// row sources (a local file, a stored object, or a generator over a numeric
// range) and their schedules.
//
// Every source numbers its rows from 0, one index per non-blank input row
// (a CSV header is not a row), rejected rows included. The numbering of a
// source never changes, so a run can keep exact per-row records by index
// and resume from a checkpoint with Open(ctx, store, from).
package campaign
