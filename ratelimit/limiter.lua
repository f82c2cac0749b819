-- wxacode ratelimit: one fleet-wide budget per app (GCRA with short
-- reservations, fleet-wide cooldown, adaptive rate). The protocol (KEYS,
-- ARGV, replies) is documented in doc.go; every caller, in any language,
-- must use this script unchanged so that all of them share one budget.
--
-- Times are integer microseconds. Rates are calls per minute.
if redis.replicate_commands then pcall(redis.replicate_commands) end

local K_STATE, K_CAP, K_HOLES, K_EVENTS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op = ARGV[1]
local default_cap = tonumber(ARGV[2]) or 4800
local burst = math.max(1, math.floor(tonumber(ARGV[3]) or 1))
local horizon = math.max(0, tonumber(ARGV[4]) or 0)
local factor = tonumber(ARGV[5]) or 0.7
local recovery = tonumber(ARGV[6]) or 0
if recovery <= 0 then recovery = 90000000 end
local min_rate = tonumber(ARGV[7]) or 60
local now = tonumber(ARGV[8]) or 0
if now <= 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local MINUTE = 60000000
local HOUR = 3600000000
-- After a refusal the fleet pauses FIRST_PAUSE, then sends a round of
-- probe calls and waits PROBE_WAIT for their verdict (a report within it
-- means refused); each refused round doubles the pause, up to the next
-- minute boundary, and the probes, up to MAX_PROBES.
-- doc.go explains why.
local FIRST_PAUSE = 1000000
local PROBE_WAIT = 3000000
-- An episode whose probe comes this long after it began carries no
-- estimate (the fleet was idle): the rate is left as it was.
local STALE = 2 * MINUTE
-- The rate resumes at this share of what WeChat accepted in the last
-- minute: room for the callers' jitter.
local HEADROOM = 0.97
-- After this long on the recovery curve without a refusal the climb to the
-- cap speeds up (effective).
local HOLD = MINUTE
-- Without a calendar minute learned, a refused round's pause doubles up
-- to this, not to the minute boundary: refusals whatever the time (a
-- storm's tail) are used up by rounds every MAX_PAUSE, not by rounds
-- minutes apart.
local MAX_PAUSE = 16000000
-- A sliding window counts as drained once it holds this share of what it
-- held at the first refusal.
local DRAINED = 0.98
-- A probe refused while the last 60 s hold less than this share of what
-- they held at the first refusal was not refused for the count: no
-- window limit refuses a window that far below what it accepted (a
-- calendar minute's refusals keep at least half of it, the minute's own
-- calls). WeChat refuses regardless then (a storm's tail): the rate
-- before the episode stands.
local STORM_LOW = 0.4

-- Lua prints large numbers as 1.7e+15: always format times as integers.
local function int(x) return string.format('%.0f', x) end
local function num(x) return string.format('%.6f', x) end

local cap = tonumber(redis.call('GET', K_CAP)) or default_cap
if cap < 1 then cap = 1 end

local st = redis.call('HMGET', K_STATE, 'tat', 'eff', 'eff_at', 'cool', 'cnt_min', 'cnt_cur', 'cnt_prev', 'wmax',
  'ep_at', 'ep_eff', 'pause', 'probe', 'ep_clm', 'ep_min', 'ep_fail', 'ep_lastfail',
  'b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 't0', 't1', 't2', 't3', 't4', 't5', 't6', 'probe_n', 'win', 'ep_drain', 'ep_low')
local tat = tonumber(st[1]) or 0
local cool = tonumber(st[4]) or 0
-- The current episode of refusals: when it began, the rate then, the
-- current pause, and the probe call's slot (0: not sent yet).
local ep_at = tonumber(st[9]) or 0
local ep_eff = tonumber(st[10]) or 0
local pause = tonumber(st[11]) or FIRST_PAUSE
local probe = tonumber(st[12]) or 0
-- What the fleet had sent when the episode began: in the last 60 s, and
-- in the current calendar minute; refused probes and the last one's time.
local ep_clm = tonumber(st[13]) or 0
local ep_min = tonumber(st[14]) or 0
local ep_fail = tonumber(st[15]) or 0
local ep_lastfail = tonumber(st[16]) or 0
-- Probes granted in this round: 1 after the first pause, doubling with
-- each refused round up to MAX_PROBES (st[31]).
local probe_n = tonumber(st[31]) or 0
local MAX_PROBES = 16
-- The window model the last estimate showed (sliding or fixed; a storm
-- leaves it), and when the window was to have drained below what it held
-- at the episode's first refusal (µs; 0: not known).
local win = st[32]
local ep_drain = tonumber(st[33]) or 0
-- The fewest calls the last 60 s held at a refused probe of the episode
-- (-1: none refused yet).
local ep_low = tonumber(st[34]) or -1

local floor_rate = math.max(math.min(cap, min_rate), 1)

-- After a decrease the rate follows CUBIC's curve (RFC 8312) from the end of
-- the cooldown: fast while far below wmax, the rate WeChat refused, flat
-- near it, then faster again up to the cap. It is back at wmax after
-- recovery * cbrt(wmax / cap), so a refusal at the cap recovers in
-- `recovery` (default 90 s).
local function effective()
  local wmax = tonumber(st[8])
  if not wmax then
    local e = tonumber(st[2])
    if not e then return cap end
    wmax = e / factor -- state written before wmax existed
  end
  if factor >= 1 then return math.max(math.min(cap, wmax), floor_rate) end
  -- eff_at is when the rate was set to eff (the curve's start, below
  -- wmax); the curve passes wmax after k.
  local t = math.max(0, now - (tonumber(st[3]) or 0)) / MINUTE
  local c = cap * (1 - factor) / (recovery / MINUTE) ^ 3
  local e0 = tonumber(st[2]) or wmax * factor
  local k = (math.max(0, wmax - e0) / c) ^ (1 / 3)
  local e = wmax + c * (t - k) ^ 3
  -- A minute at the estimate without a refusal: the limit may have been
  -- raised since, so climb to the cap within a third of the recovery time.
  local hold = HOLD / MINUTE
  if t > hold and cap > wmax then
    e = math.max(e, wmax + (cap - wmax) * ((t - hold) / (recovery / 3 / MINUTE)) ^ 3)
  end
  return math.max(math.min(cap, e), floor_rate)
end

local eff = effective()
local interval = math.ceil(MINUTE / eff)
local cap_interval = math.ceil(MINUTE / cap)

-- Two fixed-minute counters count the calls of the calendar minute (and
-- the one before); seven 10 s buckets (b<i> calls of bucket t<i>, i = t mod
-- 7) count the calls of the last 60 s to within part of one bucket, even
-- when they came in a burst. Both are written in the grant's one HSET.
local BUCKET = 10000000
local NB = 7
local bk, bt = {}, {}
for i = 0, NB - 1 do
  bk[i] = tonumber(st[17 + i]) or 0
  bt[i] = tonumber(st[17 + NB + i]) or -1
end
local cnt_min = tonumber(st[5])
local cnt_cur = tonumber(st[6]) or 0
local cnt_prev = tonumber(st[7]) or 0

local function count(slot, delta)
  local m = math.floor(slot / MINUTE)
  if delta > 0 then
    if not cnt_min or m > cnt_min + 1 then
      cnt_min, cnt_prev, cnt_cur = m, 0, 0
    elseif m == cnt_min + 1 then
      cnt_min, cnt_prev, cnt_cur = m, cnt_cur, 0
    end
  end
  if m == cnt_min then
    cnt_cur = math.max(0, cnt_cur + delta)
  elseif cnt_min and m == cnt_min - 1 then
    cnt_prev = math.max(0, cnt_prev + delta)
  end
  local b = math.floor(slot / BUCKET)
  local i = b % NB
  if bt[i] ~= b then
    if delta < 0 then
      return {'cnt_min', int(cnt_min or m), 'cnt_cur', int(cnt_cur), 'cnt_prev', int(cnt_prev)}
    end
    bt[i], bk[i] = b, 0
  end
  bk[i] = math.max(0, bk[i] + delta)
  return {'cnt_min', int(cnt_min or m), 'cnt_cur', int(cnt_cur), 'cnt_prev', int(cnt_prev),
    'b' .. i, int(bk[i]), 't' .. i, int(b)}
end

-- calls_last_minute is the calls granted in the 60 s up to now (and those
-- already reserved after it): whole buckets, and the share of the oldest
-- one still inside the window (whole: all of the oldest one, until it has
-- left).
local function calls_last_minute(at, whole)
  at = at or now
  local cur = math.floor(at / BUCKET)
  local from = at - MINUTE
  local total = 0
  for i = 0, NB - 1 do
    local b = bt[i]
    if b > cur - 6 then
      total = total + bk[i]
    elseif b == cur - 6 and whole then
      total = total + bk[i]
    elseif b == cur - 6 then
      local inside = ((b + 1) * BUCKET - from) / BUCKET
      total = total + bk[i] * math.max(0, math.min(1, inside))
    end
  end
  return total
end

-- drained_at is the first time after now, in steps of 250 ms up to a
-- minute, at which the last 60 s hold at most n calls if nobody calls
-- (whole: counting the oldest bucket whole until it has left).
local function drained_at(n, whole)
  for i = 1, 240 do
    local at = now + i * 250000
    if calls_last_minute(at, whole) <= n then return at end
  end
  return 0
end

local function grant(slot, new_tat)
  local fields = count(slot, 1)
  if new_tat > 0 then
    table.insert(fields, 'tat')
    table.insert(fields, int(new_tat))
  end
  redis.call('HSET', K_STATE, unpack(fields))
  return {1, int(slot - now), int(now), int(cool), num(eff), int(cap), 0, int(slot), int(new_tat), int(interval)}
end

local function deny(wait, reason)
  return {0, int(wait), int(now), int(cool), num(eff), int(cap), reason, 0, 0, int(interval)}
end

-- estimate is what WeChat accepts per minute, judged when a probe went
-- unrefused, with the window model it shows:
--   - fixed: the probes were refused up to a minute boundary and the first
--     after it was accepted, so the window is the calendar minute and the
--     limit what the fleet had sent in that minute at the first refusal;
--   - storm: WeChat accepts with as many calls in the last 60 s as when it
--     refused, or it refused a probe with far fewer (STORM_LOW), so the
--     refusals were not about the count (a storm, its tail, a stray
--     refusal): the rate before it stands;
--   - sliding: the window drained below its limit during the last pause,
--     so the limit is what it held at the first refusal (a silent drop
--     refuses the call that finds the window at the new limit); that it
--     holds less now says only how long the pause was. Calls in flight
--     then that were refused too make it a little high: HEADROOM and a
--     refusal on the way correct that.
local function estimate()
  if ep_fail > 0 and ep_low >= 0 and ep_low < ep_clm * STORM_LOW then return ep_eff, 'storm' end
  if ep_fail > 0 and math.floor(probe / MINUTE) > math.floor(ep_lastfail / MINUTE) then
    return ep_min, 'fixed'
  end
  local held = calls_last_minute()
  if held >= ep_clm * 0.98 then return ep_eff, 'storm' end
  return ep_clm, 'sliding'
end

-- open ends an episode once its probe went unrefused. The rate resumes
-- just below the estimate, never above the rate before the episode nor
-- below factor^2 of it, and climbs from there on the recovery curve.
local function open()
  local fields = {'ep_at', '0', 'probe', '0', 'probe_n', '0', 'pause', int(FIRST_PAUSE), 'ep_fail', '0', 'ep_drain', '0', 'ep_low', '-1'}
  if now - ep_at < STALE and factor < 1 then
    local est, model = estimate()
    table.insert(fields, 'model'); table.insert(fields, model)
    if model ~= 'storm' then
      win = model
      table.insert(fields, 'win'); table.insert(fields, model)
    end
    if model ~= 'storm' then
      est = math.max(est, ep_eff * factor * factor)
      -- A sliding window's limit lies between the estimate and what it
      -- held at the first refusal: the curve starts just below the first
      -- and levels off at the second (a refusal on the way corrects it).
      local top = est
      if model == 'sliding' then top = math.max(est, ep_clm) end
      local wmax = math.max(math.min(ep_eff, top), floor_rate)
      local e0 = math.max(math.min(wmax, math.min(ep_eff, est) * HEADROOM), floor_rate)
      for _, v in ipairs({'wmax', num(wmax), 'eff', num(e0), 'eff_at', int(now)}) do table.insert(fields, v) end
      st[2], st[3], st[8] = e0, now, wmax
    end
  end
  redis.call('HSET', K_STATE, unpack(fields))
  ep_at, probe = 0, 0
  eff = effective()
  interval = math.ceil(MINUTE / eff)
end

if op == 'acquire' then
  if now < cool then return deny(cool - now, 2) end
  if ep_at > 0 then
    local batch = math.min(MAX_PROBES, 2 ^ ep_fail)
    if probe == 0 or (probe_n < batch and now < probe + PROBE_WAIT) then
      -- The pause is over: this call is one of the round's probes.
      if probe == 0 then probe = now end
      redis.call('HSET', K_STATE, 'probe', int(probe), 'probe_n', int(probe_n + 1))
      return grant(now, math.max(tat, now) + interval)
    end
    if now < probe + PROBE_WAIT then return deny(probe + PROBE_WAIT - now, 2) end
    open()
  end
  if eff < cap and win == 'fixed' then
    -- A calendar-minute window: E calls per minute, at the cap's pace.
    local m = math.floor(now / MINUTE)
    local cur = 0
    if cnt_min == m then cur = cnt_cur end
    if cur + 1 > eff then return deny((m + 1) * MINUTE - now, 1) end
    interval = cap_interval
  elseif eff < cap and win == 'sliding' and calls_last_minute(now, true) + 1 <= eff then
    -- A sliding window holding less than E: catch up at the cap's pace,
    -- counting the oldest bucket whole until it has left (never ahead of
    -- what WeChat lets go).
    interval = cap_interval
  end
  -- tau from the cap's interval whatever the rate: the interval changes
  -- with E and the window budget, and a constant tau with every step at
  -- least T(cap) is what bounds any window by cap + burst (doc.go).
  local allow = tat - (burst - 1) * cap_interval
  if allow <= now then return grant(now, math.max(tat, now) + interval) end
  if horizon > 0 then
    -- A slot given back by a cancelled waiter is reused at its exact time.
    redis.call('ZREMRANGEBYSCORE', K_HOLES, '-inf', '(' .. int(now))
    local hole = redis.call('ZRANGE', K_HOLES, 0, 0, 'WITHSCORES')
    if hole[2] and tonumber(hole[2]) <= now + horizon then
      redis.call('ZREM', K_HOLES, hole[1])
      return grant(tonumber(hole[2]), 0)
    end
    if allow - now <= horizon then return grant(allow, tat + interval) end
  end
  -- Waiters retry when half the horizon is free again: fewer empty polls.
  return deny(allow - now - math.floor(horizon / 2), 1)
end

if op == 'cancel' then
  local slot, tat_after, iv = tonumber(ARGV[9]) or 0, tonumber(ARGV[10]) or 0, tonumber(ARGV[11]) or 0
  if tat_after > 0 and tat == tat_after then
    -- Still the newest reservation: undo it exactly.
    local fields = count(slot, -1)
    table.insert(fields, 'tat')
    table.insert(fields, int(tat_after - iv))
    redis.call('HSET', K_STATE, unpack(fields))
    return 1
  end
  if slot > now and now >= cool then
    redis.call('HSET', K_STATE, unpack(count(slot, -1)))
    redis.call('ZADD', K_HOLES, int(slot), int(slot))
    redis.call('PEXPIRE', K_HOLES, math.ceil((slot - now) / 1000) + 1000)
    return 2
  end
  return 0
end

if op == 'report' then
  local jitter = math.max(0, tonumber(ARGV[9]) or 0)
  local code = ARGV[10] or ''
  local total = redis.call('HINCRBY', K_STATE, 'rl_total', 1)
  redis.call('HSET', K_STATE, 'rl_last', int(now), 'rl_code', code)
  redis.call('ZADD', K_EVENTS, int(now), int(now) .. ':' .. total)
  redis.call('ZREMRANGEBYSCORE', K_EVENTS, '-inf', '(' .. int(now - HOUR))
  redis.call('PEXPIRE', K_EVENTS, HOUR / 1000 + 60000)
  local started, decreased = 0, 0
  -- Reports during a pause come from calls already in flight: they change
  -- nothing. After the pause, a report is the probe's (or a late call's)
  -- refusal: the pause doubles, up to the next minute boundary.
  if now >= cool then
    started = 1
    local boundary = (math.floor(now / MINUTE) + 1) * MINUTE + jitter
    if ep_at > 0 then
      pause, ep_fail, ep_lastfail = pause * 2, ep_fail + 1, now
      local held = calls_last_minute()
      if ep_low < 0 or held < ep_low then ep_low = held end
      if win ~= 'fixed' then pause = math.min(pause, MAX_PAUSE) end
      if ep_drain > 0 and ep_drain <= now then
        -- The probe timed to the drain was refused: it takes the oldest
        -- bucket's calls as spread over it, and they may have come late
        -- in it (a fleet starting mid-bucket). Once more when that bucket
        -- has wholly left, then doubled pauses (stored negative: used).
        ep_drain = -drained_at(ep_clm * DRAINED, true)
      end
    else
      local m = math.floor(now / MINUTE)
      ep_at, ep_eff, pause, decreased, ep_fail, ep_lastfail, ep_low = now, eff, FIRST_PAUSE, 1, 0, 0, -1
      ep_clm, ep_min = calls_last_minute(), 0
      if cnt_min == m then ep_min = cnt_cur end
      ep_drain = drained_at(ep_clm * DRAINED)
      if win == 'fixed' and eff < cap and ep_min + 1 >= eff * HEADROOM then
        -- A calendar minute learned, and this one's budget spent: WeChat
        -- accepts again at the boundary; probes before it would only be
        -- refused. It counts as a refused probe, for the estimate.
        pause, ep_fail, ep_lastfail, ep_drain = MINUTE, 1, now, 0
      end
    end
    cool = math.min(now + pause, boundary)
    -- A sliding window at its limit accepts again once it has drained a
    -- little: a round of probes then, not up to a doubled pause later.
    local drain = math.abs(ep_drain)
    if ep_fail > 0 and drain > now and drain < cool then
      cool = math.max(now + FIRST_PAUSE, drain)
    end
    redis.call('HSET', K_STATE, 'ep_at', int(ep_at), 'ep_eff', num(ep_eff), 'pause', int(pause), 'probe', '0', 'probe_n', '0',
      'ep_clm', num(ep_clm), 'ep_min', int(ep_min), 'ep_fail', int(ep_fail), 'ep_lastfail', int(ep_lastfail),
      'cool', int(cool), 'tat', int(math.max(tat, cool)), 'ep_drain', int(ep_drain), 'ep_low', num(ep_low))
    redis.call('DEL', K_HOLES)
  end
  return {started, int(cool), num(eff), int(now), total, decreased}
end

if op == 'state' then
  local more = redis.call('HMGET', K_STATE, 'rl_total', 'rl_last', 'rl_code')
  local recent = redis.call('ZCOUNT', K_EVENTS, int(now - HOUR), '+inf')
  return {int(now), int(cool), num(eff), int(cap), int(tonumber(more[1]) or 0),
    int(tonumber(more[2]) or 0), more[3] or '', recent, num(calls_last_minute()), int(tat)}
end

return redis.error_reply('ratelimit: unknown op ' .. tostring(op))
