-- put-program-3: stores a new immutable version of a program (or finds the latest, when it has
-- the same content), optionally makes it live, and keeps at most ARGV[6] versions (never the
-- live or the previously live one).
-- KEYS[1] meta hash: latest, latest_sha, live, previous
-- KEYS[2] bodies hash: version -> JSON
-- KEYS[3] set of program names
-- ARGV[1] program name
-- ARGV[2] the version's JSON
-- ARGV[3] sha256 of the JSON
-- ARGV[4] lowest number the new version may follow (the config file's numeric version, or 0)
-- ARGV[5] "1": make it live
-- ARGV[6] versions to keep
-- ARGV[7] "1": the config file defines a version of this program (so one is live without a pointer)
-- returns {version, created (1) or found (0), live version or ""}
local latest = tonumber(redis.call('HGET', KEYS[1], 'latest') or '0')
local version
local created = 0
if latest > 0 and redis.call('HGET', KEYS[1], 'latest_sha') == ARGV[3] and redis.call('HEXISTS', KEYS[2], tostring(latest)) == 1 then
  version = latest
else
  version = math.max(latest, tonumber(ARGV[4])) + 1
  redis.call('HSET', KEYS[2], tostring(version), ARGV[2])
  redis.call('HSET', KEYS[1], 'latest', version, 'latest_sha', ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[1])
  created = 1
end
local v = tostring(version)
local live = redis.call('HGET', KEYS[1], 'live')
if ARGV[5] == '1' or (not live and ARGV[7] ~= '1') then
  if live ~= v then
    if live then redis.call('HSET', KEYS[1], 'previous', live) end
    redis.call('HSET', KEYS[1], 'live', v)
    live = v
  end
end
local previous = redis.call('HGET', KEYS[1], 'previous')
local keep = tonumber(ARGV[6])
local versions = redis.call('HKEYS', KEYS[2])
if #versions > keep then
  table.sort(versions, function(a, b) return tonumber(a) < tonumber(b) end)
  local excess = #versions - keep
  for _, old in ipairs(versions) do
    if excess == 0 then break end
    if old ~= live and old ~= previous and old ~= v then
      redis.call('HDEL', KEYS[2], old)
      excess = excess - 1
    end
  end
end
return {version, created, live or ''}
