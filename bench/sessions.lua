-- sessions.lua - wrk script: each connection its own session.
-- Usage: wrk -tT ... -s bench/sessions.lua URL -- COOKIE_FILE T
-- COOKIE_FILE holds one "Cookie: k=v" line per session (as many as
-- connections). wrk's Lua API has no connection identity: request() is
-- called each time a connection is ready to send, one request in flight
-- per connection. setup() gives thread t the sessions t, t+T, t+2T...,
-- and request() takes them in turn, so the C/T requests a thread has in
-- flight carry C/T different sessions: two requests of one session overlap
-- only when responses come back far out of order.
-- (wrk runs each thread's init() right after its setup(), before the next
-- thread exists, so the thread count comes as an argument.)
local made = 0

function setup(thread)
    thread:set("id", made)
    made = made + 1
end

local mine = {}
local next_i = 1

function init(args)
    local nthreads = tonumber(args[2]) or 1
    local all = {}
    for line in io.lines(args[1]) do
        local v = line:match("^Cookie: (.+)$")
        if v then
            table.insert(all, v)
        end
    end
    for i = id + 1, #all, nthreads do
        table.insert(mine, all[i])
    end
    if #mine == 0 then
        error("sessions.lua: no session for thread " .. id)
    end
end

function request()
    local c = mine[next_i]
    next_i = next_i % #mine + 1
    return wrk.format(nil, nil, { ["Cookie"] = c })
end
