"""One logical database: keys, their values and their expiry times.

State, and the invariant each part keeps:
- `data`: key -> value. A string value is `bytes` (`RawString` when Redis would report the `raw`
  encoding for a short value, after APPEND or SETRANGE); later families store their own types.
- `expires`: key -> absolute expiry in integer milliseconds. Every key in `expires` is in `data`.
- `timeline`: every expiry ever set, grouped by its millisecond (see `Timeline`), so the active
  cycle finds expired keys without scanning. An entry is live only if `expires[key] == when`;
  stale ones are dropped when reached, and the timeline is rebuilt when stale entries outnumber
  live ones, so it never holds more than about twice the number of volatile keys.
- `scans`: the SCAN cursors in flight over `data` (see `ScanCursors`); they follow `data` through
  SWAPDB and are dropped by a flush.

Every read goes through `lookup` (a key past its time is deleted there: lazy expiry, `now > when`
like Redis, so a key whose time equals now still exists with PTTL 0). Every write goes through
`set_value`, `delete` or an explicit `modified(key)`: that one place is where WATCH, keyspace
events, blocked clients and persistence hook in (`Server.key_modified`).
"""

from __future__ import annotations

import heapq
import random
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from itertools import islice
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


# A cursor is (snapshot id << POS_BITS) | position, kept below 2**63 so that clients parsing it as
# a signed 64-bit integer are fine too.
POS_BITS = 40
POS_MASK = (1 << POS_BITS) - 1
MAX_SNAPSHOT_ID = (1 << (63 - POS_BITS)) - 1


class ScanCursors:
    """Stable SCAN cursors over a dict that changes between calls (keys, or a hash's fields).

    Redis walks its hash table in reverse-binary bucket order, which survives rehashing; a
    Python dict offers no such position. So the first call of an iteration (cursor 0) copies the
    dict's keys into a snapshot list, and the cursor names (snapshot, position in it). A key
    present for the whole iteration is in the snapshot, hence returned once; a key deleted since
    is skipped when its turn comes (the caller checks it is still in the dict); a key added
    during the iteration may or may not be returned, as in Redis.

    Costs: the snapshot is one pointer per key (8 bytes), and taking it is O(n) in that one
    call (10 to 20 ms per million keys here) where Redis's SCAN 0 is O(1); a dict that fits in
    the first reply takes no snapshot at all. Parameters: at most MAX_SNAPSHOTS iterations in
    flight per dict and at most about twice the dict's size in snapshot entries (plus
    MIN_BUDGET); beyond that the least recently used snapshot is dropped. A snapshot is dropped as soon as its
    iteration returns cursor 0. Weakening: a cursor whose snapshot was dropped (or never issued)
    restarts from a fresh snapshot at the position it encodes, which may skip or repeat keys.
    """

    __slots__ = ("entries", "next_id", "snapshots")

    MAX_SNAPSHOTS = 16
    MIN_BUDGET = 100_000

    def __init__(self) -> None:
        self.snapshots: OrderedDict[int, list[Any]] = OrderedDict()
        self.next_id = 0
        self.entries = 0

    def scan(
        self,
        source: dict[Any, Any],
        cursor: int,
        count: int,
        visit: Callable[[Any], bool],
    ) -> tuple[int, list[Any]]:
        """Return (next cursor, keys accepted by `visit`) for about `count` live keys.

        `visit(key)` is called for each snapshot key still in `source`, in order; it returns
        whether the key goes in the reply (it may also expire the key). At most `count` live
        keys are visited per call, and at most 10 * `count` entries overall so that a snapshot
        full of deleted keys still answers quickly (Redis bounds empty buckets the same way).
        """
        if cursor == 0 and len(source) <= count:
            return 0, [key for key in list(source) if visit(key)]
        sid = cursor >> POS_BITS
        pos = cursor & POS_MASK
        keys = self.snapshots.get(sid) if sid else None
        if keys is None:
            if pos >= len(source):
                return 0, []  # a made-up cursor past the end: nothing to copy for
            keys = list(source)
            sid = self.add(keys, len(source))
        else:
            self.snapshots.move_to_end(sid)
        out: list[Any] = []
        live = 0
        end = len(keys)
        limit = min(end, pos + 10 * count)
        while pos < limit and live < count:
            key = keys[pos]
            pos += 1
            if key in source:
                live += 1
                if visit(key):
                    out.append(key)
        if pos >= end:
            self.drop(sid)
            return 0, out
        return (sid << POS_BITS) | pos, out

    def add(self, keys: list[Any], size: int) -> int:
        self.next_id = self.next_id % MAX_SNAPSHOT_ID + 1
        sid = self.next_id
        self.drop(sid)  # an id reused after wrapping around
        self.snapshots[sid] = keys
        self.entries += len(keys)
        budget = 2 * size + self.MIN_BUDGET
        while len(self.snapshots) > 1 and (
            len(self.snapshots) > self.MAX_SNAPSHOTS or self.entries > budget
        ):
            _, old = self.snapshots.popitem(last=False)
            self.entries -= len(old)
        return sid

    def drop(self, sid: int) -> None:
        old = self.snapshots.pop(sid, None)
        if old is not None:
            self.entries -= len(old)


