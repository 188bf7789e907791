"""One Lua runtime and everything that crosses between it and the server.

An `Engine` owns a lupa `LuaRuntime` (PUC Lua 5.1, like Redis) set up by the prelude
(scripting/prelude.py): Redis's bundled libraries (cjson, cmsgpack, bit, struct, installed by
scripting/libraries.py), the `redis` library and read-only globals. There are two engines per
server, as Redis has two Lua states: EVAL's (with the script cache by SHA1) and FUNCTION's
(scripting/functions.py), both reached through `scripting_of(server)`.

A run (`run_script` / `call_function`) freezes the server time (`server.time_frozen`), points the
engine's script client at the caller's database, and converts the result with Redis 7.0's rules.
`redis.call` and `redis.pcall` come back into Python (`_command`): Redis's checks for scripts
(unknown command, arity, noscript, writes from read-only scripts) and then `dispatch.execute`,
the one path every command takes; the reply is converted to Lua values (RESP2 or RESP3 shapes
after `redis.setresp`). A Lua count hook calls `_hook` every HOOK_EVERY instructions: past
`busy-reply-threshold` it serves the other clients (scripting/busy.py) and ends the script when
SCRIPT KILL / FUNCTION KILL or a shutdown asked for it.

Nothing Python is reachable from Lua: the runtime is made without lupa's eval/builtins, the
`python` table is dropped by the prelude, the callbacks are upvalues of Lua closures, and an
attribute filter refuses every attribute access on a wrapped Python object anyway.

The hot path (EVALSHA of redis-py's Lock release: GET, compare, no DEL) was profiled and cut
from ~9-10 µs to ~6 µs in-process (bench/script_micro.py, best CPU time of several rounds on a
shared 2-core machine; a GET costs ~1.2 µs there). What it cost and what was done:
- Python around the run (~2.5 µs, now ~1): the deadline was computed from the config on every
  run (the hook now compares the run's age with busy-reply-threshold itself), the KEYS/ARGV lists
  were split in Python (the params go to Lua as one flat varargs call), the handlers went through
  helper calls (evalsha_generic inlines them), and the run answered an (ok, result) tuple (it now
  answers the result alone, and a tuple only when it failed).
- Lua around the script (~1.25 µs, now ~0.8, of which ~0.5 is lupa's call itself): KEYS and
  ARGV were copied through a third table (now `{...}` and `{select(n + 1, ...)}`), the count hook
  was set and cleared on every run (now installed once and left on; see the prelude), FCALL made
  a closure per call.
- redis.call (~3 µs over the GET itself, now ~1.3, of which ~0.9 is lupa's crossing into Python,
  GIL and argument tuple included, which nothing on our side can avoid): `_argv` converted every
  argument one by one (an all-bytes command line is now used as it is), the bound method called a
  shared helper (now one frame through functools.partial), dispatch looked the command up and
  checked its arity a second time (the resolved spec now goes in as EXEC's queued specs do), and
  bytes/int/nil replies took the general converter (now tested first).
What was measured and left: lupa's `unpack_returned_tuples` makes no measurable difference to a
crossing (0.89 vs 0.96 µs, within noise); xpcall with the handler costs no more than a bare pcall
(0.31 vs 0.34 µs); reusing KEYS/ARGV tables across runs would leak one run's edits into the next.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from lupa import lua51  # type: ignore[import-untyped]

from damselfly import REDIS_VERSION
from damselfly.errors import CommandError
from damselfly.protocol.encoder import format_double
from damselfly.protocol.types import (
    BigNumber,
    Bool,
    Double,
    ErrorReply,
    Map,
    NoReply,
    NullArray,
    Push,
    SetReply,
    Status,
    Verbatim,
)
from damselfly.scripting.prelude import PRELUDE
from damselfly.server import dispatch
from damselfly.server.client import Client

if TYPE_CHECKING:
    from damselfly.scripting.busy import BusyServing
    from damselfly.scripting.functions import FunctionLibraries
    from damselfly.server.server import Server

# The count hook runs every HOOK_EVERY Lua instructions (~0.1 ms of pure Lua): often enough to
# notice busy-reply-threshold and serve SCRIPT KILL promptly, rare enough to cost ~1%.
HOOK_EVERY = 10_000

_LuaTable = type(lua51.LuaRuntime().table())
_INT_MIN = -(1 << 63)
_INT_LIMIT = 1 << 63
_perf_ns = time.monotonic_ns

# Redis's flags of a script's shebang (#!lua flags=...) and of a function's flags table.
SCRIPT_FLAGS = frozenset(
    [b"no-writes", b"allow-oom", b"allow-stale", b"no-cluster", b"allow-cross-slot-keys"]
)

KILLED = b"ERR Script killed by user with SCRIPT KILL..."
SHUTTING_DOWN = b"ERR Script interrupted: the server is shutting down"


_NO_ARGV: list[bytes] = []  # caller_argv of a run that is not an FCALL (never mutated)
_NO_ARGS = "ERR Please specify at least one argument for this redis lib call"
_BAD_ARGS = "ERR Lua redis lib command arguments must be strings or integers"


class _RaisedError(Exception):
    """redis.call failed: the Redis error table waits in Engine._raised."""


def _deny_attributes(obj: Any, name: Any, setting: bool) -> Any:
    raise AttributeError("not accessible from Lua")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def lua_int(value: float) -> int:
    """A Lua number as Redis replies it: C's (long long) cast, INT64_MIN when out of range."""
    if value != value or not (_INT_MIN <= value < _INT_LIMIT):
        return _INT_MIN
    return int(value)


