package storage_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/chaos"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/storage/storagetest"
)

// s3Error builds the error chain the SDK returns for an S3 error answer:
// operation error > exceeded maximum number of attempts (for errors it
// retries) > response error with status > API error with code.
func s3Error(op string, status int, code string, retried bool) error {
	var err error = &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: code},
	}}
	if retried {
		err = &retry.MaxAttemptsError{Attempt: 3, Err: err}
	}
	return fmt.Errorf("storage: %s s3://codes/k: %w", op, &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: err})
}

// send builds the chain of a request that got no answer, as the SDK
// returns it after its retries.
func send(err error) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &retry.MaxAttemptsError{Attempt: 3,
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{}}, // the SDK's stand-in when nothing came back
			Err:      &smithyhttp.RequestSendError{Err: err},
		}}}}
}

func TestIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	badCert := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", fmt.Errorf("%w: s3://codes/k", storage.ErrNotFound), false},
		{"exists", fmt.Errorf("%w: s3://codes/k", storage.ErrExists), false},
		{"invalid key", &storage.KeyError{Key: "../k", Reason: "dot segment"}, false},
		{"invalid url", &storage.URLError{Reason: "bad"}, false},
		{"canceled", fmt.Errorf("storage: stat: %w", context.Canceled), false},
		{"canceled in url.Error", send(&url.Error{Op: "Head", URL: "http://s3", Err: context.Canceled}), false},
		{"403 AccessDenied", s3Error("PutObject", 403, "AccessDenied", false), false},
		{"403 HEAD without body", s3Error("HeadObject", 403, "Forbidden", false), false},
		{"404 NoSuchBucket", s3Error("PutObject", 404, "NoSuchBucket", false), false},
		{"400 InvalidArgument", s3Error("PutObject", 400, "InvalidArgument", false), false},
		{"412 without ErrExists", s3Error("PutObject", 412, "PreconditionFailed", false), false},
		{"certificate", send(&url.Error{Op: "Put", URL: "https://s3", Err: badCert}), false},
		{"unsupported scheme", send(&url.Error{Op: "Put", URL: "ftp://s3", Err: errors.New(`unsupported protocol scheme "ftp"`)}), false},
		{"permission denied", &fs.PathError{Op: "open", Path: "/codes/k", Err: syscall.EACCES}, false},
		{"read-only file system", &fs.PathError{Op: "open", Path: "/codes/k", Err: syscall.EROFS}, false},
		{"plain error", errors.New("boom"), false},

		{"connection refused", send(&url.Error{Op: "Put", URL: "http://s3", Err: refused}), true},
		{"connection reset", send(&url.Error{Op: "Put", URL: "http://s3", Err: reset}), true},
		{"bare ECONNRESET", fmt.Errorf("write: %w", syscall.ECONNRESET), true},
		{"unexpected EOF", send(&url.Error{Op: "Put", URL: "http://s3", Err: io.ErrUnexpectedEOF}), true},
		{"EOF from a dropped connection", send(&url.Error{Op: "Put", URL: "http://s3", Err: io.EOF}), true},
		{"DNS timeout", send(&url.Error{Op: "Put", URL: "http://s3", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "timeout", IsTimeout: true}}}), true},
		{"DNS no such host", send(&url.Error{Op: "Put", URL: "http://minio", Err: &net.DNSError{Err: "no such host", Name: "minio", IsNotFound: true}}), true},
		{"deadline", fmt.Errorf("storage: put: %w", context.DeadlineExceeded), true},
		{"500 InternalError", s3Error("PutObject", 500, "InternalError", true), true},
		{"502", s3Error("HeadObject", 502, "BadGateway", true), true},
		{"503 SlowDown", s3Error("PutObject", 503, "SlowDown", true), true},
		{"503 ServiceUnavailable", s3Error("PutObject", 503, "ServiceUnavailable", true), true},
		{"504", s3Error("HeadObject", 504, "GatewayTimeout", true), true},
		{"429", s3Error("PutObject", 429, "TooManyRequests", true), true},
		{"400 RequestTimeout", s3Error("PutObject", 400, "RequestTimeout", false), true},
		{"retry quota exceeded", fmt.Errorf("failed: %w", errors.Join(s3Error("PutObject", 503, "SlowDown", false),
			fmt.Errorf("failed to get rate limit token, %w", ratelimit.QuotaExceededError{Available: 0, Requested: 5}))), true},
		{"disk full", fmt.Errorf("storage: write %q: %w", "k", &fs.PathError{Op: "write", Path: "/codes/.tmp-1", Err: syscall.ENOSPC}), true},
		{"quota exhausted", &fs.PathError{Op: "write", Path: "/codes/.tmp-1", Err: syscall.EDQUOT}, true},
		{"I/O error", &fs.PathError{Op: "fsync", Path: "/codes/.tmp-1", Err: syscall.EIO}, true},
		{"stale NFS handle", &fs.PathError{Op: "stat", Path: "/codes/k", Err: syscall.ESTALE}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, storage.IsUnavailable(c.err), "%v", c.err)
		})
	}
}