def free_later(server: Server, containers: Iterable[Any]) -> None:
    """Release big containers a slice at a time from the event loop (FLUSHDB ASYNC, UNLINK).

    Dropping the last reference to a dict of millions of keys frees every key and value in one
    go, which stalls the loop for about a second; popping a few thousand entries per loop turn
    spreads that cost while other clients are served. Without a loop, freeing is immediate.
    """
    pending = [c for c in containers if c]
    if not pending or server.loop is None:
        return
    loop = server.loop

    def step() -> None:
        budget = 4096
        while pending and budget:
            box = pending[-1]
            if isinstance(box, list):
                n = min(budget, len(box))
                del box[-n:]
            elif isinstance(box, dict | set | deque):
                pop = box.popitem if isinstance(box, dict) else box.pop
                n = min(budget, len(box))
                for _ in range(n):
                    pop()
            else:
                n = 1  # a type we cannot take apart: dropping it frees it in one go
                pending.pop()
                continue
            budget -= n
            if not box:
                pending.pop()
        if pending:
            loop.call_soon(step)

    loop.call_soon(step)


class Timeline:
    """Keys by expiry millisecond: `slots[when]` lists the keys given that time, `times` is a
    min-heap of the slot times. Keys sharing a millisecond share one heap entry, so reclaiming a
    key costs a list pop and a dict probe instead of a heap operation on a (time, key) tuple:
    measured 4.5 us/key with a heap of tuples, about 1 us/key here (and 8 bytes per entry
    instead of a 64-byte tuple)."""

    __slots__ = ("entries", "slots", "times")

    def __init__(self) -> None:
        self.slots: dict[int, list[bytes]] = {}
        self.times: list[int] = []
        self.entries = 0

    def add(self, key: bytes, when: int) -> None:
        bucket = self.slots.get(when)
        if bucket is None:
            self.slots[when] = [key]
            heapq.heappush(self.times, when)
        else:
            bucket.append(key)
        self.entries += 1

    def rebuild(self, expires: dict[bytes, int]) -> None:
        self.slots = {}
        self.times = []
        self.entries = 0
        for key, when in expires.items():
            self.add(key, when)

    def due(self, now_ms: int) -> bool:
        return bool(self.times) and self.times[0] < now_ms


