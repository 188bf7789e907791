"""Keyspace notifications: `notify-keyspace-events` flags and the two channels per event.

A write command calls `Server.notify_keyspace_event(class_letter, event, key, db)` with Redis's
event name. When the class is enabled, the event is published to
`__keyspace@<db>__:<key>` (message: the event name) if K is set, then to
`__keyevent@<db>__:<event>` (message: the key) if E is set — in that order, like Redis.
"""

from __future__ import annotations

CLASSES = "g$lshzxetdmn"
ALL = "g$lshzxetd"  # what 'A' stands for (not m: key misses, not n: new keys)
VALID = set("Ag$lshzxeKEtmdn")
INVALID_TEXT = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."


def parse_flags(text: str) -> frozenset[str] | None:
    """The set of enabled letters (A expanded), or None when a character is invalid."""
    flags: set[str] = set()
    for ch in text:
        if ch not in VALID:
            return None
        if ch == "A":
            flags.update(ALL)
        else:
            flags.add(ch)
    return frozenset(flags)


def flags_to_string(flags: frozenset[str]) -> str:
    """Canonical spelling CONFIG GET shows: 'A' when all of A is set, then K, E, m."""
    if set(ALL) <= flags:
        out = "A"
    else:
        out = "".join(c for c in "g$lshzxetdn" if c in flags)
    for ch in "KEm":
        if ch in flags:
            out += ch
    return out


def channels_for(
    flags: frozenset[str], kind: str, event: str, key: bytes, db: int
) -> list[tuple[bytes, bytes]]:
    """(channel, message) pairs to publish for one event, empty when it is not enabled."""
    if kind not in flags:
        return []
    out = []
    if "K" in flags:
        out.append((b"__keyspace@%d__:" % db + key, event.encode()))
    if "E" in flags:
        out.append((b"__keyevent@%d__:" % db + event.encode(), key))
    return out
