--[[
  Releases a call that spent nothing (it failed or never ran): removes its record and gives
  its budget reservation back.

  KEYS[1]     the calls in flight (see reserve-call-5.lua)
  KEYS[2..5]  the budget window hashes the reservation was made in
  ARGV[1]     call id

  Returns the micro-dollars released (summed over the windows that held it).
]]
redis.call('ZREM', KEYS[1], ARGV[1])
local field = 'r:' .. ARGV[1]
local released = 0
for i = 2, 5 do
  local held = redis.call('HGET', KEYS[i], field)
  if held then
    local amount = tonumber(string.sub(held, 1, string.find(held, ':', 1, true) - 1))
    redis.call('HDEL', KEYS[i], field)
    redis.call('HINCRBY', KEYS[i], 'reserved', -amount)
    released = released + amount
  end
end
return released
