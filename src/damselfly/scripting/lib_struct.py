"""The `struct` library (Roberto Ierusalimschy's struct 0.2 as bundled by Redis 7.0), in Lua.

`struct.pack(fmt, ...)`, `struct.unpack(fmt, data [, init])` and `struct.size(fmt)` with the
format letters Redis's copy knows: `<` `>` (endianness, native is little), `!n` (maximum
alignment, default 8), `b B h H l L T i[n] I[n]` (integers of 1, 2, 8, 8, n<=32 bytes), `f d`,
`x` (a zero byte), `s` (zero-terminated string) and `c[n]` (n chars; `c0` means "the whole
string" when packing and "the size given by the previous number" when unpacking). There is no
`=`: Redis's copy rejects it. Integers go through C's 64-bit conversions (negative values as
two's complement, sizes above 8 bytes padded with zeros, the x86 results for out-of-range and NaN
values) and are rebuilt from 32-bit halves so no bit is lost in a double. Errors are the C
library's, including its quirks: a missing value is reported as "got nil", "string too short"
names the argument after the string, and a negative `init` is not rejected but fails the size
check. The C code reads `fmt` up to its first zero byte, and so do we.
"""

from __future__ import annotations

LUA_SOURCE = r"""
local H = ...
local type, select, tostring, tonumber, unpack = type, select, tostring, tonumber, unpack
local format, byte, char, sub, find, rep, reverse, concat =
  string.format, string.byte, string.char, string.sub, string.find, string.rep, string.reverse, table.concat
local floor = math.floor
local fail, failarg, export = H.fail, H.failarg, H.export
local checknumber, checkstring, optinteger = H.checknumber, H.checkstring, H.optinteger
local float_be, double_be, float_from_be, double_from_be = H.float_be, H.double_be, H.float_from_be, H.double_from_be
local lua_integer = H.lua_integer
setfenv(1, {})

local TWO32, TWO63, TWO64 = 4294967296, 9223372036854775808, 18446744073709551616
local INT_MAX = 2147483647
local MAXINTSIZE, MAXALIGN = 32, 8
local LITTLE, BIG = 1, 0

local function cut_at_zero(fmt)
  local z = find(fmt, "\0", 1, true)
  if z then return sub(fmt, 1, z - 1) end
  return fmt
end

local function isdigit(c) return c ~= nil and c >= 48 and c <= 57 end

-- The number after an option letter, if any; i is where it would start.
local function getnum(fmt, i, default)
  local c = byte(fmt, i)
  if not isdigit(c) then return default, i end
  local a = 0
  repeat
    local d = c - 48
    if a > floor(INT_MAX / 10) or a * 10 > INT_MAX - d then fail("integral size overflow") end
    a = a * 10 + d
    i = i + 1
    c = byte(fmt, i)
  until not isdigit(c)
  return a, i
end

local FIXED = {b = 1, B = 1, h = 2, H = 2, l = 8, L = 8, T = 8, f = 4, d = 8, x = 1}

local function optsize(opt, fmt, i)
  local size = FIXED[opt]
  if size then return size, i end
  if opt == "c" then return getnum(fmt, i, 1) end
  if opt == "i" or opt == "I" then
    local sz
    sz, i = getnum(fmt, i, 4)
    if sz > MAXINTSIZE then
      fail(format("integral size %d is larger than limit of %d", sz, MAXINTSIZE))
    end
    return sz, i
  end
  return 0, i
end

-- x & y for small non-negative integers (y < 32 here).
local function band_small(x, y)
  local r, p = 0, 1
  while y > 0 do
    local bx, by = x % 2, y % 2
    if bx == 1 and by == 1 then r = r + p end
    x, y, p = (x - bx) / 2, (y - by) / 2, p * 2
  end
  return r
end

-- The C formula assumes a power of two; with !n it may not be one (i3 aligns to "3") and we
-- reproduce what the bit arithmetic gives then.
local function gettoalign(len, align, opt, size)
  if size == 0 or opt == "c" then return 0 end
  if size > align then size = align end
  return band_small(size - band_small(len, size - 1), size - 1)
end

-- Endianness and alignment options; returns endian, align, next index.
local function control(opt, fmt, i, endian, align)
  if opt == " " then return endian, align, i end
  if opt == ">" then return BIG, align, i end
  if opt == "<" then return LITTLE, align, i end
  if opt == "!" then
    local a
    a, i = getnum(fmt, i, MAXALIGN)
    if a <= 0 or band_small(a, a - 1) ~= 0 then
      fail(format("alignment %d is not a power of 2", a))
    end
    return endian, a, i
  end
  failarg(1, format("invalid format option '%s'", opt))
end

local INTEGER = {b = true, B = true, h = true, H = true, l = true, L = true, T = true, i = true, I = true}

-- The 8 little-endian bytes of (uint64)n as C's putinteger computes them.
local function int64_bytes(n)
  local b = {0, 0, 0, 0, 0, 0, 0, 0}
  if n ~= n then b[8] = 128; return b end
  local negative = n < 0
  local t
  if negative then
    if n < -TWO63 then b[8] = 128; return b end
    t = floor(-n)
  else
    if n >= TWO64 then return b end
    t = floor(n)
  end
  for k = 1, 8 do
    local v = t % 256
    b[k] = v
    t = (t - v) / 256
  end
  if negative then
    local carry = 1
    for k = 1, 8 do
      local v = 255 - b[k] + carry
      if v >= 256 then b[k] = v - 256; carry = 1 else b[k] = v; carry = 0 end
    end
  end
  return b
end

local function put_integer(n, size, endian)
  local b = int64_bytes(n)
  local out = {}
  for k = 1, size do out[k] = char(b[k] or 0) end
  local s = concat(out)
  if endian == BIG then return reverse(s) end
  return s
end

local function pack_impl(nargs, fmt, ...)
  fmt = cut_at_zero(checkstring(fmt, 1, nargs))
  local args = {...}
  local endian, align = LITTLE, 1
  local out, nout = {}, 0
  local total = 0
  local arg = 2
  local i, len = 1, #fmt
  while i <= len do
    local opt = sub(fmt, i, i)
    i = i + 1
    local size
    size, i = optsize(opt, fmt, i)
    local toalign = gettoalign(total, align, opt, size)
    total = total + toalign
    if toalign > 0 then nout = nout + 1; out[nout] = rep("\0", toalign) end
    if INTEGER[opt] then
      local n = checknumber(args[arg - 1], arg, nargs + 1)
      arg = arg + 1
      nout = nout + 1; out[nout] = put_integer(n, size, endian)
    elseif opt == "x" then
      nout = nout + 1; out[nout] = "\0"
    elseif opt == "f" or opt == "d" then
      local n = checknumber(args[arg - 1], arg, nargs + 1)
      arg = arg + 1
      local s = opt == "f" and float_be(n) or double_be(n)
      if endian == LITTLE then s = reverse(s) end
      nout = nout + 1; out[nout] = s
    elseif opt == "c" or opt == "s" then
      local s = checkstring(args[arg - 1], arg, nargs + 1)
      arg = arg + 1
      local l = #s
      if size == 0 then size = l end
      if l < size then failarg(arg, "string too short") end
      nout = nout + 1; out[nout] = sub(s, 1, size)
      if opt == "s" then
        nout = nout + 1; out[nout] = "\0"
        size = size + 1
      end
    else
      endian, align, i = control(opt, fmt, i, endian, align)
    end
    total = total + size
  end
  return concat(out)
end

-- (lua_Number) of the integer in data[pos+1 .. pos+size], as C's getinteger: only the last 8
-- bytes in significance order survive the 64-bit shifts, and the sign test uses the bit at
-- (size*8 - 1) mod 64, the shift count x86 actually applies.
local function get_integer(data, pos, endian, is_signed, size)
  local s = sub(data, pos + 1, pos + size)
  if endian == LITTLE then s = reverse(s) end
  if size > 8 then s = sub(s, size - 7) end
  s = rep("\0", 8 - #s) .. s
  local a1, a2, a3, a4, a5, a6, a7, a8 = byte(s, 1, 8)
  local hi = ((a1 * 256 + a2) * 256 + a3) * 256 + a4
  local lo = ((a5 * 256 + a6) * 256 + a7) * 256 + a8
  if not is_signed then return hi * TWO32 + lo end
  local k = (size * 8 - 1) % 64
  if k >= 32 then
    local kh = 2 ^ (k - 32)
    if hi < kh then return hi * TWO32 + lo end
    -- negative: (l mod 2^k) - 2^k, computed as -(2^k - x) with one rounding at the end
    local xh = hi % kh
    if lo > 0 then return -((kh - xh - 1) * TWO32 + (TWO32 - lo)) end
    return -((kh - xh) * TWO32)
  end
  local kl = 2 ^ k
  if hi == 0 and lo < kl then return lo end
  return (lo % kl) - kl
end

local function unpack_impl(nargs, fmt, data, init)
  fmt = cut_at_zero(checkstring(fmt, 1, nargs))
  data = checkstring(data, 2, nargs)
  local ld = #data
  local p = optinteger(init, 3, nargs, 1)
  if p == 0 then failarg(3, "offset must be 1 or greater") end
  local pos = p - 1
  local endian, align = LITTLE, 1
  local results, n = {}, 0
  local i, len = 1, #fmt
  while i <= len do
    local opt = sub(fmt, i, i)
    i = i + 1
    local size
    size, i = optsize(opt, fmt, i)
    pos = pos + gettoalign(pos, align, opt, size)
    -- A negative start is a huge size_t in C: every size check fails.
    if pos < 0 or pos + size > ld then failarg(2, "data string too short") end
    if INTEGER[opt] then
      n = n + 1
      results[n] = get_integer(data, pos, endian, opt == "b" or opt == "h" or opt == "l" or opt == "i", size)
    elseif opt == "x" then
      -- padding only
    elseif opt == "f" or opt == "d" then
      local s = sub(data, pos + 1, pos + size)
      if endian == LITTLE then s = reverse(s) end
      n = n + 1
      results[n] = opt == "f" and float_from_be(s, 1) or double_from_be(s, 1)
    elseif opt == "c" then
      if size == 0 then
        local prev = n > 0 and tonumber(results[n]) or nil
        if prev == nil then fail("format 'c0' needs a previous size") end
        -- (size_t) of a negative double is huge on x86-64
        size = prev < 0 and TWO64 or floor(prev)
        results[n] = nil
        n = n - 1
        if not (size <= ld and pos <= ld - size) then failarg(2, "data string too short") end
      end
      n = n + 1
      results[n] = sub(data, pos + 1, pos + size)
    elseif opt == "s" then
      local e = find(data, "\0", pos + 1, true)
      if e == nil then fail("unfinished string in data") end
      size = e - pos
      n = n + 1
      results[n] = sub(data, pos + 1, e - 1)
    else
      endian, align, i = control(opt, fmt, i, endian, align)
    end
    pos = pos + size
  end
  n = n + 1
  results[n] = pos + 1
  return unpack(results, 1, n)
end

local function isalnum(c)
  return (c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122)
end

local function size_impl(nargs, fmt)
  fmt = cut_at_zero(checkstring(fmt, 1, nargs))
  local endian, align = LITTLE, 1
  local pos = 0
  local i, len = 1, #fmt
  while i <= len do
    local opt = sub(fmt, i, i)
    i = i + 1
    local size
    size, i = optsize(opt, fmt, i)
    pos = pos + gettoalign(pos, align, opt, size)
    if opt == "s" then
      failarg(1, "option 's' has no fixed size")
    elseif opt == "c" and size == 0 then
      failarg(1, "option 'c0' has no fixed size")
    end
    if not isalnum(byte(opt)) then endian, align, i = control(opt, fmt, i, endian, align) end
    pos = pos + size
  end
  return pos
end

return {
  pack = export(pack_impl, "pack"),
  unpack = export(unpack_impl, "unpack"),
  size = export(size_impl, "size"),
}
"""
