package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/storage/storagetest"
)

// writeCert writes a self-signed certificate for 127.0.0.1 (its own CA)
// and its key.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	cert, key := storagetest.SelfSignedCert(t)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, cert, 0o644))
	require.NoError(t, os.WriteFile(keyFile, key, 0o600))
	return certFile, keyFile
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Redis over TLS with a CA file (and a client certificate), and a Redis
// ACL user with a password: commands connect, and refuse without the CA or
// with a wrong password, never echoing the password.
func TestRedisTLSAndACL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	tlsPort := freeLoopbackPort(t)
	const pw = "acl-pass-0123456789"
	rs := redistest.Start(t, "--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", cert, "--tls-auth-clients", "optional", "--user", "wxacode", "on", ">"+pw, "~*", "&*", "+@all")
	tlsURL := "rediss://wxacode:" + pw + "@127.0.0.1:" + strconv.Itoa(tlsPort) + "/0"
	for _, k := range []string{"WXACODE_REDIS_CA_FILE", "WXACODE_REDIS_CERT_FILE", "WXACODE_REDIS_KEY_FILE"} {
		t.Setenv(k, "")
	}
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"status", "--redis-url", tlsURL, "--redis-ca-file", cert}, &out, &out), out.String())
	require.Contains(t, out.String(), "APP")
	require.NoError(t, run(ctx, []string{"status", "--redis-url", tlsURL, "--redis-ca-file", cert,
		"--redis-cert-file", cert, "--redis-key-file", key}, &out, &out), out.String())

	err := run(ctx, []string{"status", "--redis-url", tlsURL}, &out, &out)
	require.ErrorContains(t, err, "certificate", "without the CA the server is not trusted")
	require.NotContains(t, err.Error(), pw)
	require.ErrorContains(t, run(ctx, []string{"status", "--redis-url", "redis://" + rs.Addr, "--redis-ca-file", cert}, &out, &out), "rediss://")
	require.NoError(t, os.Chmod(key, 0o644))
	require.ErrorContains(t, run(ctx, []string{"status", "--redis-url", tlsURL, "--redis-ca-file", cert,
		"--redis-cert-file", cert, "--redis-key-file", key}, &out, &out), "readable by others")

	aclURL := "redis://wxacode:" + pw + "@" + rs.Addr + "/0"
	require.NoError(t, run(ctx, []string{"status", "--redis-url", aclURL}, &out, &out))
	err = run(ctx, []string{"status", "--redis-url", "redis://wxacode:wrong-pass-42@" + rs.Addr + "/0"}, &out, &out)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "wrong-pass-42")
}

// A Sentinel URL carries its master password as a query parameter: no
// error or usage text may show it.
func TestSentinelPasswordRedacted(t *testing.T) {
	const pw = "TOPSECRETPW-sentinel"
	port := freeLoopbackPort(t) // nothing listens there
	raw := "redis://127.0.0.1:" + strconv.Itoa(port) + "/0?master_name=m&password=" + pw + "&sentinel_password=" + pw + "2"
	var out bytes.Buffer
	err := run(context.Background(), []string{"status", "--redis-url", raw}, &out, &out)
	require.Error(t, err)
	require.NotContains(t, err.Error(), pw)
	require.NotContains(t, out.String(), pw)
	require.NotContains(t, redactURL(raw), pw)
	t.Setenv("WXACODE_REDIS_URL", raw)
	out.Reset()
	_ = run(context.Background(), []string{"status", "--help"}, &out, &out)
	require.NotContains(t, out.String(), pw)
}
