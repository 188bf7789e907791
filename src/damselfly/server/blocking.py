"""Clients blocked on keys (BLPOP, BLMOVE, BLMPOP, and later lock waits), woken without polling.

A blocked client registers a `Waiter` on every key it waits for. Any write to a key passes through
`Server.key_modified`, which lands in `key_written`: if someone waits on that key it is marked
ready. After the command that wrote it has finished (never in the middle of a command, MULTI or
script, so a waiter sees the write whole), `serve_ready` retries the waiters of each ready key in
the order they blocked (first blocked, first served) until one finds nothing to do. A retry is the
blocking command's own core run again for the waiting client, so the reply is exactly what the
non-blocking form would have given at that moment.

Parameters: a waiter's deadline is absolute (ms); 0 waits forever. A timer per waiter answers
the timeout reply; CLIENT UNBLOCK answers the timeout reply or an UNBLOCKED error; a client that
disconnects while blocked is removed from every key it waited on.
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

Retry = Callable[[], Any]
# What a retry returns when the keys still cannot serve the client.
NOT_READY = object()
UNBLOCKED_ERROR = "UNBLOCKED client unblocked via CLIENT UNBLOCK"


class Waiter:
    __slots__ = ("client", "db_index", "keys", "retry", "timeout_reply", "timer")

    def __init__(
        self, client: Client, db_index: int, keys: list[bytes], retry: Retry, timeout_reply: Any
    ) -> None:
        self.client = client
        self.db_index = db_index
        self.keys = keys
        self.retry = retry
        self.timeout_reply = timeout_reply
        self.timer: asyncio.TimerHandle | None = None


class BlockingManager:
    __slots__ = ("server", "waiting", "ready", "serving")

    def __init__(self, server: Server) -> None:
        self.server = server
        # (db index, key) -> waiters in the order they blocked.
        self.waiting: dict[tuple[int, bytes], deque[Waiter]] = {}
        self.ready: dict[tuple[int, bytes], None] = {}
        self.serving = False

    def blocked_count(self) -> int:
        return sum(1 for c in self.server.clients.values() if c.blocked is not None)

    def block(
        self, client: Client, keys: list[bytes], deadline_ms: int, retry: Retry, timeout_reply: Any
    ) -> None:
        waiter = Waiter(client, client.db.index, list(dict.fromkeys(keys)), retry, timeout_reply)
        for key in waiter.keys:
            self.waiting.setdefault((waiter.db_index, key), deque()).append(waiter)
        client.blocked = waiter
        if deadline_ms and self.server.loop is not None:
            delay = max(0.0, (deadline_ms - self.server.clock.now_ms()) / 1000)
            waiter.timer = self.server.loop.call_later(delay, self.time_out, waiter)

    def key_written(self, db: Database, key: bytes) -> None:
        if self.waiting and (db.index, key) in self.waiting:
            self.ready[(db.index, key)] = None

    def serve_ready(self) -> None:
        """Retry waiters of every key written since the last call; FIFO per key."""
        if self.serving:
            return
        self.serving = True
        try:
            while self.ready:
                slot = next(iter(self.ready))
                del self.ready[slot]
                queue = self.waiting.get(slot)
                while queue:
                    waiter = queue[0]
                    client = waiter.client
                    saved_db = client.db
                    client.db = self.server.dbs[waiter.db_index]
                    self.server.now_ms = self.server.clock.now_ms()
                    reply = waiter.retry()
                    if reply is NOT_READY:
                        client.db = saved_db
                        break
                    self.unblock(waiter, reply)
                    queue = self.waiting.get(slot)
        finally:
            self.serving = False

    def unblock(self, waiter: Waiter, reply: Any) -> None:
        """Detach the waiter from its keys and send `reply` to its client."""
        self.remove(waiter)
        client = waiter.client
        client.blocked = None
        proto = client.extra.get("protocol")
        if proto is not None:
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
        if waiter.timer is not None:
            waiter.timer.cancel()
            waiter.timer = None

    def time_out(self, waiter: Waiter) -> None:
        waiter.timer = None
        if waiter.client.blocked is waiter:
            self.unblock(waiter, waiter.timeout_reply)
            self.serve_ready()

    def client_unblock(self, client: Client, error: bool) -> bool:
        waiter = client.blocked
        if waiter is None:
            return False
        self.unblock(waiter, ErrorReply(UNBLOCKED_ERROR) if error else waiter.timeout_reply)
        return True

    def client_gone(self, client: Client) -> None:
        waiter = client.blocked
        if waiter is not None:
            self.remove(waiter)
            client.blocked = None
