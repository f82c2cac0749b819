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
if recovery <= 0 then recovery = 240000000 end
local min_rate = tonumber(ARGV[7]) or 60
local now = tonumber(ARGV[8]) or 0
if now <= 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local MINUTE = 60000000
local HOUR = 3600000000
-- A refusal this soon after a cooldown ended says nothing about the fleet's
-- rate (WeChat's window had not emptied yet, a storm, calls from before the
-- cooldown): it starts a new cooldown but does not lower the rate again.
local GRACE = 10000000

-- Lua prints large numbers as 1.7e+15: always format times as integers.
local function int(x) return string.format('%.0f', x) end
local function num(x) return string.format('%.6f', x) end

local cap = tonumber(redis.call('GET', K_CAP)) or default_cap
if cap < 1 then cap = 1 end

local st = redis.call('HMGET', K_STATE, 'tat', 'eff', 'eff_at', 'cool', 'cnt_min', 'cnt_cur', 'cnt_prev', 'wmax')
local tat = tonumber(st[1]) or 0
local cool = tonumber(st[4]) or 0

local floor_rate = math.max(math.min(cap, min_rate), 1)

-- After a decrease the rate follows CUBIC's curve (RFC 8312) from the end of
-- the cooldown: fast while far below wmax, the rate WeChat refused, flat
-- near it, then faster again up to the cap. It is back at wmax after
-- recovery * cbrt(wmax / cap), so a refusal at the cap recovers in
-- `recovery` (default 4 min).
local function effective()
  local wmax = tonumber(st[8])
  if not wmax then
    local e = tonumber(st[2])
    if not e then return cap end
    wmax = e / factor -- state written before wmax existed
  end
  if factor >= 1 then return math.max(math.min(cap, wmax), floor_rate) end
  -- eff_at is the end of the cooldown that lowered the rate; a cooldown
  -- without a decrease (GRACE) does not restart the curve.
  local t = math.max(0, now - (tonumber(st[3]) or 0)) / MINUTE
  local c = cap * (1 - factor) / (recovery / MINUTE) ^ 3
  local k = (wmax * (1 - factor) / c) ^ (1 / 3)
  return math.max(math.min(cap, wmax + c * (t - k) ^ 3), floor_rate)
end

local eff = effective()
local interval = math.ceil(MINUTE / eff)

-- Two fixed-minute counters give an approximate "calls in the last 60 s".
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
  return {'cnt_min', int(cnt_min or m), 'cnt_cur', int(cnt_cur), 'cnt_prev', int(cnt_prev)}
end

local function calls_last_minute()
  if not cnt_min then return 0 end
  local m = math.floor(now / MINUTE)
  local frac = (now - m * MINUTE) / MINUTE
  if cnt_min == m then return cnt_prev * (1 - frac) + cnt_cur end
  if cnt_min == m - 1 then return cnt_cur * (1 - frac) end
  if cnt_min == m + 1 then return cnt_prev end
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

if op == 'acquire' then
  if now < cool then return deny(cool - now, 2) end
  local allow = tat - (burst - 1) * interval
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
  local started, decreased, wmax = 0, 0, 0
  -- Reports during a cooldown come from calls already in flight: one
  -- decrease per episode, and none right after a cooldown (GRACE).
  if now >= cool then
    started = 1
    local fields = {}
    if factor < 1 and (cool == 0 or now - cool >= GRACE) then
      -- WeChat counts calls per minute: the fleet's own count of the last
      -- minute is the best estimate of what it allows (AWS SDKs' adaptive
      -- mode does the same with the measured rate). Bounded below by
      -- factor * eff: a fleet that just started, or lost its counters,
      -- has sent little, and one refusal must not throw it to the floor.
      decreased = 1
      wmax = math.max(math.min(eff, math.max(calls_last_minute(), eff * factor)), floor_rate)
      eff = math.max(wmax * factor, floor_rate)
    end
    cool = (math.floor(now / MINUTE) + 1) * MINUTE + jitter
    if decreased == 1 then fields = {'wmax', num(wmax), 'eff', num(eff), 'eff_at', int(cool)} end
    table.insert(fields, 'cool'); table.insert(fields, int(cool))
    table.insert(fields, 'tat'); table.insert(fields, int(math.max(tat, cool)))
    redis.call('HSET', K_STATE, unpack(fields))
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
