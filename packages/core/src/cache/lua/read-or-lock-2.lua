-- read-or-lock-2: a miss's first round trip: the stored answer if there is one, else the
-- single-flight lock for this caller if it is free, else what holds the lock (a holder's token,
-- or a marker such as "not cacheable"). Reading and locking in one step also means the answer
-- cannot be stored between our read and our lock.
-- KEYS[1] value key
-- KEYS[2] lock key (same hash tag as the value)
-- ARGV[1] holder token
-- ARGV[2] lock lifetime, ms
-- returns {value, 0, false} | {false, 1, false} (locked for us) | {false, 0, lock value or false}
local value = redis.call('GET', KEYS[1])
if value then
  return {value, 0, false}
end
if redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[2]), 'NX') then
  return {false, 1, false}
end
return {false, 0, redis.call('GET', KEYS[2])}
