"""Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH, with Redis 7.0's semantics.

MULTI opens a queue (`client.multi`); `dispatch.execute` checks each later command as usual and
queues it instead of running it, so a command rejected before queueing (unknown, wrong arity,
NOAUTH, not allowed in MULTI) is answered with its error and marks the transaction, and EXEC then
answers EXECABORT. EXEC runs the queue through `dispatch.execute` with the time frozen (a key
cannot expire half-way through) and blocking commands answering at once with their timeout
reply; a command that fails at run time leaves its error in place and the rest still runs.

EXEC writes its reply element by element into the connection's reply stream, as Redis does,
rather than returning one array: a HELLO inside the transaction switches the protocol of the
elements after it, pub/sub pushes to the client itself land between elements, and CLIENT REPLY
OFF|ON inside it suppresses exactly the elements in between, all byte for byte like Redis.

WATCH is optimistic locking. `Watches` (one per server) maps (database, key) to the clients
watching it and is a key listener only while at least one key is watched, so the write path pays
nothing when nobody watches. Any write to a watched key marks its watchers dirty (`dirty_cas`),
and so does the expiry of a key that existed when it was watched; EXEC of a dirty client answers
a null array. A key already expired when watched is a special case: its deletion is no change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from damselfly import errors
from damselfly.commands.spec import Cmd, CommandSpec
from damselfly.errors import CommandError
from damselfly.protocol.encoder import encode
from damselfly.protocol.types import NO_REPLY, NULL_ARRAY, OK
from damselfly.server import dispatch

if TYPE_CHECKING:
    from damselfly.keyspace.database import Database
    from damselfly.server.client import Client
    from damselfly.server.server import Server

_G = "transactions"

# client.extra keys: the transaction was rejected before EXEC (set by dispatch.execute), and the
# client's watched keys, (database, key) -> "the key was already expired when watched".
MULTI_ERROR = "multi_error"
WATCHED = "watched"

WatchKey = tuple["Database", bytes]


class Watches:
    """Who watches which key on one server; a key listener while anything is watched."""

    __slots__ = ("keys", "listening", "server")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.keys: dict[WatchKey, dict[Client, None]] = {}
        self.listening = False
        # Hooked once per server: RESET and disconnection end the transaction and the watches.
        server.reset_hooks.append(discard_transaction)
        server.client_close_hooks.append(self.unwatch_all)

    def watch(self, client: Client, db: Database, key: bytes) -> None:
        watched: dict[WatchKey, bool] | None = client.extra.get(WATCHED)
        if watched is None:
            watched = client.extra[WATCHED] = {}
        slot = (db, key)
        if slot in watched:
            return
        watched[slot] = db.is_expired(key)
        self.keys.setdefault(slot, {})[client] = None
        if not self.listening:
            self.listening = True
            # A new list rather than append: key_modified may be iterating the current one.
            self.server.key_listeners = [*self.server.key_listeners, self.key_written]

    def unwatch_all(self, client: Client) -> None:
        watched: dict[WatchKey, bool] | None = client.extra.pop(WATCHED, None)
        if not watched:
            return
        keys = self.keys
        for slot in watched:
            watchers = keys.get(slot)
            if watchers is not None:
                watchers.pop(client, None)
                if not watchers:
                    del keys[slot]
        if not keys and self.listening:
            self.listening = False
            listener = self.key_written
            self.server.key_listeners = [f for f in self.server.key_listeners if f != listener]

    def key_written(self, db: Database, key: bytes) -> None:
        """A key listener: every write, deletion, expiry, flush and swap of a key ends here."""
        watchers = self.keys.get((db, key))
        if not watchers:
            return
        for client in list(watchers):
            watched = client.extra.get(WATCHED)
            if watched is None:
                continue
            slot = (db, key)
            if watched.get(slot) and (key not in db.data or db.is_expired(key)):
                # Watched while already expired, and now deleted (or flushed): no logical
                # change. From here on it is watched like a missing key.
                watched[slot] = False
                continue
            client.dirty_cas = True
            # A dirty client stays dirty until EXEC/DISCARD/UNWATCH: its watches are no use.
            self.unwatch_all(client)

    def expired_since_watched(self, client: Client) -> bool:
        """Did a key that was live when watched reach its expiry time (deleted or not)?"""
        watched: dict[WatchKey, bool] | None = client.extra.get(WATCHED)
        if not watched:
            return False
        return any(
            not was_expired and db.is_expired(key) for (db, key), was_expired in watched.items()
        )


def watches(server: Server) -> Watches:
    registry: Watches | None = server.watches
    if registry is None:
        registry = server.watches = Watches(server)
    return registry


def discard_transaction(client: Client) -> None:
    """End MULTI (if open) and forget the watches: DISCARD, EXEC's end, RESET."""
    client.multi = None
    client.dirty_cas = False
    client.extra.pop(MULTI_ERROR, None)
    if WATCHED in client.extra:
        watches(client.server).unwatch_all(client)


