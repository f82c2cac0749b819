package storage

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// ProbePrefix is where Probe writes its probe object: inside RunsPrefix,
// which no code key may use, so a probe never shadows or replaces a code.
const ProbePrefix = RunsPrefix + "_preflight/"

// Probe checks that st can store codes, writing nothing that stays: for
// S3 the bucket exists and the credentials reach it (HeadBucket), and a
// small object is put under ProbePrefix and deleted again; for a local
// directory a file is created in it and removed. Other stores are Pinged.
// Diagnose words the error for an operator.
func Probe(ctx context.Context, st Store) error {
	switch s := st.(type) {
	case *S3Store:
		return s.probe(ctx)
	default:
		return st.Ping(ctx)
	}
}

func (s *S3Store) probe(ctx context.Context) error {
	if err := s.Ping(ctx); err != nil {
		return err
	}
	// Workers started together probe together, and a posix-backed server
	// (versitygw, MinIO in FS mode) may remove the probes' directory for one
	// while it creates it for another (409 ExistingObjectIsDirectory): a
	// probe that is not refused outright is tried again before it counts.
	var err error
	for attempt := range probeAttempts {
		if err = s.probeOnce(ctx); err == nil || IsConfigAnswer(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(time.Duration(attempt+1) * 200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
	return err
}

// probeAttempts is how many times a probe is tried before it fails.
const probeAttempts = 4

// probeOnce puts a small object with a random key under ProbePrefix and
// deletes it.
func (s *S3Store) probeOnce(ctx context.Context) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	key := s.prefix + ProbePrefix + hex.EncodeToString(b[:])
	body := []byte("wxacode preflight probe; safe to delete\n")
	if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("text/plain")}); err != nil {
		return fmt.Errorf("storage: put probe s3://%s/%s: %w", s.bucket, key, err)
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("storage: delete probe s3://%s/%s: %w", s.bucket, key, err)
	}
	return nil
}

// Diagnosis is what an error of a store means to an operator.
type Diagnosis struct {
	// Cause names the problem in a few words, e.g. "bucket does not exist".
	Cause string
	// Advice says what to do about it.
	Advice string
	// Config is true when the settings or the store's setup must change
	// (a missing bucket, refused credentials, a directory without write
	// permission); false for an outage that may clear by itself.
	Config bool
}

// IsConfigAnswer reports whether err is the store saying that it cannot
// take codes as configured, whatever the object: the bucket does not exist
// (NoSuchBucket), the credentials are refused (401, 403 AccessDenied,
// InvalidAccessKeyId, SignatureDoesNotMatch), or the directory denies
// writing (permission denied, read-only file system). Waiting does not fix
// it, nor does another try of the same job: every job would meet it. It is
// false for answers about one object or request (ErrNotFound, ErrExists,
// an invalid key) and for outages (IsUnavailable).
func IsConfigAnswer(err error) bool {
	if err == nil || IsNotFound(err) || IsExists(err) || IsInvalid(err) || IsUnavailable(err) {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) && slices.Contains([]string{"NoSuchBucket", "AccessDenied", "AllAccessDisabled",
		"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccountProblem", "InvalidBucketName"}, api.ErrorCode()) {
		return true
	}
	st := httpStatus(err)
	return st == http.StatusForbidden || st == http.StatusUnauthorized ||
		errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}

// Brief is err in one short phrase for a table: an S3 answer as its
// operation, HTTP status and error code ("HeadBucket: HTTP 404 NotFound"),
// anything else as its message.
func Brief(err error) string {
	if err == nil {
		return ""
	}
	var op *smithy.OperationError
	var api smithy.APIError
	if errors.As(err, &op) && errors.As(err, &api) {
		s := op.Operation() + ":"
		if st := httpStatus(err); st != 0 {
			s += fmt.Sprintf(" HTTP %d", st)
		}
		return s + " " + api.ErrorCode()
	}
	return err.Error()
}

// Diagnose explains err, an error of Probe, Put or Stat. It returns the
// zero Diagnosis for nil.
func Diagnose(err error) Diagnosis {
	var api smithy.APIError
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	status := httpStatus(err)
	switch {
	case err == nil:
		return Diagnosis{}
	case code == "NoSuchBucket" || status == http.StatusNotFound:
		return Diagnosis{Cause: "bucket does not exist", Config: true,
			Advice: "create the bucket, or fix the bucket name in WXACODE_STORAGE_URL (and the endpoint in AWS_ENDPOINT_URL_S3)"}
	case slices.Contains([]string{"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled"}, code) ||
		status == http.StatusForbidden || status == http.StatusUnauthorized:
		return Diagnosis{Cause: "access denied (" + cmp.Or(code, http.StatusText(status)) + ")", Config: true,
			Advice: "check the AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE...) and grant s3:PutObject, s3:GetObject, s3:DeleteObject on the prefix and s3:ListBucket on the bucket"}
	case code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" || status == http.StatusMovedPermanently:
		return Diagnosis{Cause: "wrong region or endpoint (" + code + ")", Config: true,
			Advice: "set AWS_REGION to the bucket's region, or AWS_ENDPOINT_URL_S3 to its endpoint"}
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS):
		return Diagnosis{Cause: "directory not writable (permission denied)", Config: true,
			Advice: "give the user running wxacode write permission on the directory, or point WXACODE_STORAGE_URL elsewhere"}
	case errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EEXIST):
		return Diagnosis{Cause: "not a directory", Config: true,
			Advice: "WXACODE_STORAGE_URL names a file or lies under one: point it at a directory"}
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		return Diagnosis{Cause: "disk full", Advice: "free space on the storage directory's disk"}
	case IsUnavailable(err):
		return Diagnosis{Cause: "store unreachable",
			Advice: "check the endpoint (AWS_ENDPOINT_URL_S3), the network and that the store is up"}
	case IsInvalid(err):
		return Diagnosis{Cause: "invalid storage settings", Config: true, Advice: "fix WXACODE_STORAGE_URL or WXACODE_KEY_TEMPLATE"}
	}
	return Diagnosis{Cause: "store refused the probe", Config: true,
		Advice: "check WXACODE_STORAGE_URL, the credentials and the store's logs"}
}