def lua_error_text(text: str) -> str:
    """An error reply's text as Redis stores it in a Lua error table: "CODE msg", ERR added when
    the text has no space (no code of its own), CR/LF trimmed from the ends."""
    space = text.find(" ")
    if space < 0:
        code, msg = "ERR", text
    else:
        code, msg = text[:space], text[space + 1 :]
    return code + " " + msg.strip("\r\n")


class RunContext:
    """The script or function running now (there is at most one).

    One is made per run (~0.3 µs). It holds no deadline: the hook, which runs every HOOK_EVERY
    instructions, compares the run's age with busy-reply-threshold itself, so the hot path
    reads no configuration (nothing can change the threshold while a run is not yet busy).
    """

    __slots__ = (
        "busy",
        "caller",
        "caller_argv",
        "dirty",
        "is_eval",
        "killed",
        "loading",
        "name",
        "read_only",
        "start_ns",
    )

    def __init__(
        self, caller: Client, name: str, read_only: bool, is_eval: bool, argv: list[bytes]
    ) -> None:
        self.caller = caller
        self.caller_argv = argv  # FUNCTION STATS shows the running FCALL
        self.name = name
        self.read_only = read_only
        self.is_eval = is_eval
        self.dirty = False  # a write command ran: SCRIPT KILL must refuse (UNKILLABLE)
        self.killed = False
        self.loading = False  # FUNCTION LOAD running a library's code
        self.start_ns = _perf_ns()
        self.busy: BusyServing | None = None


class Script:
    """A compiled EVAL script in the cache."""

    __slots__ = ("body", "fn", "no_writes", "sha", "shebang")

    def __init__(self, sha: str, body: bytes, fn: Any, shebang: bool, no_writes: bool) -> None:
        self.sha = sha
        self.body = body
        self.fn = fn
        self.shebang = shebang
        self.no_writes = no_writes


def parse_flag_list(words: list[bytes]) -> set[bytes]:
    flags = set()
    for word in words:
        if word not in SCRIPT_FLAGS:
            raise CommandError("ERR Unexpected flag in script shebang: " + _text(word))
        flags.add(word)
    return flags


def parse_shebang(body: bytes, allow_name: bool) -> tuple[dict[bytes, bytes], set[bytes]] | None:
    """The options and flags of a `#!lua ...` first line; None when the body has none."""
    if not body.startswith(b"#!"):
        return None
    end = body.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid script shebang")
    parts = body[:end].split()
    engine = parts[0] if parts else b"#!"
    if engine != b"#!lua":
        if allow_name:
            raise CommandError("ERR Engine '" + _text(engine[2:]) + "' not found")
        raise CommandError("ERR Unexpected engine in script shebang: " + _text(engine))
    options: dict[bytes, bytes] = {}
    flags: set[bytes] = set()
    for part in parts[1:]:
        if part.startswith(b"flags=") and not allow_name:
            flags |= parse_flag_list([w for w in part[6:].split(b",") if w])
        elif part.startswith(b"name=") and allow_name:
            if b"name" in options:
                raise CommandError(
                    "ERR Invalid metadata value, name argument was given multiple times"
                )
            options[b"name"] = part[5:]
        elif allow_name:
            raise CommandError("ERR Invalid metadata value given: " + _text(part))
        else:
            raise CommandError("ERR Unknown lua shebang option: " + _text(part))
    return options, flags


