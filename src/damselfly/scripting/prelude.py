"""The Lua side of the sandbox: the `redis` library, the error handler and the read-only globals.

`PRELUDE` is one Lua chunk run once per runtime (scripting/engine.py). It receives the Python
callbacks as arguments and keeps them only as upvalues of Lua closures, so no Python object is
ever reachable from a script (lupa's `python` table is removed with the other unsafe globals).
It returns the few Lua functions the engine calls: `compile`, `run` (KEYS/ARGV, the error
handler), `call` and `load_library` (functions), `set_global`, `memory`, `dump`/`load_binary`
(compiled scripts go through bytecode once, see Engine.compile) and `install_hook` (the count
hook, installed once per runtime and left on: see its comment). lupa reads
the global `debug` from C around calls (for tracebacks): a missing global read with no Lua
caller is nil, not the sandbox's error, or Lua would panic.

Redis 7.0 patches Lua to have read-only tables; PUC Lua 5.1 has none, so each protected table
(the globals and every library table) is emptied and given a metatable whose `__index` is a
hidden table with the contents and whose `__newindex` raises Redis's error. `pairs`, `next`,
`rawget`, `rawset` and `setmetatable` see through or refuse such a proxy like Redis's patched VM.
Error positions: the handler names the first frame that is neither a C function nor this
prelude (whatever chunk name lupa gave it), which is where Redis's handler points too.
"""

from __future__ import annotations

