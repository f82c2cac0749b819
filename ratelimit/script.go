package ratelimit

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed limiter.lua
var scriptSource string

var script = redis.NewScript(scriptSource)

// Script returns the Lua source of the limiter script, for documentation and
// for non-Go programs that share the budget (see the package documentation).
func Script() string { return scriptSource }

// Script operations (ARGV[1]).
const (
	opAcquire = "acquire"
	opCancel  = "cancel"
	opReport  = "report"
	opState   = "state"
)

// reply is the answer of "acquire" (times in Redis microseconds).
type reply struct {
	granted  bool
	wait     time.Duration // granted: until the slot; denied: retry after
	now      int64
	cool     int64
	eff      float64
	cap      int
	reason   int // 0 granted, 1 no slot within the horizon, 2 cooldown
	slot     int64
	tatAfter int64 // 0 when the slot was a reused hole
	interval int64
}

// run evaluates the script once (EVALSHA, EVAL on NOSCRIPT). It does not
// use ctx's cancellation: an answer that was already decided in Redis is
// always read, so a grant is never lost in flight. CallTimeout is the
// deadline of the call.
func (l *Limiter) run(ctx context.Context, app, op string, horizon time.Duration, extra ...any) ([]any, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.CallTimeout)
	defer cancel()
	args := append([]any{op, l.cfg.DefaultPerMinute, l.cfg.Burst, horizon.Microseconds(),
		l.cfg.DecreaseFactor, l.cfg.RecoveryTime.Microseconds(), l.cfg.MinPerMinute, l.scriptNow()}, extra...)
	v, err := script.Run(cctx, l.rdb, Keys(l.cfg.KeyPrefix, app), args...).Slice()
	if err != nil {
		return nil, redisErr(op, app, err)
	}
	return v, nil
}

// scriptNow is 0 (use Redis TIME) unless a test clock is set.
func (l *Limiter) scriptNow() int64 {
	if l.cfg.Clock == nil {
		return 0
	}
	return l.cfg.Clock().UnixMicro()
}

// acquire asks for one slot no later than horizon from now (0: now or never).
// If ctx ends before Redis answers (go-redis does not stop a socket read for
// a context unless ContextTimeoutEnabled), it returns ctx.Err() at once and
// a slot granted meanwhile is given back in the background.
func (l *Limiter) acquire(ctx context.Context, app string, horizon time.Duration) (reply, error) {
	if ctx.Done() == nil {
		return l.acquireNow(ctx, app, horizon)
	}
	type answer struct {
		r   reply
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		r, err := l.acquireNow(ctx, app, horizon)
		ch <- answer{r, err}
	}()
	select {
	case a := <-ch:
		return a.r, a.err
	case <-ctx.Done():
		go func() {
			if a := <-ch; a.err == nil && a.r.granted {
				l.giveBack(ctx, app, a.r)
			}
		}()
		return reply{}, ctx.Err()
	}
}

func (l *Limiter) acquireNow(ctx context.Context, app string, horizon time.Duration) (reply, error) {
	v, err := l.run(ctx, app, opAcquire, horizon)
	if err != nil {
		return reply{}, err
	}
	r, err := parseReply(v)
	if err != nil {
		return reply{}, redisErr(opAcquire, app, err)
	}
	return r, nil
}

func parseReply(v []any) (reply, error) {
	p := parser{v: v}
	r := reply{
		granted: p.int(0) == 1, wait: time.Duration(p.int(1)) * time.Microsecond,
		now: p.int(2), cool: p.int(3), eff: p.float(4), cap: int(p.int(5)),
		reason: int(p.int(6)), slot: p.int(7), tatAfter: p.int(8), interval: p.int(9),
	}
	return r, p.err
}

// parser reads integers and numeric strings from a script reply.
type parser struct {
	v   []any
	err error
}

func (p *parser) float(i int) float64 {
	if i >= len(p.v) {
		p.fail(i, nil)
		return 0
	}
	switch x := p.v[i].(type) {
	case int64:
		return float64(x)
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			p.fail(i, x)
		}
		return f
	}
	p.fail(i, p.v[i])
	return 0
}

func (p *parser) int(i int) int64 {
	if i < len(p.v) {
		switch x := p.v[i].(type) {
		case int64:
			return x
		case string:
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				return n
			}
		}
	}
	return int64(p.float(i))
}

func (p *parser) str(i int) string {
	if i < len(p.v) {
		if s, ok := p.v[i].(string); ok {
			return s
		}
	}
	return ""
}

func (p *parser) fail(i int, v any) {
	if p.err == nil {
		p.err = fmt.Errorf("ratelimit: unexpected script reply field %d: %v", i, v)
	}
}

func micros(us int64) time.Time { return time.UnixMicro(us) }
