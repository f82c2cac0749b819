package chaos

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy forwards TCP connections from a loopback port to one upstream
// address. Down makes the upstream unreachable through it (new connections
// are refused, open ones reset) until Up; clients keep the same address
// throughout, as they would with a storage server that goes away.
type Proxy struct {
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener // nil while down or closed
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewProxy listens on a free loopback port and forwards to target
// (host:port). It fails only if it cannot listen.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chaos: proxy listen: %w", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	return p, nil
}

// Addr is the proxy's host:port; it does not change across Down and Up.
func (p *Proxy) Addr() string { return p.addr }

// Down stops listening (connecting gets "connection refused") and resets
// every open connection, so that requests in flight fail too. It is a
// no-op if the proxy is already down.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
	}
}

// Up listens again on the same address. It fails if the proxy is closed
// or another process took the port meanwhile.
func (p *Proxy) Up() error {
	p.mu.Lock()
	closed, listening := p.closed, p.ln != nil
	p.mu.Unlock()
	switch {
	case closed:
		return errors.New("chaos: proxy closed")
	case listening:
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("chaos: proxy listen again on %s: %w", p.addr, err)
	}
	p.serve(ln)
	return nil
}

// Close takes the proxy down for good and waits for its goroutines.
func (p *Proxy) Close() {
	p.Down()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Down or Close
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.forward(c) }()
		}
	}()
}

// forward pipes one client connection to a new upstream connection until
// either side closes; then both are closed.
func (p *Proxy) forward(client net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		reset(client)
		return
	}
	if !p.track(client, up) {
		reset(client)
		up.Close()
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, client)
	go pipe(client, up)
	<-done
	client.Close()
	up.Close()
	<-done
	p.untrack(client, up)
}

// track registers both ends, unless the proxy went down meanwhile.
func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
}

// reset closes c with SO_LINGER 0, so that the peer sees a TCP reset
// rather than an orderly end of stream.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
