"""Redis 7.0 functions: libraries of Lua functions loaded with FUNCTION LOAD, run by FCALL.

A library's code (`#!lua name=<lib>` first line) runs once in FUNCTION's own engine, with the
load-time globals Redis gives it (only `redis.register_function`, `redis.log` and constants;
see scripting/prelude.py) and a 500 ms limit. Each registered callback is kept as a Lua function
and later called with (KEYS, ARGV). A load is all or nothing: the new library is checked against
the others (a function name is unique across libraries) before anything changes.

FUNCTION DUMP's payload is damselfly's own, not Redis's RDB encoding (documented difference):
    b"DFLYFUNC" version:u8 (count:u32 (len:u32 code)*count) sha1-of-everything-before:20 bytes
It carries each library's code, which FUNCTION RESTORE loads again; anything else, including a
payload from Redis, is refused with Redis's "payload version or checksum are wrong".
"""

from __future__ import annotations

import hashlib
import re
import struct
import time
from typing import TYPE_CHECKING, Any

from lupa import lua51  # type: ignore[import-untyped]

from damselfly.commands.args import to_int
from damselfly.errors import CommandError
from damselfly.scripting.engine import SCRIPT_FLAGS, Engine, parse_shebang

if TYPE_CHECKING:
    from damselfly.scripting.engine import Scripting
    from damselfly.server.client import Client
    from damselfly.server.server import Server

# Redis stops a library's load after this long (its code should only register functions).
LOAD_TIMEOUT_MS = 500
LOAD_TIMEOUT = b"ERR FUNCTION LOAD timeout"

DUMP_MAGIC = b"DFLYFUNC"
DUMP_VERSION = 1
BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"

_NAME_RE = re.compile(rb"[A-Za-z0-9_]+\Z")
NAME_RULES = (
    "Library names can only contain letters, numbers, or underscores(_) and must be at least "
    "one character long"
)
_lua_type = lua51.lua_type


class Function:
    __slots__ = ("callback", "description", "flags", "library", "name", "no_writes", "text_name")

    def __init__(
        self, name: bytes, callback: Any, flags: list[bytes], description: bytes | None
    ) -> None:
        self.name = name
        self.callback = callback
        self.flags = flags
        self.description = description
        self.library: Library | None = None
        # Worked out once here rather than on every FCALL.
        self.no_writes = b"no-writes" in flags
        self.text_name = name.decode("utf-8", "surrogateescape")


class Library:
    __slots__ = ("code", "functions", "name")

    def __init__(self, name: bytes, code: bytes) -> None:
        self.name = name
        self.code = code
        self.functions: dict[bytes, Function] = {}


def _register_error(text: str) -> CommandError:
    return CommandError("ERR " + text)


