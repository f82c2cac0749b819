package storage

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// defaultRegion is used when neither Options nor the AWS environment name
// one; self-hosted servers mostly accept anything and default to it.
const defaultRegion = "us-east-1"

// S3Store keeps objects in an S3 bucket (AWS, MinIO, COS, OSS, versitygw...)
// under an optional key prefix.
type S3Store struct {
	client         *s3.Client
	bucket, prefix string // prefix is "" or ends with "/"
	sse            types.ServerSideEncryption
	kmsKeyID       string
	cacheControl   string
}

var _ Store = (*S3Store)(nil)

// OpenS3 returns a store for bucket with keys under prefix ("" or "a/b").
// The client uses the standard AWS configuration chain with opts applied
// on top and checksums only "when required", so uploads are sent as plain
// bodies (never aws-chunked), which every S3-compatible server stores
// byte-exact. It fails with a *URLError for a bad bucket, prefix or
// endpoint, or an error if the AWS configuration cannot be loaded. It does
// not contact the server.
func OpenS3(ctx context.Context, bucket, prefix string, opts Options) (*S3Store, error) {
	loc, err := checkBucket(bucket, prefix)
	if err != nil {
		return nil, err
	}
	if err := checkS3Options(opts); err != nil {
		return nil, err
	}
	cfg, err := loadAWSConfig(ctx, opts)
	if err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = opts.S3PathStyle
		if opts.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.S3Endpoint)
		}
	})
	return &S3Store{
		client: client, bucket: loc.bucket, prefix: loc.prefix,
		sse: types.ServerSideEncryption(opts.ServerSideEncryption), kmsKeyID: opts.SSEKMSKeyID,
		cacheControl: opts.CacheControl,
	}, nil
}

// Client returns the underlying SDK client, e.g. for bucket administration
// in tests.
func (s *S3Store) Client() *s3.Client { return s.client }

// URL returns s3://bucket/prefix/key.
func (s *S3Store) URL(key string) string { return "s3://" + s.bucket + "/" + s.prefix + key }

func checkS3Options(opts Options) error {
	if opts.S3Endpoint != "" {
		u, err := url.Parse(opts.S3Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return &URLError{Reason: "S3 endpoint must be an http:// or https:// URL without credentials"}
		}
	}
	sse := types.ServerSideEncryption(opts.ServerSideEncryption)
	if sse != "" && !slices.Contains(sse.Values(), sse) {
		return fmt.Errorf("storage: server-side encryption %q is not one of %q", sse, sse.Values())
	}
	if opts.SSEKMSKeyID != "" && sse != types.ServerSideEncryptionAwsKms && sse != types.ServerSideEncryptionAwsKmsDsse {
		return fmt.Errorf("storage: an SSE KMS key needs server-side encryption %q", types.ServerSideEncryptionAwsKms)
	}
	return nil
}

// loadAWSConfig loads the standard configuration with our overrides.
func loadAWSConfig(ctx context.Context, opts Options) (aws.Config, error) {
	load := []func(*config.LoadOptions) error{
		// Flexible checksums would send aws-chunked bodies over https,
		// which several S3-compatible servers store framing and all.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		// A BuildableClient, so that AWS_CA_BUNDLE / CABundle can still be
		// applied to it (any other client makes LoadDefaultConfig fail).
		config.WithHTTPClient(httpClient(opts)),
	}
	if opts.S3Region != "" {
		load = append(load, config.WithRegion(opts.S3Region))
	}
	if opts.CABundle != nil {
		load = append(load, config.WithCustomCABundle(bytes.NewReader(opts.CABundle)))
	}
	if opts.Credentials != nil {
		load = append(load, config.WithCredentialsProvider(opts.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("storage: load AWS configuration: %w", err)
	}
	cfg.Region = cmp.Or(cfg.Region, defaultRegion)
	return cfg, nil
}

func httpClient(opts Options) *awshttp.BuildableClient {
	base := opts.HTTPClient
	if base == nil {
		base = awshttp.NewBuildableClient()
	}
	n := cmp.Or(opts.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost)
	return base.WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = n
		tr.MaxIdleConns = max(tr.MaxIdleConns, n)
	})
}
