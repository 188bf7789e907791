"""List commands: pushes, pops, ranges, moves, and the blocking pops built on the same cores.

A list value is a `ListValue` (a deque): O(1) at both ends, which is where locks and queues work.
A list never exists empty: every command that removes the last element deletes the key (and
emits `del`), exactly like Redis. The pop and move cores (`pop_elements`, `move_element`) are
shared by the plain commands and their blocking forms, which retry them when a key they wait
on is written.
"""

from __future__ import annotations

import math
from collections import deque
from itertools import islice
from typing import Any

from damselfly import errors
from damselfly.commands.args import LLONG_MAX, parse_int, to_float, to_int
from damselfly.commands.spec import Cmd, key_spec
from damselfly.errors import CommandError
from damselfly.keyspace.database import Database
from damselfly.protocol.types import NO_REPLY, NULL_ARRAY, OK
from damselfly.server.blocking import NOT_READY
from damselfly.server.client import Client


class ListValue(deque[bytes]):
    __slots__ = ()
    redis_type = "list"


LEFT, RIGHT = 0, 1
_WHERE = {b"LEFT": LEFT, b"RIGHT": RIGHT}


def get_list(db: Database, key: bytes) -> ListValue | None:
    value = db.lookup(key)
    if value is None:
        return None
    if type(value) is not ListValue:
        raise CommandError(errors.WRONGTYPE)
    return value


def parse_where(arg: bytes) -> int:
    where = _WHERE.get(arg.upper())
    if where is None:
        raise CommandError(errors.SYNTAX)
    return where


def push_generic(client: Client, argv: list[bytes], where: int, only_existing: bool) -> int:
    db = client.db
    key = argv[1]
    lst = get_list(db, key)
    if lst is None:
        if only_existing:
            return 0
        lst = ListValue()
        db.data[key] = lst
    if where == LEFT:
        lst.extendleft(argv[2:])
    else:
        lst.extend(argv[2:])
    db.modified(key)
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


def pop_elements(client: Client, key: bytes, lst: ListValue, where: int, count: int) -> list[bytes]:
    """Pop up to `count` elements from a non-empty list, with the write signalled once."""
    pop = lst.popleft if where == LEFT else lst.pop
    items = [pop() for _ in range(min(count, len(lst)))]
    db = client.db
    db.modified(key)
    client.server.notify_keyspace_event("l", "lpop" if where == LEFT else "rpop", key, db)
    delete_if_empty(client, key, lst)
    return items


def pop_generic(client: Client, argv: list[bytes], where: int) -> Any:
    if len(argv) > 3:
        raise CommandError(errors.WRONG_ARGS.format(argv[0].decode("utf-8", "replace").lower()))
    count = -1
    if len(argv) == 3:
        value = to_int(argv[2])
        if value is None or value < 0:
            raise CommandError("ERR value is out of range, must be positive")
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
    lst = get_list(client.db, argv[1])
    return 0 if lst is None else len(lst)


def cmd_lindex(client: Client, argv: list[bytes]) -> Any:
    lst = get_list(client.db, argv[1])
    index = parse_int(argv[2])
    if lst is None:
        return None
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
    lst = get_list(client.db, argv[1])
    if lst is None:
        return []
    bounds = clamp_range(start, stop, len(lst))
    if bounds is None:
        return []
    first, last = bounds
    if last - first < len(lst) // 2 or first < len(lst) - last:
        return list(islice(lst, first, last + 1))
    # Closer to the tail: walk from the right end.
    n = len(lst)
    tail = list(islice(reversed(lst), n - 1 - last, n - first))
    tail.reverse()
    return tail


def cmd_lset(client: Client, argv: list[bytes]) -> Any:
    index = parse_int(argv[2])
    lst = get_list(client.db, argv[1])
    if lst is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if index < 0:
        index += len(lst)
    if not 0 <= index < len(lst):
        raise CommandError("ERR index out of range")
    lst[index] = argv[3]
    client.db.modified(argv[1])
    client.server.notify_keyspace_event("l", "lset", argv[1], client.db)
    return OK