class FunctionLibraries:
    """The loaded libraries, every function by name, and FUNCTION's Lua engine."""

    def __init__(self, server: Server, owner: Scripting) -> None:
        self.server = server
        self.owner = owner
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}
        # The library whose code is running now (FUNCTION LOAD): register_function adds to it.
        self._loading: Library | None = None
        self._load_deadline_ns = 0
        self.engine = self._new_engine()

    def _new_engine(self) -> Engine:
        engine = Engine(self.server, self.owner, self._register)
        engine.load_hook = self._load_hook
        return engine

    # -- loading ----------------------------------------------------------------------------

    def load(self, client: Client, code: bytes, replace: bool) -> bytes:
        """FUNCTION LOAD: the library's name, or CommandError with Redis's text."""
        shebang = parse_shebang(code, allow_name=True)
        if shebang is None:
            raise CommandError("ERR Missing library metadata")
        options, _flags = shebang
        name = options.get(b"name")
        if name is None:
            raise CommandError("ERR Library name was not given")
        if not _NAME_RE.match(name):
            raise CommandError("ERR " + NAME_RULES)
        if name in self.libraries and not replace:
            raise CommandError(f"ERR Library '{name.decode('utf-8', 'replace')}' already exists")
        library = self.compile_library(client, name, code)
        self.commit([library], replace=True)
        return name

    def compile_library(self, client: Client, name: bytes, code: bytes) -> Library:
        """Run a library's code and collect what it registers (nothing is installed yet)."""
        engine = self.engine
        fn = engine.compile(b"--" + code[2:], b"@user_function", "ERR Error compiling function: ")
        library = Library(name, code)
        self._loading = library
        self._load_deadline_ns = time.monotonic_ns() + LOAD_TIMEOUT_MS * 1_000_000
        try:
            ok, result = engine.load_library(fn, client, name.decode("utf-8", "replace"))
        finally:
            self._loading = None
        if not ok:
            message = engine.error_message(result)
            raise CommandError("ERR Error registering functions: " + message)
        if not library.functions:
            raise CommandError("ERR No functions registered")
        return library

    def commit(self, libraries: list[Library], replace: bool) -> None:
        """Install `libraries` (replacing same-named ones when `replace`) or change nothing."""
        removed = {lib.name for lib in libraries if lib.name in self.libraries}
        if removed and not replace:
            first = next(lib.name for lib in libraries if lib.name in self.libraries)
            raise CommandError(f"ERR Library {first.decode('utf-8', 'replace')} already exists")
        # Function names are unique across libraries regardless of case (Redis's dict type).
        taken = {
            fname.lower()
            for lname, lib in self.libraries.items()
            if lname not in removed
            for fname in lib.functions
        }
        for lib in libraries:
            for fname in lib.functions:
                if fname.lower() in taken:
                    raise CommandError(
                        f"ERR Function {fname.decode('utf-8', 'replace')} already exists"
                    )
                taken.add(fname.lower())
        for lname in removed:
            self._remove(lname)
        for lib in libraries:
            self.libraries[lib.name] = lib
            for fname, function in lib.functions.items():
                function.library = lib
                self.functions[fname.lower()] = function

    def _remove(self, name: bytes) -> None:
        library = self.libraries.pop(name)
        for fname in library.functions:
            self.functions.pop(fname.lower(), None)

    def delete(self, name: bytes) -> None:
        if name not in self.libraries:
            raise CommandError("ERR Library not found")
        self._remove(name)

    def flush(self) -> None:
        self.libraries.clear()
        self.functions.clear()
        self.engine.load_hook = None
        self.engine.close()
        self.engine = self._new_engine()

    def _load_hook(self) -> bytes | None:
        """The hook's verdict while a library loads: only the load timeout applies."""
        if time.monotonic_ns() > self._load_deadline_ns:
            return LOAD_TIMEOUT
        return None

    def _register(self, *args: Any) -> None:
        """redis.register_function(name, callback) or redis.register_function{...}."""
        engine = self.engine
        library = self._loading
        if library is None:
            engine.raise_text("ERR redis.register_function can only be called on FUNCTION LOAD")
        assert library is not None
        description: bytes | None = None
        flags: list[bytes] = []
        if len(args) == 1:
            if _lua_type(args[0]) != "table":
                engine.raise_text(
                    "ERR calling redis.register_function with a single argument is only "
                    "applicable to Lua table (representing named arguments)."
                )
            name = callback = None
            for key, value in args[0].items():
                if key == b"function_name":
                    name = _string(value)
                elif key == b"callback":
                    if _lua_type(value) != "function":
                        engine.raise_text(
                            "ERR callback argument given to redis.register_function must be a "
                            "function"
                        )
                    callback = value
                elif key == b"flags":
                    if _lua_type(value) != "table":
                        engine.raise_text(
                            "ERR flags argument to redis.register_function must be a table "
                            "representing function flags"
                        )
                    for flag in value.values():
                        if type(flag) is not bytes or flag not in SCRIPT_FLAGS:
                            engine.raise_text("ERR unknown flag given")
                        flags.append(flag)
                elif key == b"description":
                    description = _string(value)
                else:
                    engine.raise_text("ERR unknown argument given to redis.register_function")
            if name is None:
                engine.raise_text("ERR redis.register_function must get a function name argument")
            if callback is None:
                engine.raise_text("ERR redis.register_function must get a callback argument")
        elif len(args) == 2:
            name = _string(args[0])
            callback = args[1]
            if _lua_type(callback) != "function":
                engine.raise_text(
                    "ERR second argument to redis.register_function must be a function"
                )
        else:
            engine.raise_text("ERR wrong number of arguments to redis.register_function")
        assert name is not None
        if not _NAME_RE.match(name):
            engine.raise_text("ERR " + NAME_RULES)
        if name in library.functions:
            engine.raise_text("ERR Function already exists in the library")
        library.functions[name] = Function(name, callback, flags, description)

    # -- running ----------------------------------------------------------------------------

    def call(self, client: Client, argv: list[bytes], read_only: bool) -> Any:
        """FCALL / FCALL_RO."""
        function = self.functions.get(argv[1].lower())
        if function is None:
            raise CommandError("ERR Function not found")
        numkeys = to_int(argv[2])
        if numkeys is None:
            raise CommandError("ERR Bad number of keys provided")
        if numkeys > len(argv) - 3:
            raise CommandError("ERR Number of keys can't be greater than number of args")
        if numkeys < 0:
            raise CommandError("ERR Number of keys can't be negative")
        if read_only and not function.no_writes:
            raise CommandError("ERR Can not execute a script with write flag using *_ro command.")
        return self.engine.call_function(
            client,
            function.text_name,
            function.callback,
            read_only or function.no_writes,
            argv,
            numkeys,
        )

    # -- DUMP / RESTORE ---------------------------------------------------------------------

    def dump(self) -> bytes:
        parts = [DUMP_MAGIC, bytes([DUMP_VERSION]), struct.pack(">I", len(self.libraries))]
        for library in self.libraries.values():
            parts.append(struct.pack(">I", len(library.code)))
            parts.append(library.code)
        body = b"".join(parts)
        return body + hashlib.sha1(body).digest()

    def restore(self, client: Client, payload: bytes, policy: bytes) -> None:
        codes = _parse_dump(payload)
        libraries = []
        seen = set()
        for code in codes:
            shebang = parse_shebang(code, allow_name=True)
            name = shebang[0].get(b"name") if shebang is not None else None
            if name is None or name in seen:
                raise CommandError(BAD_PAYLOAD)
            seen.add(name)
            libraries.append(self.compile_library(client, name, code))
        if policy == b"flush":
            self.libraries.clear()
            self.functions.clear()
        self.commit(libraries, replace=policy == b"replace")


