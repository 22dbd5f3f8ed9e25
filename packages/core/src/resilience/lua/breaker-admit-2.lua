-- breaker-admit-2.lua: may a worker call the route now? One probe per reset period cluster-wide.
-- Reads the route's 429 pause in the same step, so admission costs one round trip.
-- KEYS[1]  the route's breaker hash: `until` (open until, ms), `probe_until` (probe lease end, ms)
-- KEYS[2]  the route's 429 pause key (pause-route-1.lua; same hash tag as KEYS[1])
-- ARGV[1]  probe lease, ms: how long one probe may take before another worker may probe
-- returns  {state, ms, paused}: {0, 0} closed; {1, ms} open for ms more; {2, ms} half-open with the
--          probe held elsewhere for ms more; {3, 0} half-open and the caller now holds the probe
--          lease. paused: the route's pause left, ms (0 or less: not paused)
local paused = redis.call('PTTL', KEYS[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local open_until = tonumber(redis.call('HGET', KEYS[1], 'until'))
if not open_until then return {0, 0, paused} end
if now < open_until then return {1, open_until - now, paused} end
local probe_until = tonumber(redis.call('HGET', KEYS[1], 'probe_until'))
if probe_until and now < probe_until then return {2, probe_until - now, paused} end
redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[1]))
return {3, 0, paused}
