package storage

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Put uploads data in one PutObject from a bytes.Reader with Content-MD5,
// so the server rejects a body that arrives altered. With IfAbsent it
// first checks with HeadObject, then sends If-None-Match: * so that a
// server honouring it (AWS S3, versitygw, gofakes3) also refuses a racing
// writer; either way the result is ErrExists.
func (s *S3Store) Put(ctx context.Context, key string, data []byte, opts PutOptions) error {
	if err := s.checkKey(key); err != nil {
		return err
	}
	if err := checkMetadata(key, opts.Metadata); err != nil {
		return err
	}
	if opts.IfAbsent {
		if err := ensureAbsent(ctx, s, key); err != nil {
			return err
		}
	}
	sum := md5.Sum(data)
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(s.prefix + key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(cmp.Or(opts.ContentType, http.DetectContentType(data))),
		ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		Metadata:      opts.Metadata,
	}
	s.applyPutOptions(in, opts.IfAbsent)
	if _, err := s.client.PutObject(ctx, in); err != nil {
		if opts.IfAbsent && httpStatus(err) == http.StatusPreconditionFailed {
			return fmt.Errorf("%w: %s", ErrExists, s.URL(key))
		}
		return fmt.Errorf("storage: put %s: %w", s.URL(key), err)
	}
	return nil
}

func (s *S3Store) applyPutOptions(in *s3.PutObjectInput, ifAbsent bool) {
	if s.cacheControl != "" {
		in.CacheControl = aws.String(s.cacheControl)
	}
	if s.sse != "" {
		in.ServerSideEncryption = s.sse
	}
	if s.kmsKeyID != "" {
		in.SSEKMSKeyId = aws.String(s.kmsKeyID)
	}
	if ifAbsent {
		in.IfNoneMatch = aws.String("*")
	}
}

// Stat sends HeadObject. A 404 is ErrNotFound; note that HEAD cannot tell
// a missing bucket from a missing key (Ping can), and that AWS answers 403,
// not 404, for a missing key when the credentials lack s3:ListBucket.
func (s *S3Store) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := s.checkKey(key); err != nil {
		return ObjectInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		return ObjectInfo{}, s.readError("stat", key, err)
	}
	return objectInfo(key, out.ContentLength, out.ContentType, out.Metadata, out.LastModified), nil
}

// Get sends GetObject and reads the whole body, failing if it is shorter
// or longer than the announced Content-Length.
func (s *S3Store) Get(ctx context.Context, key string) ([]byte, ObjectInfo, error) {
	if err := s.checkKey(key); err != nil {
		return nil, ObjectInfo{}, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		return nil, ObjectInfo{}, s.readError("get", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, ObjectInfo{}, fmt.Errorf("storage: get %s: %w", s.URL(key), err)
	}
	info := objectInfo(key, out.ContentLength, out.ContentType, out.Metadata, out.LastModified)
	if out.ContentLength != nil && int64(len(data)) != info.Size {
		return nil, ObjectInfo{}, fmt.Errorf("storage: get %s: read %d bytes, expected %d", s.URL(key), len(data), info.Size)
	}
	info.Size = int64(len(data))
	return data, info, nil
}

// Ping sends HeadBucket: the bucket exists and the credentials reach it.
func (s *S3Store) Ping(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return fmt.Errorf("storage: bucket s3://%s: %w", s.bucket, err)
	}
	return nil
}

func (s *S3Store) checkKey(key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if len(s.prefix)+len(key) > MaxKeyLen {
		return &KeyError{Key: key, Reason: fmt.Sprintf("longer than %d bytes with the prefix", MaxKeyLen)}
	}
	return nil
}

// readError maps a missing key (404, except a missing bucket) to ErrNotFound.
func (s *S3Store) readError(op, key string, err error) error {
	var api smithy.APIError
	noBucket := errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket"
	if httpStatus(err) == http.StatusNotFound && !noBucket {
		return fmt.Errorf("%w: %s", ErrNotFound, s.URL(key))
	}
	return fmt.Errorf("storage: %s %s: %w", op, s.URL(key), err)
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func objectInfo(key string, size *int64, ct *string, md map[string]string, mod *time.Time) ObjectInfo {
	info := ObjectInfo{Key: key, Size: aws.ToInt64(size), ContentType: aws.ToString(ct), ModTime: aws.ToTime(mod)}
	if len(md) > 0 {
		info.Metadata = make(map[string]string, len(md))
		for k, v := range md {
			info.Metadata[strings.ToLower(k)] = v
		}
	}
	return info
}
