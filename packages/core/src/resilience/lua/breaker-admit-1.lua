-- breaker-admit-1.lua: may a worker call the route now? One probe per reset period cluster-wide.
-- KEYS[1]  the route's breaker hash: `until` (open until, ms), `probe_until` (probe lease end, ms)
-- ARGV[1]  probe lease, ms: how long one probe may take before another worker may probe
-- returns  {state, ms}: {0, 0} closed; {1, ms} open for ms more; {2, ms} half-open with the probe
--          held elsewhere for ms more; {3, 0} half-open and the caller now holds the probe lease
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local open_until = tonumber(redis.call('HGET', KEYS[1], 'until'))
if not open_until then return {0, 0} end
if now < open_until then return {1, open_until - now} end
local probe_until = tonumber(redis.call('HGET', KEYS[1], 'probe_until'))
if probe_until and now < probe_until then return {2, probe_until - now} end
redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[1]))
return {3, 0}
