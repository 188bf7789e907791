"""Keyspace notifications: the two channels an event is published on.

A write command calls `Server.notify_keyspace_event(class_letter, event, key, db)` with Redis's
event name. `notify-keyspace-events` is parsed by config.py into its letters (A expanded). When
the event's class is enabled, the event goes to `__keyspace@<db>__:<key>` (message: the event
name) if K is set, then to `__keyevent@<db>__:<event>` (message: the key) if E is set, in that
order, like Redis.

Where the events come from, so that they follow Redis 7.0's order: `new` (class n, not part of A)
from `Database.set_value` when it creates a key, before the command's own event (RENAME and COPY
add it for a replaced destination too, since Redis deletes and re-adds it); `expired` from
`Database.expire_key` (lazy and active expiry); `keymiss` (class m, not part of A) from the read
lookups that count keyspace misses (GET and the other reads; not OBJECT, not writes).
"""

from __future__ import annotations


def channels_for(flags: str, event: str, key: bytes, db: int) -> list[tuple[bytes, bytes]]:
    """(channel, message) pairs to publish for one enabled event."""
    out = []
    if "K" in flags:
        out.append((b"__keyspace@%d__:" % db + key, event.encode()))
    if "E" in flags:
        out.append((b"__keyevent@%d__:" % db + event.encode(), key))
    return out
