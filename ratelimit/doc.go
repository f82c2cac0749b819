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
// The state is TAT, the theoretical arrival time. With tau = (B-1)*T, T
// at the cap (constant while the adaptive rate and the window budget change
// the step TAT moves by, never below T), a request at time now computes
// allow = TAT - tau:
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
// # Rate-limit errors: pause, probe, estimate
//
// WeChat documents its limit as "per minute" without saying whether the
// window is the calendar minute or a sliding 60 s, and the figure may
// change. Waiting for the next minute boundary after every refusal is right
// for the first and wastes most of a minute for the second; a refusal
// during a brief storm (WeChat refusing everything) says nothing about the
// rate at all. So a refusal starts an episode that finds out:
//
//   - Pause: ReportRateLimited (45009, 45011) stops every "acquire" for 1 s
//     (FIRST_PAUSE), fleet-wide, drops the holes and moves TAT past the
//     pause. Reports during a pause come from calls already in flight (at
//     most ReserveHorizon ahead) and change nothing.
//   - Probe: after the pause a round of probe calls is granted, one in the
//     first round, twice as many in each next one up to 16; every other
//     caller is told to wait PROBE_WAIT (3 s, above the call's p99) for
//     their verdict. A report in that time means a probe was refused: the
//     pause doubles (1, 2, 4, 8, 16 s, then 16 s again unless a calendar
//     minute was learned: a storm's tail of refusals whatever the time is
//     then used up by rounds 16 s apart, not minutes apart) but never goes
//     past the next minute boundary plus the reporter's jitter, where a
//     calendar-minute window must accept again, nor past the moment a sliding window at its limit
//     starts to drain: when, if nobody called, the 10 s buckets would hold
//     0.98 of what they held at the first refusal (ep_drain, computed then;
//     the probe after a refused round comes then, not up to a doubled pause
//     later). That time takes the oldest bucket's calls as spread over its
//     10 s; a fleet that started late in a bucket sent them at its end, so
//     a probe refused after the drain gets one more round when the oldest
//     bucket has wholly left (at most 10 s later), then doubled pauses
//     again. The growing rounds use up in a few rounds a fault that refuses
//     the next N calls whatever the time (the chaos suite's storm), at the
//     cost of at most 31 refused probes per episode; the rounds fill at once
//     because each process keeps up to Config.PauseWaiters callers waiting
//     in place during a pause (Limiter.HoldThroughPause) instead of handing
//     their work back. So a sliding window costs about 4 s per episode
//     beyond the time it stays full, a storm its length plus at most the
//     last pause, and a calendar minute what is left of it plus a few
//     refused probes.
//   - Estimate, when a probe goes unrefused, with the window model it
//     shows (learned again in each episode, since WeChat may change either;
//     the state's "model" field shows the last one):
//     fixed: the probes were refused up to a minute boundary and the first
//     after it was accepted, so the window is the calendar minute and the
//     limit what the fleet had sent in that minute at the first refusal
//     (cnt_cur then);
//     storm: WeChat accepts with as many calls in the last 60 s as when it
//     refused (at least 0.98 of them), or it refused a probe while the last
//     60 s held less than 0.4 of what they held at the first refusal
//     (STORM_LOW; checked first): no window limit refuses a window that far
//     below what it accepted (a calendar minute's refusals keep at least
//     half of it, the minute's own calls), so the refusals were not about
//     the count (a storm, its tail of refusals whatever the time, a stray
//     refusal): the rate is left as it was. Before STORM_LOW a storm's tail
//     that outlasted the window was taken for a sliding limit at the few
//     calls sent before it and left the rate at the floor of one decrease
//     (0.97 x 0.49 of it) for minutes;
//     sliding: the window has drained below its limit during the last
//     pause, so the limit is what it held at the first refusal (a silent
//     drop refuses the call that finds the window at the new limit; what
//     it holds at the probe says only how long the pause was, and taking
//     that, as an earlier version did, restarted the rate at two thirds of
//     the limit after a long pause). A long storm over a fleet that had run
//     for a minute looks the same (its pauses drain the window too), and
//     so resumes at the rate before it.
//   - Resume (not after a storm): with est = max(estimate, beta^2*E),
//     E restarts at 0.97*min(E before the episode, est) (headroom for the
//     callers' jitter) and Wmax, where the curve levels off, is est, or
//     for a sliding window max(est, what it held at the first refusal):
//     its limit lies between the two, and a refusal on the way corrects an
//     estimate too high. Never below the floor min(cap, MinPerMinute). An episode whose probe
//     came more than 2 minutes after it began (the app was idle) carries no
//     estimate and leaves E as it was; DecreaseFactor 1 never changes E.
//   - Recovery: E(t) = Wmax + C*(t-K)^3 from the resume (CUBIC, RFC 8312),
//     with C = cap*(1-beta)/RecoveryTime^3 (RecoveryTime 90 s by default)
//     and K such that E(0) is the restart rate: E climbs to Wmax and stays
//     near it. Once E has held for a minute (HOLD) without a refusal, the
//     limit may have been raised since: E also climbs as
//     Wmax + (cap-Wmax)*((t-HOLD)/(RecoveryTime/3))^3, at the cap 30 s
//     after the minute by default, and E is the larger of the two. A limit
//     that did not change costs one short episode per such climb; a raised
//     one is found within about 1.5 minutes of the resume.
//   - Window budget, with the window model the last non-storm estimate
//     showed (the state's "win" field) while E is below the cap: on a
//     calendar minute the fleet sends E calls per calendar minute at the
//     cap's pace and then waits for the next minute (smooth pacing at E
//     would leave unused what a refusal late in the minute left over); on
//     a sliding window it paces at the cap while the last 60 s hold fewer
//     than E calls (the window drains as fast as the fleet sent before the
//     refusal, so it catches up with what leaves), at E otherwise. Both
//     pace at least T(cap) apart, so the guarantee above holds; the 10 s
//     buckets' error (part of the oldest bucket) is what HEADROOM (0.97)
//     and a refusal on the way correct.
//
// T is computed from E, or from the cap under the window budget.
//
// # Redis keys
//
// All keys of one app share the hash tag {appid}, so they live in one Redis
// Cluster slot. With the default prefix "wxacode:rl:":
//
//	wxacode:rl:{appid}:state   hash: tat (µs), wmax and eff (calls/min: the
//	                           estimate and the rate the curve restarted at)
//	                           and eff_at (µs, start of recovery), cool (µs, end of the
//	                           pause), cnt_min/cnt_cur/cnt_prev (calls of
//	                           the current and previous fixed minute, by slot
//	                           time), b0..b6 and t0..t6 (calls of 10 s bucket
//	                           t<i>, i = t mod 7), rl_total, rl_last (µs),
//	                           rl_code; during
//	                           an episode ep_at, ep_eff, ep_clm, ep_min,
//	                           ep_fail, ep_lastfail, ep_drain (µs), pause and
//	                           probe (µs, the probe's slot), probe_n; model
//	                           (sliding, fixed or storm: the last episode's)
//	                           and win (sliding or fixed: the last window
//	                           model learned)
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
//	        <recovery time µs, 0 = 90 s> <min per min> <now µs, 0 = Redis TIME>
//	        [op arguments]
//
// The workers' values are 4800 5 <horizon> 0.7 90000000 60 0 unless configured
// otherwise; use the same ones. Fall back to EVAL with the source on NOSCRIPT.
//
//	op "acquire" (no arguments) returns
//	  {granted 0|1, wait µs, now µs, cooldown end µs, effective rate,
//	   cap, reason, slot µs, TAT after µs, interval T µs}
//	  granted 1: call when wait has elapsed (at slot). granted 0: ask again
//	  after wait; reason 1 = no free slot within the horizon, 2 = a pause
//	  or the wait for the probe's verdict.
//	op "cancel" <slot µs> <TAT after µs> <interval µs>: give back an unused
//	  reservation; returns 1 undone, 2 kept as a hole, 0 lost (in the past).
//	op "report" <jitter µs> <errcode>: returns
//	  {cooldown started 0|1, cooldown end µs, effective rate, now µs, total,
//	   episode started 0|1: the rate is re-estimated when it ends}
//	op "state": returns {now, cooldown end, effective rate, cap, total
//	  reports, last report µs, last errcode, reports in the last hour,
//	  calls in the last minute (estimate), TAT}
//
// Numbers may come back as strings. A PHP server takes one call with horizon
// 0 and, if refused, sleeps wait microseconds and asks again:
//
//	$r = $redis->evalSha($sha, [$state, $cap, $holes, $events,
//	        'acquire', 4800, 5, 0, 0.7, 90000000, 60, 0], 4);
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
