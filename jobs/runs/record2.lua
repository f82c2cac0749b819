-- Records the final outcome of one row of a run kept in chunks (layout 2),
-- exactly once per row. While a chunk has rows without an outcome, its
-- records are in Redis (KEYS[5]: 33 bytes per row, the status s|k|f and
-- the image's SHA-256); once every row has one, the feeder writes the
-- chunk to the store and seals it (bit set in KEYS[7], KEYS[5] deleted).
-- Every row of a sealed chunk has an outcome: it is failed if KEYS[2]
-- holds it, else done; an outcome that changes it afterwards (retry-failed)
-- goes to KEYS[8], which readers lay over the stored chunk.
-- KEYS[1] counts hash, KEYS[2] failures hash (row -> JSON), KEYS[3] failed
-- rows by errcode (hash), KEYS[4] the newest failures (list, capped),
-- KEYS[5] the row's chunk (string), KEYS[6] rows with an outcome per open
-- chunk (hash), KEYS[7] sealed chunks (bitmap), KEYS[8] amendments of
-- sealed rows (hash row -> record), KEYS[9] rows given another try (set)
-- ARGV[1] row index, ARGV[2] status (stored|skipped|failed), ARGV[3]
-- failure JSON or "", ARGV[4] the image's SHA-256 (32 raw bytes) or "",
-- ARGV[5] the failure's errcode ("0" without one, "input" for a rejected
-- input row), ARGV[6] the recent list's cap, ARGV[7] the chunk's index,
-- ARGV[8] the row's index in its chunk
-- Returns 0 for a repeat (at-least-once delivery), 1 for a new outcome,
-- 2 for a failed row that now succeeded.
local row, chunk, off = ARGV[1], tonumber(ARGV[7]), tonumber(ARGV[8]) * 33
local sealed = redis.call('GETBIT', KEYS[7], chunk) == 1

local wasDone, wasFailed
if sealed then
  wasFailed = redis.call('HEXISTS', KEYS[2], row) == 1
  wasDone = not wasFailed
else
  local b = redis.call('GETRANGE', KEYS[5], off, off)
  wasDone, wasFailed = b == 's' or b == 'k', b == 'f'
end

-- put writes the row's record where its chunk now is.
local function put(rec)
  if sealed then
    redis.call('HSET', KEYS[8], row, rec)
  else
    redis.call('SETRANGE', KEYS[5], off, rec)
  end
end

-- oldCode is the errcode of the row's recorded failure.
local function oldCode()
  local old = redis.call('HGET', KEYS[2], row)
  if not old then return '0' end
  local ok, f = pcall(cjson.decode, old)
  if ok and type(f) == 'table' and f.input then return 'input' end
  if ok and type(f) == 'table' and f.errcode then return tostring(f.errcode) end
  return '0'
end

local function addFailure()
  redis.call('HSET', KEYS[2], row, ARGV[3])
  redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
  redis.call('LPUSH', KEYS[4], ARGV[3])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[6]) - 1)
end

local failed = ARGV[2] == 'failed'
if redis.call('SREM', KEYS[9], row) == 1 then
  redis.call('HINCRBY', KEYS[1], 'retrying', -1)
  if failed and wasFailed then
    redis.call('HINCRBY', KEYS[3], oldCode(), -1)
    addFailure() -- the newest failure replaces the old one
  end
end
if (failed and wasFailed) or (not failed and wasDone) then
  return 0
end
if wasFailed then
  -- a failed row that later succeeds (retry-failed) moves over
  redis.call('HINCRBY', KEYS[1], 'failed', -1)
  redis.call('HINCRBY', KEYS[3], oldCode(), -1)
  redis.call('HDEL', KEYS[2], row)
end
if wasDone then
  return 0 -- a stored row never becomes failed again
end
if not wasFailed and not sealed then
  redis.call('HINCRBY', KEYS[6], chunk, 1)
end
if failed then
  put('f' .. string.rep('\0', 32))
  addFailure()
else
  local sum = ARGV[4]
  if string.len(sum) ~= 32 then sum = string.rep('\0', 32) end
  if ARGV[2] == 'skipped' then put('k' .. sum) else put('s' .. sum) end
end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
if wasFailed then
  return 2
end
return 1
