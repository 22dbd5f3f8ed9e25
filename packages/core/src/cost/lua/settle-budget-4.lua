--[[
  Settles a reservation at the real cost: releases what it held and adds the cost to spent.
  The cost is added to every active window even when the reservation is gone (expired and
  swept during a very long call): money spent is always recorded.

  KEYS[1..4]  the budget window hashes the reservation was made in (see reserve-budget-4.lua)
  ARGV[1]     reservation id
  ARGV[2]     real cost, micro-dollars
  ARGV[3..6]  1 when KEYS[i] has a budget, 0 to leave it alone
  ARGV[7..10] TTL of KEYS[i], seconds

  Returns {spent_1, ..., spent_4}: each window's spent after settling (-1 for inactive keys).
]]
local field = 'r:' .. ARGV[1]
local cost = tonumber(ARGV[2])
local result = {}
for i = 1, 4 do
  if ARGV[2 + i] == '1' then
    local held = redis.call('HGET', KEYS[i], field)
    if held then
      redis.call('HDEL', KEYS[i], field)
      redis.call('HINCRBY', KEYS[i], 'reserved', -tonumber(string.sub(held, 1, string.find(held, ':', 1, true) - 1)))
    end
    result[i] = redis.call('HINCRBY', KEYS[i], 'spent', cost)
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[6 + i]))
  else
    result[i] = -1
  end
end
return result
