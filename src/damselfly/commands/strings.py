"""String commands: SET and its family, GET and its family, counters, ranges, LCS.

One generic core, `set_generic`, serves SET, SETNX, SETEX and PSETEX (as `setGenericCommand` does
in Redis); the thin commands only pass their differences in. Options are read into a small
`SetOptions` value first, then checked in Redis's order: the expire value, then GET's type check,
then the condition. Every command checks its errors in the order Redis does (an argument
that fails to parse usually wins over WRONGTYPE, but not always: see each handler), because
clients and test suites see the first error only.

The lock-oriented commands live here too, since Redis files them in the string group: SET's
compare-and-set conditions (IFEQ/IFNE on the value, IFDEQ/IFDNE on its digest) and DELEX
(compare-and-delete) from Redis 8.4, DIGEST (XXH3-64 of the value, 16 lower-case hex digits), and
Valkey 9's DELIFEQ. They let a lock be extended or released in one command instead of a script.

Values are stored as `bytes`. Redis also keeps an encoding per value, visible through OBJECT
ENCODING; `string_encoding` derives it from the value and its type: `RawString` marks values that
APPEND or SETRANGE rewrote in place (always `raw`), `FloatString` marks INCRBYFLOAT results (never
`int`, even when they spell an integer).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import xxhash

from damselfly import errors, longdouble
from damselfly.commands.args import LLONG_MAX, LLONG_MIN, to_int
from damselfly.commands.spec import Cmd, key_spec
from damselfly.errors import CommandError
from damselfly.keyspace.database import RawString
from damselfly.protocol.types import OK, Map
from damselfly.server.client import Client

# Expiry units and kinds, as parsed from SET/GETEX options.
EX, PX, EXAT, PXAT = 1, 2, 3, 4

_COMMAND_SET = 0
_COMMAND_GET = 1

# Redis keeps strings of up to this many bytes in one allocation with their header ("embstr").
_EMBSTR_LIMIT = 44


class FloatString(bytes):
    """An INCRBYFLOAT result: Redis stores it embstr/raw by length, never int-encoded."""

    __slots__ = ()


def string_encoding(value: bytes) -> bytes:
    """What OBJECT ENCODING reports for a string value: b"int", b"embstr" or b"raw"."""
    kind = type(value)
    if kind is RawString:
        return b"raw"
    size = len(value)
    if size <= 20 and kind is not FloatString and to_int(value) is not None:
        return b"int"
    return b"embstr" if size <= _EMBSTR_LIMIT else b"raw"


# Compare-and-set conditions of SET and DELEX (Redis 8.4): on the value or on its digest.
IFEQ, IFNE, IFDEQ, IFDNE = 1, 2, 3, 4
_CONDITIONS = {b"IFEQ": IFEQ, b"IFNE": IFNE, b"IFDEQ": IFDEQ, b"IFDNE": IFDNE}
# Digests are XXH3-64 in hex: 16 digits, leading zeros kept.
DIGEST_HEX_LENGTH = 16


class SetOptions:
    __slots__ = (
        "cond",
        "cond_arg",
        "expire_arg",
        "expire_kind",
        "get",
        "keepttl",
        "nx",
        "persist",
        "xx",
    )

    def __init__(self) -> None:
        self.nx = False
        self.xx = False
        self.cond = 0  # one of IFEQ..IFDNE, or 0
        self.cond_arg = b""
        self.get = False
        self.keepttl = False
        self.persist = False
        self.expire_kind = 0
        self.expire_arg: bytes | None = None


_EXPIRE_OPTIONS = {b"EX": EX, b"PX": PX, b"EXAT": EXAT, b"PXAT": PXAT}


def value_digest(value: bytes) -> bytes:
    """DIGEST of a string value: XXH3-64 (seed 0) as 16 lower-case hex digits."""
    return xxhash.xxh3_64_hexdigest(value).encode()


def condition_holds(cond: int, arg: bytes, current: Any) -> bool:
    """Whether a SET/DELEX condition lets the write happen, `current` being the live value
    (WRONGTYPE if it is not a string).

    A missing key satisfies only the negative conditions (IFNE/IFDNE create it, IFEQ/IFDEQ do
    not), and is decided before the digest argument is looked at, as in Redis. Digests compare
    without regard to case; Redis checks only their length, so 16 non-hex characters are a
    valid argument that matches nothing.
    """
    if current is None:
        return cond in (IFNE, IFDNE)
    if not isinstance(current, bytes):
        raise CommandError(errors.WRONGTYPE)
    if cond <= IFNE:
        return (current == arg) == (cond == IFEQ)
    if len(arg) != DIGEST_HEX_LENGTH:
        raise CommandError(errors.DIGEST_LENGTH)
    return (value_digest(current) == arg.lower()) == (cond == IFDEQ)


def option_word(arg: bytes) -> bytes:
    """An option as Redis compares it: as a C string (cut at the first NUL), upper-cased.

    Redis matches option names with strcasecmp and character tests on the NUL-terminated
    argument, so "NX\\0junk" is NX to it; doing the same keeps replies identical.
    """
    nul = arg.find(0)
    return (arg if nul < 0 else arg[:nul]).upper()


def parse_set_options(argv: list[bytes], start: int, command_type: int) -> SetOptions:
    """Redis's parseExtendedStringArgumentsOrReply: repeated options allowed, conflicts rejected.

    Only the option names are checked here; the expire value itself is validated later (after
    GET's type check for SET, after the key lookup for GETEX), and only the last one given.
    """
    opts = SetOptions()
    is_set = command_type == _COMMAND_SET
    j = start
    n = len(argv)
    while j < n:
        opt = option_word(argv[j])
        kind = opts.expire_kind
        # NX, XX and the four IF* conditions exclude each other, in either order.
        if opt == b"NX" and not opts.xx and not opts.cond and is_set:
            opts.nx = True
        elif opt == b"XX" and not opts.nx and not opts.cond and is_set:
            opts.xx = True
        elif opt in _CONDITIONS and is_set and not (opts.nx or opts.xx or opts.cond) and j + 1 < n:
            opts.cond = _CONDITIONS[opt]
            opts.cond_arg = argv[j + 1]
            j += 1
        elif opt == b"GET" and is_set:
            opts.get = True
        elif opt == b"KEEPTTL" and not opts.persist and not kind and is_set:
            opts.keepttl = True
        elif opt == b"PERSIST" and not is_set and not kind and not opts.keepttl:
            opts.persist = True
        elif (
            opt in _EXPIRE_OPTIONS
            and not opts.keepttl
            and not opts.persist
            and kind in (0, _EXPIRE_OPTIONS[opt])
            and j + 1 < n
        ):
            opts.expire_kind = _EXPIRE_OPTIONS[opt]
            opts.expire_arg = argv[j + 1]
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    return opts


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
    value = client.db.lookup_read(key)
    if value is None:
        return None
    if not isinstance(value, bytes):
        raise CommandError(errors.WRONGTYPE)
    return value


def write_lookup(client: Client, key: bytes) -> bytes | None:
    """The string at `key` for a command about to modify it (no hit/miss counting); WRONGTYPE."""
    value = client.db.lookup(key)
    if value is not None and not isinstance(value, bytes):
        raise CommandError(errors.WRONGTYPE)
    return value


def max_string_size(client: Client) -> int:
    return int(client.server.config["proto-max-bulk-len"])


# -- SET and GET families ------------------------------------------------------------------------


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
    current = db.lookup(key)
    if opts.cond:
        # With GET the reply is the old value whether or not the condition held.
        if not condition_holds(opts.cond, opts.cond_arg, current):
            return old if opts.get else abort_reply
    elif (opts.nx and current is not None) or (opts.xx and current is None):
        return old if opts.get else abort_reply
    db.set_value(key, value, keep_ttl=opts.keepttl)
    client.server.notify_keyspace_event("$", "set", key, db)
    if when:
        # A time already in the past is stored as is: the key then expires on its next access,
        # as in Redis 7.0 (counted in expired_keys, "expired" event).
        db.set_expire(key, when)
        client.server.notify_keyspace_event("g", "expire", key, db)
    return old if opts.get else ok_reply


# A plain SET has no options: one shared, never-modified SetOptions saves parsing on the hot path.
_NO_OPTIONS = SetOptions()


def cmd_set(client: Client, argv: list[bytes]) -> Any:
    opts = _NO_OPTIONS if len(argv) == 3 else parse_set_options(argv, 3, _COMMAND_SET)
    return set_generic(client, argv[1], argv[2], opts, "set")


def set_getkeys(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
    """COMMAND GETKEYS for SET: the value is read (RW access) with GET or an IF* condition."""
    if any(option_word(arg) == b"GET" or option_word(arg) in _CONDITIONS for arg in argv[3:]):
        return [(1, ("RW", "access", "update"))]
    return [(1, ("OW", "update"))]


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


# -- compare-and-delete and digests (locks) -----------------------------------------------------


def cmd_digest(client: Client, argv: list[bytes]) -> Any:
    value = read_string(client, argv[1])
    return None if value is None else value_digest(value)


def cmd_delex(client: Client, argv: list[bytes]) -> Any:
    """DELEX key [IFEQ v|IFNE v|IFDEQ d|IFDNE d]: 1 if the key was deleted, else 0.

    Checked in Redis's order: the argument count (only 2 or 4 fit), then the key (a missing
    key answers 0 whatever the condition says, even an unknown one), then its type, then the
    condition's name, then the digest's length. Without a condition it is DEL of one key, of
    any type.
    """
    if len(argv) not in (2, 4):
        raise CommandError(errors.WRONG_ARGS.format("delex"))
    key = argv[1]
    db = client.db
    if len(argv) == 2:
        current = db.lookup(key)
    else:
        current = db.lookup_read(key)
        if current is None:
            return 0
        if not isinstance(current, bytes):
            raise CommandError(errors.DELEX_NOT_STRING)
        cond = _CONDITIONS.get(option_word(argv[2]))
        if cond is None:
            raise CommandError(errors.DELEX_BAD_CONDITION)
        if not condition_holds(cond, argv[3], current):
            return 0
    if current is None:
        return 0
    db.delete(key)
    client.server.notify_keyspace_event("g", "del", key, db)
    return 1


def cmd_delifeq(client: Client, argv: list[bytes]) -> Any:
    """Valkey 9's DELIFEQ key value: delete the key only while it holds exactly `value`."""
    key = argv[1]
    current = write_lookup(client, key)
    if current is None or current != argv[2]:
        return 0
    db = client.db
    db.delete(key)
    client.server.notify_keyspace_event("g", "del", key, db)
    return 1


