"""The scripting family: EVAL, EVALSHA, their _RO forms, and SCRIPT.

The handlers are thin: argument checks in Redis's order, then the EVAL engine
(scripting/engine.py) compiles, caches by SHA1 and runs. SCRIPT KILL reaches the running script
through `Scripting.current` while the script's hook serves the network (scripting/busy.py).
SCRIPT DEBUG (Redis's Lua debugger) is not implemented: NO is accepted, YES and SYNC are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from damselfly.commands.args import parse_int
from damselfly.commands.spec import Cmd, key_spec
from damselfly.errors import CommandError
from damselfly.protocol.types import OK, Status
from damselfly.scripting.busy import BUSY_EVAL, BUSY_FUNCTION
from damselfly.scripting.engine import scripting_of

if TYPE_CHECKING:
    from damselfly.server.client import Client

NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
NOTBUSY = "NOTBUSY No scripts in execution right now."
UNKILLABLE = (
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
    "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
    "NOSAVE command."
)
SCRIPT_DEBUG_UNSUPPORTED = (
    "ERR SCRIPT DEBUG YES/SYNC (the Lua debugger) is not supported by damselfly"
)


def numkeys_of(argv: list[bytes]) -> int:
    """The numkeys of EVAL-like commands (argv[2]), with Redis's errors."""
    arg = argv[2]
    # The common case (a few plain digits) without the full string2ll checks.
    numkeys = int(arg) if len(arg) < 3 and arg.isdigit() else parse_int(arg)
    if numkeys > len(argv) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise CommandError("ERR Number of keys can't be negative")
    return numkeys


def feed_monitors(client: Client, argv: list[bytes]) -> None:
    """Like Redis, MONITOR shows EVAL & co. before the commands their script runs."""
    if client.server.monitors:
        client.server.feed_monitors(client, argv, force=True)


def count_failure(client: Client, argv: list[bytes], errors_before: int) -> None:
    """Redis counts a script command as failed when any error reply was counted while it ran
    (its own error raised as CommandError is counted by dispatch instead)."""
    server = client.server
    if server.stat_total_error_replies != errors_before:
        spec = server.commands.get(argv[0].lower())
        if spec is not None:
            spec.failed_calls += 1


def eval_generic(client: Client, argv: list[bytes], read_only: bool) -> Any:
    feed_monitors(client, argv)
    nkeys = numkeys_of(argv)
    engine = scripting_of(client.server).eval
    script = engine.script(argv[1])
    errors_before = client.server.stat_total_error_replies
    reply = engine.run_script(client, script, nkeys, argv[3:], read_only)
    count_failure(client, argv, errors_before)
    return reply


def evalsha_generic(client: Client, argv: list[bytes], read_only: bool) -> Any:
    # The hot path of script calls (redis-py's Lock runs every release through EVALSHA): the
    # helpers above are inlined here, which saved ~0.3 µs of a ~5 µs call.
    server = client.server
    if server.monitors:
        server.feed_monitors(client, argv, force=True)
    sha = argv[1]
    if len(sha) != 40:
        raise CommandError(NOSCRIPT)
    nkeys = numkeys_of(argv)
    engine = scripting_of(server).eval
    by_sha = engine.by_sha
    script = by_sha.get(sha) or by_sha.get(sha.lower())
    if script is None:
        raise CommandError(NOSCRIPT)
    errors_before = server.stat_total_error_replies
    reply = engine.run_script(client, script, nkeys, argv[3:], read_only)
    if server.stat_total_error_replies != errors_before:
        count_failure(client, argv, errors_before)
    return reply


def cmd_eval(client: Client, argv: list[bytes]) -> Any:
    return eval_generic(client, argv, False)


def cmd_eval_ro(client: Client, argv: list[bytes]) -> Any:
    return eval_generic(client, argv, True)


def cmd_evalsha(client: Client, argv: list[bytes]) -> Any:
    return evalsha_generic(client, argv, False)


def cmd_evalsha_ro(client: Client, argv: list[bytes]) -> Any:
    return evalsha_generic(client, argv, True)


def cmd_script_load(client: Client, argv: list[bytes]) -> Any:
    return scripting_of(client.server).eval.script(argv[2]).sha.encode()


def cmd_script_exists(client: Client, argv: list[bytes]) -> Any:
    scripts = scripting_of(client.server).eval.by_sha
    return [int(sha.lower() in scripts) for sha in argv[2:]]


def cmd_script_flush(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"sync", b"async")):
        raise CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    scripting_of(client.server).flush_scripts()
    return OK


def kill_running(client: Client, is_eval: bool) -> Any:
    """SCRIPT KILL (is_eval) or FUNCTION KILL, with Redis's checks in Redis's order."""
    ctx = scripting_of(client.server).current
    if ctx is None or ctx.busy is None:
        raise CommandError(NOTBUSY)
    if ctx.dirty:
        raise CommandError(UNKILLABLE)
    if is_eval and not ctx.is_eval:
        raise CommandError(BUSY_FUNCTION)
    if not is_eval and ctx.is_eval:
        raise CommandError(BUSY_EVAL)
    ctx.killed = True
    return OK


def cmd_script_kill(client: Client, argv: list[bytes]) -> Any:
    return kill_running(client, True)


def cmd_script_debug(client: Client, argv: list[bytes]) -> Any:
    mode = argv[2].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        raise CommandError(SCRIPT_DEBUG_UNSUPPORTED)
    raise CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO")


