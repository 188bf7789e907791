"""One logical database: keys, their values and their expiry times.

State, and the invariant each part keeps:
- `data`: key -> value. A string value is `bytes` (`RawString` when Redis would report the `raw`
  encoding for a short value, after APPEND or SETRANGE); later families store their own types.
- `expires`: key -> absolute expiry in integer milliseconds. Every key in `expires` is in `data`.
- `heap`: (when, key) for every expiry ever set, a lazily cleaned min-heap that lets the active
  cycle find expired keys without scanning. An entry is live only if `expires[key] == when`;
  stale entries are dropped when popped, and the heap is rebuilt when stale entries outnumber
  live ones, so it never exceeds about twice the number of volatile keys.

Every read goes through `lookup` (a key past its time is deleted there: lazy expiry, `now > when`
like Redis, so a key whose time equals now still exists with PTTL 0). Every write goes through
`set_value`, `delete` or an explicit `modified(key)`: that one place is where WATCH, keyspace
events, blocked clients and persistence hook in (`Server.key_modified`).
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from damselfly.server.server import Server


class RawString(bytes):
    """A string value Redis would store with the `raw` encoding regardless of its length."""

    __slots__ = ()


def type_name(value: Any) -> str:
    if isinstance(value, bytes):
        return "string"
    name = getattr(value, "redis_type", None)
    if name is None:
        raise TypeError(f"unknown value type {type(value).__name__}")
    return str(name)


class Database:
    __slots__ = ("index", "server", "data", "expires", "heap", "avg_ttl", "expires_cursor")

    def __init__(self, server: Server, index: int) -> None:
        self.index = index
        self.server = server
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        self.heap: list[tuple[int, bytes]] = []
        self.avg_ttl = 0
        self.expires_cursor = 0

    def __len__(self) -> int:
        return len(self.data)

    # -- reads ---------------------------------------------------------------------------------

    def lookup(self, key: bytes) -> Any:
        """The live value of `key`, or None; deletes the key if its time has passed."""
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when < self.server.now_ms:
                self.expire_key(key)
                return None
        return self.data.get(key)

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def get_expire(self, key: bytes) -> int | None:
        """Absolute expiry in ms of a live key, or None when it has none."""
        return self.expires.get(key)

    def ttl_ms(self, key: bytes) -> int:
        """PTTL semantics: -2 missing, -1 no expiry, else remaining ms (>= 0)."""
        if self.lookup(key) is None:
            return -2
        when = self.expires.get(key)
        if when is None:
            return -1
        return max(0, when - self.server.now_ms)

    # -- writes --------------------------------------------------------------------------------

    def set_value(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store `value` (overwriting any type), dropping the TTL unless `keep_ttl`."""
        self.data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        self.server.key_modified(self, key)

    def update_value(self, key: bytes, value: Any) -> None:
        """Replace the value of an existing key in place, keeping its TTL (APPEND, INCR ...)."""
        self.data[key] = value
        self.server.key_modified(self, key)

    def set_expire(self, key: bytes, when_ms: int) -> None:
        """Give an existing key an absolute expiry time (ms)."""
        self.expires[key] = when_ms
        heap = self.heap
        heapq.heappush(heap, (when_ms, key))
        if len(heap) > 2 * len(self.expires) + 1024:
            self.heap = [(w, k) for k, w in self.expires.items()]
            heapq.heapify(self.heap)

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def delete(self, key: bytes) -> bool:
        """Remove a key if present (expired or not); True if something was removed."""
        if self.data.pop(key, None) is None:
            return False
        if self.expires:
            self.expires.pop(key, None)
        self.server.key_modified(self, key)
        return True

    def expire_key(self, key: bytes) -> None:
        """Delete a key whose time has passed (lazily or from the active cycle)."""
        self.data.pop(key, None)
        self.expires.pop(key, None)
        self.server.stats_expired_keys += 1
        self.server.key_modified(self, key)
        self.server.notify_keyspace_event("x", "expired", key, self)

    def modified(self, key: bytes) -> None:
        self.server.key_modified(self, key)

    def clear(self) -> int:
        removed = len(self.data)
        if removed:
            self.server.database_flushed(self)
        self.data = {}
        self.expires = {}
        self.heap = []
        return removed

    def swap_with(self, other: Database) -> None:
        self.data, other.data = other.data, self.data
        self.expires, other.expires = other.expires, self.expires
        self.heap, other.heap = other.heap, self.heap

    # -- active expiry -------------------------------------------------------------------------

    def expire_due(self, now_ms: int, limit: int) -> tuple[int, bool]:
        """Delete up to `limit` keys whose time is before now; returns (deleted, more_due)."""
        heap = self.heap
        expires = self.expires
        deleted = 0
        while heap and deleted < limit:
            when, key = heap[0]
            if when >= now_ms:
                return deleted, False
            heapq.heappop(heap)
            if expires.get(key) == when:
                self.expire_key(key)
                deleted += 1
        return deleted, bool(heap) and heap[0][0] < now_ms
