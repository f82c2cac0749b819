-- Imports one mapping, atomically; never overwrites.
-- KEYS[1] params key (digest of the canonical params -> scene)
-- KEYS[2] scene key (scene -> canonical params)
-- ARGV[1] canonical params, ARGV[2] scene
-- Returns {0, ""} already present, {1, ""} written (or a missing half
-- repaired), {2, other} the params already map to scene other,
-- {3, ""} the scene holds different params.
local mapped = redis.call('GET', KEYS[1])
local held = redis.call('GET', KEYS[2])
if mapped and mapped ~= ARGV[2] then
  return {2, mapped}
end
if held and held ~= ARGV[1] then
  return {3, ''}
end
if mapped and held then
  return {0, ''}
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
return {1, ''}
