r"""The `cjson` library (lua-cjson 2.1.0 as bundled by Redis 7.0), written in Lua.

Encoding: numbers with "%.14g" (precision settable 1..14), NaN/Inf refused unless
`encode_invalid_numbers` allows them; strings with \uXXXX for control characters and DEL, the five
short escapes, and "/" as "\/"; a table is an array when every key is a positive integer, with
lua-cjson's sparse-array rules (its `int` arithmetic included: keys from 2^31 on make the table an
object), an object otherwise, keys in `next` order; an empty table is "{}"; nesting deeper than
`encode_max_depth` fails. Decoding is lua-cjson's tokenizer and parser: the same token names in
"Expected X but found Y at character N", strtod's number syntax (hex, inf, nan when
`decode_invalid_numbers` is on), surrogate pairs, the UTF-16 guess, input ending at the first zero
byte like a C string, and `decode_max_depth`. `cjson.null` is one shared userdata that prints as
"userdata: (nil)" like Redis's NULL light userdata; `cjson.new()` returns an instance with its own
settings. Settings persist in the runtime, as in Redis 7.0.
"""

from __future__ import annotations

LUA_SOURCE = r"""
local H = ...
local type, select, next, rawget, tostring, tonumber = type, select, next, rawget, tostring, tonumber
local newproxy, getmetatable = newproxy, getmetatable
local format, byte, char, sub, find, match, gsub, lower, concat =
  string.format, string.byte, string.char, string.sub, string.find, string.match, string.gsub,
  string.lower, table.concat
local floor, huge = math.floor, math.huge
local fail, failarg, export = H.fail, H.failarg, H.export
local checknumber, checkstring, lua_integer, int32 = H.checknumber, H.checkstring, H.lua_integer, H.int32
setfenv(1, {})

local INT_MAX, INT_MIN = 2147483647, -2147483648

-- Redis's cjson.null is a NULL light userdata: one value for every instance, printed as
-- "userdata: (nil)". The metatable is locked so scripts cannot change it for each other.
local null = newproxy(true)
do
  local mt = getmetatable(null)
  mt.__tostring = function() return "userdata: (nil)" end
  mt.__metatable = false
end

local ESCAPES = {["\""] = "\\\"", ["\\"] = "\\\\", ["/"] = "\\/", ["\b"] = "\\b", ["\f"] = "\\f",
                 ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ["\127"] = "\\u007f"}
for c = 0, 31 do
  local ch = char(c)
  if not ESCAPES[ch] then ESCAPES[ch] = format("\\u%04x", c) end
end
local ESCAPE_CLASS = "[%z\1-\31\"\\/\127]"

local TOKEN_NAMES = {
  obj_begin = "T_OBJ_BEGIN", obj_end = "T_OBJ_END", arr_begin = "T_ARR_BEGIN",
  arr_end = "T_ARR_END", string = "T_STRING", number = "T_NUMBER", boolean = "T_BOOLEAN",
  null = "T_NULL", colon = "T_COLON", comma = "T_COMMA", ["end"] = "T_END",
}
local SINGLE = {[123] = "obj_begin", [125] = "obj_end", [91] = "arr_begin", [93] = "arr_end",
                [58] = "colon", [44] = "comma"}
local UNESCAPE = {[34] = "\"", [92] = "\\", [47] = "/", [98] = "\b", [102] = "\f", [110] = "\n",
                  [114] = "\r", [116] = "\t"}

-- luaL_checkinteger then an assignment to a C int: the low 32 bits.
local function int_arg(v, narg, nargs)
  return int32(lua_integer(checknumber(v, narg, nargs)))
end

local function utf8_char(cp)
  if cp < 128 then return char(cp) end
  if cp < 2048 then return char(192 + floor(cp / 64), 128 + cp % 64) end
  if cp < 65536 then
    return char(224 + floor(cp / 4096), 128 + floor(cp / 64) % 64, 128 + cp % 64)
  end
  return char(240 + floor(cp / 262144), 128 + floor(cp / 4096) % 64, 128 + floor(cp / 64) % 64,
              128 + cp % 64)
end

local function hex4(s, i)
  local h = sub(s, i, i + 3)
  if #h < 4 or not find(h, "^%x%x%x%x$") then return nil end
  return tonumber(h, 16)
end

-- The longest prefix of s[i..] that C's strtod converts; returns value and end, or nil.
local function strtod(s, i)
  local j = i
  local c = byte(s, j)
  if c == 43 or c == 45 then j = j + 1 end
  local word = lower(sub(s, j, j + 7))
  if sub(word, 1, 3) == "inf" then
    local e = word == "infinity" and j + 8 or j + 3
    return tonumber(sub(s, i, e - 1)), e
  end
  if sub(word, 1, 3) == "nan" then
    local e = j + 3
    local tail = match(s, "^%([%w_]*%)", e)
    if tail then e = e + #tail end
    return tonumber(sub(s, i, e - 1)), e
  end
  if byte(s, j) == 48 and (byte(s, j + 1) == 120 or byte(s, j + 1) == 88) then
    local mant = match(s, "^%x*%.?%x*", j + 2)
    if find(mant, "%x") then
      local e = j + 2 + #mant
      local ex = match(s, "^[pP][+-]?%d+", e)
      if ex then e = e + #ex end
      return tonumber(sub(s, i, e - 1)), e
    end
    return tonumber(sub(s, i, j)), j + 1
  end
  local mant = match(s, "^%d*%.?%d*", j)
  if not find(mant, "%d") then return nil end
  local e = j + #mant
  local ex = match(s, "^[eE][+-]?%d+", e)
  if ex then e = e + #ex end
  return tonumber(sub(s, i, e - 1)), e
end

-- lua-cjson's json_is_invalid_number: what strict JSON forbids but strtod takes.
local function is_invalid_number(s, p)
  local c = byte(s, p)
  if c == 43 then return true end
  if c == 45 then p = p + 1; c = byte(s, p) end
  if c == 48 then
    local c2 = byte(s, p + 1)
    return c2 == 120 or c2 == 88 or (c2 ~= nil and c2 >= 48 and c2 <= 57)
  end
  if c == nil or c <= 57 then return false end
  local w = lower(sub(s, p, p + 2))
  return w == "inf" or w == "nan"
end

local function new_instance()
  local cfg = {
    sparse_convert = false, sparse_ratio = 2, sparse_safe = 10,
    encode_max_depth = 1000, decode_max_depth = 1000, precision = 14,
    keep_buffer = true, encode_invalid = 0, decode_invalid = true,
  }
  local numfmt = "%.14g"

  -- ---------------------------------------------------------------- encoding

  local function encode_number(x, out, n)
    if x ~= x or x == huge or x == -huge then
      if cfg.encode_invalid == 0 then fail("Cannot serialise number: must not be NaN or Inf") end
      if cfg.encode_invalid == 2 then n = n + 1; out[n] = "null"; return n end
      if x ~= x then n = n + 1; out[n] = "nan"; return n end
    end
    n = n + 1
    out[n] = format(numfmt, x)
    return n
  end

  -- lua_array_length: > 0 array length, otherwise an object; max is a C int, so a key of 2^31
  -- or more stores INT_MIN (what x86 gives for the out-of-range conversion).
  local function array_length(t)
    local max, items = 0, 0
    local k = next(t)
    while k ~= nil do
      if type(k) ~= "number" or k == 0 or k < 1 or k ~= floor(k) then return -1 end
      if k > max then max = k >= 2147483648 and INT_MIN or k end
      items = items + 1
      k = next(t, k)
    end
    local ratio = cfg.sparse_ratio
    -- items * ratio is C int arithmetic: it wraps
    local limit = items * ratio
    if limit > INT_MAX then limit = int32(limit) end
    if ratio > 0 and max > limit and max > cfg.sparse_safe then
      if not cfg.sparse_convert then fail("Cannot serialise table: excessively sparse array") end
      return -1
    end
    return max
  end

  local encode_value

  encode_value = function(v, depth, out, n)
    local t = type(v)
    if t == "string" then
      n = n + 1
      out[n] = "\"" .. gsub(v, ESCAPE_CLASS, ESCAPES) .. "\""
    elseif t == "number" then
      n = encode_number(v, out, n)
    elseif t == "boolean" then
      n = n + 1
      out[n] = v and "true" or "false"
    elseif t == "nil" or v == null then
      n = n + 1
      out[n] = "null"
    elseif t == "table" then
      depth = depth + 1
      if depth > cfg.encode_max_depth then
        fail("Cannot serialise, excessive nesting (" .. depth .. ")")
      end
      local len = array_length(v)
      if len > 0 then
        n = n + 1
        out[n] = "["
        for i = 1, len do
          if i > 1 then n = n + 1; out[n] = "," end
          n = encode_value(rawget(v, i), depth, out, n)
        end
        n = n + 1
        out[n] = "]"
      else
        n = n + 1
        out[n] = "{"
        local first = true
        for key, value in next, v do
          if first then first = false else n = n + 1; out[n] = "," end
          local kt = type(key)
          if kt == "number" then
            n = n + 1; out[n] = "\""
            n = encode_number(key, out, n)
            n = n + 1; out[n] = "\":"
          elseif kt == "string" then
            n = n + 1
            out[n] = "\"" .. gsub(key, ESCAPE_CLASS, ESCAPES) .. "\":"
          else
            fail("Cannot serialise " .. kt .. ": table key must be a number or string")
          end
          n = encode_value(value, depth, out, n)
        end
        n = n + 1
        out[n] = "}"
      end
    else
      fail("Cannot serialise " .. t .. ": type not supported")
    end
    return n
  end

  local function encode_impl(nargs, v)
    if nargs ~= 1 then failarg(1, "expected 1 argument") end
    local out = {}
    local n = encode_value(v, 0, out, 0)
    return concat(out, "", 1, n)
  end

  -- ---------------------------------------------------------------- decoding
  -- A token is (kind, value, index); kind "error" carries lua-cjson's error text as its value.

  local function string_token(s, p)
    local start = p
    p = p + 1
    local parts, np = {}, 0
    while true do
      local q = find(s, "[\"\\]", p)
      if q == nil then return "error", "unexpected end of string", #s + 1, #s + 1 end
      if q > p then np = np + 1; parts[np] = sub(s, p, q - 1) end
      if byte(s, q) == 34 then return "string", concat(parts, "", 1, np), start, q + 1 end
      local e = byte(s, q + 1)
      if e == 117 then
        local cp = hex4(s, q + 2)
        local width = 6
        if cp and cp >= 55296 and cp <= 57343 then
          if cp >= 56320 or sub(s, q + 6, q + 7) ~= "\\u" then
            cp = nil
          else
            local low = hex4(s, q + 8)
            if low and low >= 56320 and low <= 57343 then
              cp = (cp - 55296) * 1024 + (low - 56320) + 65536
              width = 12
            else
              cp = nil
            end
          end
        end
        if cp == nil then return "error", "invalid unicode escape code", q, q end
        np = np + 1
        parts[np] = utf8_char(cp)
        p = q + width
      else
        local ch = e and UNESCAPE[e]
        if ch == nil then return "error", "invalid escape code", q, q end
        np = np + 1
        parts[np] = ch
        p = q + 2
      end
    end
  end

  -- Returns kind, value, index (1-based start, for messages), next position.
  local function next_token(s, p)
    p = find(s, "[^ \t\n\r]", p) or #s + 1
    local c = byte(s, p)
    if c == nil then return "end", nil, p, p end
    local single = SINGLE[c]
    if single then return single, nil, p, p + 1 end
    if c == 34 then return string_token(s, p) end
    if c == 45 or (c >= 48 and c <= 57) then
      if not cfg.decode_invalid and is_invalid_number(s, p) then
        return "error", "invalid number", p, p
      end
      local v, e = strtod(s, p)
      if v == nil then return "error", "invalid number", p, p end
      return "number", v, p, e
    end
    if sub(s, p, p + 3) == "true" then return "boolean", true, p, p + 4 end
    if sub(s, p, p + 4) == "false" then return "boolean", false, p, p + 5 end
    if sub(s, p, p + 3) == "null" then return "null", null, p, p + 4 end
    if cfg.decode_invalid and is_invalid_number(s, p) then
      local v, e = strtod(s, p)
      if v == nil then return "error", "invalid number", p, p end
      return "number", v, p, e
    end
    return "error", "invalid token", p, p
  end

  local function parse_error(expected, kind, value, index)
    local found = kind == "error" and value or TOKEN_NAMES[kind]
    fail(format("Expected %s but found %s at character %d", expected, found, index))
  end

  local parse_value

  local function descend(depth, p)
    depth = depth + 1
    if depth > cfg.decode_max_depth then
      fail(format("Found too many nested data structures (%d) at character %d", depth, p - 1))
    end
    return depth
  end

  local function parse_object(s, p, depth)
    depth = descend(depth, p)
    local t = {}
    local kind, value, index
    kind, value, index, p = next_token(s, p)
    if kind == "obj_end" then return t, p end
    while true do
      if kind ~= "string" then parse_error("object key string", kind, value, index) end
      local key = value
      kind, value, index, p = next_token(s, p)
      if kind ~= "colon" then parse_error("colon", kind, value, index) end
      kind, value, index, p = next_token(s, p)
      value, p = parse_value(s, p, depth, kind, value, index)
      t[key] = value
      kind, value, index, p = next_token(s, p)
      if kind == "obj_end" then return t, p end
      if kind ~= "comma" then parse_error("comma or object end", kind, value, index) end
      kind, value, index, p = next_token(s, p)
    end
  end

  local function parse_array(s, p, depth)
    depth = descend(depth, p)
    local t = {}
    local kind, value, index
    kind, value, index, p = next_token(s, p)
    if kind == "arr_end" then return t, p end
    local i = 1
    while true do
      value, p = parse_value(s, p, depth, kind, value, index)
      t[i] = value
      kind, value, index, p = next_token(s, p)
      if kind == "arr_end" then return t, p end
      if kind ~= "comma" then parse_error("comma or array end", kind, value, index) end
      kind, value, index, p = next_token(s, p)
      i = i + 1
    end
  end

  parse_value = function(s, p, depth, kind, value, index)
    if kind == "string" or kind == "number" or kind == "boolean" or kind == "null" then
      return value, p
    end
    if kind == "obj_begin" then return parse_object(s, p, depth) end
    if kind == "arr_begin" then return parse_array(s, p, depth) end
    parse_error("value", kind, value, index)
  end

  local function decode_impl(nargs, s)
    if nargs ~= 1 then failarg(1, "expected 1 argument") end
    s = checkstring(s, 1, nargs)
    if #s >= 2 and (byte(s, 1) == 0 or byte(s, 2) == 0) then
      fail("JSON parser does not support UTF-16 or UTF-32")
    end
    -- The C parser sees a C string: the input ends at the first zero byte.
    local z = find(s, "\0", 1, true)
    if z then s = sub(s, 1, z - 1) end
    local kind, value, index, p = next_token(s, 1)
    local result
    result, p = parse_value(s, p, 0, kind, value, index)
    kind, value, index = next_token(s, p)
    if kind ~= "end" then parse_error("the end", kind, value, index) end
    return result
  end

  -- ---------------------------------------------------------------- settings

  local function check_args(nargs, max)
    if nargs > max then failarg(max + 1, "found too many arguments") end
  end

  -- json_integer_option: the range error always names argument #1, as lua-cjson does.
  local function integer_option(v, narg, nargs, key, min, max)
    if v ~= nil then
      local value = int_arg(v, narg, nargs)
      if value < min or value > max then
        failarg(1, format("expected integer between %d and %d", min, max))
      end
      cfg[key] = value
    end
    return cfg[key]
  end

  -- json_enum_option with the {"off", "on"} options (and "null" for encode_invalid_numbers).
  local function enum_option(v, narg, nargs, options)
    if type(v) == "boolean" then return v and 1 or 0 end
    local name = checkstring(v, narg, nargs)
    for i = 1, #options do
      if options[i] == name then return i - 1 end
    end
    failarg(narg, "invalid option '" .. name .. "'")
  end
  local ON_OFF = {"off", "on"}
  local ON_OFF_NULL = {"off", "on", "null"}

  local function bool_option(v, narg, nargs, key)
    if v ~= nil then cfg[key] = enum_option(v, narg, nargs, ON_OFF) == 1 end
    return cfg[key]
  end

  local json = {}
  json.encode = export(encode_impl, "encode")
  json.decode = export(decode_impl, "decode")

  json.encode_sparse_array = export(function(nargs, convert, ratio, safe)
    check_args(nargs, 3)
    local c = bool_option(convert, 1, nargs, "sparse_convert")
    local r = integer_option(ratio, 2, nargs, "sparse_ratio", 0, INT_MAX)
    local s = integer_option(safe, 3, nargs, "sparse_safe", 0, INT_MAX)
    return c, r, s
  end, "encode_sparse_array")

  json.encode_max_depth = export(function(nargs, depth)
    check_args(nargs, 1)
    return integer_option(depth, 1, nargs, "encode_max_depth", 1, INT_MAX)
  end, "encode_max_depth")

  json.decode_max_depth = export(function(nargs, depth)
    check_args(nargs, 1)
    return integer_option(depth, 1, nargs, "decode_max_depth", 1, INT_MAX)
  end, "decode_max_depth")

  json.encode_number_precision = export(function(nargs, precision)
    check_args(nargs, 1)
    local p = integer_option(precision, 1, nargs, "precision", 1, 14)
    numfmt = "%." .. p .. "g"
    return p
  end, "encode_number_precision")

  json.encode_keep_buffer = export(function(nargs, keep)
    check_args(nargs, 1)
    return bool_option(keep, 1, nargs, "keep_buffer")
  end, "encode_keep_buffer")

  json.encode_invalid_numbers = export(function(nargs, setting)
    check_args(nargs, 1)
    if setting ~= nil then cfg.encode_invalid = enum_option(setting, 1, nargs, ON_OFF_NULL) end
    if cfg.encode_invalid == 2 then return "null" end
    return cfg.encode_invalid == 1
  end, "encode_invalid_numbers")

  json.decode_invalid_numbers = export(function(nargs, setting)
    check_args(nargs, 1)
    return bool_option(setting, 1, nargs, "decode_invalid")
  end, "decode_invalid_numbers")

  json.new = new_instance
  json.null = null
  json._NAME = "cjson"
  json._VERSION = "2.1.0"
  return json
end

return new_instance()
"""
