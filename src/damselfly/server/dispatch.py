"""The one way a command runs: lookup -> arity -> auth -> handler -> reply value.

Clients, and later EXEC, Lua's redis.call and AOF replay, all call `execute`, so every command is
checked, timed and counted the same way whoever sends it. Handlers raise CommandError; here it
becomes an ErrorReply value (the encoder writes it), and INFO errorstats/commandstats are kept.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from damselfly import errors
from damselfly.commands.spec import CommandSpec
from damselfly.errors import CommandError
from damselfly.protocol.types import QUEUED, ErrorReply

if TYPE_CHECKING:
    from damselfly.server.client import Client

_perf_ns = time.perf_counter_ns


# What a RESP2 connection with subscriptions may still run.
SUBSCRIBER_COMMANDS = frozenset(
    [
        "subscribe",
        "psubscribe",
        "ssubscribe",
        "unsubscribe",
        "punsubscribe",
        "sunsubscribe",
        "ping",
        "quit",
        "reset",
    ]
)


def sanitize(text: str) -> str:
    """Error lines cannot contain newlines: Redis replaces them with spaces."""
    return text.replace("\r", " ").replace("\n", " ")


def unknown_command_error(argv: list[bytes]) -> str:
    # Redis: "'%.*s' " per argument while fewer than 128 bytes were written, each cut at NUL.
    args = ""
    for arg in argv[1:]:
        if len(args.encode("utf-8", "surrogateescape")) >= 128:
            break
        room = 128 - len(args.encode("utf-8", "surrogateescape"))
        args += "'" + errors.c_string(arg, room) + "' "
    return sanitize(errors.UNKNOWN_COMMAND.format(errors.c_string(argv[0], 128), args))


def resolve(client: Client, argv: list[bytes]) -> CommandSpec | str:
    """The spec to run for argv, or the error text (unknown command/subcommand, arity, auth)."""
    busy = client.server.busy_script
    # While a script is busy the fast table is empty (scripting/busy.py): the real one is kept.
    table = client.server.command_lookup if busy is None else busy.lookup
    spec = table.get(argv[0])
    if spec is None:
        spec = table.get(argv[0].lower())
        if spec is None:
            return unknown_command_error(argv)
    # A container named alone falls through to the arity check: that rejects CLIENT (arity -2)
    # and runs COMMAND (arity -1), which answers by itself too.
    if spec.subcommands and len(argv) > 1:
        sub = spec.subcommands.get(argv[1].lower())
        if sub is None:
            return sanitize(
                errors.UNKNOWN_SUBCOMMAND.format(errors.c_string(argv[1], 128), spec.name.upper())
            )
        spec = sub
    arity = spec.arity
    n = len(argv)
    if (arity > 0 and n != arity) or n < -arity:
        spec.rejected_calls += 1
        return errors.WRONG_ARGS.format(spec.name)
    if not client.authenticated and "no_auth" not in spec.flags:
        spec.rejected_calls += 1
        return errors.NOAUTH
    if client.subscribed and client.resp == 2 and spec.name not in SUBSCRIBER_COMMANDS:
        spec.rejected_calls += 1
        return errors.PUBSUB_CONTEXT.format(spec.name)
    if busy is not None and busy.blocks(client):
        # A script runs past busy-reply-threshold: only allow_busy commands, and SHUTDOWN only
        # with NOSAVE (Redis checks that after parsing; a bad SHUTDOWN still gets its own error).
        if "allow_busy" not in spec.flags or (
            spec.name == "shutdown" and not busy.shutdown_allowed(argv)
        ):
            spec.rejected_calls += 1
            return str(busy.error)
    return spec


def execute(client: Client, argv: list[bytes], queued: CommandSpec | None = None) -> Any:
    """Run one command for `client` and return its reply value.

    `queued` is given by EXEC only: the spec a queued command resolved to when it was checked
    and queued. It then runs without being checked again, as Redis's EXEC calls each command
    directly (a SUBSCRIBE earlier in the transaction does not stop the commands after it).
    """
    server = client.server
    spec = queued
    if spec is None:
        # The common case inline (a known plain command, right arity, authenticated, not in
        # RESP2 subscriber mode, no MULTI open); everything else goes through `resolve`.
        spec = server.command_lookup.get(argv[0])
        arity = spec.arity if spec is not None else 0
        if (
            spec is None
            or spec.subcommands
            or (arity > 0 and len(argv) != arity)
            or len(argv) < -arity
            or not client.authenticated
            or client.subscribed
            or client.multi is not None
        ):
            resolved = resolve(client, argv)
            if type(resolved) is str:
                if client.multi is not None:
                    # Rejected before it could be queued: EXEC will answer EXECABORT.
                    client.extra["multi_error"] = True
                if argv[0].lower() == b"exec":
                    # A rejected EXEC discards the transaction and says why (Redis 7.0).
                    from damselfly.commands.transactions import exec_rejected

                    resolved = exec_rejected(client, resolved)
                server.count_error(resolved)
                return ErrorReply(resolved)
            spec = resolved  # type: ignore[assignment]
            assert spec is not None
            # Inside MULTI a command is queued, not run (EXEC runs the queue with `queued`).
            if client.multi is not None:
                client.last_command = spec.name
                if "no_multi" in spec.flags:
                    spec.rejected_calls += 1
                    client.extra["multi_error"] = True
                    server.count_error(errors.NOT_ALLOWED_IN_MULTI)
                    return ErrorReply(errors.NOT_ALLOWED_IN_MULTI)
                # These act on the transaction or the connection itself, so they run now.
                if spec.name not in {"exec", "discard", "multi", "watch", "quit", "reset"}:
                    # Like Redis, nothing more is kept once EXEC is bound to fail.
                    if not client.dirty_cas and "multi_error" not in client.extra:
                        client.multi.append(argv)
                    return QUEUED
    # EXEC and scripts freeze the time for all the commands they run (DESIGN: one time per
    # command, frozen for a script or a transaction), so a key cannot expire half-way through.
    if not server.time_frozen:
        server.now_ms = server.clock.now_ms()
    # Redis shows EXEC to MONITOR after the commands it ran; every other command before.
    if server.monitors and spec.name != "exec":
        server.feed_monitors(client, argv)
    start = _perf_ns()
    try:
        reply = spec.handler(client, argv)  # type: ignore[misc]
    except CommandError as exc:
        reply = ErrorReply(sanitize(exc.message))
        spec.failed_calls += 1
        server.count_error(reply)
    except Exception as exc:  # a bug in a handler: answer and keep serving, never drop the client
        server.log_warning(f"Internal error in '{spec.name}': {exc!r}")
        reply = ErrorReply(sanitize(f"ERR internal error in '{spec.name}': {exc!r}"))
        spec.failed_calls += 1
        server.count_error(reply)
    elapsed_us = (_perf_ns() - start) // 1000
    spec.calls += 1
    spec.usec += elapsed_us
    server.stat_numcommands += 1
    if elapsed_us >= server.slowlog_threshold_us >= 0:
        server.slowlog_add(client, argv, elapsed_us)
    client.last_command = spec.name
    if server.monitors and spec.name == "exec":
        server.feed_monitors(client, argv)
    return reply
