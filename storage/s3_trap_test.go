package storage_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/storage/storagetest"
)

// TestS3ChecksumTrap proves the client settings matter: the SDK's default
// (flexible checksums) sends aws-chunked bodies over https, which gofakes3
// stores framing and all; the same upload through storage is byte-exact.
func TestS3ChecksumTrap(t *testing.T) {
	t.Parallel()
	srv := storagetest.StartGoFakeS3(t, true)
	st := openS3(t, srv, "codes", "", srv.Options())
	img := testImage(t)

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(srv.CAPEM))
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	})
	cfg, err := config.LoadDefaultConfig(ctx(t), config.WithHTTPClient(hc), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")))
	require.NoError(t, err)
	naive := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint, o.UsePathStyle = aws.String(srv.Endpoint), true
	})
	_, err = naive.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("codes"), Key: aws.String("naive.jpg"), Body: bytes.NewReader(img)})
	require.NoError(t, err)
	stored, _, err := st.Get(ctx(t), "naive.jpg")
	require.NoError(t, err)
	require.False(t, bytes.Equal(img, stored), "gofakes3 no longer stores aws-chunked framing: the trap test lost its witness")
	require.Greater(t, len(stored), len(img))

	require.NoError(t, st.Put(ctx(t), "safe.jpg", img, storage.PutOptions{}))
	stored, _, err = st.Get(ctx(t), "safe.jpg")
	require.NoError(t, err)
	require.True(t, bytes.Equal(img, stored))
}
