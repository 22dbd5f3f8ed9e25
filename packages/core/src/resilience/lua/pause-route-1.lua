-- pause-route-1.lua: pauses a route after an LM 429; extends a pause, never shortens it.
-- KEYS[1]  the route's pause key
-- ARGV[1]  pause, ms
-- ARGV[2]  the channel workers hear breaker changes on (they drop their copy of "not paused")
-- ARGV[3]  the route, as the message
-- returns  the pause left, ms
local left = redis.call('PTTL', KEYS[1])
local wanted = tonumber(ARGV[1])
if left < wanted then
  redis.call('SET', KEYS[1], '1', 'PX', wanted)
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return wanted
end
return left
