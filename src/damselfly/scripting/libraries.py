"""Install Redis's bundled Lua libraries (cjson, cmsgpack, bit, struct) into a lupa Lua 5.1 runtime.

Redis links these as C libraries; damselfly implements them in Lua (lib_cjson, lib_cmsgpack,
lib_bit, lib_struct, with shared helpers in lib_common) rather than as Python callables behind
Lua shims, for three reasons: no Python object is reachable from a script at all (not even as an
upvalue), byte strings stay Lua strings end to end (binary safety costs nothing), and there is no
Lua-to-Python crossing per value (cjson.encode of a 1000-element table takes about a millisecond).
Each library chunk captures the standard functions it uses as upvalues and then runs with an
empty environment, so a script that replaces `string.format` or `pairs` cannot change a library,
and a library can never read a global by accident. The chunks are named "=damselfly", the name
the scripting prelude's error handler skips when it looks for the script line of an error.
"""

from __future__ import annotations

from typing import Any, Literal

from damselfly.scripting import lib_bit, lib_cjson, lib_cmsgpack, lib_common, lib_struct

# The chunk name of every library function; the error handler skips frames with this source.
CHUNK_NAME = "=damselfly"

_LIBRARIES = (
    ("cjson", lib_cjson.LUA_SOURCE),
    ("cmsgpack", lib_cmsgpack.LUA_SOURCE),
    ("bit", lib_bit.LUA_SOURCE),
    ("struct", lib_struct.LUA_SOURCE),
)


def install(lua: Any) -> None:
    """Set the globals cjson, cmsgpack, bit and struct in `lua` (a lupa.lua51.LuaRuntime).

    Must run before the sandbox protects the globals: the chunks capture `debug.getinfo`,
    `setfenv` and `newproxy`, which scripts never see.
    """
    load = lua.eval("function(code, name) return assert(loadstring(code, name)) end")
    # bytes, not str: a runtime made with encoding=None would pass a str as a Python object.
    chunk = CHUNK_NAME.encode()
    helpers = load(lib_common.LUA_SOURCE.encode(), chunk)()
    set_global = lua.eval("function(name, value) _G[name] = value end")
    for name, source in _LIBRARIES:
        set_global(name.encode(), load(source.encode(), chunk)(helpers))


# Lua 5.1 opcodes (lopcodes.h): a tail call is OP_TAILCALL A B 0 followed by OP_RETURN A 0.
_OP_CALL, _OP_TAILCALL = 28, 29


def disable_tail_calls(dump: bytes) -> bytes:
    """Rewrite a `string.dump` of a Lua 5.1 function so that no call in it is a tail call.

    Redis's libraries are C functions, and Lua keeps the caller's frame for a C call, so in
    `return cjson.decode(s)` an error names the script line ("user_script:1: ..."). Our library
    functions are Lua functions, and a real tail call would drop the script's frame. Turning
    OP_TAILCALL into OP_CALL (the OP_RETURN after it already returns every result) keeps the
    frame; the only other effect is that deep tail recursion in a script uses stack space.
    The engine applies this to compiled scripts; the layout walked here is lundump.c's.
    """
    if dump[:5] != b"\x1bLua\x51" or len(dump) < 12:
        raise ValueError("not a Lua 5.1 binary chunk")
    little = dump[6] == 1
    int_size, size_t_size, instr_size, number_size = dump[7], dump[8], dump[9], dump[10]
    order: Literal["little", "big"] = "little" if little else "big"
    out = bytearray(dump)
    pos = 12

    def read_int(size: int) -> int:
        nonlocal pos
        value = int.from_bytes(out[pos : pos + size], order)
        pos += size
        return value

    def skip_string() -> None:
        nonlocal pos
        length = read_int(size_t_size)
        pos += length

    def walk_function() -> None:
        nonlocal pos
        skip_string()  # source
        pos += 2 * int_size + 4  # linedefined, lastlinedefined, nups, numparams, vararg, stack
        for _ in range(read_int(int_size)):
            instr = int.from_bytes(out[pos : pos + instr_size], order)
            if instr & 0x3F == _OP_TAILCALL:
                instr = (instr & ~0x3F) | _OP_CALL
                out[pos : pos + instr_size] = instr.to_bytes(instr_size, order)
            pos += instr_size
        for _ in range(read_int(int_size)):
            kind = out[pos]
            pos += 1
            if kind == 1:
                pos += 1
            elif kind == 3:
                pos += number_size
            elif kind == 4:
                skip_string()
            elif kind != 0:
                raise ValueError(f"unknown constant type {kind}")
        for _ in range(read_int(int_size)):
            walk_function()
        lines = read_int(int_size)
        pos += lines * int_size
        for _ in range(read_int(int_size)):  # local variables
            skip_string()
            pos += 2 * int_size
        for _ in range(read_int(int_size)):  # upvalue names
            skip_string()

    walk_function()
    if pos != len(out):
        raise ValueError("unexpected data after the main function")
    return bytes(out)
