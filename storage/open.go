package storage

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Environment variables read by OpenFromEnv.
const (
	EnvStorageURL  = "WXACODE_STORAGE_URL"   // default DefaultLocalDir
	EnvS3PathStyle = "WXACODE_S3_PATH_STYLE" // "true" forces path-style addressing
)

// DefaultLocalDir is the store OpenFromEnv opens when WXACODE_STORAGE_URL is
// unset: a directory of that name under the working directory.
const DefaultLocalDir = "wxacode-codes"

// Options configure the S3 backend (the local backend has no options). The
// zero value uses the standard AWS environment, profiles and credential
// chain.
type Options struct {
	// S3PathStyle selects path-style addressing (https://host/bucket/key),
	// which MinIO and most self-hosted servers need. Default false:
	// virtual-hosted style. OpenFromEnv also sets it for
	// WXACODE_S3_PATH_STYLE=true.
	S3PathStyle bool
	// S3Endpoint is the server's base URL, e.g. "https://minio:9000".
	// Default "": the SDK reads AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL or
	// the profile, else uses AWS S3.
	S3Endpoint string
	// S3Region signs requests. Default "": AWS_REGION / the profile, else
	// "us-east-1".
	S3Region string
	// ServerSideEncryption is sent with every Put: "", "AES256" or
	// "aws:kms". Default "": none (the bucket default applies).
	ServerSideEncryption string
	// SSEKMSKeyID is the KMS key for "aws:kms". Default "": the account's
	// default key.
	SSEKMSKeyID string
	// CacheControl is sent with every Put, e.g. "public, max-age=31536000,
	// immutable". Default "": none.
	CacheControl string
	// HTTPClient replaces the SDK's default client, e.g. to trust a test CA
	// through WithTransportOptions. It stays a BuildableClient so that
	// AWS_CA_BUNDLE and CABundle still apply. Default nil: the SDK's client.
	HTTPClient *awshttp.BuildableClient
	// CABundle is PEM data of the CAs to trust, exactly like the file named
	// by AWS_CA_BUNDLE (which it overrides): only these CAs are trusted.
	// Default nil: AWS_CA_BUNDLE or the system roots.
	CABundle []byte
	// MaxIdleConnsPerHost bounds the connections kept open to the server,
	// which should be at least the number of concurrent Puts to avoid a TLS
	// handshake per request. Default 0 means 64.
	MaxIdleConnsPerHost int
	// Credentials replaces the AWS credential chain, e.g. with
	// credentials.NewStaticCredentialsProvider in tests. Default nil: the
	// standard chain (environment, profiles, SSO, web identity, IMDS...).
	Credentials aws.CredentialsProvider
}

// DefaultMaxIdleConnsPerHost is the value used for Options.MaxIdleConnsPerHost 0.
const DefaultMaxIdleConnsPerHost = 64

// String describes o without credentials, for logs.
func (o Options) String() string {
	return fmt.Sprintf("storage.Options{S3PathStyle:%t S3Endpoint:%q S3Region:%q ServerSideEncryption:%q SSEKMSKeyID:%t CacheControl:%q HTTPClient:%t CABundle:%d bytes MaxIdleConnsPerHost:%d Credentials:%t}",
		o.S3PathStyle, o.S3Endpoint, o.S3Region, o.ServerSideEncryption, o.SSEKMSKeyID != "", o.CacheControl,
		o.HTTPClient != nil, len(o.CABundle), cmp.Or(o.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost), o.Credentials != nil)
}

// GoString keeps %#v from printing credentials.
func (o Options) GoString() string { return o.String() }

