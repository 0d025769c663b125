#!/usr/bin/env tarantool
-- peer.lua: one tarantool SWIM node (require('swim'), Debian's tarantool 2.6) for meshd's
-- side-by-side benchmark (bench/peers/tarantool). Runs as a plain tarantool script (no
-- box.cfg): the SWIM instance is driven by tarantool's event loop.
--
--   tarantool peer.lua --index I --bind IP:PORT [--seeds IP:PORT[,IP:PORT...]]
--       [--profile default|fast|fastest] [--heartbeat S] [--ack-timeout S]
--       [--writer --updates U --rate R [--value-size B] [--start-after S]]
--       [--expect N] [--out FILE] [--ctl PATH] [--duration S] [--no-quit]
--
-- Identity: member UUID 00000000-0000-4000-8000-<I as 12 digits>, name "n<I>" (the name
-- of any member is derived from its UUID, so no name travels on the wire).
--
-- Updates: the writer originates U updates at R/s (absolute schedule) through its own
-- SWIM payload: swim:set_payload({seq, origin_ns, value}). SWIM keeps ONE payload per
-- member (last writer wins), so a receiver sees only the newest payload when its next
-- news about the writer arrives; overwritten sequence numbers are never observed. Each
-- receiver logs an "apply" for every sequence number it observes (strictly increasing;
-- "skipped" counts the numbers jumped over).
--
-- JSON lines written to --out (the memberlist peer's event format, so the analysis can
-- share code):
--   {"ev":"start",...}  config, pid, CPU at start
--   {"ev":"member","node":..,"state":"alive|suspected|dead|left|dropped","t_ns":..}
--   {"ev":"ready","members":N,"t_ns":..}         first time N members are alive
--   {"ev":"apply","origin":..,"seq":..,"origin_ns":..,"apply_ns":..,"skipped":..}
--   {"ev":"cpu","mark":i,"t_ns":..,"utime_ns":..,"stime_ns":..}   on a "mark" command
--   {"ev":"writer_start"|"writer_done",...}      writer only
--   {"ev":"stopping","why":..,"t_ns":..}         SIGTERM/SIGINT, "stop"/"quit", --duration
--   {"ev":"summary",...}                          counts, CPU at start and end
-- Timestamps are CLOCK_REALTIME ns (clock.realtime64()); every node runs on one host,
-- so origin_ns and apply_ns share one clock. CPU is getrusage(RUSAGE_SELF) (all threads).
--
-- Control: tarantool has no Lua signal handlers (SIGUSR1 = checkpoint, SIGUSR2 kills), so
-- the driver sends one-word datagrams to a unix socket (--ctl PATH): "mark" (CPU mark),
-- "start" (writer: begin the update stream), "quit" (graceful leave: swim:quit()
-- broadcasts "left"), "stop" (stop without leave). The socket is event-driven: no idle
-- polling. SIGTERM/SIGINT run box.ctl.on_shutdown: swim:quit() (unless --no-quit) and exit.

local swim = require('swim')
local clock = require('clock')
local fiber = require('fiber')
local json = require('json')
local socket = require('socket')
local ffi = require('ffi')

ffi.cdef [[
struct meshbench_timeval { long tv_sec; long tv_usec; };
struct meshbench_rusage {
    struct meshbench_timeval ru_utime;
    struct meshbench_timeval ru_stime;
    long ru_rest[14];
};
int getrusage(int who, struct meshbench_rusage *usage);
int getpid(void);
]]

------------------------------------------------------------------ arguments

local opt = {
    seeds = '', profile = 'default', writer = false, updates = 100, rate = 50,
    value_size = 16, start_after = 0, expect = 0, duration = 300, quit = true,
}
local kinds = {  -- option -> value kind
    index = 'num', bind = 'str', seeds = 'str', profile = 'str', heartbeat = 'num',
    ack_timeout = 'num', updates = 'num', rate = 'num', value_size = 'num',
    start_after = 'num', expect = 'num', out = 'str', ctl = 'str', duration = 'num',
}
do
    local i = 1
    while i <= #arg do
        local k = arg[i]:match('^%-%-(.+)$')
        if not k then error('peer.lua: unexpected argument ' .. arg[i]) end
        local eqv
        k, eqv = k:match('^([^=]+)=?(.*)$')
        if eqv ~= '' then table.insert(arg, i + 1, eqv) end -- --key=value
        local key = k:gsub('%-', '_')
        if key == 'writer' then
            opt.writer = true
        elseif key == 'no_quit' then
            opt.quit = false
        elseif kinds[key] then
            local v = arg[i + 1]
            if v == nil then error('peer.lua: --' .. k .. ' needs a value') end
            if kinds[key] == 'num' then
                opt[key] = tonumber(v)
                if opt[key] == nil then error('peer.lua: --' .. k .. ' must be a number') end
            else
                opt[key] = v
            end
            i = i + 1
        else
            error('peer.lua: unknown option --' .. k)
        end
        i = i + 1
    end
end
if not opt.index or not opt.bind then
    error('peer.lua: --index and --bind are required')
end

-- Profiles. tarantool 2.6 defaults: heartbeat_rate 1 s, ack_timeout 30 s
-- (src/lib/swim/swim.c HEARTBEAT_RATE_DEFAULT / ACK_TIMEOUT_DEFAULT); a member is dead
-- after NO_ACKS_TO_DEAD = 3 unacknowledged pings and dropped NO_ACKS_TO_GC = 2 later.
local profiles = {
    default = {},                                          -- library defaults
    fast = { heartbeat_rate = 0.01, ack_timeout = 0.005 }, -- anchors.md §7
    fastest = { heartbeat_rate = 0.005, ack_timeout = 0.0025 },
}
local prof = profiles[opt.profile]
if not prof then error('peer.lua: --profile default|fast|fastest') end
local scfg = { heartbeat_rate = prof.heartbeat_rate, ack_timeout = prof.ack_timeout }
if opt.heartbeat then scfg.heartbeat_rate = opt.heartbeat end
if opt.ack_timeout then scfg.ack_timeout = opt.ack_timeout end

local function uuid_of(i) return string.format('00000000-0000-4000-8000-%012d', i) end
local function name_of(uuid)
    local n = tonumber(uuid:sub(-12))
    return n and ('n' .. n) or uuid
end
local my_name = 'n' .. opt.index

------------------------------------------------------------------ output

local out = opt.out and assert(io.open(opt.out, 'w')) or io.stdout
out:setvbuf('full')
local dirty = false
local flush_cond = fiber.cond()

local function emit_line(line, flush)
    out:write(line, '\n')
    if flush then
        out:flush()
        dirty = false
    elseif not dirty then
        dirty = true
        flush_cond:signal()
    end
end

local function emit(t, flush) emit_line(json.encode(t), flush) end

-- Flushes at most every 100 ms and only while something is buffered: the fiber sleeps
-- on a condition variable otherwise, so it adds no wakeups to the idle CPU figure.
fiber.create(function()
    fiber.name('flush')
    while true do
        if not dirty then flush_cond:wait() end
        fiber.sleep(0.1)
        if dirty then
            out:flush()
            dirty = false
        end
    end
end)

local ru = ffi.new('struct meshbench_rusage')
local function cpu_ns()
    if ffi.C.getrusage(0, ru) ~= 0 then return -1LL, -1LL end
    return ru.ru_utime.tv_sec * 1000000000LL + ru.ru_utime.tv_usec * 1000LL,
        ru.ru_stime.tv_sec * 1000000000LL + ru.ru_stime.tv_usec * 1000LL
end
local now_ns = clock.realtime64

local function i64(x) return (tostring(x):gsub('U?LL$', '')) end

------------------------------------------------------------------ SWIM

local stats = {
    sent = 0, applied = 0, skipped = 0, stale = 0, bad = 0,
    member_new = 0, member_suspected = 0, member_dead = 0, member_left = 0,
    member_dropped = 0, member_alive_again = 0,
}
local stopping = false
local ready = false
local highest = {} -- origin name -> highest sequence number observed

local start_ns = now_ns()
local u0, s0 = cpu_ns()
local version = require('tarantool').version
emit({
    ev = 'start', node = my_name, pid = ffi.C.getpid(), t_ns = start_ns, utime_ns = u0,
    stime_ns = s0, profile = opt.profile, writer = opt.writer, bind = opt.bind,
    tarantool_version = version,
    config = {
        heartbeat_rate_ms = (scfg.heartbeat_rate or 1) * 1e3,
        ack_timeout_ms = (scfg.ack_timeout or 30) * 1e3,
        library_defaults = scfg.heartbeat_rate == nil and scfg.ack_timeout == nil,
        gc_mode = 'on', no_acks_to_dead = 3, no_acks_to_gc = 2,
        payload = 'msgpack [seq, origin_ns, value]', value_size = opt.value_size,
        quit_on_sigterm = opt.quit,
    },
}, true)

local s, err = swim.new({
    uri = opt.bind, uuid = uuid_of(opt.index), heartbeat_rate = scfg.heartbeat_rate,
    ack_timeout = scfg.ack_timeout, gc_mode = 'on',
})
if not s then
    emit({ ev = 'error', msg = tostring(err), t_ns = now_ns() }, true)
    os.exit(1)
end
local self_uuid = tostring(s:self():uuid())

local function count_alive()
    local n = 0
    for _, m in s:pairs() do
        if m:status() == 'alive' then n = n + 1 end
    end
    return n
end

local logged_state = {}

-- Triggers run in a SWIM worker fiber shortly after the change (events of one member that
-- happen before it runs are merged into one call); t_ns is taken when it runs.
s:on_member_event(function(m, e)
    local t = now_ns()
    local uuid = tostring(m:uuid())
    if uuid == self_uuid then return end
    local name = name_of(uuid)
    local status = m:status()
    if e:is_new() then stats.member_new = stats.member_new + 1 end
    if (e:is_new() or e:is_new_status()) and logged_state[name] ~= status then
        if status == 'suspected' then
            stats.member_suspected = stats.member_suspected + 1
        elseif status == 'dead' then
            stats.member_dead = stats.member_dead + 1
        elseif status == 'left' then
            stats.member_left = stats.member_left + 1
        elseif status == 'alive' and logged_state[name] ~= nil then
            stats.member_alive_again = stats.member_alive_again + 1
        end
        logged_state[name] = status
        emit_line(string.format('{"ev":"member","node":"%s","state":"%s","t_ns":%s}',
            name, status, i64(t)), status ~= 'alive')
    end
    if e:is_drop() then
        stats.member_dropped = stats.member_dropped + 1
        logged_state[name] = 'dropped'
        emit_line(string.format('{"ev":"member","node":"%s","state":"dropped","t_ns":%s}',
            name, i64(t)), true)
    end
    if e:is_new_payload() or (e:is_new() and m:payload() ~= nil) then
        local p = m:payload()
        if type(p) == 'table' and type(p[1]) == 'number' and p[2] ~= nil then
            local seq = p[1]
            local hi = highest[name]
            if hi == nil or seq > hi then
                local skipped = hi == nil and 0 or (seq - hi - 1)
                highest[name] = seq
                stats.applied = stats.applied + 1
                stats.skipped = stats.skipped + skipped
                emit_line(string.format(
                    '{"ev":"apply","origin":"%s","key":"payload","seq":%d,"origin_ns":%s,' ..
                    '"apply_ns":%s,"skipped":%d}', name, seq, i64(p[2]), i64(t), skipped))
            else
                stats.stale = stats.stale + 1
            end
        elseif p ~= nil then
            stats.bad = stats.bad + 1
        end
    end
    if not ready and opt.expect > 0 and not stopping then
        local n = count_alive()
        if n >= opt.expect then
            ready = true
            emit({ ev = 'ready', members = n, t_ns = now_ns() }, true)
        end
    end
end)

------------------------------------------------------------------ stop

local done = fiber.cond()
local stopped = false

local function stop(why, leave)
    if stopped then return end
    stopped = true
    stopping = true
    emit({ ev = 'stopping', why = why, leave = leave, t_ns = now_ns() }, true)
    local u1, s1 = cpu_ns()
    local end_ns = now_ns()
    local members = s:size()
    if leave then
        -- swim:quit() sends "left" to the members and deletes the instance.
        local ok, qerr = pcall(s.quit, s)
        if not ok then emit({ ev = 'error', msg = 'quit: ' .. tostring(qerr) }) end
        fiber.sleep(0.05) -- let the leave datagrams go out
    else
        pcall(s.delete, s)
    end
    local sum = {
        ev = 'summary', node = my_name, t_ns = end_ns, start_ns = start_ns, end_ns = end_ns,
        members_at_end = members,
        cpu_start = { utime_ns = u0, stime_ns = s0 },
        cpu_end = { utime_ns = u1, stime_ns = s1 },
        cpu_pct = 100 * tonumber((u1 - u0) + (s1 - s0)) / tonumber(end_ns - start_ns),
        highest_seq = highest, dups = 0,
    }
    for k, v in pairs(stats) do sum[k] = v end
    emit(sum, true)
    done:broadcast()
end

-- SIGTERM / SIGINT: tarantool runs on_shutdown triggers (event loop still running,
-- bounded by box.ctl.set_on_shutdown_timeout, 3 s by default), then exits.
box.ctl.on_shutdown(function() stop('SIGTERM', opt.quit) end)

------------------------------------------------------------------ writer

local writer_go = fiber.cond()
local writer_started = false

local function writer()
    fiber.name('writer')
    while not ready and not stopping do fiber.sleep(0.05) end
    if opt.start_after > 0 then
        fiber.sleep(opt.start_after)
    else
        while not writer_started and not stopping do writer_go:wait() end
    end
    if stopping then return end
    local wu, ws = cpu_ns()
    emit({ ev = 'writer_start', t_ns = now_ns(), updates = opt.updates, rate = opt.rate,
        utime_ns = wu, stime_ns = ws }, true)
    local value = string.rep('v', opt.value_size)
    local interval = 1 / opt.rate
    local t0 = clock.realtime()
    for i = 0, opt.updates - 1 do
        if stopping then break end
        local d = t0 + i * interval - clock.realtime() -- absolute schedule, no drift
        if d > 0 then fiber.sleep(d) end
        if stopping then break end
        local ok, perr = s:set_payload({ i, now_ns(), value })
        if not ok then
            emit({ ev = 'error', msg = 'set_payload: ' .. tostring(perr), t_ns = now_ns() })
            break
        end
        stats.sent = stats.sent + 1
    end
    wu, ws = cpu_ns()
    emit({ ev = 'writer_done', t_ns = now_ns(), sent = stats.sent, utime_ns = wu,
        stime_ns = ws }, true)
end
if opt.writer then fiber.create(writer) end

------------------------------------------------------------------ control socket

local mark = 0
if opt.ctl then
    os.remove(opt.ctl)
    local cs = socket('AF_UNIX', 'SOCK_DGRAM', 0)
    if not cs or not cs:bind('unix/', opt.ctl) then
        emit({ ev = 'error', msg = 'ctl socket: ' .. tostring(cs and cs:error()) }, true)
        os.exit(1)
    end
    fiber.create(function()
        fiber.name('ctl')
        while not stopped do
            if cs:readable() then
                local msg = cs:recv(64)
                local cmd = msg and msg:match('^%s*(%S+)')
                if cmd == 'mark' then
                    local u, sy = cpu_ns()
                    emit({ ev = 'cpu', mark = mark, t_ns = now_ns(), utime_ns = u,
                        stime_ns = sy }, true)
                    mark = mark + 1
                elseif cmd == 'start' then
                    writer_started = true
                    writer_go:broadcast()
                elseif cmd == 'quit' then
                    fiber.create(stop, 'quit', true)
                elseif cmd == 'stop' then
                    fiber.create(stop, 'stop', false)
                elseif cmd ~= nil then
                    emit({ ev = 'error', msg = 'unknown ctl command ' .. cmd }, true)
                end
            end
        end
    end)
end

------------------------------------------------------------------ join

-- swim:probe_member(uri) pings a URI; the answer adds the seed (and the seed adds us).
-- Retried until some other member is known (the seed may still be starting), ≤ 20 s.
local seeds = {}
for u in opt.seeds:gmatch('[^,%s]+') do
    if u ~= opt.bind then table.insert(seeds, u) end
end
if #seeds > 0 then
    fiber.create(function()
        local deadline = clock.monotonic() + 20
        while s:size() < 2 and not stopping do
            for _, u in ipairs(seeds) do pcall(s.probe_member, s, u) end
            fiber.sleep(0.1)
            if clock.monotonic() > deadline then
                emit({ ev = 'error', msg = 'join failed', t_ns = now_ns() }, true)
                break
            end
        end
        if s:size() >= 2 then
            emit({ ev = 'joined', members = s:size(), t_ns = now_ns() }, true)
        end
    end)
end
if opt.expect > 0 and opt.expect <= 1 then
    ready = true
    emit({ ev = 'ready', members = 1, t_ns = now_ns() }, true)
end

------------------------------------------------------------------ lifetime

fiber.create(function()
    fiber.sleep(opt.duration)
    stop('duration', opt.quit)
end)

while not stopped do done:wait() end
out:flush()
if out ~= io.stdout then out:close() end
if opt.ctl then os.remove(opt.ctl) end
os.exit(0)