class Engine:
    """A Lua runtime with Redis's sandbox; `functions` adds redis.register_function."""

    def __init__(self, server: Server, owner: Scripting, register: Callable[..., Any] | None):
        self.server = server
        self.owner = owner
        lua = lua51.LuaRuntime(
            encoding=None,
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            attribute_filter=_deny_attributes,
        )
        self.lua = lua
        self._rewrite: Callable[[bytes], bytes] | None = None
        try:
            from damselfly.scripting import libraries

            libraries.install(lua)
            self._rewrite = libraries.disable_tail_calls
        except ImportError:
            pass
        self._table_from = lua.table_from
        (
            self._compile,
            self._run,
            self._set_global,
            self._call,
            self._load_library,
            self._memory,
            self._dump,
            self._load_binary,
            install_hook,
        ) = lua.execute(
            PRELUDE,
            partial(self._command, True),
            partial(self._command, False),
            self._take_error,
            self._log,
            self._sha1hex,
            self._setresp,
            self._set_repl,
            self._hook,
            self._acl_check,
            register,
            REDIS_VERSION.encode(),
            _version_num(REDIS_VERSION),
        )
        install_hook(HOOK_EVERY)
        # Looked up per redis.call: the full table, which stays in place while a script is busy
        # (dispatch's fast table is emptied then, see scripting/busy.py).
        self._commands = server.commands
        client = Client(server, 0, None)
        client.authenticated = True
        client.addr = "lua"  # MONITOR shows script commands as "[db lua] ..."
        client.extra["no_block"] = True
        self.client = client
        self.scripts: dict[str, Script] = {}
        # The same scripts by the SHA1 as EVALSHA sends it (lower-case hex bytes).
        self.by_sha: dict[bytes, Script] = {}
        # The Redis error table of the Python exception redis.call raised last (see the prelude).
        self._raised: Any = None
        # FUNCTION's engine: the hook's verdict while a library's code loads (its timeout).
        self.load_hook: Callable[[], bytes | None] | None = None

    # -- compiling and running -------------------------------------------------------------------

    def compile(
        self,
        code: bytes,
        chunkname: bytes,
        prefix: str = "ERR Error compiling script (new function): ",
    ) -> Any:
        fn, message = self._compile(code, chunkname)
        if fn is None:
            raise CommandError(prefix + _text(message))
        if self._rewrite is not None:
            # Redis's library functions are C functions, which Lua never tail-calls away; ours
            # are Lua functions, so in `return cjson.decode(x)` an error would lose the script's
            # line. The compiled script goes through bytecode once with its tail calls made
            # plain calls (scripting/libraries.py), so errors name the script line as in Redis.
            try:
                rewritten, _ = self._load_binary(self._rewrite(self._dump(fn)), chunkname)
            except Exception:  # keep the script as compiled: only error positions differ
                rewritten = None
            if rewritten is not None:
                fn = rewritten
        return fn

    def script(self, body: bytes) -> Script:
        """The cached script for `body`, compiled and cached on first sight."""
        sha = hashlib.sha1(body).hexdigest()
        script = self.scripts.get(sha)
        if script is not None:
            return script
        shebang = parse_shebang(body, allow_name=False)
        code = body if shebang is None else b"--" + body[2:]  # line numbers stay the same
        fn = self.compile(code, b"@user_script")
        no_writes = shebang is not None and b"no-writes" in shebang[1]
        script = Script(sha, body, fn, shebang is not None, no_writes)
        self.scripts[sha] = script
        self.by_sha[sha.encode()] = script
        return script

    def close(self) -> None:
        """Drop every reference into the Lua state so it is freed now: the state holds this
        engine's callbacks, a cycle through Lua that Python's collector cannot see."""
        self.scripts.clear()
        self.by_sha.clear()
        self._compile = self._run = self._set_global = self._call = None
        self._load_library = self._memory = self._dump = self._load_binary = None
        self._table_from = None
        self._raised = None
        self.lua = None

    def memory(self) -> int:
        return int(self._memory())

    def _prepare(self, caller: Client, ctx: RunContext) -> None:
        self._raised = None
        client = self.client
        client.db = caller.db
        client.resp = 2
        client.user = caller.user
        self.owner.current = ctx

    def run_script(
        self, caller: Client, script: Script, nkeys: int, params: list[bytes], ro: bool
    ) -> Any:
        """EVAL/EVALSHA: `params` holds the keys (the first `nkeys`) and then the arguments."""
        if ro and script.shebang and not script.no_writes:
            raise CommandError("ERR Can not execute a script with write flag using *_ro command.")
        ctx = RunContext(caller, script.sha, ro or script.no_writes, True, _NO_ARGV)
        return self._execute(ctx, caller, self._run, script.fn, nkeys, params)

    def call_function(
        self,
        caller: Client,
        name: str,
        fn: Any,
        read_only: bool,
        argv: list[bytes],
        nkeys: int,
    ) -> Any:
        """FCALL: argv is the whole command (FUNCTION STATS shows it), keys from argv[3]."""
        ctx = RunContext(caller, name, read_only, False, argv)
        return self._execute(ctx, caller, self._call, fn, nkeys, argv[3:])

    def _execute(
        self,
        ctx: RunContext,
        caller: Client,
        runner: Any,
        fn: Any,
        nkeys: int,
        params: list[bytes],
    ) -> Any:
        server = self.server
        # _prepare inline: this is the hot path of every EVALSHA.
        self._raised = None
        client = self.client
        client.db = caller.db
        client.resp = 2
        client.user = caller.user
        self.owner.current = ctx
        was_frozen = server.time_frozen
        server.time_frozen = True
        try:
            result = runner(fn, nkeys, *params)
        finally:
            server.time_frozen = was_frozen
            self.owner.current = None
            if ctx.busy is not None:
                ctx.busy.finish()
        t = type(result)
        if t is bytes:
            return result
        if t is int and _INT_MIN <= result < _INT_LIMIT:
            return result
        if t is tuple:  # (FAILED, error table): the run raised
            return self.error_reply(result[1], ctx.name)
        return self.to_reply(result, client.resp == 3, True)

    def load_library(self, fn: Any, caller: Client, name: str) -> tuple[bool, Any]:
        ctx = RunContext(caller, name, True, False, _NO_ARGV)
        ctx.loading = True
        server = self.server
        self._prepare(caller, ctx)
        was_frozen = server.time_frozen
        server.time_frozen = True
        try:
            ok, result = self._load_library(fn)
        finally:
            server.time_frozen = was_frozen
            self.owner.current = None
            if ctx.busy is not None:
                ctx.busy.finish()
        return bool(ok), result

    def error_message(self, err: Any) -> str:
        """The message of an error a run raised, without where it happened."""
        if type(err) is _LuaTable:
            msg = err[b"err"]
            if msg is not None:
                return _lua_string(msg)
            return "ERR unknown error"
        return _lua_string(err)

    def raise_text(self, text: str) -> None:
        """From a callback: raise a Redis error with this text in the running Lua code."""
        self._raise(self._error(text)[0])

    def error_reply(self, err: Any, name: str) -> Any:
        """The caller's error reply for an error a run raised (a table made by the handler)."""
        if type(err) is not _LuaTable:
            raise CommandError(f"ERR Error running script {name}, {_lua_string(err)[:100]}")
        msg = err[b"err"]
        text = _lua_string(msg) if msg is not None else "ERR unknown error"
        source = err[b"source"]
        line = err[b"line"]
        if type(source) is bytes and line is not None:
            text += f" script: {name}, on {_text(source)}:{_lua_string(line)}."
        if err[b"ignore_error_stats_update"]:
            return ErrorReply(dispatch.sanitize(text))
        raise CommandError(text)

    # -- Lua -> reply ---------------------------------------------------------------------------

    def to_reply(self, value: Any, resp3: bool, top: bool = False) -> Any:
        """A Lua value as the reply Redis 7.0 makes of it (luaReplyToRedisReply)."""
        t = type(value)
        if t is bytes:
            return value
        if t is int:
            return value if _INT_MIN <= value < _INT_LIMIT else _INT_MIN
        if t is float:
            return lua_int(value)
        if t is bool:
            if resp3:
                return Bool(value)
            return 1 if value else None
        if t is not _LuaTable:
            return None  # nil, functions, coroutines, userdata
        err = value[b"err"]
        if type(err) is bytes:
            if top and not value[b"ignore_error_stats_update"]:
                raise CommandError(_text(err))
            return ErrorReply(dispatch.sanitize(_text(err)))
        ok = value[b"ok"]
        if type(ok) is bytes:
            return Status(_text(ok))
        double = value[b"double"]
        if type(double) is int or type(double) is float:
            return Double(double)
        big = value[b"big_number"]
        if type(big) is bytes:
            return BigNumber(_text(big))
        mapping = value[b"map"]
        if type(mapping) is _LuaTable:
            return Map(
                [(self.to_reply(k, resp3), self.to_reply(v, resp3)) for k, v in mapping.items()]
            )
        members = value[b"set"]
        if type(members) is _LuaTable:
            return SetReply([self.to_reply(k, resp3) for k in members])
        verbatim = value[b"verbatim_string"]
        if type(verbatim) is _LuaTable:
            fmt = verbatim[b"format"]
            text = verbatim[b"string"]
            if type(fmt) is bytes and type(text) is bytes:
                return Verbatim(text, fmt)
        items: list[Any] = []
        i = 1
        while True:
            item = value[i]
            if item is None:
                return items
            items.append(self.to_reply(item, resp3))
            i += 1

    # -- reply -> Lua ---------------------------------------------------------------------------

    def to_lua(self, value: Any, resp3: bool) -> Any:
        """A command's reply as the Lua value Redis 7.0 gives a script (redisProtocolToLuaType)."""
        t = type(value)
        if t is bytes or t is int:
            return value
        if t is Status:
            return self._table_from({b"ok": _bytes(value)})
        if value is None or t is NullArray or t is NoReply:
            return None if resp3 else False
        if t is list or t is tuple or t is Push:
            return self._table_from([self.to_lua(v, resp3) for v in value])
        if t is ErrorReply:
            return self._table_from({b"err": _bytes(lua_error_text(value))})
        if t is Map or t is dict:
            pairs = value.items() if t is dict else value
            if resp3:
                inner = {self.to_lua(k, resp3): self.to_lua(v, resp3) for k, v in pairs}
                return self._table_from({b"map": self._table_from(inner)})
            flat: list[Any] = []
            for k, v in pairs:
                flat.append(self.to_lua(k, resp3))
                flat.append(self.to_lua(v, resp3))
            return self._table_from(flat)
        if t is SetReply:
            if resp3:
                inner = {self.to_lua(k, resp3): True for k in value}
                return self._table_from({b"set": self._table_from(inner)})
            return self._table_from([self.to_lua(v, resp3) for v in value])
        if t is Double or t is float:
            if resp3:
                return self._table_from({b"double": float(value)})
            return format_double(value)
        if t is Bool or t is bool:
            flag = value.value if t is Bool else value
            if resp3:
                return bool(flag)
            return 1 if flag else 0
        if t is BigNumber:
            if resp3:
                return self._table_from({b"big_number": _bytes(value)})
            return _bytes(value)
        if t is Verbatim:
            if resp3:
                inner = self._table_from({b"format": value.fmt, b"string": value.text})
                return self._table_from({b"verbatim_string": inner})
            return value.text
        if isinstance(value, bytes):
            return bytes(value)
        if t is str:
            return _bytes(value)
        if isinstance(value, int):
            return int(value)
        return None

    # -- callbacks from Lua ---------------------------------------------------------------------

    def _error(self, text: str) -> tuple[Any, bool]:
        return self._table_from({b"err": _bytes(text)}), True

    def _raise(self, table: Any) -> None:
        """Raise a Redis error table as a Lua error: the exception crosses into Lua as an opaque
        value that the prelude's handler and pcall exchange for `table` (via _take_error)."""
        self._raised = table
        raise _RaisedError()

    def _take_error(self) -> Any:
        table, self._raised = self._raised, None
        return table

    def _fail(self, raising: bool, text: str) -> Any:
        """An error of redis.call (raised in Lua) or of redis.pcall (returned as a table)."""
        table = self._error(text)[0]
        if raising:
            self._raise(table)
        return table

    def _command(self, raising: bool, *args: Any) -> Any:
        """redis.call (raising) and redis.pcall: the reply as a Lua value, or the error.

        Lua calls this through a `functools.partial`, so a redis.call is one Python frame
        (a bound-method wrapper calling a shared helper cost ~0.1 µs more per call)."""
        ctx = self.owner.current
        if ctx is None:
            return self._fail(
                raising, "ERR redis.call/pcall can only be called inside a script invocation"
            )
        try:
            # Lua strings arrive as bytes: the usual command line is used as it is, and only a
            # number (or a bad argument) takes the converting loop.
            argv = [*args]
            for arg in args:
                if type(arg) is not bytes:
                    converted = _argv(args)
                    if converted is None:
                        return self._fail(raising, _BAD_ARGS)
                    argv = converted
                    break
            if not argv:
                return self._fail(raising, _NO_ARGS)
            commands = self._commands
            name = argv[0]
            spec = commands.get(name)
            if spec is None:
                spec = commands.get(name.lower())
            if spec is not None and spec.subcommands and len(argv) > 1:
                spec = spec.subcommands.get(argv[1].lower())
            if spec is None:
                return self._fail(raising, "ERR Unknown Redis command called from script")
            arity = spec.arity
            if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
                return self._fail(
                    raising, "ERR Wrong number of args calling Redis command from script"
                )
            flags = spec.flags
            if "noscript" in flags:
                return self._fail(raising, "ERR This Redis command is not allowed from script")
            if "write" in flags:
                if ctx.read_only:
                    return self._fail(
                        raising, "ERR Write commands are not allowed from read-only scripts."
                    )
                ctx.dirty = True
            client = self.client
            # The checks dispatch would repeat are done above or cannot fail for the script
            # client (authenticated, never subscribed nor in MULTI: those commands are
            # noscript), so the resolved spec goes in as EXEC passes its queued ones; that
            # skips a second lookup and arity check.
            reply = dispatch.execute(client, argv, spec)
            t = type(reply)
            if t is bytes or t is int:
                return reply
            if reply is None:
                return None if client.resp == 3 else False
            if t is ErrorReply:
                table = self._error(lua_error_text(reply))[0]
                table[b"ignore_error_stats_update"] = True
                if raising:
                    self._raise(table)
                return table
            return self.to_lua(reply, client.resp == 3)
        except _RaisedError:
            raise
        except Exception as exc:  # never let a Python exception cross into Lua
            self.server.log_warning(f"Internal error in redis.call: {exc!r}")
            return self._fail(raising, f"ERR internal error in redis.call: {exc!r}")

    def _acl_check(self, *args: Any) -> bool:
        """redis.acl_check_cmd: damselfly has no ACL rules yet, so a known command passes."""
        argv = _argv(args)
        if argv is None:
            if not args:
                self._raise(self._error(_NO_ARGS)[0])
            self._raise(self._error(_BAD_ARGS)[0])
        assert argv is not None
        spec = self.server.commands.get(argv[0].lower())
        if spec is not None and spec.subcommands and len(argv) > 1:
            spec = spec.subcommands.get(argv[1].lower())
        if spec is None:
            self._raise(self._error("ERR Invalid command passed to redis.acl_check_cmd()")[0])
        return True

    def _log(self, *args: Any) -> None:
        if len(args) < 2:
            self.raise_text("ERR redis.log() requires two arguments or more.")
        level = _lua_tonumber(args[0])
        if level is None:
            self.raise_text("ERR First argument must be a number (log level).")
        assert level is not None
        if not 0 <= level <= 3:
            self.raise_text("ERR Invalid debug level.")
        words = [w for w in (_lua_tostring(a) for a in args[1:]) if w is not None]
        self.server.log(int(level), _text(b" ".join(words)))

    def _sha1hex(self, *args: Any) -> bytes:
        if len(args) != 1:
            self.raise_text("ERR wrong number of arguments")
        data = _lua_tostring(args[0]) or b""
        return hashlib.sha1(data).hexdigest().encode()

    def _setresp(self, *args: Any) -> None:
        if len(args) != 1:
            self.raise_text("ERR redis.setresp() requires one argument.")
        resp = _lua_tonumber(args[0])
        if resp not in (2, 3):
            self.raise_text("ERR RESP version must be 2 or 3.")
        self.client.resp = int(resp)  # type: ignore[arg-type]

    def _set_repl(self, *args: Any) -> None:
        """redis.set_repl: checked like Redis, otherwise a no-op (there are no replicas)."""
        if len(args) != 1:
            self.raise_text("ERR redis.set_repl() requires two arguments.")
        flags = _lua_tonumber(args[0])
        if flags is None or int(flags) & ~3:
            self.raise_text(
                "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
            )

    def _hook(self) -> bytes | None:
        """Every HOOK_EVERY instructions: the error that must end the script, or None."""
        ctx = self.owner.current
        if ctx is None:
            return None
        if ctx.loading:
            return self.load_hook() if self.load_hook is not None else None
        if ctx.killed:
            return KILLED
        if ctx.busy is None:
            elapsed = (_perf_ns() - ctx.start_ns) // 1_000_000
            if elapsed < int(self.server.config["busy-reply-threshold"]):
                return None
            from damselfly.scripting.busy import BusyServing

            kind, what = ("SCRIPT", "Script") if ctx.is_eval else ("FUNCTION", "Function")
            self.server.log_warning(
                f"Slow script detected: still in execution after {elapsed} milliseconds. "
                f"You can try killing the script using the {kind} KILL command. "
                f"{what} name is: {ctx.name}."
            )
            ctx.busy = BusyServing(self.server, ctx, self.client)
        ctx.busy.serve()
        if ctx.killed:
            self.server.log_warning("Lua script killed by user with SCRIPT KILL.")
            return KILLED
        if self.server.shutting_down:
            return SHUTTING_DOWN
        return None