def _parse_dump(payload: bytes) -> list[bytes]:
    if len(payload) < len(DUMP_MAGIC) + 1 + 4 + 20:
        raise CommandError(BAD_PAYLOAD)
    body, digest = payload[:-20], payload[-20:]
    if (
        not body.startswith(DUMP_MAGIC)
        or body[len(DUMP_MAGIC)] != DUMP_VERSION
        or hashlib.sha1(body).digest() != digest
    ):
        raise CommandError(BAD_PAYLOAD)
    pos = len(DUMP_MAGIC) + 1
    (count,) = struct.unpack_from(">I", body, pos)
    pos += 4
    codes = []
    for _ in range(count):
        if pos + 4 > len(body):
            raise CommandError(BAD_PAYLOAD)
        (size,) = struct.unpack_from(">I", body, pos)
        pos += 4
        if pos + size > len(body):
            raise CommandError(BAD_PAYLOAD)
        codes.append(body[pos : pos + size])
        pos += size
    if pos != len(body):
        raise CommandError(BAD_PAYLOAD)
    return codes


def _string(value: Any) -> bytes | None:
    """lua_tostring of a register_function argument: strings and numbers only."""
    if type(value) is bytes:
        return value
    if type(value) is int:
        return str(value).encode()
    if type(value) is float:
        return (b"%.14g" % value).lower()
    return None
