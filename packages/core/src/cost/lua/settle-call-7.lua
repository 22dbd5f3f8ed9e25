--[[
  Settles an LM call once: releases its budget reservation, adds the real cost to every active
  window's spend and the call's usage to the day's ledger. Idempotent: a settlement retried
  after a lost reply (Redis went away mid-call) changes nothing, so every call is counted
  exactly once.

  A reserved call (reserve-call-5.lua recorded it) is settled by removing its record. A call
  no budget applies to was never recorded (that would cost a round trip per call), so its first
  settlement leaves a mark instead, which later settlements of the same process remove once
  this one's reply has reached it (ARGV[15..]): marks stay bounded by the settlements in flight
  (a process that died leaves its few to expire with the record lifetime).

  KEYS[1]     the calls in flight (see reserve-call-5.lua)
  KEYS[2]     marks of settled unrecorded calls: a sorted set of call ids scored by expiry
  KEYS[3]     the usage ledger hash of the call's UTC day
  KEYS[4..7]  the budget window hashes the reservation was made in
  ARGV[1]     call id
  ARGV[2]     real cost, micro-dollars
  ARGV[3]     1 when the call was recorded by reserve-call-5.lua, 0 when not
  ARGV[4]     now, ms
  ARGV[5]     how long a mark lives (a settlement may be retried that long), ms
  ARGV[6..9]  1 when KEYS[i+3] has a budget, 0 to leave it alone
  ARGV[10..13] TTL of KEYS[i+3], seconds
  ARGV[14]    TTL of the ledger hash, seconds
  ARGV[15]    n: how many acknowledged call ids follow (their marks are removed)
  ARGV[16..15+n] acknowledged call ids
  ARGV[16+n..] ledger field, increment, field, increment, ...

  Returns {0} when the call was settled before (or its record expired); else
  {1, spent_1, ..., spent_4}: each window's spend after settling (-1 for inactive windows).
]]
local acks = tonumber(ARGV[15])
if acks > 0 then
  redis.call('ZREM', KEYS[2], unpack(ARGV, 16, 15 + acks))
end
if ARGV[3] == '1' then
  if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return {0} end
else
  local now = tonumber(ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZADD', KEYS[2], 'NX', now + tonumber(ARGV[5]), ARGV[1]) == 0 then return {0} end
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5]))
end
local field = 'r:' .. ARGV[1]
local cost = tonumber(ARGV[2])
local result = {1}
for i = 1, 4 do
  local key = KEYS[3 + i]
  if ARGV[5 + i] == '1' then
    local held = redis.call('HGET', key, field)
    if held then
      redis.call('HDEL', key, field)
      redis.call('HINCRBY', key, 'reserved', -tonumber(string.sub(held, 1, string.find(held, ':', 1, true) - 1)))
    end
    result[1 + i] = redis.call('HINCRBY', key, 'spent', cost)
    redis.call('EXPIRE', key, tonumber(ARGV[9 + i]))
  else
    result[1 + i] = -1
  end
end
for j = 16 + acks, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[3], ARGV[j], ARGV[j + 1])
end
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[14]))
return result