def cmd_linsert(client: Client, argv: list[bytes]) -> Any:
    where = argv[2].upper()
    if where not in (b"BEFORE", b"AFTER"):
        raise CommandError(errors.SYNTAX)
    lst = get_list(client.db, argv[1])
    if lst is None:
        return 0
    try:
        index = lst.index(argv[3])
    except ValueError:
        return -1
    lst.insert(index if where == b"BEFORE" else index + 1, argv[4])
    client.db.modified(argv[1])
    client.server.notify_keyspace_event("l", "linsert", argv[1], client.db)
    return len(lst)


def cmd_lrem(client: Client, argv: list[bytes]) -> Any:
    count = parse_int(argv[2])
    lst = get_list(client.db, argv[1])
    if lst is None:
        return 0
    element = argv[3]
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
        client.db.modified(argv[1])
        client.server.notify_keyspace_event("l", "lrem", argv[1], client.db)
        delete_if_empty(client, argv[1], lst)
    return removed


def cmd_ltrim(client: Client, argv: list[bytes]) -> Any:
    start = parse_int(argv[2])
    stop = parse_int(argv[3])
    lst = get_list(client.db, argv[1])
    if lst is None:
        return OK
    bounds = clamp_range(start, stop, len(lst))
    if bounds is None:
        lst.clear()
    else:
        first, last = bounds
        for _ in range(len(lst) - 1 - last):
            lst.pop()
        for _ in range(first):
            lst.popleft()
    client.db.modified(argv[1])
    client.server.notify_keyspace_event("l", "ltrim", argv[1], client.db)
    delete_if_empty(client, argv[1], lst)
    return OK


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
            rank = parse_int(argv[j + 1])
            if rank == 0:
                raise CommandError(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                    "second ... or use negative to start from the end of the list"
                )
            if rank == -(2**63):
                raise CommandError(
                    "ERR value is out of range, value must between -9223372036854775807 and "
                    "9223372036854775807"
                )
        elif opt == b"COUNT":
            count = parse_int(argv[j + 1])
            if count < 0:
                raise CommandError("ERR COUNT can't be negative")
        elif opt == b"MAXLEN":
            maxlen = parse_int(argv[j + 1])
            if maxlen < 0:
                raise CommandError("ERR MAXLEN can't be negative")
        else:
            raise CommandError(errors.SYNTAX)
        j += 2
    lst = get_list(client.db, argv[1])
    if lst is None:
        return None if count is None else []
    element = argv[2]
    wanted = count if count else len(lst)
    if count is None:
        wanted = 1
    matches: list[int] = []
    skip = abs(rank) - 1
    n = len(lst)
    items = enumerate(lst) if rank > 0 else ((n - 1 - i, v) for i, v in enumerate(reversed(lst)))
    for checked, (index, item) in enumerate(items):
        if maxlen and checked >= maxlen:
            break
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
    client: Client, source: bytes, src: ListValue, destination: bytes, wherefrom: int, whereto: int
) -> bytes:
    """Move one element between lists (LMOVE/BLMOVE core); `src` is non-empty."""
    db = client.db
    element = src.popleft() if wherefrom == LEFT else src.pop()
    db.modified(source)
    client.server.notify_keyspace_event("l", "lpop" if wherefrom == LEFT else "rpop", source, db)
    delete_if_empty(client, source, src)
    # Looked up after the pop: source and destination may be the same (now possibly gone) list.
    dst = get_list(db, destination)
    if dst is None:
        dst = ListValue()
        db.data[destination] = dst
    if whereto == LEFT:
        dst.appendleft(element)
    else:
        dst.append(element)
    db.modified(destination)
    client.server.notify_keyspace_event(
        "l", "lpush" if whereto == LEFT else "rpush", destination, db
    )
    return element


