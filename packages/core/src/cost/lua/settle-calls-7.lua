--[[
  Settles LM calls once each: releases a call's budget reservation, adds its real cost to every
  active window's spend and its usage to the day's ledger. Idempotent: a settlement retried
  after a lost reply (Redis went away mid-call) changes nothing, so every call is counted
  exactly once. One call or several (a worker's settlements that were ready together, all with
  the same keys), in order: each call's spends are those right after it.

  A reserved call (reserve-call-5.lua recorded it) is settled by removing its record. A call
  no budget applies to was never recorded (that would cost a round trip per call), so its first
  settlement leaves a mark instead, which later settlements of the same process remove once
  this one's reply has reached it (the acknowledged ids): marks stay bounded by the
  settlements in flight (a process that died leaves its few to expire with the record lifetime).

  KEYS[1]     the calls in flight (see reserve-call-5.lua)
  KEYS[2]     marks of settled unrecorded calls: a sorted set of call ids scored by expiry
  KEYS[3]     the usage ledger hash of the calls' UTC day
  KEYS[4..7]  the budget window hashes the reservations were made in
  ARGV[1]     now, ms
  ARGV[2]     how long a mark lives (a settlement may be retried that long), ms
  ARGV[3..6]  1 when KEYS[i+3] has a budget, 0 to leave it alone
  ARGV[7..10] TTL of KEYS[i+3], seconds
  ARGV[11]    TTL of the ledger hash, seconds
  ARGV[12]    a: how many acknowledged call ids follow (their marks are removed)
  ARGV[13..12+a] acknowledged call ids
  then per call: id, real cost (micro-dollars), 1 when recorded by reserve-call-5.lua else 0,
              m, then m ledger field, increment pairs

  Returns one reply per call: {0} when it was settled before (or its record expired); else
  {1, spent_1, ..., spent_4}: each window's spend after settling it (-1 for inactive windows).
]]
local now = tonumber(ARGV[1])
local acks = tonumber(ARGV[12])
if acks > 0 then
  redis.call('ZREM', KEYS[2], unpack(ARGV, 13, 12 + acks))
end
local swept = false
local marked = false
local applied = false
local replies = {}
-- The calls' ledger increments, summed per field and written once at the end: the calls share
-- one day's hash, so a batch of n calls costs one HINCRBY per field rather than n.
local usage = {}
local fields = {}
local at = 13 + acks
while at <= #ARGV do
  local id = ARGV[at]
  local cost = tonumber(ARGV[at + 1])
  local recorded = ARGV[at + 2] == '1'
  local pairs_at = at + 4
  local next_at = pairs_at + 2 * tonumber(ARGV[at + 3])
  local first
  if recorded then
    first = redis.call('ZREM', KEYS[1], id) == 1
  else
    if not swept then
      redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
      swept = true
    end
    first = redis.call('ZADD', KEYS[2], 'NX', now + tonumber(ARGV[2]), id) == 1
    marked = marked or first
  end
  if first then
    applied = true
    local field = 'r:' .. id
    local reply = {1}
    for i = 1, 4 do
      local key = KEYS[3 + i]
      if ARGV[2 + i] == '1' then
        local held = redis.call('HGET', key, field)
        if held then
          redis.call('HDEL', key, field)
          redis.call('HINCRBY', key, 'reserved', -tonumber(string.sub(held, 1, string.find(held, ':', 1, true) - 1)))
        end
        reply[1 + i] = redis.call('HINCRBY', key, 'spent', cost)
      else
        reply[1 + i] = -1
      end
    end
    for j = pairs_at, next_at - 1, 2 do
      local name = ARGV[j]
      if usage[name] == nil then
        fields[#fields + 1] = name
        usage[name] = 0
      end
      usage[name] = usage[name] + tonumber(ARGV[j + 1])
    end
    replies[#replies + 1] = reply
  else
    replies[#replies + 1] = {0}
  end
  at = next_at
end
for _, name in ipairs(fields) do
  -- As plain digits: how redis.call writes a Lua number has changed between Redis versions
  -- (%.17g, later a shortest form), and HINCRBY takes only an integer's digits.
  redis.call('HINCRBY', KEYS[3], name, string.format('%d', usage[name]))
end
if applied then
  for i = 1, 4 do
    if ARGV[2 + i] == '1' then redis.call('EXPIRE', KEYS[3 + i], tonumber(ARGV[6 + i])) end
  end
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[11]))
end
if marked then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2])) end
return replies
