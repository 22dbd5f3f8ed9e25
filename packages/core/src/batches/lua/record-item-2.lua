--[[
  Records one batch item's final result, once: a repeat for the same line (a re-run job, an
  expiry racing a late worker) changes nothing. Counts it, and says whether it was the last.

  KEYS[1]  the batch hash (fields: total, completed, failed, cost_micros, ingested_all)
  KEYS[2]  the batch's results hash: line number -> result (JSON)
  ARGV[1]  line number
  ARGV[2]  "completed" or "failed"
  ARGV[3]  the result, JSON
  ARGV[4]  the item's cost, micro-dollars

  Returns {1, last} when recorded (last = 1 when every line now has a result), {0, 0} when the
  line already had one.
]]
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) == 0 then return {0, 0} end
-- The results live as long as their batch (a batch that never finishes must not leak them).
if redis.call('TTL', KEYS[2]) < 0 then
  local ttl = redis.call('TTL', KEYS[1])
  if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
local cost = tonumber(ARGV[4])
if cost > 0 then redis.call('HINCRBY', KEYS[1], 'cost_micros', cost) end
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '-1')
local done = tonumber(redis.call('HGET', KEYS[1], 'completed') or '0') + tonumber(redis.call('HGET', KEYS[1], 'failed') or '0')
if total >= 0 and done >= total then return {1, 1} end
return {1, 0}