def queued_spec(server: Server, argv: list[bytes]) -> CommandSpec:
    """The spec a queued argv resolved to when it was queued (it was checked then)."""
    spec = server.commands[argv[0].lower()]
    if spec.subcommands:
        spec = spec.subcommands[argv[1].lower()]
    return spec


def exec_rejected(client: Client, error: str) -> str:
    """EXEC refused before running (arity, NOAUTH, RESP2 subscriber context): the transaction
    is discarded, and the error names the reason without its ERR prefix."""
    discard_transaction(client)
    return errors.EXECABORT_BECAUSE.format(error.removeprefix("ERR "))


# -- commands ------------------------------------------------------------------------------------


def cmd_multi(client: Client, argv: list[bytes]) -> Any:
    if client.multi is not None:
        raise CommandError(errors.MULTI_NESTED)
    watches(client.server)  # makes sure RESET and disconnection clean up after us
    client.multi = []
    return OK


def cmd_discard(client: Client, argv: list[bytes]) -> Any:
    if client.multi is None:
        raise CommandError(errors.DISCARD_WITHOUT_MULTI)
    discard_transaction(client)
    return OK


def cmd_exec(client: Client, argv: list[bytes]) -> Any:
    queue = client.multi
    if queue is None:
        raise CommandError(errors.EXEC_WITHOUT_MULTI)
    server = client.server
    registry = watches(server)
    if registry.expired_since_watched(client):
        client.dirty_cas = True
    if client.extra.get(MULTI_ERROR):
        discard_transaction(client)
        raise CommandError(errors.EXECABORT)
    if client.dirty_cas:
        discard_transaction(client)
        return NULL_ARRAY
    # Nothing watched can stop this transaction now; leaving the watches early also spares
    # the listener the writes the transaction itself makes.
    registry.unwatch_all(client)
    extra = client.extra
    was_frozen = server.time_frozen
    no_block = extra.get("no_block")
    proto: Any = extra.get("protocol")
    stream = proto is not None
    replies: list[Any] = []
    server.time_frozen = True
    extra["no_block"] = True
    try:
        if stream:
            client.write_push(b"*%d\r\n" % len(queue))
        for queued_argv in queue:
            if stream:
                proto.running = queued_argv  # for the events it announces after its reply
            reply = dispatch.execute(client, queued_argv, queued_spec(server, queued_argv))
            if stream:
                out: list[bytes] = []
                encode(reply, client.resp == 3, out)
                proto.reply_part(b"".join(out))
            else:
                replies.append(reply)
    finally:
        server.time_frozen = was_frozen
        if no_block is None:
            extra.pop("no_block", None)
        else:
            extra["no_block"] = no_block
        discard_transaction(client)
    return NO_REPLY if stream else replies


def cmd_watch(client: Client, argv: list[bytes]) -> Any:
    if client.multi is not None:
        raise CommandError(errors.WATCH_INSIDE_MULTI)
    if client.dirty_cas:
        return OK  # EXEC will fail whatever else is watched
    registry = watches(client.server)
    db = client.db
    for key in argv[1:]:
        registry.watch(client, db, key)
    return OK


def cmd_unwatch(client: Client, argv: list[bytes]) -> Any:
    if WATCHED in client.extra:
        watches(client.server).unwatch_all(client)
    client.dirty_cas = False
    return OK


_FLAGS = "noscript loading stale fast allow_busy"

# fmt: off
COMMANDS = [
    Cmd("multi", 1, _FLAGS, cmd_multi, group=_G, since="1.2.0",
        summary="Opens a transaction: the commands that follow are queued until EXEC."),
    Cmd("exec", 1, "noscript loading stale skip_slowlog", cmd_exec, group=_G, since="1.2.0",
        complexity="Depends on commands in the transaction",
        summary="Runs every command queued since MULTI, or none when a watched key changed.",
        differences="CLIENT INFO/LIST run inside EXEC on the same connection show the queued "
        "command in cmd=, where Redis shows exec."),
    Cmd("discard", 1, _FLAGS, cmd_discard, group=_G, since="2.0.0",
        complexity="O(N), when N is the number of queued commands",
        summary="Drops the commands queued since MULTI and ends the transaction."),
    Cmd("watch", -2, _FLAGS, cmd_watch, keys=(1, -1, 1), key_flags="RO", group=_G,
        since="2.2.0", complexity="O(1) for every key.", args="key:key ...",
        summary="Makes the next EXEC fail if any of these keys changes before it.",
        differences="SWAPDB that replaces a missing watched key with an already expired one "
        "fails the watch (Redis keeps it)."),
    Cmd("unwatch", 1, _FLAGS, cmd_unwatch, group=_G, since="2.2.0",
        summary="Forgets every key the connection watches."),
]
# fmt: on
