-- fill-and-release-2: a leader's last round trip: stores the answer, then releases its
-- single-flight lock if it still holds it (waiters polling with read-or-lock find the answer).
-- KEYS[1] value key
-- KEYS[2] lock key (same hash tag as the value)
-- ARGV[1] the encoded answer
-- ARGV[2] its lifetime, ms
-- ARGV[3] holder token
-- returns 1 when the lock was ours and is released, 0 when it was not (the answer is stored either way)
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
if redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
