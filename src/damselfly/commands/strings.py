"""String commands: SET and its family, GET and its family, counters, ranges, LCS.

One generic core, `set_generic`, serves SET, SETNX, SETEX and PSETEX (as `setGenericCommand` does
in Redis); the thin commands only pass their differences in. Options are read into a small
`SetOptions` value first, then checked in Redis's order: the expire value, then GET's type check,
then the NX/XX condition.
"""

from __future__ import annotations

from typing import Any

from damselfly import errors
from damselfly.commands.args import LLONG_MAX, to_int
from damselfly.commands.spec import Cmd
from damselfly.errors import CommandError
from damselfly.protocol.types import OK
from damselfly.server.client import Client

# Expiry units and kinds, as parsed from SET/GETEX options.
EX, PX, EXAT, PXAT = 1, 2, 3, 4

_COMMAND_SET = 0
_COMMAND_GET = 1


class SetOptions:
    __slots__ = ("nx", "xx", "get", "keepttl", "persist", "expire_kind", "expire_arg")

    def __init__(self) -> None:
        self.nx = False
        self.xx = False
        self.get = False
        self.keepttl = False
        self.persist = False
        self.expire_kind = 0
        self.expire_arg: bytes | None = None


def parse_set_options(argv: list[bytes], start: int, command_type: int) -> SetOptions:
    """Redis's parseExtendedStringArgumentsOrReply: repeated options allowed, conflicts rejected."""
    opts = SetOptions()
    j = start
    n = len(argv)
    while j < n:
        opt = argv[j].upper()
        has_next = j + 1 < n
        kind = opts.expire_kind
        if opt == b"NX" and not opts.xx and command_type == _COMMAND_SET:
            opts.nx = True
        elif opt == b"XX" and not opts.nx and command_type == _COMMAND_SET:
            opts.xx = True
        elif opt == b"GET" and command_type == _COMMAND_SET:
            opts.get = True
        elif opt == b"KEEPTTL" and not opts.persist and not kind and command_type == _COMMAND_SET:
            opts.keepttl = True
        elif opt == b"PERSIST" and command_type == _COMMAND_GET and not kind and not opts.keepttl:
            opts.persist = True
        elif (
            opt in _EXPIRE_OPTIONS
            and not opts.keepttl
            and not opts.persist
            and kind in (0, _EXPIRE_OPTIONS[opt])
            and has_next
        ):
            opts.expire_kind = _EXPIRE_OPTIONS[opt]
            opts.expire_arg = argv[j + 1]
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    return opts


_EXPIRE_OPTIONS = {b"EX": EX, b"PX": PX, b"EXAT": EXAT, b"PXAT": PXAT}