_SCRIPT_HELP = [
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
]


def cmd_script_help(client: Client, argv: list[bytes]) -> Any:
    return [Status(line) for line in _SCRIPT_HELP]


# -- declarations --------------------------------------------------------------------------------

GROUP = "scripting"
_G = GROUP
# EVAL's flags and key notes, which FCALL shares (functions.py).
EVAL_FLAGS = "noscript stale skip_monitor no_mandatory_keys may_replicate"
EVAL_RO_FLAGS = "readonly noscript stale skip_monitor no_mandatory_keys"
RW_NOTES = "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE flags"
RO_NOTES = "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS flags"
_EVAL_ARGS = "script:string numkeys:integer [key:key ...] [arg:string ...]"
_EVALSHA_ARGS = "sha1:string numkeys:integer [key:key ...] [arg:string ...]"


# What scripts see differently from Redis 7.0 (docs/commands.md; shared by EVAL and EVALSHA).
LUA_DIFFERENCES = (
    "Lua 5.1 through lupa. Read-only tables are emulated (C functions such as table.insert can "
    "still write into one); tail calls become plain calls, so very deep tail recursion can "
    "overflow; -0.0 passed to redis.call becomes 0; pcall() with no arguments raises. While a "
    "script is busy, SIGTERM takes effect only when it ends, and a connection accepted in the "
    "very loop turn the script started in is served after it. allow-oom, allow-stale, no-cluster "
    "and allow-cross-slot-keys flags are accepted and inert."
)


def script_keys(flags: str, notes: str = "") -> tuple[Any, ...]:
    """The key spec of EVAL-like commands: numkeys at argument 2, then the keys."""
    return (key_spec(flags, index=2, keynumidx=0, firstkey=1, keystep=1, notes=notes),)


def _script(name: str, arity: int, flags: str, handler: Any, **kw: Any) -> Any:
    return Cmd("script|" + name, arity, flags, handler, group=_G, **kw)


COMMANDS = [
    Cmd("eval", -3, EVAL_FLAGS, cmd_eval, group=_G, since="2.6.0",
        complexity="Depends on the script that is executed.", differences=LUA_DIFFERENCES,
        summary="Runs a Lua script on the server (compiled once and cached by its SHA1).",
        args=_EVAL_ARGS, key_specs=script_keys("RW access update", RW_NOTES)),
    Cmd("eval_ro", -3, EVAL_RO_FLAGS, cmd_eval_ro, group=_G, since="7.0.0",
        complexity="Depends on the script that is executed.", differences=LUA_DIFFERENCES,
        summary="Runs a Lua script that may not write (its writes are refused).",
        args=_EVAL_ARGS, key_specs=script_keys("RO access", RO_NOTES)),
    Cmd("evalsha", -3, EVAL_FLAGS, cmd_evalsha, group=_G, since="2.6.0",
        complexity="Depends on the script that is executed.", differences=LUA_DIFFERENCES,
        summary="Runs a cached Lua script by its SHA1 digest.",
        args=_EVALSHA_ARGS, key_specs=script_keys("RW access update")),
    Cmd("evalsha_ro", -3, EVAL_RO_FLAGS, cmd_evalsha_ro, group=_G, since="7.0.0",
        complexity="Depends on the script that is executed.", differences=LUA_DIFFERENCES,
        summary="Runs a cached Lua script by its SHA1 digest; its writes are refused.",
        args=_EVALSHA_ARGS, key_specs=script_keys("RO access")),
    Cmd("script", -2, "", None, group=_G, since="2.6.0", complexity="Depends on subcommand.",
        summary="A container for the commands about the Lua script cache.", subcommands=[
            _script("debug", 3, "noscript", cmd_script_debug, since="3.2.0",
                    summary="Sets the debug mode of the next scripts (only NO: no debugger).",
                    args="(mode= YES|SYNC|NO)",
                    differences="The Lua debugger is not implemented: YES and SYNC are refused "
                    "with an error, NO is accepted."),
            _script("exists", -3, "noscript", cmd_script_exists, since="2.6.0",
                    complexity="O(N) with N being the number of scripts to check (so checking a "
                    "single script is an O(1) operation).",
                    summary="Tells for each SHA1 digest whether its script is in the cache.",
                    args="sha1:string ...",
                    tips="request_policy:all_shards response_policy:agg_logical_and"),
            _script("flush", -2, "noscript", cmd_script_flush, since="2.6.0",
                    complexity="O(N) with N being the number of scripts in cache",
                    summary="Empties the script cache.",
                    args="[ASYNC|SYNC]",
                    tips="request_policy:all_nodes response_policy:all_succeeded"),
            _script("help", 2, "loading stale", cmd_script_help, since="5.0.0",
                    summary="Lists the SCRIPT subcommands with a line on each."),
            _script("kill", 2, "noscript allow_busy", cmd_script_kill, since="2.6.0",
                    summary="Stops the script running past busy-reply-threshold, unless it "
                    "has written.",
                    tips="request_policy:all_shards response_policy:one_succeeded"),
            _script("load", 3, "noscript stale", cmd_script_load, since="2.6.0",
                    complexity="O(N) with N being the length in bytes of the script body.",
                    summary="Compiles a script into the cache and returns its SHA1 digest.",
                    args="script:string",
                    tips="request_policy:all_nodes response_policy:all_succeeded"),
        ]),
]  # fmt: skip
