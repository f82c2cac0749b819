package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/storage/storagetest"
)

// openS3 creates bucket on srv and opens s3://bucket/prefix through Open,
// exactly as production does.
func openS3(t *testing.T, srv *storagetest.Server, bucket, prefix string, opts storage.Options) *storage.S3Store {
	t.Helper()
	srv.CreateBucket(t, bucket)
	st, err := storage.Open(ctx(t), srv.URL(bucket, prefix), opts)
	require.NoError(t, err)
	return st.(*storage.S3Store)
}

// roundTrip is the contract every backend must meet with a real image.
func roundTrip(t *testing.T, st storage.Store) {
	t.Helper()
	img := testImage(t)
	sum := sha256.Sum256(img)
	p := storage.KeyParams{AppID: "wx0123456789abcdef", Format: code.JPEG, Params: code.Params{Page: "pages/index/index", Scene: "../?#%2e", Rendering: code.Rendering{Width: 280}}}
	key := storage.DefaultTemplate().Key(p)
	md := storage.Metadata(p, hex.EncodeToString(sum[:]), time.Now())

	_, err := st.Stat(ctx(t), key)
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, _, err = st.Get(ctx(t), key)
	require.ErrorIs(t, err, storage.ErrNotFound)

	require.NoError(t, st.Put(ctx(t), key, img, storage.PutOptions{ContentType: "image/jpeg", Metadata: md, IfAbsent: true}))
	data, info, err := st.Get(ctx(t), key)
	require.NoError(t, err)
	require.True(t, bytes.Equal(img, data), "round trip changed the bytes: put %d, got %d", len(img), len(data))
	require.Equal(t, key, info.Key)
	require.Equal(t, int64(len(img)), info.Size)
	require.Equal(t, "image/jpeg", info.ContentType)
	require.Equal(t, md, info.Metadata)
	require.WithinDuration(t, time.Now(), info.ModTime, time.Minute)

	stat, err := st.Stat(ctx(t), key)
	require.NoError(t, err)
	require.Equal(t, info.Size, stat.Size)
	require.Equal(t, info.Metadata, stat.Metadata)
	require.Equal(t, info.ContentType, stat.ContentType)

	err = st.Put(ctx(t), key, []byte("replacement"), storage.PutOptions{IfAbsent: true})
	require.ErrorIs(t, err, storage.ErrExists)
	data, _, err = st.Get(ctx(t), key)
	require.NoError(t, err)
	require.True(t, bytes.Equal(img, data), "a refused conditional put changed the object")
	require.NoError(t, st.Ping(ctx(t)))
}

func TestS3GoFakeS3(t *testing.T) {
	t.Parallel()
	for name, useTLS := range map[string]bool{"http": false, "https": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := storagetest.StartGoFakeS3(t, useTLS)
			st := openS3(t, srv, "codes", "some/prefix", srv.Options())
			roundTrip(t, st)

			require.NoError(t, st.Put(ctx(t), "x/y.png", []byte("\x89PNG\r\n\x1a\n"), storage.PutOptions{}))
			require.Equal(t, "s3://codes/some/prefix/x/y.png", st.URL("x/y.png"))
			out, err := st.Client().ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("codes"), Prefix: aws.String("some/prefix/x/")})
			require.NoError(t, err)
			require.Len(t, out.Contents, 1)
			require.Equal(t, "some/prefix/x/y.png", aws.ToString(out.Contents[0].Key))
			info, err := st.Stat(ctx(t), "x/y.png")
			require.NoError(t, err)
			require.Equal(t, "image/png", info.ContentType, "content type is sniffed when not given")
		})
	}
}

// recorded is one request as the server saw it.
type recorded struct {
	method string
	header http.Header
	body   []byte
}

func recorder(log *[]recorded, mu *sync.Mutex) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			mu.Lock()
			*log = append(*log, recorded{r.Method, r.Header.Clone(), body})
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
}