class Database:
    __slots__ = (
        "avg_ttl",
        "data",
        "expires",
        "expires_cursor",
        "index",
        "scans",
        "server",
        "timeline",
    )

    def __init__(self, server: Server, index: int) -> None:
        self.index = index
        self.server = server
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        self.timeline = Timeline()
        self.avg_ttl = 0
        self.expires_cursor = 0
        self.scans = ScanCursors()

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

    def lookup_read(self, key: bytes, notify_miss: bool = True) -> Any:
        """`lookup` for a read command, like Redis's lookupKeyRead: counts keyspace hits and
        misses, and a miss emits `keymiss` (class m) unless `notify_miss` is off (OBJECT)."""
        value = self.lookup(key)
        server = self.server
        if value is None:
            server.stat_keyspace_misses += 1
            if notify_miss:
                server.notify_keyspace_event("m", "keymiss", key, self)
        else:
            server.stat_keyspace_hits += 1
        return value

    def is_expired(self, key: bytes) -> bool:
        """True if `key` has a time that has passed (without deleting it)."""
        when = self.expires.get(key)
        return when is not None and when < self.server.now_ms

    def random_key(self) -> bytes | None:
        """A uniformly chosen live key, or None when there is none.

        O(n) where Redis is O(1): a dict cannot be indexed, so a random position is reached by
        skipping entries (in C, a few ms per million keys). Expired keys met on the way are
        deleted, as Redis does; after a few of them one pass collects the live keys instead, so
        a database full of stale keys costs O(n) once rather than O(n) per stale key.
        """
        data = self.data
        for _ in range(8):
            if not data:
                return None
            key: bytes = next(islice(iter(data), random.randrange(len(data)), None))
            if not self.is_expired(key):
                return key
            self.expire_key(key)
        stale = [k for k in self.expires if self.is_expired(k)]
        for key in stale:
            self.expire_key(key)
        if not data:
            return None
        return next(islice(iter(data), random.randrange(len(data)), None))

    def get_expire(self, key: bytes) -> int | None:
        """Absolute expiry in ms of a live key, or None when it has none."""
        return self.expires.get(key)

    # -- writes --------------------------------------------------------------------------------

    def set_value(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store `value` (overwriting any type), dropping the TTL unless `keep_ttl`.

        Creating the key emits the `new` keyspace event (class n), before the caller's own
        event, as Redis's dbAdd does. Callers have looked the key up first, so an expired key
        is already gone and its re-creation counts as new.
        """
        server = self.server
        created = "n" in server.notify_flags and key not in self.data
        self.data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        server.key_modified(self, key)
        if created:
            server.notify_keyspace_event("n", "new", key, self)

    def update_value(self, key: bytes, value: Any) -> None:
        """Replace the value of an existing key in place, keeping its TTL (APPEND, INCR ...)."""
        self.data[key] = value
        self.server.key_modified(self, key)

    def set_expire(self, key: bytes, when_ms: int) -> None:
        """Give an existing key an absolute expiry time (ms)."""
        expires = self.expires
        expires[key] = when_ms
        timeline = self.timeline
        timeline.add(key, when_ms)
        if timeline.entries > 2 * len(expires) + 1024:
            timeline.rebuild(expires)

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

    def clear(self, lazy: bool = False) -> int:
        """Empty the database; `lazy` frees the old contents a slice at a time afterwards."""
        removed = len(self.data)
        if removed:
            self.server.database_flushed(self)
        old = (self.data, self.expires, self.timeline.slots)
        self.data = {}
        self.expires = {}
        self.timeline = Timeline()
        self.scans = ScanCursors()
        if lazy:
            free_later(self.server, old)
        return removed

    def swap_with(self, other: Database) -> None:
        """SWAPDB: exchange contents; every key of either side counts as modified in both."""
        self.data, other.data = other.data, self.data
        self.expires, other.expires = other.expires, self.expires
        self.timeline, other.timeline = other.timeline, self.timeline
        self.scans, other.scans = other.scans, self.scans
        server = self.server
        server.dirty += 1
        listeners = server.key_listeners
        if listeners:
            for key in [*self.data, *other.data]:
                for listener in listeners:
                    listener(self, key)
                    listener(other, key)

    # -- active expiry -------------------------------------------------------------------------

    def expire_due(self, now_ms: int, limit: int) -> tuple[int, bool]:
        """Delete up to `limit` keys whose time is before now; returns (deleted, more_due)."""
        timeline = self.timeline
        times = timeline.times
        slots = timeline.slots
        expires = self.expires
        data = self.data
        server = self.server
        # Per-key work is inlined (this runs for millions of keys); the hooks `expire_key`
        # calls are only called when something listens.
        hooks = bool(server.notify_flags or server.key_listeners or server.blocking.waiting)
        deleted = 0
        while times and times[0] < now_ms and deleted < limit:
            when = times[0]
            bucket = slots[when]
            while bucket and deleted < limit:
                key = bucket.pop()
                timeline.entries -= 1
                if expires.get(key) == when:
                    if hooks:
                        self.expire_key(key)
                    else:
                        del data[key]
                        del expires[key]
                    deleted += 1
            if not bucket:
                heapq.heappop(times)
                del slots[when]
        if not hooks and deleted:
            server.stats_expired_keys += deleted
            server.dirty += deleted
        return deleted, timeline.due(now_ms)
