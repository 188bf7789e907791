"""Keyspace commands (Redis's "generic" group): existence, deletion, expiry, renaming, copying,
moving, iteration (KEYS, SCAN, RANDOMKEY) and OBJECT, plus the database-wide DBSIZE, FLUSHDB,
FLUSHALL and SWAPDB (group "server" in Redis's docs, kept here because they act on the keyspace).

Every write goes through the Database API so WATCH, keyspace events and persistence see it; the
events are Redis's: `del`, `expire`, `persist`, `rename_from`/`rename_to`, `move_from`/`move_to`,
`copy_to`, all of type `g`. Read commands that Redis counts in keyspace_hits/misses (EXISTS, TYPE,
TTL and friends, TOUCH, OBJECT, COPY's source) count here too.

OBJECT IDLETIME and FREQ: Redis keeps a 24-bit access clock in every value header. Our values are
plain Python objects (a string is a bare `bytes`), so tracking access per key would mean a side
table entry per key (about 50 bytes, a third of a small key's footprint) and a write on every
read. We do not pay that: IDLETIME reports 0 (every key looks just used) and FREQ reports 5
(Redis's counter for a key that was written and not read since). Both are the safe side for the
tools that use them: a script that deletes keys idle for a month deletes nothing rather than
everything. The errors for the wrong maxmemory-policy are Redis's, checked in Redis's order.
"""

from __future__ import annotations

import copy
from typing import Any

from damselfly import errors
from damselfly.commands.args import LLONG_MAX, LLONG_MIN, parse_int, to_int
from damselfly.commands.spec import Cmd
from damselfly.commands.strings import string_encoding
from damselfly.errors import CommandError
from damselfly.keyspace.database import Database, free_later, type_name
from damselfly.keyspace.glob import compile_glob, is_literal
from damselfly.protocol.types import OK, Status
from damselfly.server.client import Client

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
ULLONG_MAX = 2**64 - 1

# Integers Redis keeps as shared objects (OBJECT REFCOUNT reports them as never freed).
SHARED_INTEGERS = 10000
SHARED_REFCOUNT = 2147483647
# What OBJECT FREQ says for a key under an LFU policy (Redis's LFU_INIT_VAL).
LFU_INIT_VAL = 5
# UNLINK frees values with more elements than this a slice at a time (Redis's LAZYFREE_THRESHOLD).
LAZYFREE_THRESHOLD = 64

_ENCODING_BY_TYPE = {
    "list": b"quicklist",
    "hash": b"hashtable",
    "set": b"hashtable",
    "zset": b"skiplist",
    "stream": b"stream",
}


# -- shared helpers --------------------------------------------------------------------------


def lookup_read(client: Client, key: bytes, notify_miss: bool = True) -> Any:
    return client.db.lookup_read(key, notify_miss)


def parse_db_index(arg: bytes) -> int:
    """getIntFromObjectOrReply: an integer that fits a C int."""
    value = to_int(arg)
    if value is None:
        raise CommandError(errors.NOT_INTEGER)
    if not INT_MIN <= value <= INT_MAX:
        raise CommandError(errors.INT_RANGE)
    return value


def db_at(client: Client, index: int) -> Database:
    dbs = client.server.dbs
    if index < 0 or index >= len(dbs):
        raise CommandError(errors.DB_INDEX_OUT_OF_RANGE)
    return dbs[index]


def duplicate(value: Any) -> Any:
    """An independent copy of a value for COPY. Strings are immutable and shared as they are;
    other types are copied with `copy.copy`, so a type whose shallow copy would share mutable
    parts must define `__copy__`."""
    if isinstance(value, bytes):
        return value
    return copy.copy(value)


def notify(client: Client, event: str, key: bytes, db: Database | None = None) -> None:
    # (`db or client.db` would be wrong: an empty Database is falsy.)
    client.server.notify_keyspace_event("g", event, key, client.db if db is None else db)


# -- DEL, UNLINK, EXISTS, TYPE, TOUCH ------------------------------------------------------------


def del_generic(client: Client, argv: list[bytes], lazy: bool) -> int:
    db = client.db
    deleted = 0
    for key in argv[1:]:
        value = db.lookup(key)  # expires the key first if its time has passed, like Redis
        if value is None:
            continue
        db.delete(key)
        if lazy and not isinstance(value, bytes) and _size(value) > LAZYFREE_THRESHOLD:
            free_later(client.server, [value])
        notify(client, "del", key)
        deleted += 1
    return deleted