def _argv(args: tuple[Any, ...]) -> list[bytes] | None:
    """redis.call's arguments as a command line; None when one is not a string or a number."""
    if not args:
        return None
    argv = []
    for arg in args:
        t = type(arg)
        if t is bytes:
            argv.append(arg)
        elif t is int:
            # Redis prints Lua numbers with "%.17g": exact below 1e17, an exponent above.
            argv.append(b"%d" % arg if -(10**17) < arg < 10**17 else format_double(float(arg)))
        elif t is float:
            argv.append(format_double(arg))
        else:
            return None
    return argv


def _lua_tonumber(value: Any) -> float | None:
    """lua_tonumber's idea of a number: numbers, and strings that spell one."""
    t = type(value)
    if t is int or t is float:
        return float(value)
    if t is bytes:
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            return float(int(text, 16)) if text[:2].lower() == b"0x" else None
        except ValueError:
            return None
    return None


def _lua_tostring(value: Any) -> bytes | None:
    """lua_tolstring: strings as they are, numbers as Lua prints them, anything else None."""
    if type(value) is bytes:
        return value
    if type(value) in (int, float):
        return _bytes(_lua_string(value))
    return None


def _lua_string(value: Any) -> str:
    """lua_tostring of a string or a number (numbers as Lua prints them, "%.14g")."""
    if type(value) is bytes:
        return _text(value)
    if type(value) is int and -(10**14) < value < 10**14:
        return str(value)
    if type(value) in (int, float):
        return "%.14g" % value
    return str(value)


