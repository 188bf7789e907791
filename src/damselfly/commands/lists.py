"""List commands: pushes, pops, ranges, moves, and the blocking pops built on the same cores.

A list value is a `ListValue` (a deque): O(1) at both ends, which is where locks and queues work.
A list never exists empty: every command that removes the last element deletes the key (and
emits `del`), exactly like Redis. The pop and move cores (`pop_elements`, `move_element`) are
shared by the plain commands and their blocking forms. A blocked client waits in
server/blocking.py; when one of its keys is written, its retry runs the same core against that
key alone, as Redis 7.0 serves a waiter from the key that became ready (not from the first of
its keys that has data), and leaves it blocked while the key holds another type.
The server's dirty counter (changes since the last save) moves by what Redis counts: one per
element pushed, popped, trimmed or removed, one per LSET/LINSERT/LMOVE, nothing for a waiter
served by BLPOP or BLMOVE (Redis propagates those separately).
Arguments are checked in Redis's order, which differs per command (LINDEX and LSET look the key
up before parsing the index, LRANGE after), because clients see which error comes first.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from fractions import Fraction
from itertools import islice
from typing import Any

from damselfly import errors, longdouble
from damselfly.commands.args import LLONG_MAX, LLONG_MIN, parse_int, to_int
from damselfly.commands.spec import Cmd, key_spec
from damselfly.errors import CommandError
from damselfly.keyspace.database import Database
from damselfly.protocol.types import NO_REPLY, NULL_ARRAY, OK, ErrorReply
from damselfly.server.blocking import NOT_READY
from damselfly.server.client import Client


class ListValue(deque[bytes]):
    __slots__ = ()
    redis_type = "list"


LEFT, RIGHT = 0, 1
_WHERE = {b"LEFT": LEFT, b"RIGHT": RIGHT}

INDEX_OUT_OF_RANGE = "ERR index out of range"
COUNT_MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
RANK_ZERO = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
    "negative to start from the end of the list"
)
LPOS_COUNT_NEGATIVE = "ERR COUNT can't be negative"
LPOS_MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"
NUMKEYS_NOT_POSITIVE = "ERR numkeys should be greater than 0"
MPOP_COUNT_NOT_POSITIVE = "ERR count should be greater than 0"


def get_list(db: Database, key: bytes) -> ListValue | None:
    """The list at `key` for a command that writes it; WRONGTYPE for another type."""
    return _checked(db.lookup(key))


def read_list(db: Database, key: bytes) -> ListValue | None:
    """The list at `key` for a read command (hits, misses and keymiss counted like Redis)."""
    return _checked(db.lookup_read(key))


def _checked(value: Any) -> ListValue | None:
    if value is not None and type(value) is not ListValue:
        raise CommandError(errors.WRONGTYPE)
    return value


def parse_where(arg: bytes) -> int:
    where = _WHERE.get(arg.upper())
    if where is None:
        raise CommandError(errors.SYNTAX)
    return where


def new_list(db: Database, key: bytes) -> ListValue:
    """Create an empty list under `key` (the caller fills it before the command ends)."""
    lst = ListValue()
    db.set_value(key, lst)  # emits `new` like Redis's dbAdd
    return lst


def push_generic(client: Client, argv: list[bytes], where: int, only_existing: bool) -> int:
    db = client.db
    key = argv[1]
    lst = get_list(db, key)
    dirty = client.server.dirty
    if lst is None:
        if only_existing:
            return 0
        lst = new_list(db, key)
    if where == LEFT:
        lst.extendleft(argv[2:])
    else:
        lst.extend(argv[2:])
    db.modified(key)
    client.server.dirty = dirty + len(argv) - 2
    client.server.notify_keyspace_event("l", "lpush" if where == LEFT else "rpush", key, db)
    return len(lst)


def cmd_lpush(client: Client, argv: list[bytes]) -> Any:
    return push_generic(client, argv, LEFT, False)


def cmd_rpush(client: Client, argv: list[bytes]) -> Any:
    return push_generic(client, argv, RIGHT, False)


def cmd_lpushx(client: Client, argv: list[bytes]) -> Any:
    return push_generic(client, argv, LEFT, True)


def cmd_rpushx(client: Client, argv: list[bytes]) -> Any:
    return push_generic(client, argv, RIGHT, True)


def delete_if_empty(client: Client, key: bytes, lst: ListValue) -> None:
    if not lst:
        client.db.delete(key)
        client.server.notify_keyspace_event("g", "del", key, client.db)


def pop_elements(
    client: Client, key: bytes, lst: ListValue, where: int, count: int, dirty: bool = True
) -> list[bytes]:
    """Pop up to `count` elements from a non-empty list, with the write signalled once."""
    server = client.server
    start = server.dirty
    pop = lst.popleft if where == LEFT else lst.pop
    items = [pop() for _ in range(min(count, len(lst)))]
    db = client.db
    db.modified(key)
    server.notify_keyspace_event("l", "lpop" if where == LEFT else "rpop", key, db)
    delete_if_empty(client, key, lst)
    server.dirty = start + len(items) if dirty else start
    return items


def pop_generic(client: Client, argv: list[bytes], where: int) -> Any:
    if len(argv) > 3:
        raise CommandError(errors.WRONG_ARGS.format(argv[0].decode("utf-8", "replace").lower()))
    count = -1
    if len(argv) == 3:
        value = to_int(argv[2])
        if value is None or value < 0:
            raise CommandError(COUNT_MUST_BE_POSITIVE)
        count = value
    lst = get_list(client.db, argv[1])
    if lst is None:
        return None if count == -1 else NULL_ARRAY
    if count == -1:
        return pop_elements(client, argv[1], lst, where, 1)[0]
    if count == 0:
        return []
    return pop_elements(client, argv[1], lst, where, count)


def cmd_lpop(client: Client, argv: list[bytes]) -> Any:
    return pop_generic(client, argv, LEFT)


def cmd_rpop(client: Client, argv: list[bytes]) -> Any:
    return pop_generic(client, argv, RIGHT)


def cmd_llen(client: Client, argv: list[bytes]) -> Any:
    lst = read_list(client.db, argv[1])
    if lst is None:
        return 0
    return len(lst)


def cmd_lindex(client: Client, argv: list[bytes]) -> Any:
    # Key first: a missing key answers nil whatever the index says.
    lst = read_list(client.db, argv[1])
    if lst is None:
        return None
    index = parse_int(argv[2])
    if index < 0:
        index += len(lst)
    if 0 <= index < len(lst):
        return lst[index]
    return None


def clamp_range(start: int, stop: int, length: int) -> tuple[int, int] | None:
    """Redis's LRANGE/LTRIM index rules: negative from the end; None when the range is empty."""
    if start < 0:
        start += length
    if stop < 0:
        stop += length
    start = max(start, 0)
    if start > stop or start >= length:
        return None
    return start, min(stop, length - 1)