def _size(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 0


def cmd_del(client: Client, argv: list[bytes]) -> Any:
    return del_generic(client, argv, lazy=False)


def cmd_unlink(client: Client, argv: list[bytes]) -> Any:
    return del_generic(client, argv, lazy=True)


def cmd_exists(client: Client, argv: list[bytes]) -> Any:
    # Each argument counts, so a key named twice counts twice.
    return sum(1 for key in argv[1:] if lookup_read(client, key) is not None)


def cmd_touch(client: Client, argv: list[bytes]) -> Any:
    return sum(1 for key in argv[1:] if lookup_read(client, key) is not None)


def cmd_type(client: Client, argv: list[bytes]) -> Any:
    value = lookup_read(client, argv[1])
    return Status("none" if value is None else type_name(value))


# -- expiry ------------------------------------------------------------------------------------


def expire_generic(client: Client, argv: list[bytes], basetime: int, seconds: bool) -> Any:
    """EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: options, then the time, then the key, in Redis's
    order; a time already past deletes the key (and replies 1)."""
    nx = xx = gt = lt = False
    for arg in argv[3:]:
        opt = arg.upper()
        if opt == b"NX":
            nx = True
        elif opt == b"XX":
            xx = True
        elif opt == b"GT":
            gt = True
        elif opt == b"LT":
            lt = True
        else:
            raise CommandError(errors.UNSUPPORTED_OPTION.format(errors.c_string(arg)))
    if nx and (xx or gt or lt):
        raise CommandError(errors.EXPIRE_NX_CONFLICT)
    if gt and lt:
        raise CommandError(errors.EXPIRE_GT_LT_CONFLICT)
    when = parse_int(argv[2])
    invalid = errors.INVALID_EXPIRE.format(argv[0].decode("utf-8", "replace").lower())
    if seconds:
        # C's LLONG_MIN / 1000 truncates toward zero; Python's // would floor.
        if when > LLONG_MAX // 1000 or when < -(-LLONG_MIN // 1000):
            raise CommandError(invalid)
        when *= 1000
    if when > LLONG_MAX - basetime:
        raise CommandError(invalid)
    when += basetime
    db = client.db
    key = argv[1]
    if db.lookup(key) is None:
        return 0
    current = db.get_expire(key)  # None: no TTL, which GT and LT treat as infinite
    if nx and current is not None:
        return 0
    if xx and current is None:
        return 0
    if gt and (current is None or when <= current):
        return 0
    if lt and current is not None and when >= current:
        return 0
    if when <= client.server.now_ms:
        db.delete(key)
        notify(client, "del", key)
        return 1
    db.set_expire(key, when)
    db.modified(key)
    notify(client, "expire", key)
    return 1


def cmd_expire(client: Client, argv: list[bytes]) -> Any:
    return expire_generic(client, argv, client.server.now_ms, seconds=True)


def cmd_pexpire(client: Client, argv: list[bytes]) -> Any:
    return expire_generic(client, argv, client.server.now_ms, seconds=False)


def cmd_expireat(client: Client, argv: list[bytes]) -> Any:
    return expire_generic(client, argv, 0, seconds=True)


def cmd_pexpireat(client: Client, argv: list[bytes]) -> Any:
    return expire_generic(client, argv, 0, seconds=False)


def ttl_generic(client: Client, key: bytes, ms: bool, absolute: bool) -> int:
    if lookup_read(client, key) is None:
        return -2
    when = client.db.get_expire(key)
    if when is None:
        return -1
    value = max(0, when if absolute else when - client.server.now_ms)
    return value if ms else (value + 500) // 1000  # Redis rounds seconds to nearest


def cmd_ttl(client: Client, argv: list[bytes]) -> Any:
    return ttl_generic(client, argv[1], ms=False, absolute=False)


def cmd_pttl(client: Client, argv: list[bytes]) -> Any:
    return ttl_generic(client, argv[1], ms=True, absolute=False)


def cmd_expiretime(client: Client, argv: list[bytes]) -> Any:
    return ttl_generic(client, argv[1], ms=False, absolute=True)


def cmd_pexpiretime(client: Client, argv: list[bytes]) -> Any:
    return ttl_generic(client, argv[1], ms=True, absolute=True)


def cmd_persist(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    key = argv[1]
    if db.lookup(key) is None or not db.persist(key):
        return 0
    db.modified(key)
    notify(client, "persist", key)
    return 1


# -- KEYS, SCAN, RANDOMKEY -----------------------------------------------------------------------


def cmd_keys(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    pattern = argv[1]
    data = db.data
    if pattern == b"*":
        found = list(data)
    elif is_literal(pattern):
        found = [pattern] if pattern in data else []
    else:
        match = compile_glob(pattern)
        found = [key for key in data if match(key)]
    expires = db.expires
    if not expires:
        return found
    # Like Redis, KEYS leaves expired keys for lazy or active expiry and only hides them.
    now = client.server.now_ms
    return [key for key in found if expires.get(key, now) >= now]


def parse_cursor(arg: bytes) -> int:
    """strtoul as Redis uses it: optional sign (a '-' wraps around), digits only, no leading
    space, nothing after, at most 2**64 - 1; the empty string is cursor 0. Like strtoul on a C
    string it reads only up to the first NUL byte."""
    arg = arg.split(b"\x00", 1)[0]
    if arg[:1].isspace():
        raise CommandError(errors.INVALID_CURSOR)
    body = arg
    negative = False
    if body[:1] in (b"+", b"-"):
        negative = body[:1] == b"-"
        body = body[1:]
        if not body:
            raise CommandError(errors.INVALID_CURSOR)
    if not body:
        return 0
    if not body.isdigit():
        raise CommandError(errors.INVALID_CURSOR)
    body = body.lstrip(b"0") or b"0"
    if len(body) > 20:  # beyond 2**64 anyway (and int() refuses very long digit strings)
        raise CommandError(errors.INVALID_CURSOR)
    value = int(body)
    if value > ULLONG_MAX:
        raise CommandError(errors.INVALID_CURSOR)
    return (-value) & ULLONG_MAX if negative else value


def cmd_scan(client: Client, argv: list[bytes]) -> Any:
    cursor = parse_cursor(argv[1])
    count = 10
    pattern: bytes | None = None
    wanted_type: str | None = None
    i = 2
    n = len(argv)
    while i < n:
        opt = argv[i].upper()
        if i + 1 >= n:
            raise CommandError(errors.SYNTAX)
        if opt == b"COUNT":
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
        elif opt == b"MATCH":
            pattern = argv[i + 1]
        elif opt == b"TYPE":
            wanted_type = argv[i + 1].decode("utf-8", "replace").lower()
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    db = client.db
    data = db.data
    expires = db.expires
    now = client.server.now_ms
    match = compile_glob(pattern) if pattern is not None and pattern != b"*" else None

    def visit(key: bytes) -> bool:
        if match is not None and not match(key):
            return False
        if wanted_type is not None:
            # Redis reads the key for its type first: that expires it, counts a hit or a miss
            # and emits `keymiss` for a key that was past its time.
            value = lookup_read(client, key)
            return value is not None and type_name(value) == wanted_type
        when = expires.get(key)
        if when is not None and when < now:
            db.expire_key(key)
            return False
        return wanted_type is None or type_name(data[key]) == wanted_type

    next_cursor, keys = db.scans.scan(data, cursor, count, visit)
    return [b"%d" % next_cursor, keys]


def cmd_randomkey(client: Client, argv: list[bytes]) -> Any:
    return client.db.random_key()


# -- RENAME, RENAMENX, COPY, MOVE --------------------------------------------------------------------


def rename_generic(client: Client, argv: list[bytes], nx: bool) -> Any:
    db = client.db
    src, dst = argv[1], argv[2]
    value = db.lookup(src)
    if value is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    replaced = db.lookup(dst) is not None  # expires dst first if its time has passed
    if nx and replaced:
        return 0
    when = db.get_expire(src)
    db.set_value(dst, value)  # replaces any old value and TTL of dst
    if replaced:
        # Redis deletes the old dst and adds it anew, so even a replaced key is "new".
        client.server.notify_keyspace_event("n", "new", dst, db)
    if when is not None:
        db.set_expire(dst, when)
    db.delete(src)
    notify(client, "rename_from", src)
    notify(client, "rename_to", dst)
    return 1 if nx else OK


def cmd_rename(client: Client, argv: list[bytes]) -> Any:
    return rename_generic(client, argv, nx=False)


def cmd_renamenx(client: Client, argv: list[bytes]) -> Any:
    return rename_generic(client, argv, nx=True)


def cmd_copy(client: Client, argv: list[bytes]) -> Any:
    src_db = client.db
    dst_db = src_db
    replace = False
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].upper()
        if opt == b"REPLACE":
            replace = True
        elif opt == b"DB" and j + 1 < n:
            dst_db = db_at(client, parse_db_index(argv[j + 1]))
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    src, dst = argv[1], argv[2]
    if src_db is dst_db and src == dst:
        raise CommandError(errors.SAME_OBJECT)
    value = lookup_read(client, src)
    if value is None:
        return 0
    when = src_db.get_expire(src)
    replaced = dst_db.lookup(dst) is not None
    if replaced and not replace:
        return 0
    dst_db.set_value(dst, duplicate(value))
    if replaced:
        # As with RENAME: Redis deletes the old dst and adds it anew ("new" event).
        client.server.notify_keyspace_event("n", "new", dst, dst_db)
    if when is not None:
        dst_db.set_expire(dst, when)
    notify(client, "copy_to", dst, dst_db)
    return 1


def cmd_move(client: Client, argv: list[bytes]) -> Any:
    src_db = client.db
    dst_db = db_at(client, parse_db_index(argv[2]))
    if dst_db is src_db:
        raise CommandError(errors.SAME_OBJECT)
    key = argv[1]
    value = src_db.lookup(key)
    if value is None or dst_db.lookup(key) is not None:
        return 0
    when = src_db.get_expire(key)
    dst_db.set_value(key, value)
    if when is not None:
        dst_db.set_expire(key, when)
    src_db.delete(key)
    notify(client, "move_from", key, src_db)
    notify(client, "move_to", key, dst_db)
    return 1


# -- database-wide: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB ---------------------------------------------


def cmd_dbsize(client: Client, argv: list[bytes]) -> Any:
    # Like Redis, keys past their time that nobody has reclaimed yet still count.
    return len(client.db.data)


def flush_is_lazy(client: Client, argv: list[bytes]) -> bool:
    if len(argv) > 2:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        mode = argv[1].upper()
        if mode == b"ASYNC":
            return True
        if mode == b"SYNC":
            return False
        raise CommandError(errors.SYNTAX)
    return bool(client.server.config["lazyfree-lazy-user-flush"])


def cmd_flushdb(client: Client, argv: list[bytes]) -> Any:
    client.db.clear(lazy=flush_is_lazy(client, argv))
    return OK


def cmd_flushall(client: Client, argv: list[bytes]) -> Any:
    lazy = flush_is_lazy(client, argv)
    for db in client.server.dbs:
        db.clear(lazy=lazy)
    return OK


def cmd_swapdb(client: Client, argv: list[bytes]) -> Any:
    first = to_int(argv[1])
    if first is None or not INT_MIN <= first <= INT_MAX:
        raise CommandError(errors.INVALID_FIRST_DB_INDEX)
    second = to_int(argv[2])
    if second is None or not INT_MIN <= second <= INT_MAX:
        raise CommandError(errors.INVALID_SECOND_DB_INDEX)
    a = db_at(client, first)
    b = db_at(client, second)
    if a is not b:
        a.swap_with(b)
    return OK


# -- OBJECT ----------------------------------------------------------------------------------------


def object_encoding(value: Any) -> bytes:
    if isinstance(value, bytes):
        return string_encoding(value)
    encoding = getattr(value, "encoding", None)
    if encoding is not None:
        return encoding.encode() if isinstance(encoding, str) else bytes(encoding)
    return _ENCODING_BY_TYPE.get(type_name(value), b"raw")


def _policy(client: Client) -> str:
    return str(client.server.config["maxmemory-policy"])


def cmd_object_encoding(client: Client, argv: list[bytes]) -> Any:
    value = lookup_read(client, argv[2], notify_miss=False)
    return None if value is None else object_encoding(value)


def cmd_object_refcount(client: Client, argv: list[bytes]) -> Any:
    value = lookup_read(client, argv[2], notify_miss=False)
    if value is None:
        return None
    if isinstance(value, bytes) and string_encoding(value) == b"int":
        # Redis shares the objects for 0..9999 unless an LRU/LFU policy with a memory limit
        # needs per-object access data.
        number = int(value)
        config = client.server.config
        policy = _policy(client)
        shared_ok = config["maxmemory"] == 0 or not ("lru" in policy or "lfu" in policy)
        if 0 <= number < SHARED_INTEGERS and shared_ok:
            return SHARED_REFCOUNT
    return 1


def cmd_object_idletime(client: Client, argv: list[bytes]) -> Any:
    if lookup_read(client, argv[2], notify_miss=False) is None:
        return None
    if "lfu" in _policy(client):
        raise CommandError(errors.LFU_SELECTED)
    return 0  # access times are not tracked (see the module docstring)


def cmd_object_freq(client: Client, argv: list[bytes]) -> Any:
    if lookup_read(client, argv[2], notify_miss=False) is None:
        return None
    if "lfu" not in _policy(client):
        raise CommandError(errors.LFU_NOT_SELECTED)
    return LFU_INIT_VAL  # access frequency is not tracked (see the module docstring)


_OBJECT_HELP = [
    Status(line)
    for line in (
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the name of the internal representation that holds the value stored",
        "    at <key>.",
        "FREQ <key>",
        "    Return the logarithmic access-frequency counter of <key> (needs an LFU",
        "    maxmemory-policy).",
        "IDLETIME <key>",
        "    Return how many seconds have passed since <key> was last used (not",
        "    available under an LFU maxmemory-policy).",
        "REFCOUNT <key>",
        "    Return how many references point at the value stored at <key>.",
        "    Shared small integers report a very large count.",
        "HELP",
        "    Prints this help.",
    )
]


def cmd_object_help(client: Client, argv: list[bytes]) -> Any:
    return _OBJECT_HELP


# -- declarations --------------------------------------------------------------------------------

_G = "generic"
_S = "server"
_EXPIRE_CONDITION = "[condition= NX|XX|GT|LT]"
_MULTI_KEY_TIPS = "request_policy:multi_shard response_policy:agg_sum"


def _since(spec: Any, since: str, *path: str) -> Any:
    """Mark the argument at `path` (names, nested) as added in `since`, as COMMAND DOCS shows."""
    args = spec.arguments
    for name in path:
        arg = next(a for a in args if a["name"] == name)
        args = arg.get("arguments", [])
    arg["since"] = since
    return spec


def _object_sub(name: str, handler: Any, summary: str, since: str, differences: str = "") -> Any:
    return Cmd(
        f"object|{name}", 3, "readonly", handler, keys=(2, 2, 1), group=_G, since=since,
        summary=summary, args="key:key", tips="nondeterministic_output", key_flags="RO",
        differences=differences,
    )  # fmt: skip


COMMANDS = [
    Cmd(
        "del", -2, "write", cmd_del, keys=(1, -1, 1), group=_G, since="1.0.0",
        summary="Deletes one or more keys; returns how many existed.",
        complexity="O(N) where N is the number of keys removed; removing a key holding a "
        "collection of M elements is O(M).",
        args="key:key ...", tips=_MULTI_KEY_TIPS, key_flags="RM delete",
    ),
    Cmd(
        "unlink", -2, "write fast", cmd_unlink, keys=(1, -1, 1), group=_G, since="4.0.0",
        summary="Deletes one or more keys now and frees large values in the background.",
        complexity="O(1) for each key removed; freeing large values happens later, a slice "
        "at a time.",
        args="key:key ...", tips=_MULTI_KEY_TIPS, key_flags="RM delete",
    ),
    Cmd(
        "exists", -2, "readonly fast", cmd_exists, keys=(1, -1, 1), group=_G, since="1.0.0",
        summary="Counts how many of the given keys exist (a key named twice counts twice).",
        complexity="O(N) where N is the number of keys to check.",
        args="key:key ...", tips=_MULTI_KEY_TIPS, key_flags="RO",
    ),
    Cmd(
        "type", 2, "readonly fast", cmd_type, keys=(1, 1, 1), group=_G, since="1.0.0",
        summary="Returns the type of the value stored at a key, or none.",
        args="key:key", key_flags="RO",
    ),
    Cmd(
        "touch", -2, "readonly fast", cmd_touch, keys=(1, -1, 1), group=_G, since="3.2.1",
        summary="Marks keys as used and counts how many of them exist.",
        complexity="O(N) where N is the number of keys to touch.",
        args="key:key ...", tips=_MULTI_KEY_TIPS, key_flags="RO",
    ),
    _since(Cmd(
        "expire", -3, "write fast", cmd_expire, keys=(1, 1, 1), group=_G, since="1.0.0",
        summary="Sets a key's time to live in seconds.",
        args="key:key seconds:integer " + _EXPIRE_CONDITION,
    ), "7.0.0", "condition"),
    _since(Cmd(
        "pexpire", -3, "write fast", cmd_pexpire, keys=(1, 1, 1), group=_G, since="2.6.0",
        summary="Sets a key's time to live in milliseconds.",
        args="key:key milliseconds:integer " + _EXPIRE_CONDITION,
    ), "7.0.0", "condition"),
    _since(Cmd(
        "expireat", -3, "write fast", cmd_expireat, keys=(1, 1, 1), group=_G, since="1.2.0",
        summary="Sets the moment a key expires, as a Unix time in seconds.",
        args="key:key unix-time-seconds:unix-time " + _EXPIRE_CONDITION,
    ), "7.0.0", "condition"),
    _since(Cmd(
        "pexpireat", -3, "write fast", cmd_pexpireat, keys=(1, 1, 1), group=_G,
        since="2.6.0",
        summary="Sets the moment a key expires, as a Unix time in milliseconds.",
        args="key:key unix-time-milliseconds:unix-time " + _EXPIRE_CONDITION,
    ), "7.0.0", "condition"),
    Cmd(
        "ttl", 2, "readonly fast", cmd_ttl, keys=(1, 1, 1), group=_G, since="1.0.0",
        summary="Returns a key's remaining time to live in seconds.",
        args="key:key", tips="nondeterministic_output",
    ),
    Cmd(
        "pttl", 2, "readonly fast", cmd_pttl, keys=(1, 1, 1), group=_G, since="2.6.0",
        summary="Returns a key's remaining time to live in milliseconds.",
        args="key:key", tips="nondeterministic_output",
    ),
    Cmd(
        "expiretime", 2, "readonly fast", cmd_expiretime, keys=(1, 1, 1), group=_G,
        since="7.0.0",
        summary="Returns the Unix time in seconds at which a key expires.",
        args="key:key",
    ),
    Cmd(
        "pexpiretime", 2, "readonly fast", cmd_pexpiretime, keys=(1, 1, 1), group=_G,
        since="7.0.0",
        summary="Returns the Unix time in milliseconds at which a key expires.",
        args="key:key",
    ),
    Cmd(
        "persist", 2, "write fast", cmd_persist, keys=(1, 1, 1), group=_G, since="2.2.0",
        summary="Removes a key's expiration time, making it persistent.",
        args="key:key",
    ),
    Cmd(
        "keys", 2, "readonly", cmd_keys, group=_G, since="1.0.0",
        summary="Returns every key whose name matches a glob-style pattern.",
        complexity="O(N) with N the number of keys in the database (O(1) for a pattern "
        "without wildcards).",
        args="pattern:pattern", categories=("@dangerous",),
        tips="request_policy:all_shards nondeterministic_output_order",
    ),
    _since(Cmd(
        "scan", -2, "readonly", cmd_scan, group=_G, since="2.8.0",
        summary="Iterates over the keys of the database a few at a time with a cursor.",
        complexity="O(1) for every call. O(N) for a complete iteration, including enough "
        "command calls for the cursor to return back to 0. N is the number of elements "
        "inside the collection.",
        args="cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type:string]",
        tips="nondeterministic_output request_policy:special",
        differences='The first call of an iteration copies the key list (O(N) once per iteration); a cursor is below 2**63; a cursor whose copy was dropped (more than 16 iterations in flight) restarts at its position.',
    ), "6.0.0", "type"),
    Cmd(
        "randomkey", 1, "readonly", cmd_randomkey, group=_G, since="1.0.0",
        summary="Returns a key picked at random from the database.",
        complexity="O(N) in damselfly (O(1) in Redis): a random position in the key table "
        "is reached by skipping entries.",
        tips="request_policy:all_shards nondeterministic_output",
        differences='O(N) instead of O(1): the key is found by skipping to a random position of the key table.',
    ),
    Cmd(
        "rename", 3, "write", cmd_rename, keys=(1, 2, 1), group=_G, since="1.0.0",
        summary="Gives a key a new name, overwriting any key already under that name.",
        args="key:key newkey:key", key_flags=("RW access delete", "OW update"),
    ),
    Cmd(
        "renamenx", 3, "write fast", cmd_renamenx, keys=(1, 2, 1), group=_G, since="1.0.0",
        summary="Gives a key a new name only if no key has that name yet.",
        args="key:key newkey:key", key_flags=("RW access delete", "OW insert"),
    ),
    Cmd(
        "copy", -3, "write denyoom", cmd_copy, keys=(1, 2, 1), group=_G, since="6.2.0",
        summary="Copies the value (and time to live) of a key to another key.",
        complexity="O(N) worst case for collections, where N is the number of nested items. "
        "O(1) for string values.",
        args="source:key destination:key [DB destination-db:integer] [REPLACE]",
        key_flags=("RO access", "OW update"),
    ),
    Cmd(
        "move", 3, "write fast", cmd_move, keys=(1, 1, 1), group=_G, since="1.0.0",
        summary="Moves a key to another database.",
        args="key:key db:integer", key_flags="RW access update",
    ),
    Cmd(
        "dbsize", 1, "readonly fast", cmd_dbsize, group=_S, since="1.0.0",
        summary="Returns the number of keys in the selected database.",
        categories=("@keyspace",),
        tips="request_policy:all_shards response_policy:agg_sum",
    ),
    _since(_since(Cmd(
        "flushdb", -1, "write", cmd_flushdb, group=_S, since="1.0.0",
        summary="Removes every key from the selected database.",
        complexity="O(N) where N is the number of keys in the selected database",
        args="[async= ASYNC|SYNC]", categories=("@keyspace", "@dangerous"),
        tips="request_policy:all_shards response_policy:all_succeeded",
    ), "4.0.0", "async", "async"), "6.2.0", "async", "sync"),
    _since(_since(Cmd(
        "flushall", -1, "write", cmd_flushall, group=_S, since="1.0.0",
        summary="Removes every key from every database.",
        complexity="O(N) where N is the total number of keys in all databases",
        args="[async= ASYNC|SYNC]", categories=("@keyspace", "@dangerous"),
        tips="request_policy:all_shards response_policy:all_succeeded",
    ), "4.0.0", "async", "async"), "6.2.0", "async", "sync"),
    Cmd(
        "swapdb", 3, "write fast", cmd_swapdb, group=_S, since="4.0.0",
        summary="Exchanges the contents of two databases.",
        complexity="O(N) where N is the count of clients watching or blocking on keys from "
        "both databases.",
        args="index1:integer index2:integer", categories=("@keyspace", "@dangerous"),
    ),
    Cmd(
        "object", -2, "", None, group=_G, since="2.2.3",
        summary="A container for commands that inspect how a key's value is stored.",
        complexity="Depends on subcommand.",
        subcommands=[
            _object_sub(
                "encoding", cmd_object_encoding, since="2.2.3",
                summary="Returns the name of the internal representation of a key's value.",
            ),
            Cmd(
                "object|help", 2, "loading stale", cmd_object_help, group=_G, since="6.2.0",
                summary="Describes the OBJECT subcommands.",
            ),
            _object_sub(
                "freq", cmd_object_freq, since="4.0.0",
                summary="Returns the logarithmic access-frequency counter of a key.",
                differences="Access frequency is not tracked: 5 (a key not read since it was "
                "written) for every key.",
            ),
            _object_sub(
                "idletime", cmd_object_idletime, since="2.2.3",
                summary="Returns the seconds since a key was last used.",
                differences="Access times are not tracked: always 0.",
            ),
            _object_sub(
                "refcount", cmd_object_refcount, since="2.2.3",
                summary="Returns the reference count of a key's value.",
                differences="Whether small integers are shared is decided from the current "
                "maxmemory settings, not those in force when the value was written.",
            ),
        ],
    ),
]  # fmt: skip
