"""The bundled Lua libraries (cjson, cmsgpack, bit, struct) run in a bare lupa runtime.

These tests build a runtime the way the scripting engine does, call `libraries.install`, and run
Lua snippets directly, without a server: results come back through `lua_runtime().run`, which
wraps a snippet in `WRAPPER` so every value (binary strings included) returns as printable text.
The exact byte-for-byte comparison with Redis 7.0 lives in
tests/differential/test_lua_libraries_diff.py; here we pin the behaviours that matter most and
the properties the differential test cannot see (sandboxing, speed, binary safety).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from lupa import lua51

from damselfly.scripting import libraries

# Serialises what a snippet returns: strings with non-printable bytes as \xNN, numbers with
# %.17g, tables with sorted entries, cjson.null as `null`; "true ; ..." or "false ; <error>".
WRAPPER_HEAD = r"""
local function esc(s)
  return (string.gsub(s, '[^%w%p ]', function(c) return string.format('\\x%02x', string.byte(c)) end))
end
local ser
ser = function(v, d)
  local t = type(v)
  if t == 'string' then return '"' .. esc(v) .. '"'
  elseif t == 'number' then return string.format('%.17g', v)
  elseif t == 'table' then
    if d > 20 then return '{...}' end
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = '[' .. ser(k, d + 1) .. ']=' .. ser(x, d + 1) end
    table.sort(parts)
    return '{' .. table.concat(parts, ',') .. '}'
  elseif t == 'userdata' then if v == cjson.null then return 'null' end return 'userdata'
  else return tostring(v) end
end
local function collect(...)
  local n = select('#', ...)
  local out = {}
  for i = 1, n do out[i] = ser((select(i, ...)), 0) end
  return table.concat(out, ' ; ')
end
local function reset()
  cjson.encode_sparse_array(false, 2, 10) cjson.encode_max_depth(1000)
  cjson.decode_max_depth(1000) cjson.encode_number_precision(14) cjson.encode_keep_buffer(true)
  cjson.encode_invalid_numbers(false) cjson.decode_invalid_numbers(true)
