"""The Lua scripts of RedisBus: each one runs atomically inside Redis.

Atomicity is the point: ``PUBLISH_EVENT`` numbers, stores and announces an event in one
step, so every process sees a room's events in seq order with no gaps.
"""

__all__ = ["PUBLISH_EVENT", "REPLAY", "HIT", "TAKE", "LEASE_ACQUIRE", "LEASE_RENEW", "LEASE_RELEASE"]

#: KEYS: seq, replay zset. ARGV: payload json, window size, ttl seconds, channel.
#: Members are "seq|json" (the same bytes as the pub/sub message), unique even when two
#: events have identical payloads.
PUBLISH_EVENT = """
local seq = redis.call('INCR', KEYS[1])
local message = seq .. '|' .. ARGV[1]
local window = tonumber(ARGV[2])
if window > 0 then
  redis.call('ZADD', KEYS[2], seq, message)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(window + 1))
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[4], message)
return seq
"""

#: KEYS: seq, replay zset. ARGV: after seq. Returns {current seq, {members after it...}}.
REPLAY = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
return {current, redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')}
"""

#: The sliding window both limits share: ``now`` (ARGV[1], or Redis' own clock when ''),
#: ``window`` and ``limit`` (ARGV[2], ARGV[3]); what left the window is dropped first.
_SLIDING_WINDOW = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
"""

#: KEYS: hits zset. ARGV: now seconds ('' = Redis' clock), window seconds, limit, unique member.
#: Only the newest limit+1 hits can change the answer, so the zset never grows past that.
HIT = _SLIDING_WINDOW + """
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(limit + 2))
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
if redis.call('ZCARD', KEYS[1]) <= limit then return 1 end
return 0
"""

#: KEYS: slots zset. ARGV: now seconds ('' = Redis' clock), window seconds, limit, member.
#: Returns '0' when the slot was taken, else the seconds until one frees (as a string:
#: Lua numbers come back truncated to integers). A refused request records nothing.
TAKE = _SLIDING_WINDOW + """
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return '0'
end
local freeing = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return tostring(math.max(0.001, tonumber(freeing[2]) + window - now))
"""

#: KEYS: lease, epoch counter. ARGV: owner, lease ms, epoch memory ms.
#: Returns the new epoch (> 0) or minus the milliseconds left on the current holder's lease.
LEASE_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local epoch = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return epoch
end
return -math.max(redis.call('PTTL', KEYS[1]), 1)
"""

#: KEYS: lease, epoch counter. ARGV: owner, lease ms, epoch memory ms. Compare-and-renew: 1 if still ours.
LEASE_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

#: KEYS: lease. ARGV: owner. Compare-and-delete.
LEASE_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
