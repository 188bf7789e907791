"""The functions family: FCALL, FCALL_RO and FUNCTION (LOAD, LIST, DELETE, FLUSH, DUMP,
RESTORE, STATS, KILL, HELP), Redis 7.0's named, persistent alternative to EVAL.

The libraries live in scripting/functions.py; these handlers check arguments in Redis's order
and shape the replies (FUNCTION LIST entries and FUNCTION STATS are maps in RESP3).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from damselfly.commands.scripting import (
    EVAL_FLAGS,
    EVAL_RO_FLAGS,
    GROUP,
    LUA_DIFFERENCES,
    RO_NOTES,
    RW_NOTES,
    count_failure,
    feed_monitors,
    kill_running,
    script_keys,
)
from damselfly.commands.spec import Cmd
from damselfly.errors import CommandError
from damselfly.keyspace.glob import glob_match
from damselfly.protocol.types import OK, Map, SetReply, Status
from damselfly.scripting.busy import BUSY_EVAL
from damselfly.scripting.engine import scripting_of

if TYPE_CHECKING:
    from damselfly.server.client import Client


def fcall_generic(client: Client, argv: list[bytes], read_only: bool) -> Any:
    feed_monitors(client, argv)
    errors_before = client.server.stat_total_error_replies
    reply = scripting_of(client.server).functions.call(client, argv, read_only)
    count_failure(client, argv, errors_before)
    return reply


def cmd_fcall(client: Client, argv: list[bytes]) -> Any:
    return fcall_generic(client, argv, False)


def cmd_fcall_ro(client: Client, argv: list[bytes]) -> Any:
    return fcall_generic(client, argv, True)


def cmd_function_load(client: Client, argv: list[bytes]) -> Any:
    replace = False
    for opt in argv[2:-1]:
        if opt.lower() == b"replace":
            replace = True
        else:
            raise CommandError("ERR Unknown option given: " + opt.decode("utf-8", "replace"))
    return scripting_of(client.server).functions.load(client, argv[-1], replace)


def cmd_function_delete(client: Client, argv: list[bytes]) -> Any:
    scripting_of(client.server).functions.delete(argv[2])
    return OK


def _flush_mode(argv: list[bytes]) -> None:
    if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"sync", b"async")):
        raise CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")


def cmd_function_flush(client: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv)
    scripting_of(client.server).functions.flush()
    return OK


def cmd_function_list(client: Client, argv: list[bytes]) -> Any:
    pattern: bytes | None = None
    with_code = False
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"withcode":
            with_code = True
        elif opt == b"libraryname":
            if i + 1 >= len(argv):
                raise CommandError("ERR library name argument was not given")
            i += 1
            pattern = argv[i]
        else:
            raise CommandError("ERR Unknown argument " + argv[i].decode("utf-8", "replace"))
        i += 1
    reply = []
    for library in scripting_of(client.server).functions.libraries.values():
        if pattern is not None and not glob_match(pattern, library.name):
            continue
        functions = [
            Map(
                [
                    (b"name", f.name),
                    (b"description", f.description),
                    (b"flags", SetReply([Status(flag.decode()) for flag in f.flags])),
                ]
            )
            for f in library.functions.values()
        ]
        entry: list[tuple[Any, Any]] = [
            (b"library_name", library.name),
            (b"engine", b"LUA"),
            (b"functions", functions),
        ]
        if with_code:
            entry.append((b"library_code", library.code))
        reply.append(Map(entry))
    return reply


def cmd_function_dump(client: Client, argv: list[bytes]) -> Any:
    return scripting_of(client.server).functions.dump()


def cmd_function_restore(client: Client, argv: list[bytes]) -> Any:
    policy = b"append"
    if len(argv) > 4:
        raise CommandError("ERR syntax error")
    if len(argv) == 4:
        policy = argv[3].lower()
        if policy not in (b"flush", b"append", b"replace"):
            raise CommandError(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
            )
    scripting_of(client.server).functions.restore(client, argv[2], policy)
    return OK


def cmd_function_kill(client: Client, argv: list[bytes]) -> Any:
    return kill_running(client, False)


def cmd_function_stats(client: Client, argv: list[bytes]) -> Any:
    state = scripting_of(client.server)
    ctx = state.current
    if ctx is not None and ctx.is_eval:
        raise CommandError(BUSY_EVAL)
    running: Any = None
    if ctx is not None and not ctx.loading:
        command = ctx.caller_argv
        running = Map(
            [
                (b"name", ctx.name.encode("utf-8", "surrogateescape")),
                (b"command", command),
                (b"duration_ms", (time.monotonic_ns() - ctx.start_ns) // 1_000_000),
            ]
        )
    functions = state.functions
    engines = Map(
        [
            (
                b"LUA",
                Map(
                    [
                        (b"libraries_count", len(functions.libraries)),
                        (b"functions_count", len(functions.functions)),
                    ]
                ),
            )
        ]
    )
    return Map([(b"running_script", running), (b"engines", engines)])


_FUNCTION_HELP = [
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using "
    "FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a "
    "restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    "replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance "
    "of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
]


def cmd_function_help(client: Client, argv: list[bytes]) -> Any:
    return [Status(line) for line in _FUNCTION_HELP]


# -- declarations --------------------------------------------------------------------------------

_G = GROUP
_FCALL_ARGS = "function:string numkeys:integer [key:key ...] [arg:string ...]"
_ALL_SUCCEEDED = "request_policy:all_shards response_policy:all_succeeded"


def _function(name: str, arity: int, flags: str, handler: Any, **kw: Any) -> Any:
    return Cmd("function|" + name, arity, flags, handler, group=_G, since="7.0.0", **kw)


COMMANDS = [
    Cmd("fcall", -3, EVAL_FLAGS, cmd_fcall,
        group=_G, since="7.0.0", complexity="Depends on the function that is executed.",
        differences=LUA_DIFFERENCES,
        summary="Runs a function of a library loaded with FUNCTION LOAD.",
        args=_FCALL_ARGS, key_specs=script_keys("RW access update", RW_NOTES)),
    Cmd("fcall_ro", -3, EVAL_RO_FLAGS, cmd_fcall_ro,
        group=_G, since="7.0.0", complexity="Depends on the function that is executed.",
        differences=LUA_DIFFERENCES,
        summary="Runs a no-writes function of a library loaded with FUNCTION LOAD.",
        args=_FCALL_ARGS, key_specs=script_keys("RO access", RO_NOTES)),
    Cmd("function", -2, "", None, group=_G, since="7.0.0", complexity="Depends on subcommand.",
        summary="A container for the commands about function libraries.", subcommands=[
            _function("delete", 3, "write noscript", cmd_function_delete,
                      summary="Deletes a library and its functions.",
                      args="library-name:string", tips=_ALL_SUCCEEDED),
            _function("dump", 2, "noscript", cmd_function_dump,
                      complexity="O(N) where N is the number of functions",
                      summary="Serializes every library into a payload for FUNCTION RESTORE.",
                      differences="The payload is damselfly's own format (the libraries' code "
                      "with a checksum), not Redis's RDB encoding: payloads do not move between "
                      "damselfly and Redis."),
            _function("flush", -2, "write noscript", cmd_function_flush,
                      complexity="O(N) where N is the number of functions deleted",
                      summary="Deletes every library.", args="[ASYNC|SYNC]",
                      tips=_ALL_SUCCEEDED),
            _function("help", 2, "loading stale", cmd_function_help,
                      summary="Lists the FUNCTION subcommands with a line on each."),
            _function("kill", 2, "noscript allow_busy", cmd_function_kill,
                      complexity="O(1)",
                      summary="Stops the function running past busy-reply-threshold, unless it "
                      "has written.",
                      tips="request_policy:all_shards response_policy:one_succeeded"),
            _function("list", -2, "noscript", cmd_function_list,
                      complexity="O(N) where N is the number of functions",
                      summary="Describes the libraries and their functions, optionally with "
                      "their code.",
                      args="[LIBRARYNAME library-name-pattern:string] [WITHCODE]",
                      tips="nondeterministic_output_order"),
            _function("load", -3, "write denyoom noscript", cmd_function_load,
                      complexity="O(1) (considering compilation time is redundant)",
                      summary="Loads a library of functions from its Lua code.",
                      args="[REPLACE] function-code:string", tips=_ALL_SUCCEEDED),
            _function("restore", -3, "write denyoom noscript", cmd_function_restore,
                      complexity="O(N) where N is the number of functions on the payload",
                      summary="Loads the libraries of a FUNCTION DUMP payload.",
                      differences="Takes damselfly's FUNCTION DUMP format only; a payload "
                      "from Redis is refused as a bad payload.",
                      args="serialized-value:string [policy= FLUSH|APPEND|REPLACE]",
                      tips=_ALL_SUCCEEDED),
            _function("stats", 2, "noscript allow_busy", cmd_function_stats,
                      complexity="O(1)",
                      summary="Describes the function running now and the engines.",
                      tips="nondeterministic_output request_policy:all_shards "
                      "response_policy:special"),
        ]),
]  # fmt: skip
