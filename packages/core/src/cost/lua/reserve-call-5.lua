--[[
  Records an LM call about to be made and reserves its worst-case cost in every budget window
  that applies, all or nothing. The call record is what makes settling it idempotent: the
  settlement that removes it is the one that counts.

  KEYS[1]     the calls in flight: a sorted set of call ids scored by when the record expires
  KEYS[2..5]  budget window hashes: global daily, global monthly, tenant daily, tenant monthly.
              Fields: spent, reserved (micro-dollars), and r:<id> = "<amount>:<expires at ms>".
  ARGV[1]     call id (unique per attempt)
  ARGV[2]     amount to reserve, micro-dollars
  ARGV[3]     now, ms
  ARGV[4]     when the budget reservation expires (a worker that died holding it), ms
  ARGV[5]     how long the call record lives (a settlement may be retried that long), ms
  ARGV[6..9]  limit of KEYS[i+1], micro-dollars; -1 = no budget: the key is not touched
  ARGV[10..13] TTL of KEYS[i+1], seconds

  Returns {1, 0} reserved and recorded; {0, i} the window KEYS[i+1] is held by in-flight
  reservations (wait); {-1, i} the window KEYS[i+1] is spent (spent + amount > limit).
  Nothing is written unless it returns {1, 0}. Running it again for a call already recorded
  changes nothing: a client resends a command whose answer a dropped connection lost, and the
  first run is the one that counts.
]]
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {1, 0} end
local field = 'r:' .. ARGV[1]
local amount = tonumber(ARGV[2])
local now = tonumber(ARGV[3])

-- Drops reservations whose worker died without settling (expired), returning what they held.
local function sweep(key)
  local entries = redis.call('HGETALL', key)
  local freed = 0
  for j = 1, #entries, 2 do
    local f = entries[j]
    if string.sub(f, 1, 2) == 'r:' then
      local v = entries[j + 1]
      local sep = string.find(v, ':', 1, true)
      if tonumber(string.sub(v, sep + 1)) <= now then
        redis.call('HDEL', key, f)
        freed = freed + tonumber(string.sub(v, 1, sep - 1))
      end
    end
  end
  if freed > 0 then redis.call('HINCRBY', key, 'reserved', -freed) end
end

for i = 1, 4 do
  local limit = tonumber(ARGV[5 + i])
  if limit >= 0 then
    local key = KEYS[1 + i]
    local spent = tonumber(redis.call('HGET', key, 'spent') or '0')
    if spent + amount > limit then return {-1, i} end
    local reserved = tonumber(redis.call('HGET', key, 'reserved') or '0')
    if spent + reserved + amount > limit then
      sweep(key)
      reserved = tonumber(redis.call('HGET', key, 'reserved') or '0')
      if spent + reserved + amount > limit then return {0, i} end
    end
  end
end

local value = ARGV[2] .. ':' .. ARGV[4]
for i = 1, 4 do
  if tonumber(ARGV[5 + i]) >= 0 then
    local key = KEYS[1 + i]
    redis.call('HINCRBY', key, 'reserved', amount)
    redis.call('HSET', key, field, value)
    redis.call('EXPIRE', key, tonumber(ARGV[9 + i]))
  end
end

-- Records of calls whose worker died before settling are dropped once they expire.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return {1, 0}
