--[[
  Reserves a prediction's worst-case cost in every budget window that applies, all or nothing.

  KEYS[1..4]  budget window hashes: global daily, global monthly, tenant daily, tenant monthly.
              Fields: spent, reserved (micro-dollars), and r:<id> = "<amount>:<expires at ms>".
  ARGV[1]     reservation id (unique per attempt)
  ARGV[2]     amount to reserve, micro-dollars
  ARGV[3]     now, ms
  ARGV[4]     when this reservation expires (a worker that died holding it), ms
  ARGV[5..8]  limit of KEYS[i], micro-dollars; -1 = no budget: the key is not touched
  ARGV[9..12] TTL of KEYS[i], seconds

  Returns {1, 0} reserved; {0, i} the window KEYS[i] is held by in-flight reservations (wait);
  {-1, i} the window KEYS[i] is spent (spent + amount > limit).
]]
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
  local limit = tonumber(ARGV[4 + i])
  if limit >= 0 then
    local spent = tonumber(redis.call('HGET', KEYS[i], 'spent') or '0')
    if spent + amount > limit then return {-1, i} end
    local reserved = tonumber(redis.call('HGET', KEYS[i], 'reserved') or '0')
    if spent + reserved + amount > limit then
      sweep(KEYS[i])
      reserved = tonumber(redis.call('HGET', KEYS[i], 'reserved') or '0')
      if spent + reserved + amount > limit then return {0, i} end
    end
  end
end

local value = ARGV[2] .. ':' .. ARGV[4]
for i = 1, 4 do
  if tonumber(ARGV[4 + i]) >= 0 then
    redis.call('HINCRBY', KEYS[i], 'reserved', amount)
    redis.call('HSET', KEYS[i], field, value)
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[8 + i]))
  end
end
return {1, 0}
