package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace is how long Serve lets requests in flight finish once its
// context ends.
const ShutdownGrace = 10 * time.Second

// Stats is a moment's view of a server's connections.
type Stats struct {
	Open    int   // connections open now
	Clients int   // distinct client addresses among them
	Refused int64 // connections refused over a cap since start
}

// Server is an HTTP server started by Listen.
type Server struct {
	srv  *http.Server
	ln   *limitListener
	errc chan error
}

// Listen listens on addr and serves h under c in the background. A listen
// error or an invalid c is returned; Wait returns a later serve error.
// log receives the server's own errors (accept failures, bad TLS) at Warn.
func Listen(addr string, h http.Handler, c Config, log *slog.Logger) (*Server, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return serve(ln, h, c, log), nil
}

// ServeListener is Listen on a listener the caller opened.
func ServeListener(ln net.Listener, h http.Handler, c Config, log *slog.Logger) (*Server, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return serve(ln, h, c, log), nil
}

func serve(ln net.Listener, h http.Handler, c Config, log *slog.Logger) *Server {
	c = c.withDefaults()
	s := &Server{srv: c.server(h), ln: newLimitListener(ln, c), errc: make(chan error, 1)}
	if log != nil {
		s.srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	go func() { s.errc <- s.srv.Serve(s.ln) }()
	return s
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stats reports the server's connections now.
func (s *Server) Stats() Stats { return s.ln.stats() }

// Run serves until ctx ends, then shuts down, letting requests in flight
// finish within ShutdownGrace. It returns a serve error (nil after a
// clean shutdown).
func (s *Server) Run(ctx context.Context) error {
	select {
	case err := <-s.errc:
		return err
	case <-ctx.Done():
	}
	return s.Shutdown()
}

// Shutdown stops accepting, waits up to ShutdownGrace for requests in
// flight, then closes what is left. It returns the error of a shutdown
// that did not finish in time.
func (s *Server) Shutdown() error {
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if err != nil {
		s.srv.Close()
		err = fmt.Errorf("httpserver: shutdown: %w", err)
	}
	if serr := <-s.errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	s.errc <- http.ErrServerClosed // a second Shutdown or Run returns at once
	return err
}

// Close closes the listener and every connection at once, for test rigs
// and demos that end with their clients.
func (s *Server) Close() error { return s.srv.Close() }

// Unlimited is a Config for servers whose only clients are the binary's
// own (the fake WeChat in rigs and the demo): timeouts as usual, no
// connection caps, since a worker holds many connections from one address.
var Unlimited = Config{MaxConns: -1, MaxConnsPerClient: -1}
