package storage_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/storage/storagetest"
)

func TestVersityGWEndToEnd(t *testing.T) {
	t.Parallel()
	srv := storagetest.StartVersityGW(t)
	opts := srv.Options()
	opts.CacheControl = "public, max-age=31536000, immutable"
	st := openS3(t, srv, "codes", "e2e", opts)

	t.Run("round trip", func(t *testing.T) { roundTrip(t, st) })

	t.Run("cache control", func(t *testing.T) {
		require.NoError(t, st.Put(ctx(t), "cc.jpg", testImage(t), storage.PutOptions{}))
		out, err := st.Client().HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String("codes"), Key: aws.String("e2e/cc.jpg")})
		require.NoError(t, err)
		require.Equal(t, opts.CacheControl, aws.ToString(out.CacheControl))
	})

	t.Run("conditional create race", func(t *testing.T) {
		const writers = 8
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				errs[i] = st.Put(ctx(t), "race.jpg", []byte(fmt.Sprint("writer ", i)), storage.PutOptions{IfAbsent: true})
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, won, "two writers won")
				won = i
				continue
			}
			require.ErrorIs(t, err, storage.ErrExists)
		}
		require.NotEqual(t, -1, won)
		data, _, err := st.Get(ctx(t), "race.jpg")
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint("writer ", won), string(data))
	})

	t.Run("hostile scenes", func(t *testing.T) {
		opened, err := storage.Open(ctx(t), srv.URL("codes", "hostile"), opts)
		require.NoError(t, err)
		st := opened.(*storage.S3Store)
		keys := hostileKeys(t)
		for key, scene := range keys {
			require.NoError(t, st.Put(ctx(t), key, []byte(scene), storage.PutOptions{IfAbsent: true}), key)
		}
		var listed []string
		p := s3.NewListObjectsV2Paginator(st.Client(), &s3.ListObjectsV2Input{Bucket: aws.String("codes"), Prefix: aws.String("hostile/" + hostileDir)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx(t))
			require.NoError(t, err)
			for _, o := range page.Contents {
				listed = append(listed, aws.ToString(o.Key)[len("hostile/"):])
			}
		}
		require.ElementsMatch(t, mapKeys(keys), listed)
		for key, scene := range keys {
			data, _, err := st.Get(ctx(t), key)
			require.NoError(t, err)
			require.Equal(t, scene, string(data))
			// The posix backend stores each one at exactly its key.
			onDisk, err := os.ReadFile(filepath.Join(srv.DataDir, "codes", "hostile", filepath.FromSlash(key)))
			require.NoError(t, err)
			require.Equal(t, scene, string(onDisk))
		}
	})

	t.Run("if-none-match alone", func(t *testing.T) {
		// A proxy answers every object HEAD with 404, as if another writer
		// created the key right after our check: only the server's
		// If-None-Match enforcement stands between us and an overwrite.
		target, err := url.Parse(srv.Endpoint)
		require.NoError(t, err)
		pool := x509.NewCertPool()
		require.True(t, pool.AppendCertsFromPEM(srv.CAPEM))
		var puts atomic.Int32
		proxy := &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(target)
				r.Out.Host = r.In.Host // the client signed the proxy's host
			},
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		}
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead && strings.Count(strings.Trim(r.URL.Path, "/"), "/") > 0 {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			if r.Method == http.MethodPut {
				puts.Add(1)
			}
			proxy.ServeHTTP(w, r)
		}))
		defer front.Close()
		popts := opts
		popts.S3Endpoint = front.URL
		opened, err := storage.Open(ctx(t), srv.URL("codes", "inm"), popts)
		require.NoError(t, err)
		require.NoError(t, opened.Put(ctx(t), "a.jpg", []byte("first"), storage.PutOptions{IfAbsent: true}))
		err = opened.Put(ctx(t), "a.jpg", []byte("second"), storage.PutOptions{IfAbsent: true})
		require.ErrorIs(t, err, storage.ErrExists)
		require.Equal(t, int32(2), puts.Load(), "the refused Put must have reached the server")
		_, _, err = st.Get(ctx(t), "../inm/a.jpg")
		require.True(t, storage.IsInvalid(err), "keys cannot climb out of the prefix")
		data, _, err := opened.Get(ctx(t), "a.jpg")
		require.NoError(t, err)
		require.Equal(t, "first", string(data))
	})
}

// TestVersityGWWithHTTPClientAndCABundleEnv configures TLS the other two
// ways production can: a custom BuildableClient, and AWS_CA_BUNDLE set at
// the same time (which a plain *http.Client would make fail).
func TestVersityGWWithHTTPClientAndCABundleEnv(t *testing.T) {
	srv := storagetest.StartVersityGW(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, srv.CAPEM, 0o600))
	t.Setenv("AWS_CA_BUNDLE", caFile)

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(srv.CAPEM))
	opts := srv.Options()
	opts.CABundle = nil
	opts.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	})
	srv.CreateBucket(t, "viaclient")
	st, err := storage.Open(ctx(t), "s3://viaclient", opts)
	require.NoError(t, err)
	img := testImage(t)
	require.NoError(t, st.Put(ctx(t), "a.jpg", img, storage.PutOptions{}))
	data, _, err := st.Get(ctx(t), "a.jpg")
	require.NoError(t, err)
	require.True(t, bytes.Equal(img, data))

	// AWS_CA_BUNDLE alone is enough too.
	opts.HTTPClient = nil
	st, err = storage.Open(ctx(t), "s3://viaclient", opts)
	require.NoError(t, err)
	data, _, err = st.Get(ctx(t), "a.jpg")
	require.NoError(t, err)
	require.True(t, bytes.Equal(img, data))

	// And without any CA the self-signed server is refused.
	t.Setenv("AWS_CA_BUNDLE", "")
	st, err = storage.Open(ctx(t), "s3://viaclient", opts)
	require.NoError(t, err)
	_, _, err = st.Get(ctx(t), "a.jpg")
	require.ErrorContains(t, err, "certificate")
}
