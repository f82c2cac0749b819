package storage_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/storage/storagetest"
)

func TestProbeS3WritesAndRemoves(t *testing.T) {
	srv := storagetest.StartGoFakeS3(t, false)
	st := openS3(t, srv, "codes", "pre", srv.Options())
	require.NoError(t, storage.Probe(ctx(t), st))
	out, err := st.Client().ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("codes")})
	require.NoError(t, err)
	require.Empty(t, out.Contents, "the probe object is removed")
	require.Equal(t, storage.Diagnosis{}, storage.Diagnose(nil))
}

func TestProbeS3MissingBucket(t *testing.T) {
	srv := storagetest.StartGoFakeS3(t, false)
	st, err := storage.Open(ctx(t), srv.URL("nobucket", "x"), srv.Options())
	require.NoError(t, err)
	err = storage.Probe(ctx(t), st)
	require.Error(t, err)
	d := storage.Diagnose(err)
	require.Equal(t, "bucket does not exist", d.Cause, "%v", err)
	require.True(t, d.Config)
	require.Contains(t, d.Advice, "WXACODE_STORAGE_URL")
}

func TestProbeS3Unreachable(t *testing.T) {
	srv := storagetest.StartGoFakeS3(t, false)
	o := srv.Options()
	o.S3Endpoint = "http://127.0.0.1:1"
	st, err := storage.Open(ctx(t), srv.URL("codes", ""), o)
	require.NoError(t, err)
	d := storage.Diagnose(storage.Probe(ctx(t), st))
	require.Equal(t, "store unreachable", d.Cause)
	require.False(t, d.Config, "an outage is not a configuration problem")
}

func TestProbeLocal(t *testing.T) {
	st := openLocal(t)
	require.NoError(t, storage.Probe(ctx(t), st))
	left, err := os.ReadDir(st.Dir())
	require.NoError(t, err)
	require.Empty(t, left, "the probe file is removed")
	// A directory removed under a running store fails the probe.
	require.NoError(t, os.RemoveAll(st.Dir()))
	require.Error(t, storage.Probe(ctx(t), st))
}

func TestDiagnoseLocalErrors(t *testing.T) {
	// Root ignores permissions, so the errors are the ones os returns.
	perm := fmt.Errorf("storage: local directory not writable: %w", &fs.PathError{Op: "open", Path: "/srv/codes/x", Err: fs.ErrPermission})
	d := storage.Diagnose(perm)
	require.True(t, d.Config)
	require.Contains(t, d.Cause, "permission denied")

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := storage.OpenLocal(filepath.Join(file, "codes"))
	require.Error(t, err)
	d = storage.Diagnose(err)
	require.True(t, d.Config)
	require.Equal(t, "not a directory", d.Cause, "%v", err)
}

// Workers started together probe together, and a posix-backed server can
// fail one probe's put while another's cleanup removes the directory (409
// ExistingObjectIsDirectory, seen with versitygw in the chaos suite): the
// probe is tried again. A refusal that is the store's answer (403) is not.
func TestProbeS3RetriesAConflictNotARefusal(t *testing.T) {
	for _, tc := range []struct {
		status    int
		code      string
		wantPuts  int32
		wantError bool
	}{
		{http.StatusConflict, "ExistingObjectIsDirectory", 2, false},
		{http.StatusForbidden, "AccessDenied", 1, true},
	} {
		var puts atomic.Int32
		fail := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "_preflight") && puts.Add(1) == 1 || tc.wantError && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "_preflight") {
					w.Header().Set("Content-Type", "application/xml")
					w.WriteHeader(tc.status)
					fmt.Fprintf(w, "<Error><Code>%s</Code><Message>injected</Message></Error>", tc.code)
					return
				}
				next.ServeHTTP(w, r)
			})
		}
		srv := storagetest.StartGoFakeS3(t, false, fail)
		st := openS3(t, srv, "codes", "pre", srv.Options())
		err := storage.Probe(ctx(t), st)
		if tc.wantError {
			require.Error(t, err, tc.code)
			require.True(t, storage.Diagnose(err).Config, "%v", err)
		} else {
			require.NoError(t, err, tc.code)
		}
		require.Equal(t, tc.wantPuts, puts.Load(), "%s: probe puts", tc.code)
	}
}
