// Package chaos holds the parts of the fault suite (`wxacode bench chaos`)
// that are not about wxacode itself: a TCP proxy that can make a server
// unreachable and bring it back, versitygw (a real S3 server) behind a
// proxy that counts the uploads each key received, and a scan of log files for leaked secrets.
//
// Everything listens on loopback ports only.
package chaos
