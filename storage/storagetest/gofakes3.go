package storagetest

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// StartGoFakeS3 serves an in-memory gofakes3 on a loopback port, over TLS
// (httptest's certificate, returned in CAPEM) when useTLS is set. It stops
// at the end of the test. gofakes3 accepts any credentials. Middleware,
// outermost first, can observe or alter requests (e.g. drop If-None-Match
// to play a server that ignores it).
func StartGoFakeS3(tb testing.TB, useTLS bool, middleware ...func(http.Handler) http.Handler) *Server {
	tb.Helper()
	h := gofakes3.New(s3mem.New()).Server()
	for _, mw := range slices.Backward(middleware) {
		h = mw(h)
	}
	srv := httptest.NewUnstartedServer(h)
	var caPEM []byte
	if useTLS {
		srv.StartTLS()
		caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	} else {
		srv.Start()
	}
	tb.Cleanup(srv.Close)
	return &Server{
		Endpoint: srv.URL, Region: "us-east-1",
		AccessKey: "AKIA" + randomHex(8), SecretKey: randomHex(20), CAPEM: caPEM,
	}
}
