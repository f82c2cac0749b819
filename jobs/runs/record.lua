-- Records the final outcome of one row of a run, exactly once per row.
-- KEYS[1] done bitmap (stored or skipped), KEYS[2] failed bitmap,
-- KEYS[3] counts hash, KEYS[4] failures hash (row -> JSON),
-- KEYS[5] retry bitmap (failed rows given another try by retry-failed),
-- KEYS[6] skipped bitmap (done rows that were skipped), KEYS[7] SHA-256
-- string (32 bytes per row at offset row*32), KEYS[8] failed rows by
-- errcode (hash), KEYS[9] the newest failures (list, capped)
-- ARGV[1] row index, ARGV[2] status (stored|skipped|failed), ARGV[3] failure
-- JSON or "", ARGV[4] the image's SHA-256 (32 raw bytes) or "", ARGV[5]
-- the failure's errcode ("0" without one, "input" for a rejected input
-- row), ARGV[6] the recent list's cap
-- Returns 0 for a repeat (at-least-once delivery), 1 for a new outcome,
-- 2 for a failed row that now succeeded.
local row = tonumber(ARGV[1])

-- oldCode is the errcode of the row's recorded failure.
local function oldCode()
  local old = redis.call('HGET', KEYS[4], row)
  if not old then return '0' end
  local ok, f = pcall(cjson.decode, old)
  if ok and type(f) == 'table' and f.input then return 'input' end
  if ok and type(f) == 'table' and f.errcode then return tostring(f.errcode) end
  return '0'
end

local function addFailure()
  redis.call('HSET', KEYS[4], row, ARGV[3])
  redis.call('HINCRBY', KEYS[8], ARGV[5], 1)
  redis.call('LPUSH', KEYS[9], ARGV[3])
  redis.call('LTRIM', KEYS[9], 0, tonumber(ARGV[6]) - 1)
end

local wasDone = redis.call('GETBIT', KEYS[1], row) == 1
local wasFailed = redis.call('GETBIT', KEYS[2], row) == 1
local failed = ARGV[2] == 'failed'
if redis.call('GETBIT', KEYS[5], row) == 1 then
  redis.call('SETBIT', KEYS[5], row, 0)
  redis.call('HINCRBY', KEYS[3], 'retrying', -1)
  if failed and wasFailed then
    redis.call('HINCRBY', KEYS[8], oldCode(), -1)
    addFailure() -- the newest failure replaces the old one
  end
end
if (failed and wasFailed) or (not failed and wasDone) then
  return 0
end
if wasFailed then
  -- a failed row that later succeeds (retry-failed) moves over
  redis.call('SETBIT', KEYS[2], row, 0)
  redis.call('HINCRBY', KEYS[3], 'failed', -1)
  redis.call('HINCRBY', KEYS[8], oldCode(), -1)
  redis.call('HDEL', KEYS[4], row)
end
if wasDone then
  return 0 -- a stored row never becomes failed again
end
if failed then
  redis.call('SETBIT', KEYS[2], row, 1)
  addFailure()
else
  redis.call('SETBIT', KEYS[1], row, 1)
  if ARGV[2] == 'skipped' then
    redis.call('SETBIT', KEYS[6], row, 1)
  end
  if string.len(ARGV[4]) == 32 then
    redis.call('SETRANGE', KEYS[7], row * 32, ARGV[4])
  end
end
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
if wasFailed then
  return 2
end
return 1
