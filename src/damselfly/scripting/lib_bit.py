"""The `bit` library (LuaBitOp 1.0 as bundled by Redis 7.0), written in Lua.

LuaBitOp converts each argument with the "add 2^52+2^51 and keep the low 32 bits of the double"
trick, so 2.5 becomes 2, 2^32+5 becomes 5 and huge values wrap in a particular way; `barg` below
reproduces that conversion from the double's mantissa, so every input gives Redis's answer.
Results are signed 32-bit numbers. Lua 5.1 has no bitwise operators, so AND/OR/XOR work a nibble
at a time through 16x16 tables (a few microseconds a call), and shifts are multiplications and
floor divisions by powers of two, exact on doubles. The functions check their own arguments
(no pcall on this hot path) and raise `bad argument` errors at the caller's level.
"""

from __future__ import annotations

LUA_SOURCE = r"""
local H = ...
local type, select, tonumber, format, sub = type, select, tonumber, string.format, string.sub
local floor, frexp, huge = math.floor, math.frexp, math.huge
local argerror = H.argerror
setfenv(1, {})

local TWO32, TWO31 = 4294967296, 2147483648
local MAGIC = 6755399441055744        -- 2^52 + 2^51
local LOW, HIGH = 4503599627370496, 9007199254740992  -- [2^52, 2^53): the sum's ulp is 1

-- LuaBitOp's barg: the low 32 bits of the double x + 2^52 + 2^51, as an unsigned number.
local function barg(x)
  local s = x + MAGIC
  if s >= LOW and s < HIGH then return s % TWO32 end
  if s ~= s or s == huge or s == -huge then return 0 end
  local m = frexp(s)
  if m < 0 then m = -m end
  return (m * HIGH) % TWO32
end

local function signed(u)
  if u >= TWO31 then return u - TWO32 end
  return u
end

-- The slow path of an argument: convert a numeric string or raise at the library function.
local function coerce(v, narg, nargs, name)
  local n = type(v) == "string" and tonumber(v) or nil
  if n == nil then
    local got = narg > nargs and "no value" or type(v)
    argerror(2, narg, "number expected, got " .. got, name)
  end
  return n
end

local AND, OR, XOR = {}, {}, {}
for a = 0, 15 do
  for b = 0, 15 do
    local r_and, r_or, r_xor, p = 0, 0, 0, 1
    local x, y = a, b
    for _ = 1, 4 do
      local bx, by = x % 2, y % 2
      if bx == 1 and by == 1 then r_and = r_and + p end
      if bx == 1 or by == 1 then r_or = r_or + p end
      if bx ~= by then r_xor = r_xor + p end
      x, y, p = (x - bx) / 2, (y - by) / 2, p * 2
    end
    AND[a * 16 + b + 1], OR[a * 16 + b + 1], XOR[a * 16 + b + 1] = r_and, r_or, r_xor
  end
end

local function combine(a, b, t)
  local r, p = 0, 1
  for _ = 1, 8 do
    local x, y = a % 16, b % 16
    r = r + t[x * 16 + y + 1] * p
    a, b, p = (a - x) / 16, (b - y) / 16, p * 16
  end
  return r
end

local POW2 = {}
for i = 0, 32 do POW2[i] = 2 ^ i end

local bit = {}

function bit.tobit(...)
  local x = ...
  if type(x) ~= "number" then x = coerce(x, 1, select("#", ...), "tobit") end
  return signed(barg(x))
end

function bit.bnot(...)
  local x = ...
  if type(x) ~= "number" then x = coerce(x, 1, select("#", ...), "bnot") end
  return signed(TWO32 - 1 - barg(x))
end

function bit.bswap(...)
  local x = ...
  if type(x) ~= "number" then x = coerce(x, 1, select("#", ...), "bswap") end
  local u = barg(x)
  local b0 = u % 256; u = (u - b0) / 256
  local b1 = u % 256; u = (u - b1) / 256
  local b2 = u % 256; u = (u - b2) / 256
  return signed(((b0 * 256 + b1) * 256 + b2) * 256 + u)
end

function bit.tohex(...)
  local x, n = ...
  local nargs = select("#", ...)
  if type(x) ~= "number" then x = coerce(x, 1, nargs, "tohex") end
  local u = barg(x)
  local digits = 8
  if nargs >= 2 then
    if type(n) ~= "number" then n = coerce(n, 2, nargs, "tohex") end
    digits = signed(barg(n))
  end
  local pattern = "%08x"
  if digits == -TWO31 then digits = -TWO31 + 1 end
  if digits < 0 then digits = -digits; pattern = "%08X" end
  if digits > 8 then digits = 8 end
  if digits == 0 then return "" end
  return sub(format(pattern, u), 9 - digits)
end

-- band/bor/bxor: LuaBitOp converts the first argument, then the others from the last one down.
local function reducer(t, name)
  return function(...)
    local nargs = select("#", ...)
    local x = ...
    if type(x) ~= "number" then x = coerce(x, 1, nargs, name) end
    local acc = barg(x)
    for i = nargs, 2, -1 do
      local v = select(i, ...)
      if type(v) ~= "number" then v = coerce(v, i, nargs, name) end
      acc = combine(acc, barg(v), t)
    end
    return signed(acc)
  end
end
bit.band = reducer(AND, "band")
bit.bor = reducer(OR, "bor")
bit.bxor = reducer(XOR, "bxor")

-- The shifts and rotations: value first, then the count (only its low 5 bits count).
local function shifter(op, name)
  return function(...)
    local x, n = ...
    if type(x) ~= "number" then x = coerce(x, 1, select("#", ...), name) end
    local u = barg(x)
    if type(n) ~= "number" then n = coerce(n, 2, select("#", ...), name) end
    return op(u, barg(n) % 32)
  end
end

bit.lshift = shifter(function(u, n) return signed((u * POW2[n]) % TWO32) end, "lshift")
bit.rshift = shifter(function(u, n) return signed(floor(u / POW2[n])) end, "rshift")
bit.arshift = shifter(function(u, n) return signed(floor(signed(u) / POW2[n]) % TWO32) end, "arshift")
local function rol(u, n)
  if n == 0 then return signed(u) end
  return signed((u * POW2[n]) % TWO32 + floor(u / POW2[32 - n]))
end
bit.rol = shifter(rol, "rol")
bit.ror = shifter(function(u, n) return rol(u, (32 - n) % 32) end, "ror")

return bit
"""