def _version_num(version: str) -> int:
    major, minor, patch = (int(p) for p in version.split("."))
    return (major << 16) | (minor << 8) | patch


class Scripting:
    """A server's Lua state: EVAL's engine, FUNCTION's engine and libraries, the running run."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.current: RunContext | None = None
        self._eval: Engine | None = None
        self._functions: FunctionLibraries | None = None
        server.info_fields["number_of_cached_scripts"] = lambda: len(self.eval.scripts)
        server.info_fields["used_memory_lua"] = lambda: self.eval.memory()
        server.info_fields["used_memory_vm_eval"] = lambda: self.eval.memory()
        server.info_fields["number_of_functions"] = lambda: (
            len(self._functions.functions) if self._functions is not None else 0
        )
        server.info_fields["number_of_libraries"] = lambda: (
            len(self._functions.libraries) if self._functions is not None else 0
        )

    @property
    def eval(self) -> Engine:
        engine = self._eval
        if engine is None:
            engine = self._eval = Engine(self.server, self, None)
        return engine

    def flush_scripts(self) -> None:
        """SCRIPT FLUSH: forget every script and start from a fresh Lua state, like Redis."""
        if self._eval is not None:
            self._eval.close()
        self._eval = None

    @property
    def functions(self) -> FunctionLibraries:
        if self._functions is None:
            from damselfly.scripting.functions import FunctionLibraries

            self._functions = FunctionLibraries(self.server, self)
        return self._functions


def scripting_of(server: Server) -> Scripting:
    state: Scripting | None = server.scripting
    if state is None:
        state = server.scripting = Scripting(server)
    return state