PRELUDE = r"""
local py_call, py_pcall, py_take_error, py_log, py_sha1hex, py_setresp, py_set_repl, py_hook,
      py_acl_check, py_register, version, version_num = ...

local type, error, tostring, tonumber, select, unpack = type, error, tostring, tonumber, select, unpack
local raw_next, raw_pairs, raw_rawget, raw_rawset = next, pairs, rawget, rawset
local raw_setmetatable, raw_getmetatable, raw_pcall = setmetatable, getmetatable, pcall
local raw_loadstring, raw_load = loadstring, load
local sethook, getinfo = debug.sethook, debug.getinfo
local ipairs, xpcall, concat = ipairs, xpcall, table.concat
local INTERNAL = getinfo(1, 'S').source  -- this chunk's name, as lupa gave it
local LIBRARIES = '=damselfly'  -- the chunk name of cjson & co (scripting/libraries.py)
local string_dump = string.dump
local READONLY = 'Attempt to modify a readonly table'

-- Redis's lua error format: "-CODE msg" keeps CODE, anything else gets ERR; no CR/LF at the ends.
local function error_text(s)
  local code, msg
  if s:sub(1, 1) == '-' then
    local sp = s:find(' ', 1, true)
    if sp then code, msg = s:sub(2, sp - 1), s:sub(sp + 1) else code, msg = 'ERR', s:sub(2) end
  else
    code, msg = 'ERR', s
  end
  msg = msg:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
  return code .. ' ' .. msg
end

local redis = {}

-- redis.call and redis.pcall are the Python callables themselves: a call to them is a C call
-- for Lua, so `return redis.call(...)` keeps the script's frame (a Lua wrapper would be
-- tail-called away) and errors point at the script's line. redis.call raises a Python exception
-- that reaches Lua as an opaque userdata; `lua_error_value` swaps it for the Redis error table.
redis.call = py_call
redis.pcall = py_pcall

local function lua_error_value(e)
  if type(e) == 'userdata' then
    local t = py_take_error()
    if t ~= nil then return t end
  end
  return e
end

function redis.error_reply(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  return {err = error_text(e)}
end

function redis.status_reply(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {ok = s}
end

-- Helpers that can fail are Python callables too (a C call for Lua: see redis.call above).
redis.sha1hex = py_sha1hex
redis.log = py_log
redis.setresp = py_setresp
redis.set_repl = py_set_repl

function redis.replicate_commands() return true end
function redis.breakpoint() return false end
function redis.debug() end

redis.acl_check_cmd = py_acl_check

redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = version, version_num
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3


-- The error handler of every run: a table {err=, source=, line=} whatever was raised.
local function handler(err)
  err = lua_error_value(err)
  local level, info = 2, nil
  while true do
    info = getinfo(level, 'Sl')
    if not info or (info.what ~= 'C' and info.source ~= INTERNAL and info.source ~= LIBRARIES) then
      break
    end
    level = level + 1
  end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end

-- pcall hands a script the message of a Redis error table, as Redis 7.0's own pcall does.
local function pcall_result(ok, ...)
  if ok then return ok, ... end
  local e = lua_error_value((...))
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then return false, m end
  end
  return false, e
end
local function safe_pcall(...) return pcall_result(raw_pcall(...)) end
local raw_xpcall = xpcall
local function safe_xpcall(f, h)
  return raw_xpcall(f, function(e) return h(lua_error_value(e)) end)
end

-- The wrappers below check their arguments themselves, so that a bad call reports the
-- script's line and the builtin's name like the C original does (level 2 is the caller).
local function argerror(level, n, fname, expected, ...)
  local got = select('#', ...) == 0 and 'no value' or type((...))
  error('bad argument #' .. n .. " to '" .. fname .. "' (" .. expected .. ' expected, got '
        .. got .. ')', level)
end
local function check_table(fname, ...)
  if type((...)) ~= 'table' then argerror(4, 1, fname, 'table', ...) end
end

-- Lua bytecode can break out of any sandbox: only source text is loaded.
local function safe_loadstring(...)
  local s, name = ...
  local t = type(s)
  if t ~= 'string' and t ~= 'number' then argerror(3, 1, 'loadstring', 'string', ...) end
  if t == 'string' and s:byte(1) == 27 then return nil, 'binary chunks are not allowed' end
  return raw_loadstring(s, name)
end
local function safe_load(...)
  local reader, name = ...
  if type(reader) ~= 'function' then argerror(3, 1, 'load', 'function', ...) end
  local first = true
  local function checked()
    local piece = reader()
    if first and type(piece) == 'string' and #piece > 0 then
      first = false
      if piece:byte(1) == 27 then error('binary chunks are not allowed', 0) end
    end
    return piece
  end
  return raw_load(checked, name)
end

-- The globals a Redis 7.0 script sees (others, like os, io, require, print, are removed).
local G = _G
local keep = {
  'assert', 'collectgarbage', 'coroutine', 'error', 'gcinfo', 'getmetatable', 'ipairs',
  'math', 'next', 'pairs', 'rawequal', 'rawget', 'rawset', 'select', 'setmetatable',
  'string', 'table', 'tonumber', 'tostring', 'type', 'unpack', '_VERSION',
  'cjson', 'cmsgpack', 'bit', 'struct',
}
local globals = {}
for _, name in ipairs(keep) do globals[name] = raw_rawget(G, name) end
globals.pcall = safe_pcall
globals.xpcall = safe_xpcall
globals.loadstring = safe_loadstring
globals.load = safe_load
globals.redis = redis
globals.__redis__err__handler = handler
globals._G = G
local names = {}
for k in raw_next, G do names[#names + 1] = k end
for _, k in ipairs(names) do raw_rawset(G, k, nil) end
if package and package.loaded then package.loaded.python = nil end

-- Read-only proxies: proxy -> the hidden table holding its contents.
local store_of = raw_setmetatable({}, {__mode = 'k'})
local function readonly_error() error(READONLY, 2) end
local function protect(t, contents, strict)
  store_of[t] = contents
  if strict then
    raw_setmetatable(contents, {__index = function(_, k)
      -- lupa itself reads globals (debug, for tracebacks) from C, with no Lua caller: nil.
      if not getinfo(2, 'S') then return nil end
      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end})
  end
  raw_setmetatable(t, {__index = contents, __newindex = readonly_error})
  return t
end
local function protect_library(lib)
  local contents = {}
  for k, v in raw_next, lib do contents[k] = v end
  for k in raw_next, contents do raw_rawset(lib, k, nil) end
  return protect(lib, contents, false)
end

function globals.next(...)
  check_table('next', ...)
  local t, k = ...
  return raw_next(store_of[t] or t, k)
end
local proxy_next = globals.next
function globals.pairs(...)
  check_table('pairs', ...)
  local t = ...
  if store_of[t] then return proxy_next, t, nil end
  return raw_next, t, nil
end
function globals.rawget(...)
  check_table('rawget', ...)
  local t, k = ...
  return raw_rawget(store_of[t] or t, k)
end
function globals.rawset(...)
  check_table('rawset', ...)
  local t, k, v = ...
  if store_of[t] then error(READONLY, 0) end
  return raw_rawset(t, k, v)
end
function globals.setmetatable(...)
  check_table('setmetatable', ...)
  local t, mt = ...
  if store_of[t] then error(READONLY, 0) end
  if mt ~= nil and type(mt) ~= 'table' then
    error("bad argument #2 to 'setmetatable' (nil or table expected)", 2)
  end
  return raw_setmetatable(t, mt)
end

-- What a library's code sees while FUNCTION LOAD runs it (Redis 7.0): only a small `redis`
-- table (register_function, log, the constants), nothing else, not even `error` or `pairs`.
local load_globals
if py_register then
  local load_redis = protect({}, {
    register_function = py_register, log = redis.log,
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REDIS_VERSION = version, REDIS_VERSION_NUM = version_num,
  }, true)
  load_globals = protect({}, {redis = load_redis}, true)
end

local string_lib = globals.string
for _, lib in ipairs({'string', 'table', 'math', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct'}) do
  if type(globals[lib]) == 'table' then protect_library(globals[lib]) end
end
protect_library(redis)
raw_getmetatable('').__index = string_lib
protect(G, globals, true)
local g_meta = raw_getmetatable(G)

-- What the engine calls.
local KILL_HOOK_EVERY = 1000

-- The count hook is installed once (`install_hook`) and stays on: setting and clearing it around
-- every run cost ~0.2 µs of a ~5 µs EVALSHA. Between runs it fires only in the rare Lua code the
-- engine runs itself (the prelude, which it skips) and py_hook answers nil with no run going.
-- `killing` is set when a verdict switched it to its every-line mode; a run puts it back.
local hook, count_every, killing
hook = function()
  -- Never inside the prelude: `run` must get to restore the count hook after its xpcall.
  local running = getinfo(2, 'S')
  if running and running.source == INTERNAL then return end
  local verdict = py_hook()
  if verdict then
    -- Every line from now on raises again, so a pcall in the script cannot swallow the kill.
    killing = true
    sethook(hook, 'l', KILL_HOOK_EVERY)
    error({err = verdict})
  end
end
local function install_hook(every)
  count_every = every
  killing = false
  sethook(hook, '', every)
end
local function restore_hook()
  killing = false
  sethook(hook, '', count_every)
end

local function compile(code, chunkname)
  local f, message = safe_loadstring(code, chunkname)
  return f, message
end

local function set_global(name, value) globals[name] = value end

-- For the engine only: a compiled function as bytecode and back (see Engine.compile).
local function dump(f) return string_dump(f) end
local function load_binary(code, chunkname)
  local f, message = raw_loadstring(code, chunkname)
  return f, message
end

-- A run answers `result` alone when f returned, and (FAILED, error table) when it raised: one
-- value crosses back to Python in the common case, and no Lua value converts to a Python tuple.
local FAILED = false

-- run(f, nkeys, ...): KEYS and ARGV globals from the arguments (keys first), then f().
-- Both tables are built by the VM from the varargs ({...} and {select(...)}), the cheapest
-- way measured (0.35 µs less than copying through a third table in a loop).
local function run(f, nkeys, ...)
  local keys = {...}
  local argv = {select(nkeys + 1, ...)}
  for i = #keys, nkeys + 1, -1 do keys[i] = nil end
  globals.KEYS, globals.ARGV = keys, argv
  local ok, result = xpcall(f, handler)
  if killing then restore_hook() end
  if ok then return result end
  return FAILED, result
end

-- call(f, nkeys, ...): a function (FCALL) gets KEYS and ARGV as its arguments. The function
-- and its tables wait in upvalues for `call_current`, so no closure is made per call.
local call_f, call_keys, call_argv
local function call_current() return call_f(call_keys, call_argv) end
local function call(f, nkeys, ...)
  local keys = {...}
  call_argv = {select(nkeys + 1, ...)}
  for i = #keys, nkeys + 1, -1 do keys[i] = nil end
  call_f, call_keys = f, keys
  local ok, result = xpcall(call_current, handler)
  call_f, call_keys, call_argv = nil, nil, nil
  if killing then restore_hook() end
  if ok then return result end
  return FAILED, result
end

-- load_library(f): run a library's code (FUNCTION LOAD) in the load-time globals.
local function load_library(f)
  g_meta.__index = load_globals
  local ok, result = xpcall(f, handler)
  g_meta.__index = globals
  if killing then restore_hook() end
  return ok, result
end

local collectgarbage = collectgarbage
local function memory() return collectgarbage('count') * 1024 end

return compile, run, set_global, call, load_library, memory, dump, load_binary, install_hook
"""
