-- KEYS[1] the holds hash; ARGV[1] appid, ARGV[2] the new hold (JSON),
-- ARGV[3] now in ms. Records the hold unless an active one is there.
-- Returns {1, new} when recorded, {0, current} when one was in force.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local ok, h = pcall(cjson.decode, cur)
  if ok and type(h) == 'table' then
    local u = tonumber(h['until_ms']) or 0
    if u == 0 or u > tonumber(ARGV[3]) then
      return {0, cur}
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, ARGV[2]}
