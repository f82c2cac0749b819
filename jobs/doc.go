// Package jobs defines scene jobs (one code each), reads them from files,
// enqueues them into asynq, and keeps the project's own ledger of outcomes.
//
// A job's asynq TaskID is a hash of the parameters that shape the code, so
// enqueueing the same code twice is refused by asynq (counted as a duplicate,
// never run twice while the first copy exists). Task payloads carry code
// parameters only, never secrets or tokens.
//
// jobs knows nothing of WeChat's HTTP API or of S3: the rules that say which
// values WeChat accepts are injected as a Validator by the caller.
package jobs
