package wechattest

import (
	"context"
	"math"
	"net"
	"net/http"
	"time"
)

type fault int

const (
	noFault fault = iota
	faultSystemError
	faultBadGateway
	faultTruncate
	faultReset
	faultTrailing
)

var faultNames = map[fault]string{faultSystemError: "system_error", faultBadGateway: "bad_gateway",
	faultTruncate: "truncate", faultReset: "reset", faultTrailing: "trailing"}

// pickFault draws at most one fault for a code call. s.mu must be held.
func (s *Server) pickFault() fault {
	x := s.rng.Float64()
	for _, f := range []struct {
		p float64
		f fault
	}{{s.opts.PReset, faultReset}, {s.opts.PBadGateway, faultBadGateway},
		{s.opts.PSystemError, faultSystemError}, {s.opts.PTruncate, faultTruncate}, {s.opts.PTrailing, faultTrailing}} {
		if x < f.p {
			return f.f
		}
		x -= f.p
	}
	return noFault
}

// z99 is the 99th percentile of the standard normal distribution.
const z99 = 2.3263478740408408

// pickLatency draws a log-normal delay with the configured median and p99.
// s.mu must be held.
func (s *Server) pickLatency() time.Duration {
	med, p99 := s.opts.LatencyMedian, s.opts.LatencyP99
	if med <= 0 {
		return 0
	}
	if p99 <= med {
		return med
	}
	sigma := math.Log(float64(p99)/float64(med)) / z99
	return time.Duration(float64(med) * math.Exp(sigma*s.rng.NormFloat64()))
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (s *Server) countFault(f fault) {
	s.mu.Lock()
	s.stats.Faults[faultNames[f]]++
	s.mu.Unlock()
}

const badGatewayHTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
	"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

func writeBadGateway(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write([]byte(badGatewayHTML))
}

// resetConn closes the connection without a response, with SO_LINGER 0 so
// the client sees a TCP reset.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
