-- extend-lock-1: renews a single-flight lock while its holder is still computing.
-- KEYS[1] lock key
-- ARGV[1] holder token
-- ARGV[2] new lifetime, ms
-- returns 1 when renewed, 0 when the lock was not (or no longer) ours
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 0
