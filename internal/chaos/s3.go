package chaos

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is an in-memory S3 server (gofakes3, path-style, any credentials) on a
// loopback port, with one bucket. It counts, per key, the PUTs it answered
// with success: an upload that landed but whose answer the client never
// got (a reset after the server wrote it) is counted, because the object
// changed. It also counts conditional PUTs refused because the key
// existed (412), the duplicates that If-None-Match stopped.
type S3 struct {
	// Endpoint is the server's base URL, e.g. "http://127.0.0.1:40123".
	Endpoint string
	// Bucket is the one bucket it was started with.
	Bucket string

	backend *s3mem.Backend
	srv     *http.Server
	mu      sync.Mutex
	puts    map[string]int
	refused int
}

// StartS3 serves a new in-memory S3 with bucket created. It fails if it
// cannot listen.
func StartS3(bucket string) (*S3, error) {
	s := &S3{Bucket: bucket, backend: s3mem.New(), puts: map[string]int{}}
	if err := s.backend.CreateBucket(bucket); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chaos: s3 listen: %w", err)
	}
	h := gofakes3.New(s.backend).Server()
	s.srv = &http.Server{Handler: s.countPuts(h), ReadHeaderTimeout: 10 * time.Second}
	s.Endpoint = "http://" + ln.Addr().String()
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server; the objects are dropped with it.
func (s *S3) Close() { s.srv.Close() }

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
	page := gofakes3.ListBucketPage{MaxKeys: 1000}
	for {
		list, err := s.backend.ListBucket(s.Bucket, nil, page)
		if err != nil {
			return nil, err
		}
		for _, c := range list.Contents {
			keys = append(keys, c.Key)
		}
		if !list.IsTruncated || list.NextMarker == "" {
			return keys, nil
		}
		page.Marker, page.HasMarker = list.NextMarker, true
	}
}

// Get returns the object's bytes, or an error if there is none.
func (s *S3) Get(key string) ([]byte, error) {
	obj, err := s.backend.GetObject(s.Bucket, key, nil)
	if err != nil {
		return nil, err
	}
	defer obj.Contents.Close()
	return io.ReadAll(obj.Contents)
}
