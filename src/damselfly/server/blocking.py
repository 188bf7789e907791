"""Clients blocked on keys (BLPOP, BLMOVE, BLMPOP, and later lock waits), woken without polling.

A blocked client registers one `Waiter` on every key it waits for, in per-(db, key) queues kept in
the order clients blocked. Any write to a key passes through `Server.key_modified`, which lands in
`key_written`: a key someone waits on is marked ready (SWAPDB, which reports its keys to key
listeners only, reaches `key_written` through a listener registered while anyone waits). After
the command that wrote it has finished (never in the middle of a command, MULTI or script, so a
waiter sees the write whole), the protocol calls `serve_ready`, which takes the ready keys in the
order they were written and offers each key to its waiters, first blocked first: `retry(key)` runs
the blocking command's core against that one key for the waiting client, and answers NOT_READY
when the key holds nothing for it (missing, or now another type, which keeps the client blocked
as in Redis 7.0); the key's queue stops there. Serving may write other keys (BLMOVE pushes to its
destination): they join the ready keys and are served in the same pass.

Woken clients get their replies (and run what they pipelined after the blocking command) only
once the whole pass is over, in the order they were woken, as Redis resumes unblocked clients
after serving every ready key: a woken client's next BLPOP queues behind the clients that were
already waiting. CLIENT UNBLOCK defers its delivery the same way, to just after the CLIENT UNBLOCK
command, by marking the AFTER_COMMAND slot ready; a timeout (a timer callback, outside any
command) delivers at once.

Parameters: a waiter's deadline is absolute (ms) on the server clock; 0 waits forever, and so
does a deadline more than MAX_TIMER_S away (Redis's deadline overflows there and never fires). A
timer per waiter answers the timeout reply; CLIENT UNBLOCK answers the timeout reply or an
UNBLOCKED error; a client that disconnects while blocked is removed from every key it waited on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from damselfly.protocol.types import ErrorReply

if TYPE_CHECKING:
    from damselfly.keyspace.database import Database
    from damselfly.server.client import Client
    from damselfly.server.server import Server

# retry(key) -> the reply that ends the wait, or NOT_READY when `key` cannot serve the client.
Retry = Callable[[bytes], Any]
NOT_READY = object()
UNBLOCKED_ERROR = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
# Longer waits get no timer at all: event loops store timer deadlines in bounded integers.
MAX_TIMER_S = 10**9
# A `ready` entry that names no key: "deliver after the current command" (no db has index -1).
AFTER_COMMAND = (-1, b"")


class Waiter:
    __slots__ = ("client", "db_index", "deadline", "keys", "retry", "timeout_reply", "timer")

    def __init__(
        self,
        client: Client,
        db_index: int,
        keys: list[bytes],
        deadline: int,
        retry: Retry,
        timeout_reply: Any,
    ) -> None:
        self.client = client
        self.db_index = db_index
        self.keys = keys
        self.deadline = deadline
        self.retry = retry
        self.timeout_reply = timeout_reply
        self.timer: asyncio.TimerHandle | None = None


class BlockingManager:
    __slots__ = ("ready", "server", "serving", "to_deliver", "waiting")

    def __init__(self, server: Server) -> None:
        self.server = server
        # (db index, key) -> waiters in the order they blocked.
        self.waiting: dict[tuple[int, bytes], deque[Waiter]] = {}
        # Keys written since the last serve, in write order (a dict is an ordered set). The
        # protocol calls serve_ready after a command whenever this is not empty.
        self.ready: dict[tuple[int, bytes], None] = {}
        self.serving = False
        # Woken clients and their replies, in wake-up order, waiting for the end of the pass.
        self.to_deliver: list[tuple[Client, Any]] = []

    def timed_count(self) -> int:
        """Blocked clients with a deadline (INFO's clients_in_timeout_table)."""
        return sum(
            1
            for c in self.server.clients.values()
            if c.blocked is not None and c.blocked.timer is not None
        )

    def block(
        self, client: Client, keys: list[bytes], deadline_ms: int, retry: Retry, timeout_reply: Any
    ) -> None:
        keys = list(dict.fromkeys(keys))
        waiter = Waiter(client, client.db.index, keys, deadline_ms, retry, timeout_reply)
        if not self.waiting:
            self.server.key_listeners.append(self.key_written)
        for key in waiter.keys:
            self.waiting.setdefault((waiter.db_index, key), deque()).append(waiter)
        client.blocked = waiter
        if deadline_ms:
            self.arm(waiter)

    def arm(self, waiter: Waiter) -> None:
        loop = self.server.loop
        if loop is None:
            return
        # +1 ms: the deadline passes when the clock is beyond it, like Redis's `timeout < now`.
        delay = max(0.0, (waiter.deadline + 1 - self.server.clock.now_ms()) / 1000)
        if delay < MAX_TIMER_S:
            waiter.timer = loop.call_later(delay, self.time_out, waiter)

    def key_written(self, db: Database, key: bytes) -> None:
        if self.waiting and (db.index, key) in self.waiting:
            self.ready[(db.index, key)] = None

    def serve_ready(self) -> None:
        """Offer every key written since the last call to its waiters (FIFO per key), then
        deliver the replies of the clients woken."""
        if self.serving:
            return  # a delivery below ran commands that wrote keys: the loop picks them up
        self.serving = True
        try:
            while self.ready or self.to_deliver:
                while self.ready:
                    slot = next(iter(self.ready))
                    del self.ready[slot]
                    self.serve_key(slot)
                self.deliver()
        finally:
            self.serving = False

    def serve_key(self, slot: tuple[int, bytes]) -> None:
        server = self.server
        db_index, key = slot
        queue = self.waiting.get(slot)
        while queue:
            waiter = queue[0]
            waiter.client.db = server.dbs[db_index]
            server.now_ms = server.clock.now_ms()
            try:
                reply = waiter.retry(key)
            except Exception as exc:  # a bug: answer it and keep serving, like dispatch does
                server.log_warning(f"Internal error serving a blocked client: {exc!r}")
                reply = ErrorReply(f"ERR internal error serving a blocked client: {exc!r}")
            if reply is NOT_READY:
                return  # the key holds nothing for its first waiter, so for none after it
            self.unblock(waiter, reply)
            queue = self.waiting.get(slot)

    def unblock(self, waiter: Waiter, reply: Any) -> None:
        """Detach the waiter from its keys; its client gets `reply` at the next `deliver`."""
        self.remove(waiter)
        client = waiter.client
        client.blocked = None
        if isinstance(reply, ErrorReply):
            # Counted as the blocked command's failure, like an error it answered at once.
            server = self.server
            server.count_error(reply)
            spec = server.commands.get(client.last_command.encode())
            if spec is not None:
                spec.failed_calls += 1
        self.to_deliver.append((client, reply))

    def deliver(self) -> None:
        while self.to_deliver:
            pending, self.to_deliver = self.to_deliver, []
            for client, reply in pending:
                proto = client.extra.get("protocol")
                if proto is not None:
                    # Sends the reply, then runs what the client pipelined after its command.
                    proto.unblocked(reply)

    def remove(self, waiter: Waiter) -> None:
        for key in waiter.keys:
            slot = (waiter.db_index, key)
            queue = self.waiting.get(slot)
            if queue is not None:
                with contextlib.suppress(ValueError):
                    queue.remove(waiter)
                if not queue:
                    del self.waiting[slot]
                    self.ready.pop(slot, None)
        if not self.waiting:
            with contextlib.suppress(ValueError):
                self.server.key_listeners.remove(self.key_written)
        if waiter.timer is not None:
            waiter.timer.cancel()
            waiter.timer = None

    def time_out(self, waiter: Waiter) -> None:
        waiter.timer = None
        if waiter.client.blocked is not waiter:
            return
        if self.server.clock.now_ms() <= waiter.deadline:
            # The loop's timers may run a little early (its cached time lags the clock).
            self.arm(waiter)
            return
        self.unblock(waiter, waiter.timeout_reply)
        self.serve_ready()

    def client_unblock(self, client: Client, error: bool) -> bool:
        """CLIENT UNBLOCK: answer the timeout reply or the UNBLOCKED error after this command."""
        waiter = client.blocked
        if waiter is None:
            return False
        self.ready[AFTER_COMMAND] = None
        if not error:
            self.unblock(waiter, waiter.timeout_reply)
            return True
        self.unblock(waiter, ErrorReply(UNBLOCKED_ERROR))
        # Redis counts the error against the command running when it is produced too, so
        # CLIENT UNBLOCK ... ERROR shows up in its own failed_calls.
        container = self.server.commands.get(b"client")
        spec = container.subcommands.get(b"unblock") if container is not None else None
        if spec is not None:
            spec.failed_calls += 1
        return True

    def client_gone(self, client: Client) -> None:
        waiter = client.blocked
        if waiter is not None:
            self.remove(waiter)
            client.blocked = None
