-- Issues the scene of one params row, atomically.
-- KEYS[1]     params key (digest of the canonical params -> scene)
-- KEYS[2..n]  scene keys of the row's candidates, in order (scene -> params)
-- ARGV[1]     canonical params
-- ARGV[2..n]  the candidate scenes, in the order of KEYS[2..n]
-- Returns {1, scene} when the params already had a scene, {2, scene} when
-- the first free candidate was claimed now, {0, ""} when every candidate is
-- held by other params (the caller retries with more candidates).
local existing = redis.call('GET', KEYS[1])
if existing then
  return {1, existing}
end
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[1], 'NX') then
    redis.call('SET', KEYS[1], ARGV[i])
    return {2, ARGV[i]}
  end
  -- Held: by these very params only if a params key was lost (for example
  -- a partial restore); repair it instead of moving to another scene.
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[i])
    return {1, ARGV[i]}
  end
end
return {0, ''}
