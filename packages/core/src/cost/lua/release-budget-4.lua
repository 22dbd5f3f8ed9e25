--[[
  Releases a reservation without spending (the call failed or never happened).

  KEYS[1..4]  the budget window hashes the reservation was made in (see reserve-budget-4.lua)
  ARGV[1]     reservation id

  Returns the micro-dollars released (summed over the windows that held it).
]]
local field = 'r:' .. ARGV[1]
local released = 0
for i = 1, 4 do
  local held = redis.call('HGET', KEYS[i], field)
  if held then
    local amount = tonumber(string.sub(held, 1, string.find(held, ':', 1, true) - 1))
    redis.call('HDEL', KEYS[i], field)
    redis.call('HINCRBY', KEYS[i], 'reserved', -amount)
    released = released + amount
  end
end
return released
