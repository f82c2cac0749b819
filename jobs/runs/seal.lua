-- Seals one chunk of a run (layout 2) after the feeder wrote it to the
-- store, only if it still holds what was written: an outcome recorded
-- meanwhile leaves it open, and the feeder writes it again.
-- KEYS[1] the chunk (string), KEYS[2] rows with an outcome per open chunk
-- (hash), KEYS[3] sealed chunks (bitmap)
-- ARGV[1] the chunk's index, ARGV[2] SHA-1 (hex) of the bytes written
-- Returns 1 if sealed, 0 if the chunk changed.
local data = redis.call('GET', KEYS[1])
if not data or redis.sha1hex(data) ~= ARGV[2] then
  return 0
end
redis.call('SETBIT', KEYS[3], tonumber(ARGV[1]), 1)
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
