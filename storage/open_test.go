package storage_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/storage/storagetest"
)

func TestOpenURLs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for raw, wantURL := range map[string]string{
		"s3://codes":               "s3://codes/k.jpg",
		"s3://codes/":              "s3://codes/k.jpg",
		"s3://codes/a/b":           "s3://codes/a/b/k.jpg",
		"s3://my.codes-2/a/b/":     "s3://my.codes-2/a/b/k.jpg",
		"file://" + dir + "/f":     "file://" + dir + "/f/k.jpg",
		"file://localhost" + dir:   "file://" + dir + "/k.jpg",
		dir + "/bare":              "file://" + dir + "/bare/k.jpg",
		"FILE://" + dir + "/upper": "file://" + dir + "/upper/k.jpg",
	} {
		st, err := storage.Open(ctx(t), raw, storage.Options{S3Region: "us-east-1"})
		require.NoError(t, err, raw)
		require.Equal(t, wantURL, st.URL("k.jpg"), raw)
	}
	require.DirExists(t, filepath.Join(dir, "bare"), "a local store creates its directory")
}

// TestOpenRelativePath changes the working directory, so it is not parallel.
func TestOpenRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	st, err := storage.Open(ctx(t), "rel/../codes", storage.Options{})
	require.NoError(t, err)
	require.Equal(t, "file://"+dir+"/codes/k.jpg", st.URL("k.jpg"))
	require.DirExists(t, filepath.Join(dir, "codes"))
}

func TestOpenRejectsWithoutEchoingSecrets(t *testing.T) {
	t.Parallel()
	const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRET"
	for raw, reason := range map[string]string{
		"": "empty",
		"s3://AKIAEXAMPLE:" + secret + "@codes/p": "credentials",
		"s3://:" + secret + "@codes":              "credentials",
		"s3://codes/p?secret=" + secret:           "query",
		"s3://codes/p#" + secret:                  "fragment",
		"s3://Codes":                              "bucket name",
		"s3://co":                                 "bucket name",
		"s3://codes:9000/p":                       "bucket name",
		"s3://codes/a/../b":                       "prefix",
		"s3://codes/a//b":                         "prefix",
		"s3://codes/.hidden":                      "prefix",
		"s3:codes":                                "well-formed",
		"s3://codes/%zz" + secret:                 "well-formed",
		"gs://codes":                              "not supported",
		"http://" + secret + "@example.com":       "not supported",
		"file://host/dir":                         "host",
		"file:relative":                           "well-formed",
	} {
		_, err := storage.Open(ctx(t), raw, storage.Options{})
		var ue *storage.URLError
		require.ErrorAs(t, err, &ue, "%q", raw)
		require.Contains(t, err.Error(), reason, raw)
		require.NotContains(t, err.Error(), secret, raw)
		require.NotContains(t, err.Error(), "AKIAEXAMPLE", raw)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, opts := range []storage.Options{
		{S3Endpoint: "minio:9000"},
		{S3Endpoint: "ftp://minio"},
		{S3Endpoint: "https://user:pass@minio"},
		{ServerSideEncryption: "rot13"},
		{SSEKMSKeyID: "key-without-kms"},
		{ServerSideEncryption: "AES256", SSEKMSKeyID: "k"},
	} {
		_, err := storage.Open(ctx(t), "s3://codes", opts)
		require.Error(t, err, "%+v", opts)
		require.NotContains(t, err.Error(), "pass", "%+v", opts)
	}
	_, err := storage.Open(ctx(t), "s3://codes", storage.Options{ServerSideEncryption: "aws:kms", SSEKMSKeyID: "k"})
	require.NoError(t, err)
}

func TestOptionsNeverPrintCredentials(t *testing.T) {
	t.Parallel()
	opts := storage.Options{
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "wJalrSECRET", "TOKEN"),
		SSEKMSKeyID: "arn:aws:kms:secret-key-id",
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, opts)
		for _, secret := range []string{"AKIAEXAMPLE", "wJalrSECRET", "TOKEN", "secret-key-id"} {
			require.NotContains(t, out, secret, verb)
		}
	}
	require.True(t, strings.Contains(opts.String(), "Credentials:true"))
}

// TestOpenFromEnv changes the environment, so it is not parallel.
func TestOpenFromEnv(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	t.Chdir(t.TempDir())
	st, err := storage.OpenFromEnv(ctx(t), storage.Options{})
	require.NoError(t, err)
	require.Contains(t, st.URL("k"), "/"+storage.DefaultLocalDir+"/k")
	require.NotContains(t, st.URL("k"), wd)

	dir := t.TempDir()
	t.Setenv(storage.EnvStorageURL, "file://"+dir)
	st, err = storage.OpenFromEnv(ctx(t), storage.Options{})
	require.NoError(t, err)
	require.Equal(t, "file://"+dir+"/k", st.URL("k"))

	// The env switches on path style (which a real MinIO behind a host
	// name needs; the SDK picks path style for IP endpoints by itself).
	srv := storagetest.StartGoFakeS3(t, false)
	srv.CreateBucket(t, "codes")
	opts := srv.Options()
	opts.S3PathStyle = false
	t.Setenv(storage.EnvStorageURL, "s3://codes/env")
	st, err = storage.OpenFromEnv(ctx(t), opts)
	require.NoError(t, err)
	require.False(t, st.(*storage.S3Store).Client().Options().UsePathStyle)
	t.Setenv(storage.EnvS3PathStyle, "true")
	st, err = storage.OpenFromEnv(ctx(t), opts)
	require.NoError(t, err)
	require.True(t, st.(*storage.S3Store).Client().Options().UsePathStyle)
	require.NoError(t, st.Put(ctx(t), "k.jpg", []byte("x"), storage.PutOptions{}))
	require.Equal(t, "s3://codes/env/k.jpg", st.URL("k.jpg"))

	t.Setenv(storage.EnvS3PathStyle, "yes please")
	_, err = storage.OpenFromEnv(ctx(t), opts)
	require.ErrorContains(t, err, storage.EnvS3PathStyle)
}

// TestAWSEnvironmentIsHonoured checks that endpoint, region and
// credentials come from the standard AWS variables when Options are empty.
func TestAWSEnvironmentIsHonoured(t *testing.T) {
	srv := storagetest.StartGoFakeS3(t, true)
	srv.CreateBucket(t, "codes")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, srv.CAPEM, 0o600))
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
	t.Setenv("AWS_CA_BUNDLE", caFile)
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv(storage.EnvStorageURL, "s3://codes/fromenv")
	t.Setenv(storage.EnvS3PathStyle, "true")
	st, err := storage.OpenFromEnv(ctx(t), storage.Options{})
	require.NoError(t, err)
	img := testImage(t)
	require.NoError(t, st.Put(ctx(t), "a.jpg", img, storage.PutOptions{}))
	data, _, err := st.Get(ctx(t), "a.jpg")
	require.NoError(t, err)
	require.Equal(t, img, data)
	require.Equal(t, "eu-west-3", st.(*storage.S3Store).Client().Options().Region)
}
