// Package httpserver is the one place where the binary's HTTP servers get
// their timeouts, header cap and connection limits: the public scene
// resolver, the dashboard, the metrics and health listeners and the fake
// WeChat all start through Serve, so none of them keeps an idle or slow
// client forever or runs out of file descriptors because one client opened
// thousands of sockets.
package httpserver

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Config tunes a server. The zero value is ready to use; each field's
// default is in its comment and in DefaultConfig.
type Config struct {
	// ReadHeaderTimeout bounds reading a request's headers: a client that
	// sends them a byte at a time is cut off. Zero: 5s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included. Zero: 15s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response, from the end of the request's
	// headers. Zero: 30s.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends no next request
	// within it. Zero: 30s.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps a request's header size; larger headers get 431.
	// Zero: 16 KiB.
	MaxHeaderBytes int
	// MaxConns caps the connections open at once; a connection beyond it is
	// answered 503 and closed at once. Zero: the smaller of 4096 and the
	// process's descriptor limit less 256 (kept for Redis, files and logs).
	// Negative: no cap.
	MaxConns int
	// MaxConnsPerClient caps the connections one client address (IPv6: one
	// /64) holds at once; beyond it a connection is answered 503 and closed
	// at once. Zero: 64. Negative: no cap. It is not applied when
	// TrustProxy is set: then every connection comes from the proxy.
	MaxConnsPerClient int
	// TrustProxy says the server is reachable only through one reverse
	// proxy, so a peer address is the proxy's, not a client's; per-client
	// limits then belong to the handler (which reads X-Forwarded-For).
	TrustProxy bool
}

// Defaults of Config.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 15 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 30 * time.Second
	DefaultMaxHeaderBytes    = 16 << 10
	DefaultMaxConns          = 4096
	DefaultMaxConnsPerClient = 64
	// ReservedFiles is how many descriptors the default MaxConns leaves
	// for everything else the process opens.
	ReservedFiles = 256
)

// DefaultConfig is the zero Config with its defaults filled in (MaxConns
// from this process's descriptor limit).
func DefaultConfig() Config { return Config{}.withDefaults() }

func (c Config) withDefaults() Config {
	c.ReadHeaderTimeout = cmp.Or(c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	c.ReadTimeout = cmp.Or(c.ReadTimeout, DefaultReadTimeout)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, DefaultWriteTimeout)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, DefaultIdleTimeout)
	c.MaxHeaderBytes = cmp.Or(c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	c.MaxConnsPerClient = cmp.Or(c.MaxConnsPerClient, DefaultMaxConnsPerClient)
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
		if n := FileLimit(); n > 0 {
			c.MaxConns = max(1, min(c.MaxConns, n-ReservedFiles))
		}
	}
	return c
}

// ErrConfig is wrapped by Validate's errors.
var ErrConfig = errors.New("httpserver: invalid config")

// Validate reports a negative timeout or header cap, naming the field.
func (c Config) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ReadHeaderTimeout", c.ReadHeaderTimeout}, {"ReadTimeout", c.ReadTimeout}, {"WriteTimeout", c.WriteTimeout}, {"IdleTimeout", c.IdleTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("%w: %s %v is negative", ErrConfig, d.name, d.v)
		}
	}
	if c.MaxHeaderBytes < 0 {
		return fmt.Errorf("%w: MaxHeaderBytes %d is negative", ErrConfig, c.MaxHeaderBytes)
	}
	return nil
}

// server returns the http.Server of h under c (defaults filled in).
func (c Config) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    c.MaxHeaderBytes,
	}
}
