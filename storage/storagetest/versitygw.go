package storagetest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wxacode/wxacode/internal/syncbuf"
)

// readyTimeout bounds the wait for versitygw to answer (it needs ~50 ms).
const readyTimeout = 15 * time.Second

// StartVersityGW runs versitygw (installing it if needed, see
// FindOrInstallVersityGW) with its posix backend in a temporary directory,
// over https on a free loopback port with a new self-signed certificate and
// random root credentials. It stops the server at the end of the test. It
// fails the test (never skips) if the binary cannot be found or installed,
// or the server does not come up.
func StartVersityGW(tb testing.TB) *Server {
	tb.Helper()
	bin, err := FindOrInstallVersityGW()
	if err != nil {
		tb.Fatalf("storagetest: %v", err)
	}
	dir := tb.TempDir()
	certPEM, keyPEM := SelfSignedCert(tb)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for name, data := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			tb.Fatalf("storagetest: %v", err)
		}
	}
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		tb.Fatalf("storagetest: %v", err)
	}
	srv := &Server{Region: "us-east-1", AccessKey: "AKIA" + randomHex(8), SecretKey: randomHex(20), CAPEM: certPEM, DataDir: dataDir}
	var lastErr error
	for range 3 { // another process may take the port between probe and bind
		addr, err := freeLoopbackAddr()
		if err != nil {
			tb.Fatalf("storagetest: %v", err)
		}
		args := []string{"--port", addr, "--access", srv.AccessKey, "--secret", srv.SecretKey,
			"--region", srv.Region, "--quiet", "--cert", certFile, "--key", keyFile, "posix", dataDir}
		if lastErr = runGateway(tb, bin, args, addr, certPEM); lastErr == nil {
			srv.Endpoint = "https://" + addr
			return srv
		}
	}
	tb.Fatalf("storagetest: versitygw did not start: %v", lastErr)
	return nil
}

// runGateway starts the process and waits until it answers TLS on addr. On
// success the process is stopped at the end of the test.
func runGateway(tb testing.TB, bin string, args []string, addr string, caPEM []byte) error {
	var out syncbuf.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	if err := waitReady(addr, caPEM, exited); err != nil {
		stop()
		return fmt.Errorf("%w; output: %s", err, tail(out.String(), 2000))
	}
	tb.Cleanup(stop)
	return nil
}

func waitReady(addr string, caPEM []byte, exited <-chan error) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited: %v", err)
		default:
		}
		resp, err := client.Get("https://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return nil // any S3 answer (403 without a signature) means it is up
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no https answer on %s within %v", addr, readyTimeout)
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
