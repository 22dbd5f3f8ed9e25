--[[
  Moves a batch from one status to the next, only from the statuses allowed, and stamps when.

  KEYS[1]  the batch hash
  KEYS[2]  unused (same slot; kept so every batch script names its keys alike)
  KEYS[3]  unused
  ARGV[1]  the new status
  ARGV[2]  allowed current statuses, comma-separated
  ARGV[3]  the timestamp field to set ("" for none)
  ARGV[4]  now, seconds
  ARGV[5..] extra field, value pairs to set with it

  Returns the status before (the move happened only if it was allowed), or false for no batch.
]]
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return false end
for allowed in string.gmatch(ARGV[2], '[^,]+') do
  if allowed == current then
    redis.call('HSET', KEYS[1], 'status', ARGV[1])
    if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[1], ARGV[3], ARGV[4]) end
    for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
    return current
  end
end
return current