def delex_getkeys(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
    """COMMAND GETKEYS for DELEX: a condition reads the value before deleting it."""
    if len(argv) > 2:
        return [(1, ("RW", "access", "delete"))]
    return [(1, ("RM", "delete"))]


# -- many keys at once ---------------------------------------------------------------------------


def cmd_mget(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    server = client.server
    reply: list[bytes | None] = []
    for key in argv[1:]:
        value = db.lookup(key)
        if value is None:
            server.stat_keyspace_misses += 1
            server.notify_keyspace_event("m", "keymiss", key, db)
            reply.append(None)
        else:
            # A key of another type is a hit that reads as nil, not an error.
            server.stat_keyspace_hits += 1
            reply.append(value if isinstance(value, bytes) else None)
    return reply


def mset_generic(client: Client, argv: list[bytes], only_new: bool) -> Any:
    if len(argv) % 2 == 0:
        raise CommandError(errors.WRONG_ARGS.format(argv[0].decode("utf-8", "replace").lower()))
    db = client.db
    if only_new:
        for j in range(1, len(argv), 2):
            if db.lookup(argv[j]) is not None:
                return 0
    notify = client.server.notify_keyspace_event
    for j in range(1, len(argv), 2):
        db.set_value(argv[j], argv[j + 1])
        notify("$", "set", argv[j], db)
    return 1 if only_new else OK


def cmd_mset(client: Client, argv: list[bytes]) -> Any:
    return mset_generic(client, argv, False)


def cmd_msetnx(client: Client, argv: list[bytes]) -> Any:
    return mset_generic(client, argv, True)


# -- lengths and ranges --------------------------------------------------------------------------


def cmd_append(client: Client, argv: list[bytes]) -> Any:
    key, tail = argv[1], argv[2]
    db = client.db
    old = write_lookup(client, key)
    if old is None:
        value: bytes = tail
        db.set_value(key, value)
    else:
        if len(old) + len(tail) > max_string_size(client):
            raise CommandError(errors.STRING_TOO_LONG)
        # bytes are immutable, so this copies the string: O(N) where Redis grows its buffer.
        value = RawString(old + tail)
        db.update_value(key, value)
    client.server.notify_keyspace_event("$", "append", key, db)
    return len(value)


def cmd_strlen(client: Client, argv: list[bytes]) -> Any:
    value = read_string(client, argv[1])
    return 0 if value is None else len(value)


def cmd_getrange(client: Client, argv: list[bytes]) -> Any:
    start = to_int(argv[2])
    end = to_int(argv[3])
    if start is None or end is None:
        raise CommandError(errors.NOT_INTEGER)
    value = read_string(client, argv[1])
    if value is None:
        return b""
    size = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = max(0, size + start)
    if end < 0:
        end = max(0, size + end)
    end = min(end, size - 1)
    if start > end or size == 0:
        return b""
    return value[start : end + 1]


def cmd_setrange(client: Client, argv: list[bytes]) -> Any:
    key, patch = argv[1], argv[3]
    db = client.db
    # The key is looked up first, so an expired key is removed even when the offset is bad;
    # the offset is checked before the type.
    old = db.lookup(key)
    offset = to_int(argv[2])
    if offset is None:
        raise CommandError(errors.NOT_INTEGER)
    if offset < 0:
        raise CommandError(errors.OFFSET_OUT_OF_RANGE)
    if old is None:
        if not patch:
            return 0
        if offset + len(patch) > max_string_size(client):
            raise CommandError(errors.STRING_TOO_LONG)
        value = RawString(bytes(offset) + patch)
        db.set_value(key, value)
    else:
        if not isinstance(old, bytes):
            raise CommandError(errors.WRONGTYPE)
        if not patch:
            return len(old)
        if offset + len(patch) > max_string_size(client):
            raise CommandError(errors.STRING_TOO_LONG)
        if offset > len(old):
            old += bytes(offset - len(old))
        value = RawString(old[:offset] + patch + old[offset + len(patch) :])
        db.update_value(key, value)
    client.server.notify_keyspace_event("$", "setrange", key, db)
    return len(value)


# -- counters ------------------------------------------------------------------------------------


def incr_decr(client: Client, key: bytes, delta: int) -> int:
    old = write_lookup(client, key)
    if old is None:
        current = 0
    else:
        parsed = to_int(old)
        if parsed is None:
            raise CommandError(errors.NOT_INTEGER)
        current = parsed
    result = current + delta
    if result > LLONG_MAX or result < LLONG_MIN:
        raise CommandError(errors.OVERFLOW)
    db = client.db
    text = b"%d" % result
    if old is None:
        db.set_value(key, text)
    else:
        db.update_value(key, text)
    client.server.notify_keyspace_event("$", "incrby", key, db)
    return result


def cmd_incr(client: Client, argv: list[bytes]) -> Any:
    return incr_decr(client, argv[1], 1)


def cmd_decr(client: Client, argv: list[bytes]) -> Any:
    return incr_decr(client, argv[1], -1)


def cmd_incrby(client: Client, argv: list[bytes]) -> Any:
    delta = to_int(argv[2])
    if delta is None:
        raise CommandError(errors.NOT_INTEGER)
    return incr_decr(client, argv[1], delta)


def cmd_decrby(client: Client, argv: list[bytes]) -> Any:
    delta = to_int(argv[2])
    if delta is None:
        raise CommandError(errors.NOT_INTEGER)
    if delta == LLONG_MIN:  # its negation does not fit in 64 bits
        raise CommandError(errors.DECREMENT_OVERFLOW)
    return incr_decr(client, argv[1], -delta)


def cmd_incrbyfloat(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    old = write_lookup(client, key)
    current = longdouble.parse(old) if old is not None else Fraction(0)
    increment = longdouble.parse(argv[2]) if current is not None else None
    if current is None or increment is None:
        raise CommandError(errors.NOT_FLOAT)
    total = longdouble.add(current, increment)
    if isinstance(total, float):  # inf or nan: nothing finite to store
        raise CommandError(errors.INCR_FLOAT_NAN)
    text = FloatString(longdouble.format_human(total))
    db = client.db
    if old is None:
        db.set_value(key, text)
    else:
        db.update_value(key, text)
    client.server.notify_keyspace_event("$", "incrbyfloat", key, db)
    return text


# -- LCS -----------------------------------------------------------------------------------------


class LcsTable:
    """LCS lengths of all prefix pairs of `a` and `b`, in bits rather than a table of integers.

    Redis fills an (len(a)+1) x (len(b)+1) table of uint32; in Python that is far too slow, so
    rows come from the bit-parallel recurrence of Allison-Dix/Hyyro instead: row r describes
    the shorter string's first r bytes against every prefix of the longer one, with bit c clear
    exactly where the LCS grows from column c to c+1. A row costs a few big-integer operations,
    and LCS(r, c) is c minus the set bits below c. `lcs(i, j)` answers in Redis's coordinates
    (i bytes of a, j bytes of b) whichever string the rows run over.
    """

    __slots__ = ("rows", "swapped", "width")

    def __init__(self, a: bytes, b: bytes) -> None:
        self.swapped = len(a) > len(b)
        short, long_ = (b, a) if self.swapped else (a, b)
        self.width = len(long_)
        full = (1 << self.width) - 1
        masks: dict[int, int] = {}
        reversed_long = long_[::-1]
        for byte in set(short):
            # Bit c of the mask is set where long_[c] == byte: the text is spelled in binary,
            # reversed so that long_[0] is the least significant bit (int(..., 2) is linear).
            table = bytearray(b"0" * 256)
            table[byte] = 0x31
            masks[byte] = int(reversed_long.translate(table), 2)
        row = full
        rows = [row]
        for byte in short:
            matched = row & masks[byte]
            row = ((row + matched) | (row - matched)) & full
            rows.append(row)
        self.rows = rows

    def length(self) -> int:
        return self.width - self.rows[-1].bit_count()

    def row_prefix(self, r: int, c: int) -> int:
        """LCS of the shorter string's first r bytes and the longer one's first c bytes."""
        return c - (self.rows[r] & ((1 << c) - 1)).bit_count()

    def row_bits(self, r: int) -> bytes:
        """Row r as little-endian bytes, for O(1) bit tests while walking along it."""
        return self.rows[r].to_bytes((self.width + 8) // 8, "little")


def _grows(bits: bytes, c: int) -> int:
    """1 if the LCS grows from column c-1 to c in this row (its bit c-1 is clear), else 0."""
    return 1 - ((bits[(c - 1) >> 3] >> ((c - 1) & 7)) & 1)


def lcs_walk(a: bytes, b: bytes, table: LcsTable) -> tuple[bytes, list[tuple[int, int, int, int]]]:
    """The LCS string and its matching ranges, found exactly as Redis walks its table.

    From (len(a), len(b)) backwards: equal bytes are taken diagonally; otherwise the walk moves
    up (i-1) when LCS(i-1, j) > LCS(i, j-1) and left (j-1) on ties. Consecutive diagonal steps
    form one range, reported (a_start, a_end, b_start, b_end) from the end of the strings, and
    a range closes at the first non-matching step or at the start of either string. The walk
    stops once no common byte is left (LCS(i, j) == 0), which changes nothing in the output.
    """
    i, j = len(a), len(b)
    swapped = table.swapped
    # In row/column terms: r indexes the shorter string (rows), c the longer one.
    r, c = (j, i) if swapped else (i, j)
    cur = table.length()
    out = bytearray(cur)
    ranges: list[tuple[int, int, int, int]] = []
    if cur == 0:
        return b"", ranges
    row = table.row_bits(r)
    above = table.row_bits(r - 1)
    above_len = table.row_prefix(r - 1, c)  # LCS(r-1, c)
    open_range = False
    a_start = a_end = b_start = b_end = 0
    while True:
        if a[i - 1] == b[j - 1]:
            out[cur - 1] = a[i - 1]
            if not open_range:
                open_range = True
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            else:
                a_start -= 1
                b_start -= 1
            i -= 1
            j -= 1
            r -= 1
            c -= 1
            cur -= 1
            if a_start == 0 or b_start == 0 or cur == 0:
                # The walk ends here (at the start of a string, or with nothing left to match).
                ranges.append((a_start, a_end, b_start, b_end))
                break
            row = above
            above = table.row_bits(r - 1)
            above_len = table.row_prefix(r - 1, c)
            continue
        # LCS(r, c-1) and LCS(r-1, c), translated to Redis's "up" (i-1) and "left" (j-1).
        along = cur - _grows(row, c)
        if swapped:
            up, left = along, above_len
        else:
            up, left = above_len, along
        if up > left:
            move_row = not swapped
            cur = up
        else:
            move_row = swapped
            cur = left
        if move_row:
            r -= 1
            if swapped:
                j -= 1
            else:
                i -= 1
            row = above
            above = table.row_bits(r - 1) if r > 0 else b""
            above_len = table.row_prefix(r - 1, c) if r > 0 else 0
        else:
            above_len -= _grows(above, c)
            c -= 1
            if swapped:
                i -= 1
            else:
                j -= 1
        if open_range:
            ranges.append((a_start, a_end, b_start, b_end))
            open_range = False
        if cur == 0 or i == 0 or j == 0:
            break
    return bytes(out), ranges


def cmd_lcs(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    server = client.server
    values: list[Any] = []
    for key in argv[1:3]:
        value = db.lookup(key)
        if value is None:
            server.stat_keyspace_misses += 1
            server.notify_keyspace_event("m", "keymiss", key, db)
        else:
            server.stat_keyspace_hits += 1
        values.append(value)
    if any(v is not None and not isinstance(v, bytes) for v in values):
        raise CommandError(errors.LCS_NOT_STRINGS)
    a: bytes = values[0] or b""
    b: bytes = values[1] or b""
    get_len = get_idx = with_len = False
    min_len = 0
    j = 3
    while j < len(argv):
        opt = option_word(argv[j])
        if opt == b"IDX":
            get_idx = True
        elif opt == b"LEN":
            get_len = True
        elif opt == b"WITHMATCHLEN":
            with_len = True
        elif opt == b"MINMATCHLEN" and j + 1 < len(argv):
            parsed = to_int(argv[j + 1])
            if parsed is None:
                raise CommandError(errors.NOT_INTEGER)
            min_len = max(0, parsed)
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if get_idx and get_len:
        raise CommandError(errors.LCS_IDX_AND_LEN)
    if len(a) >= 2**32 - 2 or len(b) >= 2**32 - 2:
        raise CommandError(errors.LCS_TOO_LONG)
    # Redis refuses a table of uint32 bigger than proto-max-bulk-len; same limit, same error.
    if (len(a) + 1) * (len(b) + 1) * 4 > max_string_size(client):
        raise CommandError(errors.LCS_TABLE_TOO_BIG)
    table = LcsTable(a, b)
    if get_len and not get_idx:
        return table.length()
    common, ranges = lcs_walk(a, b, table)
    if not get_idx:
        return common
    matches: list[list[Any]] = []
    for a_start, a_end, b_start, b_end in ranges:
        size = a_end - a_start + 1
        if min_len and size < min_len:
            continue
        match: list[Any] = [[a_start, a_end], [b_start, b_end]]
        if with_len:
            match.append(size)
        matches.append(match)
    return Map([(b"matches", matches), (b"len", table.length())])


# -- declarations --------------------------------------------------------------------------------

_S = "string"
_EXPIRATION = (
    "[expiration= EX seconds:integer|PX milliseconds:integer|EXAT unix-time-seconds:unix-time"
    "|PXAT unix-time-milliseconds:unix-time"
)
# Redis 8.4's compare-and-set conditions, shared by SET and DELEX.
_IF_CONDITIONS = (
    "IFEQ ifeq-value:string|IFNE ifne-value:string|IFDEQ ifdeq-digest:string"
    "|IFDNE ifdne-digest:string"
)
_RANGE_COMPLEXITY = (
    "O(N) where N is the length of the returned string; cutting a small part out of a long "
    "string costs little."
)

COMMANDS = [
    Cmd(
        "set", -3, "write denyoom", cmd_set, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Stores a string at a key, replacing any value of any type, with optional "
        "conditions and expiry.",
        args="key:key value:string [condition= NX|XX|" + _IF_CONDITIONS + "] [GET] "
        + _EXPIRATION + "|KEEPTTL]",
        key_specs=(
            key_spec(
                "RW access update variable_flags", index=1,
                notes="RW and ACCESS due to the optional `GET` argument",
            ),
        ),
        getkeys=set_getkeys,
    ),
    Cmd(
        "setnx", 3, "write denyoom fast", cmd_setnx, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Stores a string at a key only if the key does not exist yet.",
        args="key:key value:string", key_flags="OW insert",
    ),
    Cmd(
        "setex", 4, "write denyoom", cmd_setex, keys=(1, 1, 1), group=_S, since="2.0.0",
        summary="Stores a string at a key with a time to live in seconds.",
        args="key:key seconds:integer value:string", key_flags="OW update",
    ),
    Cmd(
        "psetex", 4, "write denyoom", cmd_psetex, keys=(1, 1, 1), group=_S, since="2.6.0",
        summary="Stores a string at a key with a time to live in milliseconds.",
        args="key:key milliseconds:integer value:string", key_flags="OW update",
    ),
    Cmd(
        "get", 2, "readonly fast", cmd_get, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Reads the string stored at a key.",
        args="key:key",
    ),
    Cmd(
        "getset", 3, "write denyoom fast", cmd_getset, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Stores a new string at a key and answers the string it held before.",
        args="key:key value:string", doc_flags=("deprecated",), key_flags="RW access update",
        deprecated_since="6.2.0", replaced_by="`SET` with the `!GET` argument",
    ),
    Cmd(
        "getdel", 2, "write fast", cmd_getdel, keys=(1, 1, 1), group=_S, since="6.2.0",
        summary="Reads the string stored at a key and removes the key.",
        args="key:key", key_flags="RW access delete",
    ),
    Cmd(
        "getex", -2, "write fast", cmd_getex, keys=(1, 1, 1), group=_S, since="6.2.0",
        summary="Reads the string stored at a key and changes or removes its time to live.",
        args="key:key " + _EXPIRATION + "|PERSIST]",
        key_specs=(
            key_spec(
                "RW access update", index=1, notes="RW and UPDATE because it changes the TTL"
            ),
        ),
    ),
    Cmd(
        "mget", -2, "readonly fast", cmd_mget, keys=(1, -1, 1), group=_S, since="1.0.0",
        complexity="O(N) where N is the number of keys read.",
        summary="Reads the strings stored at several keys in one call.",
        args="key:key ...", tips="request_policy:multi_shard",
    ),
    Cmd(
        "mset", -3, "write denyoom", cmd_mset, keys=(1, -1, 2), group=_S, since="1.0.1",
        complexity="O(N) where N is the number of keys written.",
        summary="Stores strings at several keys in one atomic call.",
        args="(key_value= key:key value:string) ...", key_flags="OW update",
        tips="request_policy:multi_shard response_policy:all_succeeded",
    ),
    Cmd(
        "msetnx", -3, "write denyoom", cmd_msetnx, keys=(1, -1, 2), group=_S, since="1.0.1",
        complexity="O(N) where N is the number of keys written.",
        summary="Stores strings at several keys, all or nothing, only if none of them exists.",
        args="(key_value= key:key value:string) ...", key_flags="OW insert",
        tips="request_policy:multi_shard response_policy:agg_min",
    ),
    Cmd(
        "append", 3, "write denyoom fast", cmd_append, keys=(1, 1, 1), group=_S, since="2.0.0",
        complexity="O(1) amortized in Redis; damselfly copies the string, O(N) in its length.",
        summary="Adds bytes to the end of the string at a key, creating it if needed.",
        args="key:key value:string", key_flags="RW insert",
    ),
    Cmd(
        "strlen", 2, "readonly fast", cmd_strlen, keys=(1, 1, 1), group=_S, since="2.2.0",
        summary="Answers the length in bytes of the string stored at a key.",
        args="key:key", key_flags="RO",
    ),
    Cmd(
        "getrange", 4, "readonly", cmd_getrange, keys=(1, 1, 1), group=_S, since="2.4.0",
        complexity=_RANGE_COMPLEXITY,
        summary="Reads the bytes between two offsets (inclusive) of the string at a key.",
        args="key:key start:integer end:integer",
    ),
    Cmd(
        "substr", 4, "readonly", cmd_getrange, keys=(1, 1, 1), group=_S, since="1.0.0",
        complexity=_RANGE_COMPLEXITY,
        summary="Reads the bytes between two offsets (inclusive) of the string at a key.",
        args="key:key start:integer end:integer", doc_flags=("deprecated",),
        deprecated_since="2.0.0", replaced_by="`GETRANGE`",
    ),
    Cmd(
        "setrange", 4, "write denyoom", cmd_setrange, keys=(1, 1, 1), group=_S, since="2.2.0",
        complexity="O(M) where M is the length of the string after the write (Python copies "
        "it); O(1) plus the copy of the new bytes in Redis.",
        summary="Overwrites the string at a key from an offset on, padding with zero bytes.",
        args="key:key offset:integer value:string",
    ),
    Cmd(
        "incr", 2, "write denyoom fast", cmd_incr, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Adds one to the integer stored at a key (a missing key counts as 0).",
        args="key:key", key_flags="RW access update",
    ),
    Cmd(
        "decr", 2, "write denyoom fast", cmd_decr, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Subtracts one from the integer stored at a key (a missing key counts as 0).",
        args="key:key", key_flags="RW access update",
    ),
    Cmd(
        "incrby", 3, "write denyoom fast", cmd_incrby, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Adds an integer to the integer stored at a key (a missing key counts as 0).",
        args="key:key increment:integer", key_flags="RW access update",
    ),
    Cmd(
        "decrby", 3, "write denyoom fast", cmd_decrby, keys=(1, 1, 1), group=_S, since="1.0.0",
        summary="Subtracts an integer from the integer stored at a key (missing counts as 0).",
        args="key:key decrement:integer", key_flags="RW access update",
    ),
    Cmd(
        "incrbyfloat", 3, "write denyoom fast", cmd_incrbyfloat, keys=(1, 1, 1), group=_S,
        since="2.6.0",
        summary="Adds a floating point number to the number stored at a key, in long double "
        "precision.",
        args="key:key increment:double", key_flags="RW access update",
    ),
    Cmd(
        "lcs", -3, "readonly", cmd_lcs, keys=(1, 2, 1), group=_S, since="7.0.0",
        complexity="O(N*M) where N and M are the lengths of the two strings.",
        summary="Finds the longest common subsequence of the strings at two keys, or its "
        "length, or where its pieces are.",
        args="key1:key key2:key [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]",
    ),
    Cmd(
        "digest", 2, "readonly fast", cmd_digest, keys=(1, 1, 1), group=_S, since="8.4.0",
        complexity="O(N) where N is the length of the string value.",
        summary="Answers the XXH3 hash digest of the string at a key, as 16 hex digits.",
        args="key:key",
    ),
    Cmd(
        "delex", -2, "write fast", cmd_delex, keys=(1, 1, 1), group=_S, since="8.4.0",
        complexity="O(1) for IFEQ/IFNE, O(N) for IFDEQ/IFDNE where N is the length of the "
        "string value.",
        summary="Removes a key, optionally only if its value or the digest of its value "
        "matches a condition.",
        args="key:key [condition= " + _IF_CONDITIONS + "]",
        key_specs=(key_spec("RW delete variable_flags", index=1),),
        getkeys=delex_getkeys,
    ),
    Cmd(
        "delifeq", 3, "write fast", cmd_delifeq, keys=(1, 1, 1), group=_S, since="9.0.0",
        summary="Removes a key only if it holds exactly the given string (Valkey 9).",
        args="key:key value:string", key_flags="RM access delete",
    ),
]  # fmt: skip
