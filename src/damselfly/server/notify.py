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

`AFTER_REPLY` says which events a command announces only after its reply, which the client that
ran it sees when it listens to its own events; server/protocol.py holds those pushes back.
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


# Events that Redis 7.0 sends after the reply of the command that caused them, per command. The
# reason is where each command calls notifyKeyspaceEvent relative to addReply: these reply first
# (a pop answers with what it took, then announces it), the others announce first. Only a client
# subscribed to its own events can tell (RESP3 pushes, or RESP2 inside EXEC), and for it the
# events a command emits before its reply point (`expired` and `keymiss` from its lookups, `new`
# when a push creates its list, the push half of a move) still come first. Measured against
# redis-server 7.0 event by event; commands not listed send every event before their reply.
_POPS = frozenset(["lpop", "rpop", "del"])
_EXPIRE = frozenset(["expire"])
_PUSHES = frozenset(["lpush", "rpush"])
_SET_GET = frozenset(["new", "set", "expire"])
AFTER_REPLY: dict[bytes, frozenset[str]] = {
    b"getset": _SET_GET,
    b"set": _SET_GET,  # only with the GET option: see events_after_reply
    b"getdel": frozenset(["del"]),
    b"getex": frozenset(["expire", "persist", "del"]),
    # The EXPIRE family replies first only when it sets a TTL: a time in the past deletes the
    # key, and that `del` comes before the reply.
    b"expire": _EXPIRE,
    b"pexpire": _EXPIRE,
    b"expireat": _EXPIRE,
    b"pexpireat": _EXPIRE,
    b"lpush": _PUSHES,
    b"rpush": _PUSHES,
    b"lpushx": _PUSHES,
    b"rpushx": _PUSHES,
    b"lset": frozenset(["lset"]),
    b"lpop": _POPS,
    b"rpop": _POPS,
    b"lmpop": _POPS,
    b"blpop": _POPS,
    b"brpop": _POPS,
    b"blmpop": _POPS,
    # Moves push to the destination, reply with the element, then announce the pop.
    b"rpoplpush": _POPS,
    b"lmove": _POPS,
    b"brpoplpush": _POPS,
    b"blmove": _POPS,
}
_NONE: frozenset[str] = frozenset()
# SET options followed by a value, skipped when looking for GET (`SET k v IFEQ get` compares).
_SET_VALUE_OPTIONS = frozenset(
    [b"ex", b"px", b"exat", b"pxat", b"ifeq", b"ifne", b"ifdeq", b"ifdne"]
)


def events_after_reply(argv: list[bytes]) -> frozenset[str]:
    """The events `argv` sends after its reply (see AFTER_REPLY); empty for most commands."""
    name = argv[0].lower()
    after = AFTER_REPLY.get(name)
    if after is None:
        return _NONE
    if name == b"set" and not _set_has_get(argv):
        return _NONE
    return after


def _set_has_get(argv: list[bytes]) -> bool:
    index = 3
    while index < len(argv):
        option = argv[index].lower()
        if option == b"get":
            return True
        index += 2 if option in _SET_VALUE_OPTIONS else 1
    return False
