package scenes

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// clients holds one token bucket per client address, at most max of them.
// When full, the least recently seen client is dropped: it is the most idle
// one, and its bucket has most likely refilled anyway, so dropping it costs
// at most one extra burst if it comes back. A flood of distinct addresses
// therefore costs bounded memory.
type clients struct {
	mu    sync.Mutex
	max   int
	limit rate.Limit
	burst int
	byKey map[netip.Prefix]*list.Element
	lru   list.List // of *clientEntry, most recently seen at the front
}

type clientEntry struct {
	key netip.Prefix
	lim *rate.Limiter
}

func newClients(max int, limit rate.Limit, burst int) *clients {
	return &clients{max: max, limit: limit, burst: burst, byKey: make(map[netip.Prefix]*list.Element)}
}

// limiter returns the bucket of key, creating it (and evicting the least
// recently seen client when full).
func (c *clients) limiter(key netip.Prefix) *rate.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*clientEntry).lim
	}
	for c.lru.Len() >= c.max {
		oldest := c.lru.Back()
		delete(c.byKey, oldest.Value.(*clientEntry).key)
		c.lru.Remove(oldest)
	}
	ce := &clientEntry{key: key, lim: rate.NewLimiter(c.limit, c.burst)}
	c.byKey[key] = c.lru.PushFront(ce)
	return ce.lim
}

func (c *clients) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// clientKey is the address a request is limited by: the peer address, or
// with trustProxy the last X-Forwarded-For entry. IPv6 addresses count per
// /64, since one subscriber usually holds a whole /64. ok is false when no
// address can be read (the request then shares one bucket with all such
// requests).
func clientKey(r *http.Request, trustProxy bool) (key netip.Prefix, ok bool) {
	addr, ok := netip.Addr{}, false
	if trustProxy {
		addr, ok = lastForwarded(r.Header.Values("X-Forwarded-For"))
	}
	if !ok {
		addr, ok = peerAddr(r.RemoteAddr)
	}
	if !ok {
		return netip.Prefix{}, false
	}
	addr = addr.Unmap()
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p, true
}

// lastForwarded returns the last entry of X-Forwarded-For: the address the
// trusted proxy itself saw. Earlier entries come from the client and can be
// anything.
func lastForwarded(values []string) (netip.Addr, bool) {
	if len(values) == 0 {
		return netip.Addr{}, false
	}
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	a, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(last), "[]"))
	return a, err == nil
}

func peerAddr(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	return a, err == nil
}