def cmd_lrange(client: Client, argv: list[bytes]) -> Any:
    start = parse_int(argv[2])
    stop = parse_int(argv[3])
    lst = read_list(client.db, argv[1])
    if lst is None:
        return []
    bounds = clamp_range(start, stop, len(lst))
    if bounds is None:
        return []
    first, last = bounds
    n = len(lst)
    if last + 1 <= n - first:
        return list(islice(lst, first, last + 1))
    # Closer to the tail: walk from the right end.
    tail = list(islice(reversed(lst), n - 1 - last, n - first))
    tail.reverse()
    return tail


def cmd_lset(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    lst = get_list(client.db, key)
    if lst is None:
        raise CommandError(errors.NO_SUCH_KEY)
    index = parse_int(argv[2])
    if index < 0:
        index += len(lst)
    if not 0 <= index < len(lst):
        raise CommandError(INDEX_OUT_OF_RANGE)
    lst[index] = argv[3]
    client.db.modified(key)
    client.server.notify_keyspace_event("l", "lset", key, client.db)
    return OK


def cmd_linsert(client: Client, argv: list[bytes]) -> Any:
    where = argv[2].upper()
    if where not in (b"BEFORE", b"AFTER"):
        raise CommandError(errors.SYNTAX)
    key = argv[1]
    lst = get_list(client.db, key)
    if lst is None:
        return 0
    try:
        index = lst.index(argv[3])  # the first occurrence from the head, like Redis
    except ValueError:
        return -1
    lst.insert(index if where == b"BEFORE" else index + 1, argv[4])
    client.db.modified(key)
    client.server.notify_keyspace_event("l", "linsert", key, client.db)
    return len(lst)


def cmd_lrem(client: Client, argv: list[bytes]) -> Any:
    count = parse_int(argv[2])
    key = argv[1]
    lst = get_list(client.db, key)
    if lst is None:
        return 0
    element = argv[3]
    # count > 0 removes from the head, < 0 from the tail, 0 every occurrence.
    limit = abs(count) if count else len(lst)
    items = list(lst) if count >= 0 else list(reversed(lst))
    kept: list[bytes] = []
    removed = 0
    for item in items:
        if removed < limit and item == element:
            removed += 1
        else:
            kept.append(item)
    if removed:
        if count < 0:
            kept.reverse()
        lst.clear()
        lst.extend(kept)
        dirty = client.server.dirty
        client.db.modified(key)
        client.server.notify_keyspace_event("l", "lrem", key, client.db)
        delete_if_empty(client, key, lst)
        client.server.dirty = dirty + removed
    return removed


def cmd_ltrim(client: Client, argv: list[bytes]) -> Any:
    start = parse_int(argv[2])
    stop = parse_int(argv[3])
    key = argv[1]
    lst = get_list(client.db, key)
    if lst is None:
        return OK
    bounds = clamp_range(start, stop, len(lst))
    dirty = client.server.dirty + len(lst)
    if bounds is None:
        lst.clear()
    else:
        first, last = bounds
        for _ in range(len(lst) - 1 - last):
            lst.pop()
        for _ in range(first):
            lst.popleft()
    # Redis signals the write and emits `ltrim` even when nothing was trimmed.
    client.db.modified(key)
    client.server.notify_keyspace_event("l", "ltrim", key, client.db)
    delete_if_empty(client, key, lst)
    client.server.dirty = dirty - len(lst)
    return OK


def parse_lpos_option(arg: bytes, error: str) -> int:
    """COUNT and MAXLEN: a non-negative integer; anything else gets the option's own error."""
    value = to_int(arg)
    if value is None or value < 0:
        raise CommandError(error)
    return value


def cmd_lpos(client: Client, argv: list[bytes]) -> Any:
    rank = 1
    count: int | None = None
    maxlen = 0
    j = 3
    while j < len(argv):
        opt = argv[j].upper()
        if j + 1 >= len(argv):
            raise CommandError(errors.SYNTAX)
        if opt == b"RANK":
            # Redis 7.0 reads RANK as any 64-bit integer (LLONG_MIN included: see below).
            rank = parse_int(argv[j + 1])
            if rank == 0:
                raise CommandError(RANK_ZERO)
        elif opt == b"COUNT":
            count = parse_lpos_option(argv[j + 1], LPOS_COUNT_NEGATIVE)
        elif opt == b"MAXLEN":
            maxlen = parse_lpos_option(argv[j + 1], LPOS_MAXLEN_NEGATIVE)
        else:
            raise CommandError(errors.SYNTAX)
        j += 2
    lst = read_list(client.db, argv[1])
    if lst is None:
        return None if count is None else []
    element = argv[2]
    if count is None:
        wanted = 1
    else:
        wanted = count or len(lst)
    skip = abs(rank) - 1
    if rank == LLONG_MIN:
        # Redis negates the rank in 64 bits, which leaves LLONG_MIN negative: every match then
        # passes the rank test and the COUNT test never stops the search.
        skip = 0
        wanted = len(lst)
    matches: list[int] = []
    n = len(lst)
    items: Iterable[tuple[int, bytes]] = (
        enumerate(lst) if rank > 0 else ((n - 1 - i, v) for i, v in enumerate(reversed(lst)))
    )
    if maxlen:
        items = islice(items, maxlen)
    for index, item in items:
        if item == element:
            if skip:
                skip -= 1
                continue
            matches.append(index)
            if len(matches) >= wanted:
                break
    if count is None:
        return matches[0] if matches else None
    return matches


def move_element(
    client: Client,
    source: bytes,
    src: ListValue,
    destination: bytes,
    dst: ListValue | None,
    wherefrom: int,
    whereto: int,
    dirty: bool = True,
) -> bytes:
    """Move one element between lists (the LMOVE/BLMOVE core); `src` is non-empty and `dst` is
    the destination looked up before the pop (the same list when the keys are equal)."""
    db = client.db
    start = client.server.dirty
    notify = client.server.notify_keyspace_event
    element = src.popleft() if wherefrom == LEFT else src.pop()
    # Redis's order: push (creating the destination), then the pop's event, then the source's
    # deletion. Hence a one-element list rotated onto itself is never deleted.
    if dst is None:
        dst = new_list(db, destination)
    if whereto == LEFT:
        dst.appendleft(element)
    else:
        dst.append(element)
    db.modified(destination)
    notify("l", "lpush" if whereto == LEFT else "rpush", destination, db)
    notify("l", "lpop" if wherefrom == LEFT else "rpop", source, db)
    if src:
        db.modified(source)
    else:
        delete_if_empty(client, source, src)
    client.server.dirty = start + 1 if dirty else start
    return element


def lmove_generic(client: Client, source: bytes, destination: bytes, wf: int, wt: int) -> Any:
    db = client.db
    src = get_list(db, source)
    if src is None:
        return None
    dst = get_list(db, destination)  # type checked before the source is touched
    return move_element(client, source, src, destination, dst, wf, wt)


def cmd_lmove(client: Client, argv: list[bytes]) -> Any:
    wherefrom = parse_where(argv[3])
    whereto = parse_where(argv[4])
    return lmove_generic(client, argv[1], argv[2], wherefrom, whereto)


def cmd_rpoplpush(client: Client, argv: list[bytes]) -> Any:
    return lmove_generic(client, argv[1], argv[2], RIGHT, LEFT)


def parse_mpop(argv: list[bytes], first: int) -> tuple[list[bytes], int, int]:
    """numkeys key... LEFT|RIGHT [COUNT n] starting at argv[first]; (keys, where, count)."""
    numkeys = to_int(argv[first])
    if numkeys is None or numkeys <= 0:
        raise CommandError(NUMKEYS_NOT_POSITIVE)
    where_at = first + 1 + numkeys
    if where_at >= len(argv):
        raise CommandError(errors.SYNTAX)
    keys = argv[first + 1 : where_at]
    where = parse_where(argv[where_at])
    count = -1
    j = where_at + 1
    while j < len(argv):
        # COUNT once, with its value; anything else (a second COUNT too) is a syntax error.
        if count == -1 and j + 1 < len(argv) and argv[j].upper() == b"COUNT":
            value = to_int(argv[j + 1])
            if value is None or value <= 0:
                raise CommandError(MPOP_COUNT_NOT_POSITIVE)
            count = value
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    return keys, where, max(count, 1)


def mpop_from(client: Client, keys: list[bytes], where: int, count: int) -> Any:
    for key in keys:
        lst = get_list(client.db, key)
        if lst is not None:
            return [key, pop_elements(client, key, lst, where, count)]
    return None


def cmd_lmpop(client: Client, argv: list[bytes]) -> Any:
    keys, where, count = parse_mpop(argv, 1)
    result = mpop_from(client, keys, where, count)
    return NULL_ARRAY if result is None else result


# -- blocking forms -----------------------------------------------------------------------------
#
# Replies when nothing can be served at once: blocked, NO_REPLY (the reply comes from the
# blocking manager); inside MULTI or a script, the "no block" reply (nil of the command's own
# type, so BLMOVE's is a null bulk); on timeout or CLIENT UNBLOCK TIMEOUT, Redis 7.0 answers a
# null array for every blocking list command, BLMOVE and BRPOPLPUSH included.


# Timeout texts already converted (clients repeat theirs): exact long double arithmetic costs
# ~10 us per fractional timeout. Cleared when full, so it never holds more than this many.
_TIMEOUT_CACHE: dict[bytes, int] = {}
_TIMEOUT_CACHE_SIZE = 256


def timeout_ms(arg: bytes) -> int:
    """Seconds -> whole ms as Redis 7.0's getTimeoutFromObject computes them (< 0 is invalid).

    Redis parses with strtold and rounds `seconds * 1000` (a long double product) UP to whole
    ms (so 0.0001 waits 1 ms, -0.0009 means 0: forever), then converts to a 64-bit integer;
    anything outside that range becomes LLONG_MIN ("timeout is negative").
    """
    if arg.isdigit() and len(arg) <= 15:
        return int(arg) * 1000  # the common case, exact in long double too
    ms = _TIMEOUT_CACHE.get(arg)
    if ms is not None:
        return ms
    seconds = longdouble.parse(arg)
    if seconds is None:
        raise CommandError(errors.TIMEOUT_NOT_FLOAT)
    ms = LLONG_MIN  # infinities
    if isinstance(seconds, Fraction):
        product = longdouble.round_to_long_double(seconds * 1000)
        if isinstance(product, Fraction):
            ms = math.ceil(product)
    if not LLONG_MIN <= ms <= LLONG_MAX:
        ms = LLONG_MIN
    if len(_TIMEOUT_CACHE) >= _TIMEOUT_CACHE_SIZE:
        _TIMEOUT_CACHE.clear()
    _TIMEOUT_CACHE[arg] = ms
    return ms


def parse_timeout(client: Client, arg: bytes) -> int:
    """A blocking command's timeout argument -> absolute deadline in ms, 0 for none.

    A deadline past LLONG_MAX wraps negative in Redis, where it never fires: here it means
    no deadline.
    """
    ms = timeout_ms(arg)
    if ms < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    if ms == 0:
        return 0
    deadline = ms + client.server.now_ms
    return deadline if deadline <= LLONG_MAX else 0


def wait_for_keys(
    client: Client, keys: list[bytes], deadline: int, retry: Any, no_block_reply: Any = NULL_ARRAY
) -> Any:
    """Nothing to take yet: block on `keys` (the reply comes later), or answer at once."""
    if client.extra.get("no_block"):
        # Inside MULTI/EXEC or a script a blocking command answers at once, as if timed out.
        return no_block_reply
    client.server.blocking.block(client, keys, deadline, retry, NULL_ARRAY)
    return NO_REPLY


def ready_list(client: Client, key: bytes) -> ListValue | None:
    """The list a waiter may take from: None while the key is missing or holds another type."""
    value = client.db.lookup(key)
    return value if type(value) is ListValue else None


def bpop_generic(client: Client, argv: list[bytes], where: int) -> Any:
    keys = argv[1:-1]
    deadline = parse_timeout(client, argv[-1])
    result = mpop_from(client, keys, where, 1)
    if result is not None:
        return [result[0], result[1][0]]

    def retry(key: bytes) -> Any:
        lst = ready_list(client, key)
        if lst is None:
            return NOT_READY
        return [key, pop_elements(client, key, lst, where, 1, dirty=False)[0]]

    return wait_for_keys(client, keys, deadline, retry)


def cmd_blpop(client: Client, argv: list[bytes]) -> Any:
    return bpop_generic(client, argv, LEFT)


def cmd_brpop(client: Client, argv: list[bytes]) -> Any:
    return bpop_generic(client, argv, RIGHT)


def blmove_generic(
    client: Client, source: bytes, destination: bytes, wf: int, wt: int, timeout: bytes
) -> Any:
    deadline = parse_timeout(client, timeout)
    result = lmove_generic(client, source, destination, wf, wt)
    if result is not None:
        return result

    def retry(key: bytes) -> Any:
        src = ready_list(client, key)
        if src is None:
            return NOT_READY
        dst = client.db.lookup(destination)
        if dst is not None and type(dst) is not ListValue:
            # Redis 7.0 wakes the client with the error and leaves the source as it is.
            return ErrorReply(errors.WRONGTYPE)
        return move_element(client, key, src, destination, dst, wf, wt, dirty=False)

    return wait_for_keys(client, [source], deadline, retry, None)


def cmd_blmove(client: Client, argv: list[bytes]) -> Any:
    wherefrom = parse_where(argv[3])
    whereto = parse_where(argv[4])
    return blmove_generic(client, argv[1], argv[2], wherefrom, whereto, argv[5])


def cmd_brpoplpush(client: Client, argv: list[bytes]) -> Any:
    return blmove_generic(client, argv[1], argv[2], RIGHT, LEFT, argv[3])


def cmd_blmpop(client: Client, argv: list[bytes]) -> Any:
    # Unlike BLPOP, BLMPOP checks its keys and options before its timeout.
    keys, where, count = parse_mpop(argv, 2)
    deadline = parse_timeout(client, argv[1])
    result = mpop_from(client, keys, where, count)
    if result is not None:
        return result

    def retry(key: bytes) -> Any:
        lst = ready_list(client, key)
        if lst is None:
            return NOT_READY
        return [key, pop_elements(client, key, lst, where, count)]

    return wait_for_keys(client, keys, deadline, retry)


_L = "list"

COMMANDS = [
    Cmd(
        "lpush",
        -3,
        "write denyoom fast",
        cmd_lpush,
        keys=(1, 1, 1),
        group=_L,
        since="1.0.0",
        summary="Prepends one or more elements to a list, creating it when missing.",
        complexity="O(1) for each element added",
        args="key:key element:string ...",
    ),
    Cmd(
        "rpush",
        -3,
        "write denyoom fast",
        cmd_rpush,
        keys=(1, 1, 1),
        group=_L,
        since="1.0.0",
        summary="Appends one or more elements to a list, creating it when missing.",
        complexity="O(1) for each element added",
        args="key:key element:string ...",
    ),
    Cmd(
        "lpushx",
        -3,
        "write denyoom fast",
        cmd_lpushx,
        keys=(1, 1, 1),
        group=_L,
        since="2.2.0",
        summary="Prepends elements to a list only when the list exists.",
        complexity="O(1) for each element added",
        args="key:key element:string ...",
    ),
    Cmd(
        "rpushx",
        -3,
        "write denyoom fast",
        cmd_rpushx,
        keys=(1, 1, 1),
        group=_L,
        since="2.2.0",
        summary="Appends elements to a list only when the list exists.",
        complexity="O(1) for each element added",
        args="key:key element:string ...",
    ),
    Cmd(
        "lpop",
        -2,
        "write fast",
        cmd_lpop,
        keys=(1, 1, 1),
        group=_L,
        since="1.0.0",
        summary="Removes and returns the first elements of a list; deletes it when emptied.",
        complexity="O(N) where N is the number of elements returned",
        args="key:key [count:integer]",
    ),
    Cmd(
        "rpop",
        -2,
        "write fast",
        cmd_rpop,
        keys=(1, 1, 1),
        group=_L,
        since="1.0.0",
        summary="Removes and returns the last elements of a list; deletes it when emptied.",
        complexity="O(N) where N is the number of elements returned",
        args="key:key [count:integer]",
    ),
    Cmd(
        "llen",
        2,
        "readonly fast",
        cmd_llen,
        keys=(1, 1, 1),
        group=_L,
        since="1.0.0",
        summary="Returns the number of elements in a list.",
        args="key:key",
    ),
    Cmd(
        "lindex",
        3,
        "readonly",
        cmd_lindex,
        keys=(1, 1, 1),
        group=_L,
        since="1.0.0",
        summary="Returns the element at an index of a list (negative counts from the end).",
        complexity="O(N) where N is the number of elements to traverse",
        args="key:key index:integer",
    ),
    Cmd(
        "lrange",
        4,
        "readonly",
        cmd_lrange,
        keys=(1, 1, 1),
        group=_L,
        since="1.0.0",
        summary="Returns a range of elements of a list.",
        complexity="O(S+N)",
        args="key:key start:integer stop:integer",
    ),
    Cmd(
        "lset",
        4,
        "write denyoom",
        cmd_lset,
        keys=(1, 1, 1),
        group=_L,
        since="1.0.0",
        summary="Replaces the element at an index of a list.",
        complexity="O(N)",
        args="key:key index:integer element:string",
    ),
    Cmd(
        "linsert",
        5,
        "write denyoom",
        cmd_linsert,
        keys=(1, 1, 1),
        group=_L,
        since="2.2.0",
        summary="Inserts an element before or after the first occurrence of a pivot.",
        complexity="O(N)",
        args="key:key (where= BEFORE|AFTER) pivot:string element:string",
    ),
    Cmd(
        "lrem",
        4,
        "write",
        cmd_lrem,
        keys=(1, 1, 1),
        group=_L,
        since="1.0.0",
        summary="Removes occurrences of an element from a list, from the head or the tail.",
        complexity="O(N+M)",
        args="key:key count:integer element:string",
    ),
    Cmd(
        "ltrim",
        4,
        "write",
        cmd_ltrim,
        keys=(1, 1, 1),
        group=_L,
        since="1.0.0",
        summary="Keeps only a range of elements of a list, deleting the rest.",
        complexity="O(N)",
        args="key:key start:integer stop:integer",
    ),
    Cmd(
        "lpos",
        -3,
        "readonly",
        cmd_lpos,
        keys=(1, 1, 1),
        group=_L,
        since="6.0.6",
        summary="Returns the positions of elements that match a value in a list.",
        complexity="O(N)",
        args="key:key element:string [RANK rank:integer] [COUNT num-matches:integer] "
        "[MAXLEN len:integer]",
    ),
    Cmd(
        "lmove",
        5,
        "write denyoom",
        cmd_lmove,
        keys=(1, 2, 1),
        key_specs=(key_spec("RW access delete", index=1), key_spec("RW insert", index=2)),
        group=_L,
        since="6.2.0",
        summary="Pops an element from one end of a list and pushes it to an end of another.",
        args="source:key destination:key (wherefrom= LEFT|RIGHT) (whereto= LEFT|RIGHT)",
    ),
    Cmd(
        "rpoplpush",
        3,
        "write denyoom",
        cmd_rpoplpush,
        keys=(1, 2, 1),
        key_specs=(key_spec("RW access delete", index=1), key_spec("RW insert", index=2)),
        group=_L,
        since="1.2.0",
        summary="Pops the last element of a list and pushes it to the head of another.",
        args="source:key destination:key",
        doc_flags=("deprecated",),
    ),
    Cmd(
        "lmpop",
        -4,
        "write movablekeys",
        cmd_lmpop,
        keys=(0, 0, 0),
        key_specs=(key_spec("RW access delete", index=1, keynumidx=0, firstkey=1),),
        group=_L,
        since="7.0.0",
        summary="Pops elements from the first non-empty list among several keys.",
        complexity="O(N+M)",
        args="numkeys:integer key:key ... (where= LEFT|RIGHT) [COUNT count:integer]",
    ),
    Cmd(
        "blpop",
        -3,
        "write noscript blocking",
        cmd_blpop,
        keys=(1, -2, 1),
        group=_L,
        since="2.0.0",
        summary="Pops the first element of the first non-empty list, waiting for one.",
        complexity="O(N) where N is the number of provided keys",
        args="key:key ... timeout:double",
    ),
    Cmd(
        "brpop",
        -3,
        "write noscript blocking",
        cmd_brpop,
        keys=(1, -2, 1),
        group=_L,
        since="2.0.0",
        summary="Pops the last element of the first non-empty list, waiting for one.",
        complexity="O(N) where N is the number of provided keys",
        args="key:key ... timeout:double",
    ),
    Cmd(
        "blmove",
        6,
        "write denyoom noscript blocking",
        cmd_blmove,
        keys=(1, 2, 1),
        key_specs=(key_spec("RW access delete", index=1), key_spec("RW insert", index=2)),
        group=_L,
        since="6.2.0",
        summary="Moves an element between lists, waiting for the source to have one.",
        args="source:key destination:key (wherefrom= LEFT|RIGHT) (whereto= LEFT|RIGHT) "
        "timeout:double",
    ),
    Cmd(
        "brpoplpush",
        4,
        "write denyoom noscript blocking",
        cmd_brpoplpush,
        keys=(1, 2, 1),
        key_specs=(key_spec("RW access delete", index=1), key_spec("RW insert", index=2)),
        group=_L,
        since="2.2.0",
        doc_flags=("deprecated",),
        summary="Pops the last element of a list into the head of another, waiting for one.",
        args="source:key destination:key timeout:double",
    ),
    Cmd(
        "blmpop",
        -5,
        "write blocking movablekeys",
        cmd_blmpop,
        keys=(0, 0, 0),
        key_specs=(key_spec("RW access delete", index=2, keynumidx=0, firstkey=1),),
        group=_L,
        since="7.0.0",
        summary="Pops elements from the first non-empty list, waiting for one.",
        complexity="O(N+M)",
        args="timeout:double numkeys:integer key:key ... (where= LEFT|RIGHT) [COUNT count:integer]",
    ),
]
