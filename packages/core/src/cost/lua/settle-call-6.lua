--[[
  Settles an LM call once: removes its record, releases its budget reservation, adds the real
  cost to every active window's spend and the call's usage to the day's ledger. Idempotent: a
  settlement retried after a lost reply (Redis went away mid-call) finds the record gone and
  changes nothing, so every call is counted exactly once.

  KEYS[1]     the calls in flight (see reserve-call-5.lua)
  KEYS[2]     the usage ledger hash of the call's UTC day
  KEYS[3..6]  the budget window hashes the reservation was made in
  ARGV[1]     call id
  ARGV[2]     real cost, micro-dollars
  ARGV[3..6]  1 when KEYS[i+2] has a budget, 0 to leave it alone
  ARGV[7..10] TTL of KEYS[i+2], seconds
  ARGV[11]    TTL of the ledger hash, seconds
  ARGV[12..]  ledger field, increment, field, increment, ...

  Returns {0} when the call was settled before (or its record expired); else
  {1, spent_1, ..., spent_4}: each window's spend after settling (-1 for inactive windows).
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return {0} end
local field = 'r:' .. ARGV[1]
local cost = tonumber(ARGV[2])
local result = {1}
for i = 1, 4 do
  local key = KEYS[2 + i]
  if ARGV[2 + i] == '1' then
    local held = redis.call('HGET', key, field)
    if held then
      redis.call('HDEL', key, field)
      redis.call('HINCRBY', key, 'reserved', -tonumber(string.sub(held, 1, string.find(held, ':', 1, true) - 1)))
    end
    result[1 + i] = redis.call('HINCRBY', key, 'spent', cost)
    redis.call('EXPIRE', key, tonumber(ARGV[6 + i]))
  else
    result[1 + i] = -1
  end
end
for j = 12, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[2], ARGV[j], ARGV[j + 1])
end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[11]))
return result
