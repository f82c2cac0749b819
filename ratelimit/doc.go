// Package ratelimit keeps one rate budget per WeChat app (appid), shared
// through Redis by every worker process on every machine, and by any other
// program that calls the same Lua script (for example the app's own PHP
// server).
//
// # Guarantee
//
// At a cap of R calls per minute and a burst of B, no window of length W
// (closed, [t, t+W]) ever holds more than floor(W/T) + B granted calls,
// where T = ceil(60 s / R) in microseconds; for W = 60 s that is at most
// R + B. Calls are spread evenly, one every T, with no rush at minute
// boundaries. The guarantee is stated on slot times in Redis time; a caller
// starts its call when its slot comes, so what WeChat sees only adds the
// callers' scheduling and network jitter. All callers must pass the same
// burst and policy arguments (below).
//
// # Algorithm
//
// GCRA (generic cell rate algorithm) with reservations, in one Lua script
// (limiter.lua, returned by Script) evaluated with EVALSHA: one round trip
// per call, all decisions on Redis TIME, so machine clocks do not matter.
// The state is TAT, the theoretical arrival time. With tau = (B-1)*T, a
// request at time now computes allow = TAT - tau:
//
//   - allow <= now: granted at now, TAT = max(TAT, now) + T.
//   - allow - now <= horizon: a reservation; granted for slot = allow, and
//     TAT = TAT + T. The caller sleeps until the slot.
//   - otherwise refused, nothing changes; the reply says when to ask again
//     (allow - now - horizon/2: waiters come back when half the horizon is
//     free, so they find room and do not poll slot by slot).
//
// Take uses horizon 0 ("now or not at all"). Wait uses
// Config.ReserveHorizon (default 1 s) and, inside one process, lets only one
// goroutine per app poll Redis while the horizon is full; the others queue
// locally. A waiter cancelled before its slot gives the slot back with the
// "cancel" operation: if it is still the newest reservation, TAT moves back
// by T (an exact undo); otherwise the slot is stored in the holes set and the
// next reservation within the horizon gets exactly that slot time, so the
// schedule of call times never changes and the guarantee holds. Slots that
// nobody takes before their time are dropped, so at most one slot per
// cancelled waiter is lost, and only when the fleet had no other demand.
//
// With Config.LocalPacing = PacingLocal (the default), a
// golang.org/x/time/rate limiter set to the app's effective rate and burst
// (learned from each reply) sits in front of Redis in every process. One
// process can never be granted more than the whole fleet, so it only delays
// or refuses what Redis would refuse anyway: Take answers locally when this
// process alone has used the burst, and a single busy process asks Redis at
// the pace of its slots, so its reservations are for "now" and cancelling
// costs nothing.
//
// # Rate-limit errors and the adaptive rate
//
// ReportRateLimited (45009, 45011) starts a fleet-wide cooldown: every
// "acquire" is refused until the next minute boundary (Redis time) plus a
// random jitter chosen by the reporter, TAT is moved to the end of the
// cooldown and the holes are dropped. Reports that arrive while the cooldown
// runs are counted but change nothing. Calls other processes had already
// reserved (at most ReserveHorizon ahead) still happen; the reporting process
// drops its own.
//
// The effective rate E (never above the cap, never below min(cap,
// MinPerMinute)) follows CUBIC (RFC 8312), as the AWS SDKs' adaptive retry
// mode does, on the scale of WeChat's per-minute limit:
//
//   - Decrease: a report that starts a cooldown sets
//     Wmax = min(E, max(M, beta*E)), where M is the fleet's calls in the
//     last minute (the same estimate as State.CallsLastMinute), and
//     E = beta*Wmax (beta is DecreaseFactor, default 0.7). WeChat counts
//     calls per minute, so M is what it just refused: when its limit drops
//     from 5000 to 4000 under a fleet at 4800, one decrease brings E to
//     2800. One decrease never goes below beta^2 (0.49) of E, though: a
//     fleet that has just started, or has lost its counters, has sent
//     little, and a single refusal may have other causes; a limit far below
//     the rate takes a few decreases (4800 to 1000: three).
//   - No decrease right after a cooldown: a report less than 10 s after the
//     previous cooldown ended only starts a new cooldown. Such a refusal
//     comes before the fleet could have sent much (WeChat's window still
//     holds the calls from before the pause, or WeChat refuses everything
//     for a while), so it is no evidence about the rate; lowering on each
//     one would halve a storm's way down to the floor.
//   - Recovery, from the end of the cooldown that lowered it:
//     E(t) = Wmax + C*(t-K)^3 with K = RecoveryTime*cbrt(Wmax/cap) and C
//     such that E(0) = beta*Wmax. E climbs fast while far below Wmax, is
//     back at Wmax after K (4 minutes after a refusal at the cap, by
//     default), stays near it for a while, then speeds up again to the cap.
//     A fleet whose true limit is L settles just under L with a 45009 every
//     few minutes, not a saw-tooth from half of L.
//
// T is always computed from E.
//
// # Redis keys
//
// All keys of one app share the hash tag {appid}, so they live in one Redis
// Cluster slot. With the default prefix "wxacode:rl:":
//
//	wxacode:rl:{appid}:state   hash: tat (µs), wmax and eff (calls/min: the
//	                           rate refused and the rate after the decrease)
//	                           and eff_at (µs, start of recovery), cool (µs, end of the
//	                           cooldown), cnt_min/cnt_cur/cnt_prev (calls of
//	                           the current and previous fixed minute, by slot
//	                           time), rl_total, rl_last (µs), rl_code
//	wxacode:rl:{appid}:cap     string: the app's cap per minute (SetCap); absent
//	                           means the caller's default cap
//	wxacode:rl:{appid}:holes   sorted set: given-back future slots (score µs)
//	wxacode:rl:{appid}:events  sorted set: rate-limit reports of the last hour
//
// Setting the cap key by hand (SET wxacode:rl:{wx123}:cap 3000) has the same
// effect as SetCap, but skips the check against WeChatMaxPerMinute.
//
// # Script protocol (for non-Go callers)
//
//	EVALSHA <sha1 of Script()> 4 <state> <cap> <holes> <events>
//	        <op> <default cap> <burst> <horizon µs> <decrease factor>
//	        <recovery time µs, 0 = 4 min> <min per min> <now µs, 0 = Redis TIME>
//	        [op arguments]
//
// The workers' values are 4800 5 <horizon> 0.7 240000000 60 0 unless configured
// otherwise; use the same ones. Fall back to EVAL with the source on NOSCRIPT.
//
//	op "acquire" (no arguments) returns
//	  {granted 0|1, wait µs, now µs, cooldown end µs, effective rate,
//	   cap, reason, slot µs, TAT after µs, interval T µs}
//	  granted 1: call when wait has elapsed (at slot). granted 0: ask again
//	  after wait; reason 1 = no free slot within the horizon, 2 = cooldown.
//	op "cancel" <slot µs> <TAT after µs> <interval µs>: give back an unused
//	  reservation; returns 1 undone, 2 kept as a hole, 0 lost (in the past).
//	op "report" <jitter µs> <errcode>: returns
//	  {cooldown started 0|1, cooldown end µs, effective rate, now µs, total,
//	   rate lowered 0|1}
//	op "state": returns {now, cooldown end, effective rate, cap, total
//	  reports, last report µs, last errcode, reports in the last hour,
//	  calls in the last minute (estimate), TAT}
//
// Numbers may come back as strings. A PHP server takes one call with horizon
// 0 and, if refused, sleeps wait microseconds and asks again:
//
//	$r = $redis->evalSha($sha, [$state, $cap, $holes, $events,
//	        'acquire', 4800, 5, 0, 0.7, 240000000, 60, 0], 4);
//	if ($r[0] == 1) { call_wechat(); } else { usleep((int)$r[1]); }
//
// From a shell, `wxacode ratelimit take --app X` does the same through
// Limiter.Take.
//
// # Failures
//
// Every error caused by Redis wraps ErrRedisUnavailable and means that no
// call was granted: there is no unlimited fallback. A Redis call is bounded
// by Config.CallTimeout and is not cut short by the caller's context, so a
// decision taken in Redis is never lost in flight (a grant that arrives after
// cancellation is given back). If Redis loses the state (restart without
// persistence, failover with lost writes) the budget restarts with one
// burst, and a cooldown in progress is forgotten.
package ratelimit