end
reset()
local function run()
"""
WRAPPER_TAIL = """
end
local result = collect(pcall(run))
reset()
return result
"""


def wrap(snippet: str) -> str:
    """The Lua chunk that runs `snippet` and returns its results as one printable string."""
    return WRAPPER_HEAD + snippet + WRAPPER_TAIL


class LuaRuntime:
    """A runtime like the engine's (encoding=None: Lua strings come back as bytes), with the
    libraries installed and scripts compiled the way the engine compiles them (chunk
    "@user_script", tail calls turned into calls)."""

    def __init__(self) -> None:
        self.lua = lua51.LuaRuntime(
            encoding=None, register_eval=False, register_builtins=False, unpack_returned_tuples=True
        )
        libraries.install(self.lua)
        self._dump = self.lua.eval(
            "function(code) return string.dump(assert(loadstring(code, '@user_script'))) end"
        )
        self._load = self.lua.eval("function(code) return assert(loadstring(code)) end")

    def compile(self, code: str) -> Any:
        return self._load(libraries.disable_tail_calls(self._dump(code.encode())))

    def run(self, snippet: str) -> str:
        """Run a snippet inside WRAPPER: 'true ; <values>' or 'false ; <error message>'."""
        result = self.compile(wrap(snippet))()
        return result.decode() if isinstance(result, bytes) else str(result)

    def value(self, expression: str) -> Any:
        """Evaluate one Lua expression without the wrapper (plain Python value back)."""
        return self.compile("return " + expression)()


@pytest.fixture(scope="module")
def lua() -> LuaRuntime:
    return LuaRuntime()


def test_install_sets_the_four_libraries_with_redis_metadata(lua: LuaRuntime) -> None:
    assert lua.run("return type(cjson), type(cmsgpack), type(bit), type(struct)") == (
        'true ; "table" ; "table" ; "table" ; "table"'
    )
    assert lua.run("return cjson._NAME, cjson._VERSION, cmsgpack._VERSION") == (
        'true ; "cjson" ; "2.1.0" ; "lua-cmsgpack 0.4.0"'
    )


def test_install_works_in_a_runtime_that_decodes_strings() -> None:
    runtime = lua51.LuaRuntime(
        register_eval=False, register_builtins=False, unpack_returned_tuples=True
    )
    libraries.install(runtime)
    assert runtime.eval("cjson.encode({bit.band(6, 3), struct.size('i')})") == "[2,4]"


def test_library_members_are_lua_functions_strings_or_the_null_userdata(lua: LuaRuntime) -> None:
    snippet = """
      local seen = {}
      for _, lib in ipairs({cjson, cmsgpack, bit, struct}) do
        for k, v in pairs(lib) do
          local t = type(v)
          if t ~= 'function' and t ~= 'string' and not (k == 'null' and t == 'userdata') then
            seen[#seen + 1] = k .. '=' .. t
          end
        end
      end
      return #seen, getmetatable(cjson.null), tostring(cjson.null)
    """
    assert lua.run(snippet) == 'true ; 0 ; false ; "userdata: (nil)"'


def test_libraries_ignore_scripts_replacing_standard_functions(lua: LuaRuntime) -> None:
    snippet = """
      local saved_format, saved_pairs = string.format, pairs
      string.format = function() return 'hijacked' end
      pairs = function() error('no') end
      local ok, out = pcall(cjson.encode, {a = {1.5, 'x'}})
      string.format, pairs = saved_format, saved_pairs
      return ok, out
    """
    assert lua.run(snippet) == 'true ; true ; "{"a":[1.5,"x"]}"'


def test_cjson_encodes_numbers_strings_and_tables_like_redis(lua: LuaRuntime) -> None:
    assert lua.run("return cjson.encode({1, 'a/b', true, cjson.null, 0.1, 1e15})") == (
        r'true ; "[1,"a\/b",true,null,0.1,1e+15]"'
    )
    assert lua.run(r"return cjson.encode('\0\8\127\200')") == (r'true ; ""\u0000\b\u007f\xc8""')
    assert lua.run("return cjson.encode({}), cjson.encode({[1]=1,[3]=3})") == (
        'true ; "{}" ; "[1,null,3]"'
    )


def test_cjson_encode_errors_name_the_script_line(lua: LuaRuntime) -> None:
    assert lua.run("return cjson.encode({[1]=1, [20]=2})") == (
        'false ; "user_script:32: Cannot serialise table: excessively sparse array"'
    )
    assert lua.run("return cjson.encode(1/0)") == (
        'false ; "user_script:32: Cannot serialise number: must not be NaN or Inf"'
    )
    assert lua.run("return cjson.encode()") == (
        "false ; \"user_script:32: bad argument #1 to 'encode' (expected 1 argument)\""
    )
    assert lua.run("return pcall(cjson.encode)") == (
        "true ; false ; \"bad argument #1 to '?' (expected 1 argument)\""
    )


def test_cjson_decode_reports_lua_cjson_token_errors(lua: LuaRuntime) -> None:
    assert lua.run("return cjson.decode('[1,]')") == (
        'false ; "user_script:32: Expected value but found T_ARR_END at character 4"'
    )
    assert lua.run("return cjson.decode('{\"a\" 1}')") == (
        'false ; "user_script:32: Expected colon but found T_NUMBER at character 6"'
    )
    assert lua.run("return cjson.decode('\"\\\\ud83d\"')") == (
        'false ; "user_script:32: Expected value but found invalid unicode escape code at character 2"'
    )


def test_cjson_decode_builds_tables_with_null_and_utf8(lua: LuaRuntime) -> None:
    assert lua.run('return cjson.decode(\'{"a":[1,null,"\\\\u00e9"],"b":false}\')') == (
        r'true ; {["a"]={[1]=1,[2]=null,[3]="\xc3\xa9"},["b"]=false}'
    )


def test_cjson_settings_persist_until_reset_and_new_instances_are_independent(
    lua: LuaRuntime,
) -> None:
    snippet = """
      local a = cjson.encode_max_depth(2)
      local other = cjson.new()
      return a, cjson.encode_max_depth(), other.encode_max_depth(), pcall(cjson.encode, {{{}}})
    """
    assert lua.run(snippet) == (
        'true ; 2 ; 2 ; 1000 ; false ; "Cannot serialise, excessive nesting (3)"'
    )


def test_cmsgpack_picks_the_smallest_encoding(lua: LuaRuntime) -> None:
    assert lua.run("return cmsgpack.pack(1, 200, -33, 70000, 0.5, 0.1, 'ab', {1,2}, {a=1})") == (
        r'true ; "\x01\xcc\xc8\xd0\xdf\xce\x00\x01\x11p\xca?\x00\x00\x00'
        r'\xcb?\xb9\x99\x99\x99\x99\x99\x9a\xa2ab\x92\x01\x02\x81\xa1a\x01"'
    )


def test_cmsgpack_round_trips_binary_strings_and_nested_tables(lua: LuaRuntime) -> None:
    snippet = """
      local all = {}
      for i = 0, 255 do all[#all + 1] = string.char(i) end
      local s = table.concat(all)
      local a, b = cmsgpack.unpack(cmsgpack.pack(s, {x = {1, {y = s}}}))
      return a == s, b.x[2].y == s, #cmsgpack.pack(s)
    """
    assert lua.run(snippet) == "true ; true ; true ; 259"


def test_cmsgpack_unpack_one_and_limit_return_the_next_offset(lua: LuaRuntime) -> None:
    assert lua.run("return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)") == "true ; 2 ; 2"
    assert lua.run("return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 1)") == (
        "true ; -1 ; 2 ; 3"
    )
    assert lua.run("return cmsgpack.unpack('\\145')") == (
        'false ; "user_script:32: Missing bytes in input."'
    )


def test_bit_uses_32_bit_signed_semantics(lua: LuaRuntime) -> None:
    assert lua.run(
        "return bit.tobit(2^32 + 5), bit.tobit(2.5), bit.bnot(0), bit.band(-1, 0xff)"
    ) == ("true ; 5 ; 2 ; -1 ; 255")
    assert lua.run("return bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4)") == (
        "true ; -2147483648 ; 15 ; -16"
    )
    assert lua.run("return bit.tohex(255), bit.tohex(255, -4), bit.rol(0x12345678, 12)") == (
        'true ; "000000ff" ; "00FF" ; 1164411171'
    )
    assert lua.run("return bit.bor(1, 'x')") == (
        "false ; \"user_script:32: bad argument #2 to 'bor' (number expected, got string)\""
    )


def test_struct_packs_and_unpacks_with_endianness_and_alignment(lua: LuaRuntime) -> None:
    assert lua.run("return struct.pack('>i2<i2', 1, 1), struct.pack('!bi', 1, 2)") == (
        r'true ; "\x00\x01\x01\x00" ; "\x01\x00\x00\x00\x02\x00\x00\x00"'
    )
    assert lua.run("return struct.unpack('>hsbc0', struct.pack('>hsb', -2, 'ab', 1) .. 'z')") == (
        'true ; -2 ; "ab" ; "z" ; 8'
    )
    assert lua.run("return struct.size('!bhilTdf')") == "true ; 36"
    assert lua.run("return struct.pack('i')") == (
        "false ; \"user_script:32: bad argument #2 to 'pack' (number expected, got nil)\""
    )


def test_struct_round_trips_every_byte_value(lua: LuaRuntime) -> None:
    snippet = """
      local ok = true
      for i = 0, 255 do
        local s = string.char(i, 255 - i, 0, i)
        if struct.pack('c4', s) ~= s or struct.unpack('>I4', s) ~= ((i * 256 + 255 - i) * 256) * 256 + i then
          ok = false
        end
      end
      return ok
    """
    assert lua.run(snippet) == "true ; true"


def test_cjson_encode_of_a_thousand_element_table_takes_milliseconds(lua: LuaRuntime) -> None:
    encode = lua.compile(
        "local t = {} for i = 1, 1000 do t[i] = {id = i, name = 'item' .. i, tags = {1, 2}} end "
        "local started = os.clock() local s = cjson.encode(t) local back = cjson.decode(s) "
        "return #s, #back, os.clock() - started"
    )
    started = time.perf_counter()
    size, count, cpu = encode()
    assert count == 1000 and size > 30_000
    assert cpu < 0.25 and time.perf_counter() - started < 0.5


def test_disable_tail_calls_keeps_results_and_the_script_frame(lua: LuaRuntime) -> None:
    fn = lua.compile("local function f(...) return select('#', ...), ... end return f(1, nil, 3)")
    assert fn() == (3, 1, None, 3)
    assert lua.run("return cjson.decode('x')") == (
        'false ; "user_script:32: Expected value but found invalid token at character 1"'
    )


def test_disable_tail_calls_rejects_what_is_not_a_lua_51_chunk() -> None:
    with pytest.raises(ValueError):
        libraries.disable_tail_calls(b"return 1")