def expire_at_ms(client: Client, arg: bytes, kind: int, command: str) -> int:
    """Redis's getExpireMillisecondsOrReply: the absolute expiry time in ms, or an error."""
    value = to_int(arg)
    if value is None:
        raise CommandError(errors.NOT_INTEGER)
    seconds = kind in (EX, EXAT)
    if value <= 0 or (seconds and value > LLONG_MAX // 1000):
        raise CommandError(errors.INVALID_EXPIRE.format(command))
    if seconds:
        value *= 1000
    if kind in (EX, PX):
        value += client.server.now_ms
        if value > LLONG_MAX:  # Redis overflows to a negative number and rejects it
            raise CommandError(errors.INVALID_EXPIRE.format(command))
    return value


def read_string(client: Client, key: bytes) -> bytes | None:
    """The string at `key` for a read command (counting hits/misses), or None; WRONGTYPE otherwise."""
    value = client.db.lookup(key)
    server = client.server
    if value is None:
        server.stat_keyspace_misses += 1
        return None
    server.stat_keyspace_hits += 1
    if not isinstance(value, bytes):
        raise CommandError(errors.WRONGTYPE)
    return value


def set_generic(
    client: Client,
    key: bytes,
    value: bytes,
    opts: SetOptions,
    command: str,
    ok_reply: Any = OK,
    abort_reply: Any = None,
) -> Any:
    db = client.db
    when = 0
    if opts.expire_kind:
        assert opts.expire_arg is not None
        when = expire_at_ms(client, opts.expire_arg, opts.expire_kind, command)
    old: bytes | None = None
    if opts.get:
        old = read_string(client, key)
    found = db.lookup(key) is not None
    if (opts.nx and found) or (opts.xx and not found):
        return old if opts.get else abort_reply
    db.set_value(key, value, keep_ttl=opts.keepttl)
    client.server.notify_keyspace_event("$", "set", key, db)
    if when:
        db.set_expire(key, when)
        client.server.notify_keyspace_event("g", "expire", key, db)
    return old if opts.get else ok_reply


def cmd_set(client: Client, argv: list[bytes]) -> Any:
    opts = parse_set_options(argv, 3, _COMMAND_SET)
    return set_generic(client, argv[1], argv[2], opts, "set")


def cmd_setnx(client: Client, argv: list[bytes]) -> Any:
    opts = SetOptions()
    opts.nx = True
    return set_generic(client, argv[1], argv[2], opts, "setnx", 1, 0)


def cmd_setex(client: Client, argv: list[bytes]) -> Any:
    opts = SetOptions()
    opts.expire_kind = EX
    opts.expire_arg = argv[2]
    return set_generic(client, argv[1], argv[3], opts, "setex")


def cmd_psetex(client: Client, argv: list[bytes]) -> Any:
    opts = SetOptions()
    opts.expire_kind = PX
    opts.expire_arg = argv[2]
    return set_generic(client, argv[1], argv[3], opts, "psetex")


def cmd_get(client: Client, argv: list[bytes]) -> Any:
    return read_string(client, argv[1])


def cmd_getset(client: Client, argv: list[bytes]) -> Any:
    old = read_string(client, argv[1])
    client.db.set_value(argv[1], argv[2])
    client.server.notify_keyspace_event("$", "set", argv[1], client.db)
    return old


def cmd_getdel(client: Client, argv: list[bytes]) -> Any:
    old = read_string(client, argv[1])
    if old is not None:
        client.db.delete(argv[1])
        client.server.notify_keyspace_event("g", "del", argv[1], client.db)
    return old


def cmd_getex(client: Client, argv: list[bytes]) -> Any:
    opts = parse_set_options(argv, 2, _COMMAND_GET)
    key = argv[1]
    value = read_string(client, key)
    if value is None:
        return None
    db = client.db
    server = client.server
    if opts.expire_kind:
        assert opts.expire_arg is not None
        when = expire_at_ms(client, opts.expire_arg, opts.expire_kind, "getex")
        if opts.expire_kind in (EXAT, PXAT) and when <= server.now_ms:
            db.delete(key)
            server.notify_keyspace_event("g", "del", key, db)
        else:
            db.set_expire(key, when)
            db.modified(key)
            server.notify_keyspace_event("g", "expire", key, db)
    elif opts.persist and db.persist(key):
        db.modified(key)
        server.notify_keyspace_event("g", "persist", key, db)
    return value


_S = "string"
_EXPIRATION = (
    "[expiration= EX seconds:integer|PX milliseconds:integer|EXAT unix-time-seconds:unix-time"
    "|PXAT unix-time-milliseconds:unix-time"
)

COMMANDS = [
    Cmd(
        "set", -3, "write denyoom", cmd_set, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Sets the string value of a key, ignoring its type; the key is created if absent.",
        args="key:key value:string [condition= NX|XX] [GET] " + _EXPIRATION + "|KEEPTTL]",
    ),
    Cmd(
        "setnx", 3, "write denyoom fast", cmd_setnx, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Sets the string value of a key only when the key does not exist.",
        args="key:key value:string",
    ),
    Cmd(
        "setex", 4, "write denyoom", cmd_setex, keys=(1, 1, 1), group=_S, since="2.0.0",
        summary="Sets the string value and expiration time (seconds) of a key.",
        args="key:key seconds:integer value:string",
    ),
    Cmd(
        "psetex", 4, "write denyoom", cmd_psetex, keys=(1, 1, 1), group=_S, since="2.6.0",
        summary="Sets the string value and expiration time (milliseconds) of a key.",
        args="key:key milliseconds:integer value:string",
    ),
    Cmd(
        "get", 2, "readonly fast", cmd_get, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Returns the string value of a key.",
        args="key:key",
    ),
    Cmd(
        "getset", 3, "write denyoom fast", cmd_getset, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Returns the previous string value of a key after setting it to a new value.",
        args="key:key value:string", doc_flags=("deprecated",),
    ),
    Cmd(
        "getdel", 2, "write fast", cmd_getdel, keys=(1, 1, 1), group=_S, since="6.2.0",
        summary="Returns the string value of a key after deleting the key.",
        args="key:key",
    ),
    Cmd(
        "getex", -2, "write fast", cmd_getex, keys=(1, 1, 1), group=_S, since="6.2.0",
        summary="Returns the string value of a key after setting its expiration time.",
        args="key:key " + _EXPIRATION + "|PERSIST]",
    ),
]
