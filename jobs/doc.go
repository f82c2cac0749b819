// Package jobs defines scene jobs (one code each), reads them from files,
// enqueues them into asynq, and keeps the project's own ledger of outcomes.
//
// A job's asynq TaskID is a hash of the parameters that shape the code, so
// enqueueing the same code twice is refused by asynq (counted as a duplicate,
// never run twice while the first copy exists). Task payloads carry code
// parameters only, never secrets or tokens.
//
// A job's parameters are code.Params, WeChat's rules for them are package
// code's, and Validate adds the storage key rules; jobs knows nothing of
// WeChat's HTTP API or of S3. Enqueue takes the Validator as an argument
// (Validate in production), so campaign runs, enqueue and the worker apply
// the same one.
//
// # Input
//
// Readers (NewReader) stream lines, CSV and JSON Lines with a 64 KiB cap
// per line (a CSV record is one line). Every line of the input ends as one
// row, one rejected row with its line, field and reason (*RowError), the
// CSV header, or an empty line; reading always resumes at the next line.
// Nothing is repaired: invalid UTF-8 anywhere in a row, a JSON Lines key
// given twice or in another letter case, a CSV quote left open are
// rejected, never replaced, merged or carried into the next line.
package jobs
