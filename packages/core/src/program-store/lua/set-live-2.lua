-- set-live-2: makes a stored version live (a rollback, or a promotion), remembering the one it
-- replaces as "previous"; with no version named, the previous one comes back.
-- KEYS[1] meta hash: live, previous
-- KEYS[2] bodies hash: version -> JSON
-- ARGV[1] version to make live, or "" for the previous one
-- ARGV[2] the config file's version of this program, or "" (live when no pointer is set)
-- returns {live, previous}, or {"", "no_previous"} / {"", "no_such_version"}
local live = redis.call('HGET', KEYS[1], 'live')
if not live and ARGV[2] ~= '' then live = ARGV[2] end
local target = ARGV[1]
if target == '' then
  target = redis.call('HGET', KEYS[1], 'previous')
  if not target then return {'', 'no_previous'} end
end
if target ~= ARGV[2] and redis.call('HEXISTS', KEYS[2], target) == 0 then return {'', 'no_such_version'} end
if live and live ~= target then redis.call('HSET', KEYS[1], 'previous', live) end
redis.call('HSET', KEYS[1], 'live', target)
return {target, live or ''}
