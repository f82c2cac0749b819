-- The schedule cursor of one rate budget (an app, or a campaign's share of
-- one): producers reserve n consecutive slots, one interval apart, at the
-- rate of the budget's cap times the pace factor.
-- KEYS[1] cursor (Redis microseconds of the next free slot), KEYS[2] cap
-- ARGV[1] n, ARGV[2] default cap per minute, ARGV[3] pace factor,
-- ARGV[4] now in microseconds (0: Redis TIME)
-- Returns {first slot, interval, now}, all in microseconds.
local n = tonumber(ARGV[1])
local now = tonumber(ARGV[4])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local cap = tonumber(redis.call('GET', KEYS[2]) or ARGV[2]) or tonumber(ARGV[2])
if cap <= 0 then cap = tonumber(ARGV[2]) end
local iv = math.floor(60000000 / (cap * tonumber(ARGV[3])))
local first = tonumber(redis.call('GET', KEYS[1]) or '0')
if first < now then first = now end
local last = first + n * iv
-- Kept a minute past the last slot: an idle budget's cursor goes away.
redis.call('SET', KEYS[1], last, 'PX', math.floor((last - now) / 1000) + 60000)
return {first, iv, now}