func TestS3PutSendsPlainBodyAndOptions(t *testing.T) {
	t.Parallel()
	var (
		log []recorded
		mu  sync.Mutex
	)
	srv := storagetest.StartGoFakeS3(t, true, recorder(&log, &mu))
	opts := srv.Options()
	opts.CacheControl = "public, max-age=31536000, immutable"
	opts.ServerSideEncryption = "AES256"
	st := openS3(t, srv, "codes", "", opts)
	img := testImage(t)
	require.NoError(t, st.Put(ctx(t), "a.jpg", img, storage.PutOptions{IfAbsent: true}))

	mu.Lock()
	defer mu.Unlock()
	var puts []recorded
	for _, r := range log {
		if r.method == http.MethodPut && r.header.Get("Content-Md5") != "" {
			puts = append(puts, r)
		}
	}
	require.Len(t, puts, 1)
	h := puts[0].header
	require.True(t, bytes.Equal(img, puts[0].body), "the wire body must be the image itself, not aws-chunked framing")
	require.NotContains(t, h.Get("Content-Encoding"), "aws-chunked")
	require.Empty(t, h.Get("X-Amz-Trailer"))
	require.Equal(t, "*", h.Get("If-None-Match"))
	require.Equal(t, "AES256", h.Get("X-Amz-Server-Side-Encryption"))
	require.Equal(t, opts.CacheControl, h.Get("Cache-Control"))
	require.Equal(t, "image/jpeg", h.Get("Content-Type"))
}

// TestS3IfNoneMatchCatchesRace plays a writer that lost the race after its
// HeadObject: the server's 412 must still become ErrExists.
func TestS3IfNoneMatchCatchesRace(t *testing.T) {
	t.Parallel()
	headMisses := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead && r.URL.Path != "/codes" && r.URL.Path != "/codes/" {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	srv := storagetest.StartGoFakeS3(t, false, headMisses)
	st := openS3(t, srv, "codes", "", srv.Options())
	require.NoError(t, st.Put(ctx(t), "a.jpg", []byte("first"), storage.PutOptions{}))
	err := st.Put(ctx(t), "a.jpg", []byte("second"), storage.PutOptions{IfAbsent: true})
	require.ErrorIs(t, err, storage.ErrExists)
	data, _, err := st.Get(ctx(t), "a.jpg")
	require.NoError(t, err)
	require.Equal(t, "first", string(data))
}

// TestS3StatGuardsWhenIfNoneMatchIgnored plays a server (like s3rver) that
// ignores If-None-Match: the HeadObject check alone must refuse the write.
func TestS3StatGuardsWhenIfNoneMatchIgnored(t *testing.T) {
	t.Parallel()
	var puts int
	var mu sync.Mutex
	ignoreINM := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				mu.Lock()
				puts++
				mu.Unlock()
			}
			r.Header.Del("If-None-Match")
			next.ServeHTTP(w, r)
		})
	}
	srv := storagetest.StartGoFakeS3(t, false, ignoreINM)
	st := openS3(t, srv, "codes", "", srv.Options())
	require.NoError(t, st.Put(ctx(t), "a.jpg", []byte("first"), storage.PutOptions{IfAbsent: true}))
	err := st.Put(ctx(t), "a.jpg", []byte("second"), storage.PutOptions{IfAbsent: true})
	require.ErrorIs(t, err, storage.ErrExists)
	data, _, err := st.Get(ctx(t), "a.jpg")
	require.NoError(t, err)
	require.Equal(t, "first", string(data))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 2, puts, "CreateBucket and the first Put only: the refused Put never reached the server")
}

func TestS3MissingBucket(t *testing.T) {
	t.Parallel()
	srv := storagetest.StartGoFakeS3(t, false)
	st, err := storage.Open(ctx(t), srv.URL("absent", ""), srv.Options())
	require.NoError(t, err, "Open does not contact the server")
	require.Error(t, st.Ping(ctx(t)))
	_, _, err = st.Get(ctx(t), "a.jpg")
	require.Error(t, err)
	require.NotErrorIs(t, err, storage.ErrNotFound, "a missing bucket is not a missing object")
	require.Error(t, st.Put(ctx(t), "a.jpg", []byte("x"), storage.PutOptions{}))
}

func TestS3KeyLimitIncludesPrefix(t *testing.T) {
	t.Parallel()
	srv := storagetest.StartGoFakeS3(t, false)
	st := openS3(t, srv, "codes", "p/q", srv.Options())
	key := ""
	for len(key) < storage.MaxKeyLen-8 {
		key += "aaaaaaa/"
	}
	key += "aaaaaaa" // MaxKeyLen-1 bytes: valid alone, too long after "p/q/"
	require.NoError(t, storage.CheckKey(key))
	err := st.Put(ctx(t), key, []byte("x"), storage.PutOptions{})
	var ke *storage.KeyError
	require.ErrorAs(t, err, &ke)
}

// cancelledPutFails shows the context reaches the SDK.
func TestS3HonoursContext(t *testing.T) {
	t.Parallel()
	srv := storagetest.StartGoFakeS3(t, false)
	st := openS3(t, srv, "codes", "", srv.Options())
	c, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, st.Put(c, "a.jpg", []byte("x"), storage.PutOptions{}), context.Canceled)
}