// Open opens the store named by rawURL: "s3://bucket/optional/prefix",
// "file:///abs/dir" or a bare directory path (relative paths are made
// absolute). A local directory is created if missing. It returns a
// *URLError, which never repeats the URL, for a malformed URL, an unknown
// scheme, credentials in the URL, a bad bucket name or prefix, and an error
// if the SDK configuration cannot be loaded or the directory not created.
// It does not contact S3; use Ping for that.
func Open(ctx context.Context, rawURL string, opts Options) (Store, error) {
	loc, err := parseStoreURL(rawURL)
	if err != nil {
		return nil, err
	}
	// Explicit nil checks: returning a nil *LocalStore as a Store would
	// give a non-nil interface.
	if loc.dir != "" {
		st, err := OpenLocal(loc.dir)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := OpenS3(ctx, loc.bucket, loc.prefix, opts)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// OpenFromEnv opens the store named by WXACODE_STORAGE_URL (default
// DefaultLocalDir); WXACODE_S3_PATH_STYLE=true also sets opts.S3PathStyle.
// It fails like Open, or if WXACODE_S3_PATH_STYLE is not a boolean.
func OpenFromEnv(ctx context.Context, opts Options) (Store, error) {
	if v := os.Getenv(EnvS3PathStyle); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("storage: %s=%q is not a boolean", EnvS3PathStyle, v)
		}
		opts.S3PathStyle = opts.S3PathStyle || b
	}
	return Open(ctx, cmp.Or(os.Getenv(EnvStorageURL), DefaultLocalDir), opts)
}

// location is a parsed storage URL: either dir or bucket (+prefix) is set.
type location struct {
	dir            string
	bucket, prefix string
}

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

func parseStoreURL(raw string) (location, error) {
	fail := func(reason string) (location, error) { return location{}, &URLError{Reason: reason} }
	if strings.TrimSpace(raw) == "" {
		return fail("empty (want s3://bucket/prefix, file:///abs/dir or a directory path)")
	}
	scheme := strings.ToLower(strings.TrimSuffix(schemeRE.FindString(raw), ":"))
	if scheme == "" || filepath.VolumeName(raw) != "" {
		abs, err := filepath.Abs(raw)
		if err != nil {
			return fail("cannot make the directory path absolute")
		}
		return location{dir: abs}, nil
	}
	if scheme != "s3" && scheme != "file" {
		return fail(fmt.Sprintf("scheme %q is not supported (want s3:// or file://)", scheme))
	}
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(raw[len(scheme)+1:], "//") {
		// url.Parse errors quote the input, which may hold a secret.
		return fail(fmt.Sprintf("not a well-formed %s:// URL", scheme))
	}
	switch {
	case u.User != nil:
		return fail("credentials in the URL are not accepted; use the AWS credential chain (AWS_ACCESS_KEY_ID, profiles...)")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?"):
		return fail("query strings and fragments are not supported")
	case scheme == "file":
		return parseFileURL(u)
	}
	return checkBucket(u.Host, u.Path)
}

func parseFileURL(u *url.URL) (location, error) {
	if u.Host != "" && u.Host != "localhost" {
		return location{}, &URLError{Reason: fmt.Sprintf("file URL host %q is not supported (want file:///abs/dir)", u.Host)}
	}
	if u.Path == "" || !filepath.IsAbs(filepath.FromSlash(u.Path)) {
		return location{}, &URLError{Reason: "file URL needs an absolute path (file:///abs/dir)"}
	}
	return location{dir: filepath.Clean(filepath.FromSlash(u.Path))}, nil
}

// bucketRE is the S3 rule for new buckets: 3-63 of [a-z0-9.-], starting
// and ending with a letter or digit.
var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// checkBucket validates a bucket name and key prefix and normalises the
// prefix to "" or "a/b/".
func checkBucket(bucket, prefix string) (location, error) {
	if !bucketRE.MatchString(bucket) || strings.Contains(bucket, "..") {
		return location{}, &URLError{Reason: fmt.Sprintf("bucket name %q is not valid (3-63 of a-z 0-9 . -, e.g. s3://my-codes/prefix)", bucket)}
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if reason := keyProblem(prefix); reason != "" {
			return location{}, &URLError{Reason: fmt.Sprintf("prefix %q: %s", prefix, reason)}
		}
		prefix += "/"
	}
	return location{bucket: bucket, prefix: prefix}, nil
}
