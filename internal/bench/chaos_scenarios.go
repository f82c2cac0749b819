package bench

import (
	"context"
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/wxacode/wxacode/wechat/wechattest"
)

// chaosScenario is one fault and the campaign it is injected into.
type chaosScenario struct {
	name  string
	about string // what is done, for the usage text and RELIABILITY.md
	// fake are the fake WeChat's options from the start (rate limit 5000
	// per sliding minute unless set).
	fake wechattest.Options
	aof  bool // Redis keeps an append-only file (everysec)
	// scale multiplies the suite's scene count; 0 means 1.
	scale int
	// extra is added to the run's deadline of one second per 20 scenes
	// (a quarter of the cap's pace): the time the fault may cost.
	extra time.Duration
	// inject runs beside the campaign from its start. It returns when its
	// faults are over; cancelled (the run is done or late), it must undo
	// any fault still in force before returning.
	inject func(ctx context.Context, r *chaosRig) error
}

func (s chaosScenario) scenes(n int) int { return n * max(1, s.scale) }

func (s chaosScenario) deadline(cfg chaosConfig, scenes int) time.Duration {
	d := time.Duration(scenes)*time.Second/20 + s.extra
	if s.name == "storage-down" {
		d += cfg.StorageDown // the outage itself
	}
	return d
}

// chaosScenarios are the scenarios in the order `all` runs them.
func chaosScenarios() []chaosScenario {
	return []chaosScenario{
		{name: "kill9", about: "SIGKILL a random worker every 4 s, 6 times from 10% done, restarting it at once",
			extra: 4 * time.Minute, inject: injectKill9},
		{name: "redis-restart", about: "kill redis-server (AOF everysec) and restart it at 30% and at 60% done",
			aof: true, extra: 3 * time.Minute, inject: injectRedisRestart},
		{name: "redis-pause", about: "SIGSTOP redis-server for 20 s at 30% done",
			extra: 3 * time.Minute, inject: injectRedisPause},
		{name: "storage-down", about: "S3 refuses connections (open ones reset) for 60 s (--storage-down) from 20% done",
			extra: 4 * time.Minute, inject: injectStorageDown},
		{name: "token-revoked", about: "WeChat revokes the app's tokens at 30% and at 60% done",
			extra: time.Minute, inject: injectTokenRevoked},
		{name: "rate-lowered", about: "WeChat allows 3000/min (sliding) while the fleet's cap is 4800/min; twice the scenes",
			fake: wechattest.Options{RateLimit: 3000}, scale: 2, extra: 4 * time.Minute, inject: injectNothing},
		{name: "storm", about: "45009 storm: WeChat refuses every call for 10 s at 25% done (limit 1/min), then the next 30 calls however long that takes at 60% done",
			extra: 8 * time.Minute, inject: injectStorm},
		{name: "latency", about: "WeChat answers with log-normal latency, median 200 ms, p99 5 s",
			fake:  wechattest.Options{LatencyMedian: 200 * time.Millisecond, LatencyP99: 5 * time.Second},
			extra: 2 * time.Minute, inject: injectNothing},
		{name: "faults", about: "WeChat resets 3%, answers 502 to 3%, errcode -1 to 2%, truncates 2% of calls",
			fake:  wechattest.Options{PReset: 0.03, PBadGateway: 0.03, PSystemError: 0.02, PTruncate: 0.02},
			extra: 3 * time.Minute, inject: injectNothing},
		{name: "sigterm", about: "SIGTERM to every worker at 30% done; once all have exited, start them again",
			extra: 3 * time.Minute, inject: injectSigterm},
	}
}

func injectNothing(context.Context, *chaosRig) error { return nil }

func injectKill9(ctx context.Context, r *chaosRig) error {
	if err := r.waitFinished(ctx, 0.1); err != nil {
		return err
	}
	for i := range 6 {
		if err := sleepCtx(ctx, 4*time.Second); err != nil {
			return err
		}
		if err := r.workers.restart(rand.IntN(r.cfg.Workers), syscall.SIGKILL); err != nil {
			return err
		}
		r.setNote("kills", "%d SIGKILLs", i+1)
	}
	return nil
}

func injectRedisRestart(ctx context.Context, r *chaosRig) error {
	for i, at := range []float64{0.3, 0.6} {
		if err := r.waitFinished(ctx, at); err != nil {
			return err
		}
		if err := r.redis.Restart(); err != nil {
			return err
		}
		r.setNote("restarts", "%d Redis restarts", i+1)
	}
	return nil
}

func injectRedisPause(ctx context.Context, r *chaosRig) error {
	if err := r.waitFinished(ctx, 0.3); err != nil {
		return err
	}
	if err := r.redis.Pause(); err != nil {
		return err
	}
	err := sleepCtx(ctx, 20*time.Second)
	if rerr := r.redis.Resume(); rerr != nil {
		return rerr
	}
	r.setNote("pause", "paused 20 s")
	return err
}

func injectStorageDown(ctx context.Context, r *chaosRig) error {
	if err := r.waitFinished(ctx, 0.2); err != nil {
		return err
	}
	r.proxy.Down()
	err := sleepCtx(ctx, r.cfg.StorageDown)
	if uerr := r.proxy.Up(); uerr != nil {
		return uerr
	}
	r.setNote("down", "S3 down %s", r.cfg.StorageDown)
	return err
}

func injectTokenRevoked(ctx context.Context, r *chaosRig) error {
	for i, at := range []float64{0.3, 0.6} {
		if err := r.waitFinished(ctx, at); err != nil {
			return err
		}
		r.fake.RevokeTokens(chaosApp)
		r.setNote("revoked", "%d revocations", i+1)
	}
	return nil
}

func injectStorm(ctx context.Context, r *chaosRig) error {
	if err := r.waitFinished(ctx, 0.25); err != nil {
		return err
	}
	r.fake.Update(func(o *wechattest.Options) { o.RateLimit = 1 })
	err := sleepCtx(ctx, 10*time.Second)
	r.fake.Update(func(o *wechattest.Options) { o.RateLimit = 5000 })
	if err != nil {
		return err
	}
	if err := r.waitFinished(ctx, 0.6); err != nil {
		return err
	}
	// The fake refuses the next 30 calls however much time passes, which
	// WeChat does not do (its limit is a window): every cooldown lets only
	// the first few calls through to be refused, so this costs about a
	// minute per 5 calls. The limiter must lower its rate once, not on each
	// of these cooldowns (RELIABILITY.md, finding 2).
	r.fake.BurstRateLimit(chaosApp, 30)
	return nil
}

func injectSigterm(ctx context.Context, r *chaosRig) error {
	if err := r.waitFinished(ctx, 0.3); err != nil {
		return err
	}
	start := time.Now()
	r.workers.signalAll(syscall.SIGTERM)
	r.setNote("stopped", "all stopped in %s", time.Since(start).Round(100*time.Millisecond))
	return r.workers.startAll(r.cfg.Workers)
}
