package storagetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"
	"time"

	"github.com/wxacode/wxacode/storage"
)

func TestSelfSignedCertVerifiesFor127001(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := SelfSignedCert(t)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("certificate does not verify for 127.0.0.1: %v", err)
	}
	if len(pair.Certificate) != 1 {
		t.Fatalf("want one certificate, got %d", len(pair.Certificate))
	}
}

func TestVersityGWStartsAndStops(t *testing.T) {
	t.Parallel()
	var addr string
	t.Run("running", func(t *testing.T) {
		srv := StartVersityGW(t)
		addr = srv.Endpoint[len("https://"):]
		srv.CreateBucket(t, "smoke")
		st, err := storage.Open(context.Background(), srv.URL("smoke", ""), srv.Options())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	// The subtest's cleanup stopped the gateway: the port no longer answers.
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("versitygw still listening on %s after cleanup", addr)
	}
}
