package chaos

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wxacode/wxacode/storage/storagetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestProxyDownAndUp: through the proxy a request works; while it is down
// connecting is refused and a request already open fails; after Up the
// same address works again.
func TestProxyDownAndUp(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer up.Close()
	defer close(release)
	p, err := NewProxy(up.Listener.Addr().String())
	require.NoError(t, err)
	defer p.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	get := func(path string) error {
		resp, err := client.Get("http://" + p.Addr() + path)
		if err == nil {
			defer resp.Body.Close()
			_, err = io.ReadAll(resp.Body)
		}
		return err
	}
	require.NoError(t, get("/"))

	slow := make(chan error, 1)
	go func() { slow <- get("/slow") }()
	require.Eventually(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.conns) == 2 },
		5*time.Second, 5*time.Millisecond, "the slow request is open through the proxy")
	p.Down()
	require.Error(t, <-slow, "a request in flight fails when the proxy goes down")
	err = get("/")
	require.ErrorContains(t, err, "connection refused")

	require.NoError(t, p.Up())
	require.NoError(t, get("/"))
}

// TestS3CountsPuts: each successful PUT of a key through the proxy is
// counted, a refused conditional PUT (If-None-Match: *) is not; Keys and
// Get read what was stored in versitygw.
func TestS3CountsPuts(t *testing.T) {
	bin, err := storagetest.FindOrInstallVersityGW()
	require.NoError(t, err)
	t.Setenv("VERSITYGW", bin)
	srv, err := StartS3(t.TempDir(), "bucket-b", "AKIATEST00000000", RandomHex(20))
	require.NoError(t, err)
	defer srv.Close()
	client := s3.New(s3.Options{BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true, Region: srv.Region,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")})
	put := func(key, body string, ifAbsent bool) error {
		in := &s3.PutObjectInput{Bucket: aws.String("bucket-b"), Key: aws.String(key), Body: strings.NewReader(body)}
		if ifAbsent {
			in.IfNoneMatch = aws.String("*")
		}
		_, err := client.PutObject(context.Background(), in)
		return err
	}
	require.NoError(t, put("a/x.jpg", "one", false))
	require.NoError(t, put("a/x.jpg", "two", false))
	require.Error(t, put("a/x.jpg", "three", true), "the object exists")
	require.NoError(t, put("a/y.jpg", "y", true))
	require.Equal(t, map[string]int{"a/x.jpg": 2, "a/y.jpg": 1}, srv.Puts())
	require.Equal(t, 1, srv.Refused())
	keys, err := srv.Keys()
	require.NoError(t, err)
	require.Equal(t, []string{"a/x.jpg", "a/y.jpg"}, keys)
	data, err := srv.Get("a/x.jpg")
	require.NoError(t, err)
	require.Equal(t, "two", string(data))
	_, err = srv.Get("a/none")
	require.Error(t, err)
}

// TestFindLeaks finds a needle in a .log file, ignores other files, and
// reports the place without the line.
func TestFindLeaks(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "s1"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s1", "w.log"), []byte("fine\ntoken wxfake_abc here\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s1", "data.aof"), []byte("wxfake_abc\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "clean.log"), []byte("nothing\n"), 0o600))
	leaks, sum, err := FindLeaks(dir, map[string]string{"access token": "wxfake_", "app secret": "s3cr3t", "unset": ""})
	require.NoError(t, err)
	require.Equal(t, []Leak{{File: filepath.Join(dir, "s1", "w.log"), Line: 2, What: "access token"}}, leaks)
	require.Equal(t, 2, sum.Files)
	require.NotContains(t, leaks[0].String(), "abc")
}
