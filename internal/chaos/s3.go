package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// VersityGWModule is the versitygw the fault suite runs (go install it).
const VersityGWModule = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// FindVersityGW returns the versitygw binary: $VERSITYGW, else versitygw
// on PATH, in $GOBIN or in $HOME/go/bin. The error says how to install it.
func FindVersityGW() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	home, _ := os.UserHomeDir()
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(home, "go", "bin")} {
		p := filepath.Join(dir, "versitygw")
		if st, err := os.Stat(p); dir != "" && err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("chaos: versitygw not found (install it with: go install %s)", VersityGWModule)
}

// S3 is versitygw (a real S3 server; posix backend in a directory,
// path-style, plain http) on a loopback port with one bucket, behind an
// HTTP proxy that counts, per key, the PUTs answered with success: an
// upload that landed but whose answer the client never got (a reset after
// the server wrote it) is counted, because the object changed. It also
// counts conditional PUTs refused because the key existed (412), the
// duplicates that If-None-Match stopped. Clients sign for Endpoint with
// AccessKey and SecretKey in Region.
type S3 struct {
	// Endpoint is the counting proxy's base URL, e.g. "http://127.0.0.1:40123".
	Endpoint string
	// Bucket is the one bucket it was started with.
	Bucket                       string
	AccessKey, SecretKey, Region string

	gw      *exec.Cmd
	exited  chan struct{}
	srv     *http.Server
	client  *s3.Client
	mu      sync.Mutex
	puts    map[string]int
	refused int
}

// StartS3 runs versitygw (FindVersityGW) with its data in dir and the root
// credentials accessKey and secretKey, creates bucket and serves the
// counting proxy. Close stops both. It fails if versitygw is missing or
// does not come up within 15 s.
func StartS3(dir, bucket, accessKey, secretKey string) (*S3, error) {
	bin, err := FindVersityGW()
	if err != nil {
		return nil, err
	}
	s := &S3{Bucket: bucket, AccessKey: accessKey, SecretKey: secretKey, Region: "us-east-1", puts: map[string]int{}}
	gwAddr, err := s.startGateway(bin, dir)
	if err != nil {
		return nil, err
	}
	if err := s.startProxy(gwAddr); err != nil {
		s.Close()
		return nil, err
	}
	s.client = s3.New(s3.Options{BaseEndpoint: aws.String("http://" + gwAddr), UsePathStyle: true, Region: s.Region,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.waitAndCreate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *S3) startGateway(bin, dir string) (string, error) {
	data := filepath.Join(dir, "s3")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	logf, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		return "", err
	}
	s.gw = exec.Command(bin, "--port", addr, "--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", s.Region, "--quiet", "posix", data)
	s.gw.Stdout, s.gw.Stderr = logf, logf
	if err := s.gw.Start(); err != nil {
		logf.Close()
		return "", fmt.Errorf("chaos: start versitygw: %w", err)
	}
	s.exited = make(chan struct{})
	go func() { _ = s.gw.Wait(); logf.Close(); close(s.exited) }()
	return addr, nil
}

// waitAndCreate creates the bucket as soon as versitygw answers.
func (s *S3) waitAndCreate(ctx context.Context) error {
	for {
		_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)})
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("chaos: versitygw exited at start")
		case <-ctx.Done():
			return fmt.Errorf("chaos: versitygw did not come up: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *S3) startProxy(gwAddr string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("chaos: s3 listen: %w", err)
	}
	// The proxy keeps the client's Host header, which its signature covers.
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: gwAddr})
	rp.ErrorLog = log.New(io.Discard, "", 0) // a reset client is the point of the suite
	s.srv = &http.Server{Handler: s.countPuts(rp), ReadHeaderTimeout: 10 * time.Second}
	s.Endpoint = "http://" + ln.Addr().String()
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// Close stops the proxy and versitygw (SIGINT, then SIGKILL after 5 s).
func (s *S3) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
	if s.gw != nil && s.gw.Process != nil {
		_ = s.gw.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.gw.Process.Kill()
			<-s.exited
		}
	}
}

// countPuts wraps h and counts each successful single-part PUT per key.
func (s *S3) countPuts(h http.Handler) http.Handler {
	prefix := "/" + s.Bucket + "/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, isObject := strings.CutPrefix(r.URL.Path, prefix)
		if r.Method != http.MethodPut || !isObject || key == "" || r.URL.Query().Has("uploadId") {
			h.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case sw.code/100 == 2:
			s.puts[key]++
		case sw.code == http.StatusPreconditionFailed:
			s.refused++
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Puts returns a copy of the successful PUTs per key.
func (s *S3) Puts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.puts))
	for k, n := range s.puts {
		out[k] = n
	}
	return out
}

// Refused returns how many conditional PUTs were refused (412).
func (s *S3) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Keys lists every key in the bucket.
func (s *S3) Keys() ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// Get returns the object's bytes, or an error if there is none.
func (s *S3) Get(key string) ([]byte, error) {
	out, err := s.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// RandomHex returns n random bytes as hex, for throw-away credentials.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