def lmove_generic(client: Client, source: bytes, destination: bytes, wf: int, wt: int) -> Any:
    db = client.db
    src = get_list(db, source)
    if src is None:
        return None
    get_list(db, destination)  # type check before touching the source
    return move_element(client, source, src, destination, wf, wt)


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
        raise CommandError("ERR numkeys should be greater than 0")
    keys_end = first + 1 + numkeys
    if numkeys > len(argv) - first - 2:
        raise CommandError(errors.SYNTAX)
    keys = argv[first + 1 : keys_end]
    where = parse_where(argv[keys_end])
    count = 1
    j = keys_end + 1
    seen_count = False
    while j < len(argv):
        if argv[j].upper() == b"COUNT" and j + 1 < len(argv) and not seen_count:
            value = to_int(argv[j + 1])
            if value is None or value <= 0:
                raise CommandError("ERR count should be greater than 0")
            count = value
            seen_count = True
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    return keys, where, count


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


def parse_timeout(client: Client, arg: bytes) -> int:
    """Seconds as a float -> absolute deadline in ms (0 = forever), like getTimeoutFromObject."""
    seconds = to_float(arg)
    if seconds is None:
        raise CommandError(errors.TIMEOUT_NOT_FLOAT)
    if math.isinf(seconds) or abs(seconds) * 1000 >= 2**63:
        # Redis converts to a 64-bit integer, which wraps to a negative number here.
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    ms = int(seconds * 1000)
    if ms < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    if ms == 0:
        return 0
    now = client.server.now_ms
    if ms > LLONG_MAX - now:
        raise CommandError("ERR timeout is out of range")
    return ms + now


def may_block(client: Client) -> bool:
    """Inside MULTI/EXEC or a script a blocking command answers at once, as if it timed out."""
    return not client.extra.get("no_block")


def block_or_reply(
    client: Client, keys: list[bytes], deadline: int, attempt: Any, timeout_reply: Any
) -> Any:
    result = attempt()
    if result is not NOT_READY:
        return result
    if not may_block(client):
        return timeout_reply

    def retry() -> Any:
        try:
            return attempt()
        except CommandError:
            # Redis 7.0 keeps a client blocked when its key now holds another type.
            return NOT_READY

    client.server.blocking.block(client, keys, deadline, retry, timeout_reply)
    return NO_REPLY


def bpop_generic(client: Client, argv: list[bytes], where: int) -> Any:
    keys = argv[1:-1]
    deadline = parse_timeout(client, argv[-1])

    def attempt() -> Any:
        for key in keys:
            lst = get_list(client.db, key)
            if lst is not None:
                return [key, pop_elements(client, key, lst, where, 1)[0]]
        return NOT_READY

    return block_or_reply(client, keys, deadline, attempt, NULL_ARRAY)


def cmd_blpop(client: Client, argv: list[bytes]) -> Any:
    return bpop_generic(client, argv, LEFT)


def cmd_brpop(client: Client, argv: list[bytes]) -> Any:
    return bpop_generic(client, argv, RIGHT)


def blmove_generic(
    client: Client, source: bytes, destination: bytes, wf: int, wt: int, timeout: bytes
) -> Any:
    deadline = parse_timeout(client, timeout)

    def attempt() -> Any:
        result = lmove_generic(client, source, destination, wf, wt)
        return NOT_READY if result is None else result

    return block_or_reply(client, [source], deadline, attempt, None)


def cmd_blmove(client: Client, argv: list[bytes]) -> Any:
    wherefrom = parse_where(argv[3])
    whereto = parse_where(argv[4])
    return blmove_generic(client, argv[1], argv[2], wherefrom, whereto, argv[5])


def cmd_brpoplpush(client: Client, argv: list[bytes]) -> Any:
    return blmove_generic(client, argv[1], argv[2], RIGHT, LEFT, argv[3])


def cmd_blmpop(client: Client, argv: list[bytes]) -> Any:
    deadline = parse_timeout(client, argv[1])
    keys, where, count = parse_mpop(argv, 2)

    def attempt() -> Any:
        result = mpop_from(client, keys, where, count)
        return NOT_READY if result is None else result

    return block_or_reply(client, keys, deadline, attempt, NULL_ARRAY)


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
