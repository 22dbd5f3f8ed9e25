-- pause-route-1.lua: pauses a route after an LM 429; extends a pause, never shortens it.
-- KEYS[1]  the route's pause key
-- ARGV[1]  pause, ms
-- returns  the pause left, ms
local left = redis.call('PTTL', KEYS[1])
local wanted = tonumber(ARGV[1])
if left < wanted then
  redis.call('SET', KEYS[1], '1', 'PX', wanted)
  return wanted
end
return left
