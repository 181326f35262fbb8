/* redis_scripts.h - the Lua scripts of the redis store (redis.c only). */
#ifndef CRUMB_REDIS_SCRIPTS_H
#define CRUMB_REDIS_SCRIPTS_H

/* Each runs atomically on the server; ARGV strings are written by
 * redis.c, and every field read back is checked again there. */

#define LIVE_FN                                                              \
    "local function live(v, e, now)\n"                                       \
    "  v, e = tonumber(v), tonumber(e)\n"                                    \
    "  return v ~= nil and v > 0 and e ~= nil and (e == 0 or e > now)\n"     \
    "end\n"

static const char *const scripts[S_COUNT] = {
    /* KEYS[1] record; ARGV: expected now data version created last_seen
     * expires_at user addr agent ttl_ms hex uprefix. An update overwrites
     * the fields of the live record in place (a DEL first cost Redis a
     * quarter of the script); a creation starts from an empty key. */
    [S_SAVE] = LIVE_FN
    "local k = KEYS[1]\n"
    "local cur = redis.call('HMGET', k, 'version', 'expires_at', 'user')\n"
    "local ok = live(cur[1], cur[2], tonumber(ARGV[2]))\n"
    "if ARGV[1] == '0' then\n"
    "  if ok then return -1 end\n"
    "  redis.call('DEL', k)\n"
    "else\n"
    "  if not ok then return -2 end\n"
    "  if cur[1] ~= ARGV[1] then return -1 end\n"
    "end\n"
    "redis.call('HSET', k, 'data', ARGV[3], 'version', ARGV[4],\n"
    "  'created', ARGV[5], 'last_seen', ARGV[6], 'expires_at', ARGV[7],\n"
    "  'user', ARGV[8], 'addr', ARGV[9], 'agent', ARGV[10])\n"
    "local ttl = tonumber(ARGV[11])\n"
    "if ttl > 0 then redis.call('PEXPIRE', k, ttl)\n"
    "elseif ARGV[1] ~= '0' then redis.call('PERSIST', k) end\n"
    "local old = cur[3]\n"
    "if type(old) == 'string' and old ~= '' and old ~= ARGV[8] then\n"
    "  redis.call('SREM', ARGV[13] .. old, ARGV[12])\n"
    "end\n"
    "if ARGV[8] ~= '' then\n"
    "  local uk = ARGV[13] .. ARGV[8]\n"
    "  local existed = redis.call('EXISTS', uk)\n"
    "  redis.call('SADD', uk, ARGV[12])\n"
    "  if ttl == 0 then redis.call('PERSIST', uk)\n"
    "  else\n"
    "    local pt = redis.call('PTTL', uk)\n"
    "    if existed == 0 or (pt >= 0 and pt < ttl) then\n"
    "      redis.call('PEXPIRE', uk, ttl)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return 1\n",

    /* KEYS[1] record; ARGV: now last_seen expires_at ttl_ms uprefix */
    [S_TOUCH] = LIVE_FN
    "local cur = redis.call('HMGET', KEYS[1], 'version', 'expires_at',\n"
    "  'user')\n"
    "if not live(cur[1], cur[2], tonumber(ARGV[1])) then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'last_seen', ARGV[2], 'expires_at',\n"
    "  ARGV[3])\n"
    "local ttl = tonumber(ARGV[4])\n"
    "if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl)\n"
    "else redis.call('PERSIST', KEYS[1]) end\n"
    "local u = cur[3]\n"
    "if type(u) == 'string' and u ~= '' then\n"
    "  local uk = ARGV[5] .. u\n"
    "  if ttl == 0 then redis.call('PERSIST', uk)\n"
    "  else\n"
    "    local pt = redis.call('PTTL', uk)\n"
    "    if pt >= 0 and pt < ttl then redis.call('PEXPIRE', uk, ttl) end\n"
    "  end\n"
    "end\n"
    "return 1\n",

    /* KEYS[1] record; ARGV: hex uprefix */
    [S_DESTROY] =
    "local u = redis.call('HGET', KEYS[1], 'user')\n"
    "local n = redis.call('DEL', KEYS[1])\n"
    "if type(u) == 'string' and u ~= '' then\n"
    "  redis.call('SREM', ARGV[2] .. u, ARGV[1])\n"
    "end\n"
    "return n\n",

    /* KEYS[1] user index; ARGV: except-hex-or-empty sprefix user */
    [S_DESTROY_USER] =
    "local n = 0\n"
    "for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  if h ~= ARGV[1] then\n"
    "    local k = ARGV[2] .. h\n"
    "    if redis.call('HGET', k, 'user') == ARGV[3] then\n"
    "      n = n + redis.call('DEL', k)\n"
    "    end\n"
    "    redis.call('SREM', KEYS[1], h)\n"
    "  end\n"
    "end\n"
    "return n\n",

    /* KEYS[1] user index; ARGV: now sprefix user. Returns 8 items per
     * live record; drops members that are gone, moved or unreadable. */
    [S_LIST] = LIVE_FN
    "local now = tonumber(ARGV[1])\n"
    "local out = {}\n"
    "for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local c = redis.call('HMGET', ARGV[2] .. h, 'version', 'created',\n"
    "    'last_seen', 'expires_at', 'user', 'addr', 'agent')\n"
    "  if c[5] ~= ARGV[3] or tonumber(c[1]) == nil\n"
    "      or tonumber(c[4]) == nil then\n"
    "    redis.call('SREM', KEYS[1], h)\n"
    "  elseif live(c[1], c[4], now) then\n"
    "    out[#out + 1] = h\n"
    "    for i = 1, 7 do out[#out + 1] = c[i] end\n"
    "  end\n"
    "end\n"
    "return out\n",

    /* KEYS[1] user index; ARGV: now sprefix user. Deletes the records
     * expired at now, drops members that are gone or moved. */
    [S_GC_USER] = LIVE_FN
    "local now = tonumber(ARGV[1])\n"
    "local n = 0\n"
    "for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local k = ARGV[2] .. h\n"
    "  local c = redis.call('HMGET', k, 'version', 'expires_at', 'user')\n"
    "  if c[3] ~= ARGV[3] then\n"
    "    redis.call('SREM', KEYS[1], h)\n"
    "  elseif not live(c[1], c[2], now) then\n"
    "    n = n + redis.call('DEL', k)\n"
    "    redis.call('SREM', KEYS[1], h)\n"
    "  end\n"
    "end\n"
    "return n\n",

    /* KEYS[1] counter; ARGV: delta now exp ttl_ms */
    [S_COUNTER] =
    "local h = redis.call('HMGET', KEYS[1], 'v', 'exp')\n"
    "local e = tonumber(h[2])\n"
    "if tonumber(h[1]) == nil or e == nil\n"
    "    or (e ~= 0 and e <= tonumber(ARGV[2])) then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  redis.call('HSET', KEYS[1], 'v', '0', 'exp', ARGV[3])\n"
    "  if tonumber(ARGV[4]) > 0 then\n"
    "    redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "  end\n"
    "end\n"
    "return redis.call('HINCRBY', KEYS[1], 'v', ARGV[1])\n",

    /* KEYS[1] kv; ARGV: data exp ttl_ms */
    [S_KV_SET] =
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], 'd', ARGV[1], 'exp', ARGV[2])\n"
    "if tonumber(ARGV[3]) > 0 then\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "end\n"
    "return 1\n",

    /* KEYS[1] log: a list whose first element is the log's expires_at at
     * the caller's clock, the items after it. ARGV: item now exp cap
     * ttl_ms */
    [S_LOG_APPEND] =
    "local k = KEYS[1]\n"
    "local h = redis.call('LINDEX', k, 0)\n"
    "if h then\n"
    "  local e = tonumber(h)\n"
    "  if e == nil or e <= tonumber(ARGV[2]) then\n"
    "    redis.call('DEL', k)\n"
    "  else\n"
    "    redis.call('LPOP', k)\n"
    "  end\n"
    "end\n"
    "redis.call('RPUSH', k, ARGV[1])\n"
    "redis.call('LTRIM', k, -tonumber(ARGV[4]), -1)\n"
    "redis.call('LPUSH', k, ARGV[3])\n"
    "redis.call('PEXPIRE', k, ARGV[5])\n"
    "return 1\n",

    /* S_LOG_APPEND for several logs in one call: per call, a script costs
     * Redis several times the six list commands it runs. KEYS[i] the
     * i-th append's log; ARGV: cap ttl_ms, then item now exp for each
     * append. Each append is done as S_LOG_APPEND does it, in order; one
     * that fails (a key of another type) does not stop the others.
     * Returns how many were done. */
    [S_LOG_APPEND_MANY] =
    "local cap, ttl = tonumber(ARGV[1]), ARGV[2]\n"
    "local function append(k, item, now, exp)\n"
    "  local h = redis.call('LINDEX', k, 0)\n"
    "  if h then\n"
    "    local e = tonumber(h)\n"
    "    if e == nil or e <= now then\n"
    "      redis.call('DEL', k)\n"
    "    else\n"
    "      redis.call('LPOP', k)\n"
    "    end\n"
    "  end\n"
    "  redis.call('RPUSH', k, item)\n"
    "  redis.call('LTRIM', k, -cap, -1)\n"
    "  redis.call('LPUSH', k, exp)\n"
    "  redis.call('PEXPIRE', k, ttl)\n"
    "end\n"
    "local n = 0\n"
    "for i = 1, #KEYS do\n"
    "  local j = 3 * i\n"
    "  if pcall(append, KEYS[i], ARGV[j], tonumber(ARGV[j + 1]),\n"
    "      ARGV[j + 2]) then\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n",
};

#endif
