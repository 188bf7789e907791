"""The `cmsgpack` library (lua-cmsgpack 0.4.0 as bundled by Redis 7.0), written in Lua.

`pack(...)` encodes each argument and concatenates them; `unpack(s)` returns every value in s,
`unpack_one(s [, offset])` and `unpack_limit(s, limit [, offset])` return the next offset (-1 at
the end) followed by the values. Encoding follows the C code: a number that a 64-bit integer
holds exactly uses the smallest integer type, other numbers a float when the float round trip is
exact and a double otherwise; strings use fixstr/str8/str16/str32; a table whose keys are exactly
1..n is an array, anything else a map (in `next` order, like the C code's lua_next); tables
nested 16 deep, functions, threads and userdata become nil. Decoding accepts what that version
wrote (no bin or ext types: "Bad data format in input."), reads uint64 as a signed int64 like
lua_pushinteger, and raises the VM's own "table index is nil"/"is NaN" for such map keys. All
counts and offsets are C lua_Integer values, printed through (int) casts in the error texts.
"""

from __future__ import annotations

LUA_SOURCE = r"""
local H = ...
local type, select, next, rawget, tostring, unpack = type, select, next, rawget, tostring, unpack
local byte, char, sub, concat = string.byte, string.char, string.sub, table.concat
local floor, huge = math.floor, math.huge
local fail, failarg, failraw, export = H.fail, H.failarg, H.failraw, H.export
local checkstring, checkinteger, optinteger, int32 = H.checkstring, H.checkinteger, H.optinteger, H.int32
local float_be, double_be, float_exact, u32_be, be_u32 = H.float_be, H.double_be, H.float_exact, H.u32_be, H.be_u32
local float_from_be, double_from_be = H.float_from_be, H.double_from_be
setfenv(1, {})

local TWO32, TWO63 = 4294967296, 9223372036854775808
local MAX_NESTING = 16

local function u16_be(v)
  local lo = v % 256
  return char((v - lo) / 256, lo)
end

-- The 8 big-endian bytes of a non-negative integer below 2^64.
local function u64_be(v)
  local lo = v % TWO32
  return u32_be((v - lo) / TWO32) .. u32_be(lo)
end

local function encode_integer(n)
  if n >= 0 then
    if n <= 127 then return char(n) end
    if n <= 255 then return "\204" .. char(n) end
    if n <= 65535 then return "\205" .. u16_be(n) end
    if n <= 4294967295 then return "\206" .. u32_be(n) end
    return "\207" .. u64_be(n)
  end
  if n >= -32 then return char(256 + n) end
  if n >= -128 then return "\208" .. char(256 + n) end
  if n >= -32768 then return "\209" .. u16_be(65536 + n) end
  if n >= -2147483648 then return "\210" .. u32_be(TWO32 + n) end
  -- two's complement of a negative int64: 2^64 + n, built in halves so no bit is lost
  local m = -n
  local lo = m % TWO32
  local hi = (m - lo) / TWO32
  if lo == 0 then return "\211" .. u32_be((TWO32 - hi) % TWO32) .. u32_be(0) end
  return "\211" .. u32_be(TWO32 - 1 - hi) .. u32_be(TWO32 - lo)
end

-- IS_INT64_EQUIVALENT: finite and (int64_t)x == x (x86 gives INT64_MIN out of range).
local function is_int64(x)
  return x == x and x ~= huge and x ~= -huge and x >= -TWO63 and x < TWO63 and x == floor(x)
end

local function encode_number(x)
  if is_int64(x) then return encode_integer(x) end
  if float_exact(x) then return "\202" .. float_be(x) end
  return "\203" .. double_be(x)
end

local function encode_string(s)
  local len = #s
  if len < 32 then return char(160 + len) .. s end
  if len <= 255 then return "\217" .. char(len) .. s end
  if len <= 65535 then return "\218" .. u16_be(len) .. s end
  return "\219" .. u32_be(len) .. s
end

-- IS_INT_EQUIVALENT on positive keys: (int)x == x, so keys from 2^31 on make a map.
local function is_array(t)
  local count, max = 0, 0
  local k = next(t)
  while k ~= nil do
    if type(k) ~= "number" or k <= 0 or k >= 2147483648 or k ~= floor(k) then return false end
    if k > max then max = k end
    count = count + 1
    k = next(t, k)
  end
  return max == count
end

local encode_value

local function encode_table(t, level, out)
  if is_array(t) then
    local len = #t
    if len < 16 then out[#out + 1] = char(144 + len)
    elseif len <= 65535 then out[#out + 1] = "\220" .. u16_be(len)
    else out[#out + 1] = "\221" .. u32_be(len) end
    for j = 1, len do encode_value(rawget(t, j), level + 1, out) end
    return
  end
  local len = 0
  for _ in next, t do len = len + 1 end
  if len < 16 then out[#out + 1] = char(128 + len)
  elseif len <= 65535 then out[#out + 1] = "\222" .. u16_be(len)
  else out[#out + 1] = "\223" .. u32_be(len) end
  for k, v in next, t do
    encode_value(k, level + 1, out)
    encode_value(v, level + 1, out)
  end
end

encode_value = function(v, level, out)
  local t = type(v)
  if t == "string" then out[#out + 1] = encode_string(v)
  elseif t == "number" then out[#out + 1] = encode_number(v)
  elseif t == "boolean" then out[#out + 1] = v and "\195" or "\194"
  elseif t == "table" and level < MAX_NESTING then encode_table(v, level, out)
  else out[#out + 1] = "\192" end
end

local function pack_impl(nargs, ...)
  if nargs == 0 then failarg(0, "MessagePack pack needs input.") end
  local out = {}
  for i = 1, nargs do encode_value((select(i, ...)), 0, out) end
  return concat(out)
end

-- Decoding: each reader takes the string, the 1-based position and the end, and returns the
-- value and the next position.
local EOF, BADFMT = "Missing bytes in input.", "Bad data format in input."

local decode

local function need(pos, n, last)
  if last - pos + 1 < n then fail(EOF) end
end

local function read_u16(s, pos) local a, b = byte(s, pos, pos + 1); return a * 256 + b end

local function read_int64(s, pos, signed)
  local hi, lo = be_u32(s, pos), be_u32(s, pos + 4)
  -- lua_pushinteger of the int64 (also for uint64: Redis's copy pushes it as signed)
  if hi < 2147483648 then return hi * TWO32 + lo end
  hi = TWO32 - 1 - hi
  if lo == 0 then return -((hi + 1) * TWO32) end
  return -(hi * TWO32 + (TWO32 - lo))
end

local function decode_array(s, pos, last, n)
  local t = {}
  for j = 1, n do
    local v
    v, pos = decode(s, pos, last)
    t[j] = v
  end
  return t, pos
end

local function decode_map(s, pos, last, n)
  local t = {}
  for _ = 1, n do
    local k, v
    k, pos = decode(s, pos, last)
    v, pos = decode(s, pos, last)
    if k == nil then failraw("table index is nil") end
    if k ~= k then failraw("table index is NaN") end
    t[k] = v
  end
  return t, pos
end

decode = function(s, pos, last)
  need(pos, 1, last)
  local c = byte(s, pos)
  pos = pos + 1
  if c < 128 then return c, pos end
  if c >= 224 then return c - 256, pos end
  if c >= 160 and c < 192 then
    local len = c - 160
    need(pos, len, last)
    return sub(s, pos, pos + len - 1), pos + len
  end
  if c >= 144 and c < 160 then return decode_array(s, pos, last, c - 144) end
  if c < 144 then return decode_map(s, pos, last, c - 128) end
  if c == 192 then return nil, pos end
  if c == 194 then return false, pos end
  if c == 195 then return true, pos end
  if c == 204 then need(pos, 1, last); return byte(s, pos), pos + 1 end
  if c == 205 then need(pos, 2, last); return read_u16(s, pos), pos + 2 end
  if c == 206 then need(pos, 4, last); return be_u32(s, pos), pos + 4 end
  if c == 207 or c == 211 then need(pos, 8, last); return read_int64(s, pos), pos + 8 end
  if c == 208 then
    need(pos, 1, last)
    local v = byte(s, pos)
    return v >= 128 and v - 256 or v, pos + 1
  end
  if c == 209 then
    need(pos, 2, last)
    local v = read_u16(s, pos)
    return v >= 32768 and v - 65536 or v, pos + 2
  end
  if c == 210 then
    need(pos, 4, last)
    local v = be_u32(s, pos)
    return v >= 2147483648 and v - TWO32 or v, pos + 4
  end
  if c == 202 then need(pos, 4, last); return float_from_be(s, pos), pos + 4 end
  if c == 203 then need(pos, 8, last); return double_from_be(s, pos), pos + 8 end
  if c == 217 or c == 218 or c == 219 then
    local len
    if c == 217 then need(pos, 1, last); len = byte(s, pos); pos = pos + 1
    elseif c == 218 then need(pos, 2, last); len = read_u16(s, pos); pos = pos + 2
    else need(pos, 4, last); len = be_u32(s, pos); pos = pos + 4 end
    need(pos, len, last)
    return sub(s, pos, pos + len - 1), pos + len
  end
  if c == 220 then need(pos, 2, last); return decode_array(s, pos + 2, last, read_u16(s, pos)) end
  if c == 221 then need(pos, 4, last); return decode_array(s, pos + 4, last, be_u32(s, pos)) end
  if c == 222 then need(pos, 2, last); return decode_map(s, pos + 2, last, read_u16(s, pos)) end
  if c == 223 then need(pos, 4, last); return decode_map(s, pos + 4, last, be_u32(s, pos)) end
  fail(BADFMT)
end

-- mp_unpack_full: limit == 0 and offset == 0 means "everything, no offset in the reply".
local function unpack_full(s, limit, offset)
  local len = #s
  local decode_all = limit == 0 and offset == 0
  if offset < 0 or limit < 0 then
    fail("Invalid request to unpack with offset of " .. int32(offset) .. " and limit of " .. int32(len) .. ".")
  elseif offset > len then
    fail("Start offset " .. int32(offset) .. " greater than input length " .. int32(len) .. ".")
  end
  local values, n = {}, 0
  local pos = offset + 1
  while pos <= len and (decode_all or n < limit) do
    local v
    v, pos = decode(s, pos, len)
    n = n + 1
    values[n] = v
  end
  if decode_all then return unpack(values, 1, n) end
  return pos > len and -1 or pos - 1, unpack(values, 1, n)
end

local function unpack_impl(nargs, s)
  return unpack_full(checkstring(s, 1, nargs), 0, 0)
end

local function unpack_one_impl(nargs, s, offset)
  offset = optinteger(offset, 2, nargs, 0)
  return unpack_full(checkstring(s, 1, nargs), 1, offset)
end

local function unpack_limit_impl(nargs, s, limit, offset)
  limit = checkinteger(limit, 2, nargs)
  offset = optinteger(offset, 3, nargs, 0)
  return unpack_full(checkstring(s, 1, nargs), limit, offset)
end

return {
  pack = export(pack_impl, "pack"),
  unpack = export(unpack_impl, "unpack"),
  unpack_one = export(unpack_one_impl, "unpack_one"),
  unpack_limit = export(unpack_limit_impl, "unpack_limit"),
  _NAME = "cmsgpack",
  _VERSION = "lua-cmsgpack 0.4.0",
  _COPYRIGHT = "Copyright (C) 2012, Salvatore Sanfilippo",
  _DESCRIPTION = "MessagePack C implementation for Lua",
}
"""
