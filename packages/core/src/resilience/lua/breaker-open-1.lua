-- breaker-open-1.lua: opens the route's breaker for every worker (server clock, so workers agree).
-- KEYS[1]  the route's breaker hash
-- ARGV[1]  reset timeout, ms (open this long, then one probe)
-- ARGV[2]  TTL of the hash, ms (an abandoned breaker closes by itself eventually)
-- ARGV[3]  why: "failures" (a worker's error rate) or "probe" (the probe call failed)
-- ARGV[4]  the channel workers hear breaker changes on (they drop their copy of "closed")
-- ARGV[5]  the route, as the message
-- returns  the time the breaker half-opens, ms since the epoch
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local open_until = now + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'opened_at', now, 'until', open_until, 'reason', ARGV[3])
redis.call('HDEL', KEYS[1], 'probe_until')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('PUBLISH', ARGV[4], ARGV[5])
return open_until
