"""Lua helpers shared by the bundled libraries: C-style argument errors, number conversions, IEEE bits.

Redis's libraries are C functions; ours are Lua functions that must fail, convert and round the
way the C code does. This chunk returns one table of helpers that lib_cjson, lib_cmsgpack, lib_bit
and lib_struct receive when they load: `export` (runs a library function under pcall and re-raises
its failures as `luaL_error`/`luaL_argerror` would, positioned at the caller of the library
function), `argerror` (the same for code that raises directly), the `luaL_check*` coercions,
C's double-to-integer casts as x86-64 performs them, and the bytes of floats and doubles (the
float conversion rounds to nearest-even like a C cast). Lua 5.1 numbers are doubles, so 64-bit
integers are handled as two 32-bit halves wherever a double would lose bits.
"""

from __future__ import annotations

LUA_SOURCE = r"""
local type, select, tostring, tonumber, error, pcall = type, select, tostring, tonumber, error, pcall
local unpack, setfenv = unpack, setfenv
local getinfo = debug.getinfo
local format, byte, char, sub, reverse = string.format, string.byte, string.char, string.sub, string.reverse
local floor, frexp, ldexp, huge = math.floor, math.frexp, math.ldexp, math.huge
setfenv(1, {})

local H = {}
local TWO32, TWO63, TWO64 = 4294967296, 9223372036854775808, 18446744073709551616

-- Errors raised inside a library function are tables tagged with MARK; `export` turns them into
-- the message a C library would raise. Anything else (a script kill from the hook, out of
-- memory) passes through untouched.
local MARK = {}
H.MARK = MARK
function H.fail(msg) error({[MARK] = true, msg = msg}, 0) end
function H.failarg(narg, msg) error({[MARK] = true, arg = narg, msg = msg}, 0) end
-- Errors the VM raises from C code (lua_settable's "table index is nil") carry no position.
function H.failraw(msg) error({[MARK] = true, raw = true, msg = msg}, 0) end

-- luaL_argerror seen from the library function `level` frames above the caller of argerror.
-- The name comes from the call site like Lua's; a Lua function that was tail-called has lost its
-- call site, while Redis's C function keeps it, so the usual field name stands in.
local function argerror(level, narg, extramsg, canonical)
  level = level + 1
  local ar = getinfo(level, "n")
  local name = ar and ar.name
  if ar and ar.namewhat == "method" then
    narg = narg - 1
    if narg == 0 then
      error(format("calling '%s' on bad self (%s)", tostring(name), extramsg), level + 1)
    end
  end
  if name == nil then
    local caller = getinfo(level + 1, "S")
    name = (caller and caller.what == "tail") and canonical or "?"
  end
  error(format("bad argument #%d to '%s' (%s)", narg, name, extramsg), level + 1)
end
H.argerror = argerror

local function packn(...) return {n = select("#", ...), ...} end

-- Wrap impl(nargs, ...) as a library function. Not a tail call on purpose: the wrapper's frame
-- must stay on the stack so error(msg, 2) points at the script line, like luaL_error does.
function H.export(impl, canonical)
  return function(...)
    local r = packn(pcall(impl, select("#", ...), ...))
    if r[1] then return unpack(r, 2, r.n) end
    local e = r[2]
    if type(e) == "table" and e[MARK] then
      if e.arg then argerror(1, e.arg, e.msg, canonical) end
      if e.raw then error(e.msg, 0) end
      error(e.msg, 2)
    end
    error(e, 0)
  end
end

local function typename(v, narg, nargs)
  if narg > nargs then return "no value" end
  return type(v)
end
H.typename = typename

-- luaL_checknumber: numbers, and strings Lua can convert.
function H.checknumber(v, narg, nargs)
  if type(v) == "number" then return v end
  local n = type(v) == "string" and tonumber(v) or nil
  if n == nil then H.failarg(narg, "number expected, got " .. typename(v, narg, nargs)) end
  return n
end

-- luaL_checklstring: strings, and numbers converted with LUA_NUMBER_FMT.
function H.checkstring(v, narg, nargs)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  H.failarg(narg, "string expected, got " .. typename(v, narg, nargs))
end

-- (lua_Integer)d on x86-64: truncation; NaN and out-of-range give INT64_MIN.
local function lua_integer(d)
  if d ~= d or d >= TWO63 or d < -TWO63 then return -TWO63 end
  if d < 0 then return -floor(-d) end
  return floor(d)
end
H.lua_integer = lua_integer

-- luaL_checkinteger / luaL_optinteger.
function H.checkinteger(v, narg, nargs)
  return lua_integer(H.checknumber(v, narg, nargs))
end
function H.optinteger(v, narg, nargs, default)
  if v == nil then return default end
  return lua_integer(H.checknumber(v, narg, nargs))
end

-- (int)x for an integral x: keep the low 32 bits, signed.
function H.int32(x)
  x = x % TWO32
  if x >= 2147483648 then return x - TWO32 end
  return x
end

-- Which NaN 0/0 gives is up to the FPU (x86: the negative one); glibc prints the sign.
local NAN_A = 0 / 0
local NAN_B = -NAN_A
local function nan_is_negative(x) return sub(tostring(x), 1, 1) == "-" end
local NEG_NAN, POS_NAN
if nan_is_negative(NAN_A) then NEG_NAN, POS_NAN = NAN_A, NAN_B else NEG_NAN, POS_NAN = NAN_B, NAN_A end
H.nan_is_negative = nan_is_negative

-- Round half to even, for x >= 0.
local function round_even(x)
  local f = floor(x)
  local r = x - f
  if r > 0.5 or (r == 0.5 and f % 2 == 1) then return f + 1 end
  return f
end

-- Four big-endian bytes of a 32-bit unsigned value.
local function u32_be(v)
  local b4 = v % 256; v = (v - b4) / 256
  local b3 = v % 256; v = (v - b3) / 256
  local b2 = v % 256; v = (v - b2) / 256
  return char(v % 256, b2, b3, b4)
end
H.u32_be = u32_be

-- The IEEE double bits of d as (hi, lo) 32-bit halves.
local function double_halves(d)
  if d ~= d then
    return (nan_is_negative(d) and 2147483648 or 0) + 2146959360, 0
  end
  local sign = 0
  if d < 0 or (d == 0 and 1 / d < 0) then sign = 2147483648; d = -d end
  if d == huge then return sign + 2146435072, 0 end
  if d == 0 then return sign, 0 end
  local m, e = frexp(d)
  local exp, mant
  if e >= -1021 then
    exp = e + 1022
    mant = (m * 2 - 1) * 4503599627370496
  else
    exp = 0
    mant = ldexp(d, 1074)
  end
  local lo = mant % TWO32
  return sign + exp * 1048576 + (mant - lo) / TWO32, lo
end

function H.double_be(d)
  local hi, lo = double_halves(d)
  return u32_be(hi) .. u32_be(lo)
end

-- The bits of (float)d: round to nearest even, overflow to infinity, NaN keeps its sign.
local function float_bits(d)
  if d ~= d then return (nan_is_negative(d) and 2147483648 or 0) + 2143289344 end
  local sign = 0
  if d < 0 or (d == 0 and 1 / d < 0) then sign = 2147483648; d = -d end
  if d == huge then return sign + 2139095040 end
  if d == 0 then return sign end
  local m, e = frexp(d)
  if e >= -125 then
    local sig = round_even(m * 16777216)
    if sig == 16777216 then sig = 8388608; e = e + 1 end
    if e > 128 then return sign + 2139095040 end
    return sign + (e + 126) * 8388608 + (sig - 8388608)
  end
  -- Subnormal (or rounding up to the smallest normal, whose bits continue the same sequence).
  return sign + round_even(ldexp(d, 149))
end

function H.float_be(d) return u32_be(float_bits(d)) end

-- Whether d survives the trip through a C float unchanged (cmsgpack's float-vs-double choice).
function H.float_exact(d)
  if d ~= d then return false end
  if d == huge or d == -huge or d == 0 then return true end
  local m, e = frexp(d < 0 and -d or d)
  if e > 128 then return false end
  if e >= -125 then
    local s = m * 16777216
    return s == floor(s)
  end
  if e < -148 then return false end
  local s = ldexp(d < 0 and -d or d, 149)
  return s == floor(s)
end

local function be_u32(s, i)
  local a, b, c, d = byte(s, i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end
H.be_u32 = be_u32

-- The double whose big-endian bytes start at s[i].
function H.double_from_be(s, i)
  local hi, lo = be_u32(s, i), be_u32(s, i + 4)
  local negative = hi >= 2147483648
  if negative then hi = hi - 2147483648 end
  local exp = floor(hi / 1048576)
  local mant = (hi % 1048576) * TWO32 + lo
  local v
  if exp == 2047 then
    if mant ~= 0 then return negative and NEG_NAN or POS_NAN end
    v = huge
  elseif exp == 0 then
    v = ldexp(mant, -1074)
  else
    v = ldexp(mant + 4503599627370496, exp - 1075)
  end
  if negative then return -v end
  return v
end

function H.float_from_be(s, i)
  local bits = be_u32(s, i)
  local negative = bits >= 2147483648
  if negative then bits = bits - 2147483648 end
  local exp = floor(bits / 8388608)
  local mant = bits % 8388608
  local v
  if exp == 255 then
    if mant ~= 0 then return negative and NEG_NAN or POS_NAN end
    v = huge
  elseif exp == 0 then
    v = ldexp(mant, -149)
  else
    v = ldexp(mant + 8388608, exp - 150)
  end
  if negative then return -v end
  return v
end

H.reverse = reverse
return H
"""
