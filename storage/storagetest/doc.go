// Package storagetest starts S3 servers for tests and benchmarks: gofakes3
// in process (plain http or TLS) and versitygw as a child process over
// https with a freshly generated self-signed certificate, installing
// versitygw with `go install` when it is not found. Every server comes with
// the storage.Options that make a production storage.Open reach it.
package storagetest
