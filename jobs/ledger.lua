-- Records one job outcome exactly once per (app, task id).
-- KEYS[1] outcomes hash (task id -> outcome JSON)
-- KEYS[2] counts hash (status -> n)
-- KEYS[3] failures sorted set (task id, score = time in ms)
-- ARGV[1] task id, ARGV[2] status, ARGV[3] outcome JSON, ARGV[4] time in ms
-- Returns 1 if the counts changed, 0 for a repeat of the same status
-- (at-least-once delivery must not count a job twice).
local prev = redis.call('HGET', KEYS[1], ARGV[1])
local prevStatus = prev and cjson.decode(prev)['status'] or false
if prevStatus == 'stored' and ARGV[2] == 'skipped' then
  return 0 -- a stored job delivered again finds its own object: still stored
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if prevStatus == ARGV[2] then
  return 0
end
if prevStatus then
  redis.call('HINCRBY', KEYS[2], prevStatus, -1)
  if prevStatus == 'failed' then
    redis.call('ZREM', KEYS[3], ARGV[1])
  end
end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if ARGV[2] == 'failed' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end
return 1
