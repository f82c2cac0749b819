package httpserver

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// refusal is written to a connection over a cap before it is closed: a
// well-behaved client sees why and when to come back; any other gets a
// closed socket at once either way.
const refusal = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"

// limitListener admits a connection only while the total and its client's
// counts are under their caps (a negative cap is no cap).
type limitListener struct {
	net.Listener
	max, perClient int

	mu       sync.Mutex
	open     int
	byClient map[netip.Prefix]int

	refused atomic.Int64
}

func newLimitListener(l net.Listener, c Config) *limitListener {
	per := c.MaxConnsPerClient
	if c.TrustProxy {
		per = -1
	}
	return &limitListener{Listener: l, max: c.MaxConns, perClient: per, byClient: map[netip.Prefix]int{}}
}

// Accept returns the next admitted connection; connections over a cap are
// refused inside it and never reach the server.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientKey(c.RemoteAddr())
		if l.admit(key) {
			return &trackedConn{Conn: c, l: l, key: key}, nil
		}
		l.refused.Add(1)
		refuse(c)
	}
}

func (l *limitListener) admit(key netip.Prefix) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max >= 0 && l.open >= l.max {
		return false
	}
	if l.perClient >= 0 && l.byClient[key] >= l.perClient {
		return false
	}
	l.open++
	l.byClient[key]++
	return true
}

func (l *limitListener) release(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if n := l.byClient[key] - 1; n > 0 {
		l.byClient[key] = n
	} else {
		delete(l.byClient, key)
	}
}

func (l *limitListener) stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Stats{Open: l.open, Clients: len(l.byClient), Refused: l.refused.Load()}
}

// refuse answers 503 without reading the request (a fresh socket's send
// buffer is empty, so the write does not block) and closes.
func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = c.Write([]byte(refusal))
	_ = c.Close()
}

// trackedConn gives its slot back when closed, once.
type trackedConn struct {
	net.Conn
	l    *limitListener
	key  netip.Prefix
	once sync.Once
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}

// clientKey is the peer's address, per /64 for IPv6 (one subscriber
// usually holds a whole /64). An unreadable address is the zero prefix:
// such connections share one count.
func clientKey(a net.Addr) netip.Prefix {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Prefix{}
	}
	addr := ap.Addr().Unmap()
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p
}