// TestIsUnavailableFromS3 checks the errors a real S3 client returns: a
// server behind a proxy taken down is unavailable, for Put and Stat, and
// so is one answering 503 SlowDown after the SDK's own retries; one that
// answers 403, or whose certificate is not trusted, is not.
func TestIsUnavailableFromS3(t *testing.T) {
	t.Parallel()
	img := []byte("\x89PNG\r\n\x1a\n")
	t.Run("down", func(t *testing.T) {
		t.Parallel()
		srv := storagetest.StartGoFakeS3(t, false)
		p, err := chaos.NewProxy(strings.TrimPrefix(srv.Endpoint, "http://"))
		require.NoError(t, err)
		t.Cleanup(p.Close)
		srv.CreateBucket(t, "codes")
		opts := srv.Options()
		opts.S3Endpoint = "http://" + p.Addr()
		st, err := storage.Open(ctx(t), srv.URL("codes", ""), opts)
		require.NoError(t, err)
		require.NoError(t, st.Put(ctx(t), "up.png", img, storage.PutOptions{}), "reachable through the proxy")

		p.Down()
		err = st.Put(ctx(t), "down.png", img, storage.PutOptions{})
		require.Error(t, err)
		require.True(t, storage.IsUnavailable(err), "put: %v", err)
		_, err = st.Stat(ctx(t), "up.png")
		require.Error(t, err)
		require.True(t, storage.IsUnavailable(err), "stat: %v", err)

		require.NoError(t, p.Up())
		_, err = st.Stat(ctx(t), "up.png")
		require.NoError(t, err, "reachable again")
	})
	for name, c := range map[string]struct {
		status int
		code   string
		want   bool
	}{
		"403": {http.StatusForbidden, "AccessDenied", false},
		"503": {http.StatusServiceUnavailable, "SlowDown", true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := storagetest.StartGoFakeS3(t, false)
			srv.CreateBucket(t, "codes")
			st, err := storage.Open(ctx(t), srv.URL("codes", ""), srv.Options())
			require.NoError(t, err)
			srv2 := storagetest.StartGoFakeS3(t, false, answer(c.status, c.code))
			opts := srv.Options()
			opts.S3Endpoint = srv2.Endpoint
			bad, err := storage.Open(ctx(t), srv.URL("codes", ""), opts)
			require.NoError(t, err)
			require.NoError(t, st.Ping(ctx(t)))

			err = bad.Put(ctx(t), "k.png", img, storage.PutOptions{})
			require.Error(t, err)
			require.Equal(t, c.want, storage.IsUnavailable(err), "put: %v", err)
			_, err = bad.Stat(ctx(t), "k.png")
			require.Error(t, err)
			require.NotErrorIs(t, err, storage.ErrNotFound)
			require.Equal(t, c.want, storage.IsUnavailable(err), "stat: %v", err)
		})
	}
	t.Run("untrusted certificate", func(t *testing.T) {
		t.Parallel()
		srv := storagetest.StartGoFakeS3(t, true)
		opts := srv.Options()
		opts.CABundle = nil
		st, err := storage.Open(ctx(t), srv.URL("codes", ""), opts)
		require.NoError(t, err)
		err = st.Put(ctx(t), "k.png", img, storage.PutOptions{})
		require.Error(t, err)
		require.False(t, storage.IsUnavailable(err), "put: %v", err)
	})
}

// answer is middleware that answers every request with status and an S3
// error body of code, like a server refusing the credentials (403) or
// shedding load (503).
func answer(status int, code string) func(http.Handler) http.Handler {
	return func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			if r.Method != http.MethodHead {
				fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, code)
			}
		})
	}
}
