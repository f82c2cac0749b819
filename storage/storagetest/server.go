package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wxacode/wxacode/storage"
)

// Server is a running S3 server.
type Server struct {
	Endpoint  string // e.g. "https://127.0.0.1:40123"
	Region    string
	AccessKey string
	SecretKey string
	// CAPEM is the certificate to trust for an https Endpoint (nil for http).
	CAPEM []byte
	// DataDir is where versitygw's posix backend keeps buckets
	// (DataDir/bucket/key); "" for gofakes3.
	DataDir string
}

// Options returns what a production caller would configure to reach the
// server: endpoint, path style, region, static credentials and the CA
// through Options.CABundle (the AWS_CA_BUNDLE mechanism).
func (s *Server) Options() storage.Options {
	return storage.Options{
		S3Endpoint:  s.Endpoint,
		S3PathStyle: true,
		S3Region:    s.Region,
		CABundle:    s.CAPEM,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	}
}

// URL returns "s3://bucket/prefix" for storage.Open.
func (s *Server) URL(bucket, prefix string) string { return "s3://" + bucket + "/" + prefix }

// CreateBucket creates bucket, failing the test on error.
func (s *Server) CreateBucket(tb testing.TB, bucket string) {
	tb.Helper()
	st, err := storage.OpenS3(context.Background(), bucket, "", s.Options())
	if err != nil {
		tb.Fatalf("storagetest: open S3 client: %v", err)
	}
	_, err = st.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil {
		tb.Fatalf("storagetest: create bucket %q: %v", bucket, err)
	}
}

// randomHex returns n random bytes as hex, for throw-away credentials.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
