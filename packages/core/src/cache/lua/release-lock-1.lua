-- release-lock-1: releases a single-flight lock only if this holder still owns it, optionally
-- leaving a short-lived marker in its place (e.g. "the answer is not cacheable: compute it yourselves").
-- KEYS[1] lock key
-- ARGV[1] holder token
-- ARGV[2] marker to leave ("" = delete the lock)
-- ARGV[3] marker lifetime, ms
-- returns 1 when released, 0 when the lock was not (or no longer) ours
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
end
return 1
