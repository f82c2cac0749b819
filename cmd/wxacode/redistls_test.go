package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/internal/system"
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
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	tlsPort := freeLoopbackPort(t)
	const pw = "acl-pass-0123456789"
	rs := redistest.Start(t, "--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", cert, "--tls-auth-clients", "optional", "--user", "wxacode", "on", ">"+pw, "~*", "&*", "+@all")
	tlsURL := "rediss://wxacode:" + pw + "@127.0.0.1:" + strconv.Itoa(tlsPort) + "/0"
	w := newWorld(t)
	out := w.ok("status", "--redis-url", tlsURL, "--redis-ca-file", cert)
	require.Contains(t, out, "APP")
	w.ok("--redis-url", tlsURL, "status", "--redis-ca-file", cert, "--redis-cert-file", cert, "--redis-key-file", key)

	r := w.run("status", "--redis-url", tlsURL)
	require.Equal(t, 1, r.code, r)
	require.Contains(t, r.stderr, "certificate", "without the CA the server is not trusted")
	require.NotContains(t, r.stderr, pw)
	r = w.run("status", "--redis-url", "redis://"+rs.Addr, "--redis-ca-file", cert)
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "rediss://")
	require.NoError(t, os.Chmod(key, 0o644))
	r = w.run("status", "--redis-url", tlsURL, "--redis-ca-file", cert, "--redis-cert-file", cert, "--redis-key-file", key)
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "readable by others")

	aclURL := "redis://wxacode:" + pw + "@" + rs.Addr + "/0"
	w.ok("status", "--redis-url", aclURL)
	r = w.run("status", "--redis-url", "redis://wxacode:wrong-pass-42@"+rs.Addr+"/0")
	require.Equal(t, 1, r.code, r)
	require.NotContains(t, r.stderr, "wrong-pass-42")
	require.NotContains(t, r.stderr, "pool.go", "go-redis logs through slog")
}

// A Sentinel URL carries its master password as a query parameter: no
// error or usage text may show it.
func TestSentinelPasswordRedacted(t *testing.T) {
	const pw = "TOPSECRETPW-sentinel"
	port := freeLoopbackPort(t) // nothing listens there
	raw := "redis://127.0.0.1:" + strconv.Itoa(port) + "/0?master_name=m&password=" + pw + "&sentinel_password=" + pw + "2"
	w := newWorld(t)
	r := w.run("status", "--redis-url", raw)
	require.Equal(t, 2, r.code, "go-redis refuses the URL: a configuration error: %s", r)
	require.NotContains(t, r.String(), pw)
	require.NotContains(t, system.RedactURL(raw), pw)
	w.set("WXACODE_REDIS_URL", raw)
	require.NotContains(t, w.ok("status", "--help"), pw)
	r = w.run("status", "--bogus")
	require.Equal(t, 2, r.code, r)
	require.NotContains(t, r.String(), pw)
}
