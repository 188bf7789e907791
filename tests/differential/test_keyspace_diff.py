"""Keyspace commands against the real redis-server: the same sequences on both, replies compared
byte for byte (errors and their order included); KEYS with tricky glob patterns compared as
sets; SCAN iterations compared as sets; COMMAND INFO and DOCS of the family compared (docs
without the summaries and complexity texts, which are in our own words)."""

from __future__ import annotations

import random
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.differential.compare import parse
from tests.servers import RawConnection, ServerProcess, encode_command, start_damselfly, start_redis

pytestmark = pytest.mark.differential

# Each sequence runs on a fresh connection after FLUSHALL; "|" separates commands. TTLs are
# either absolute (EXPIREAT far in the future) or far from a rounding boundary.
SEQUENCES = [
    # DEL, UNLINK, EXISTS, TYPE, TOUCH, DBSIZE
    "set a 1 | set b 2 | del a a nokey b | del a | exists a | dbsize",
    "set a 1 | unlink a nokey a | unlink | exists a a nokey | touch a nokey",
    "set b 1 | exists b b nokey b | touch b nokey b | type b | type nokey | dbsize extra",
    # EXPIRE options and their errors
    "set a 1 | expire a 10 nx xx | expire a 10 gt lt | expire a 10 nx gt | expire a 10 lt nx "
    "| expire a 10 gt lt nx | expire a 10 foo | expire a 10 nx xx foo | expire a abc nx xx "
    "| expire a abc foo | expire a abc | expire a 10 nx nx | ttl a",
    "set a 1 | pexpire a 10 xx gt | pexpireat a 10 Nope | expireat a 10 lt gt | ttl a",
    "set a 1 | expire a 9999999999999999999 | expire a 9223372036854775807 "
    "| expire a 9223372036854775 | expire a 9223372036854774 | expire a -9223372036854775808 "
    "| expire a -9223372036854775 | EXPIRE a 9223372036854775807 | pexpire a 9223372036854775807 "
    "| PEXPIREAT a 9223372036854775807 | pexpiretime a | expireat a 9223372036854775807 "
    "| expireat a 9223372036854775 | expiretime a | pexpire a -9223372036854775808 | exists a",
    "expire nokey 10 | expire nokey 10 foo | expire nokey 10 nx xx | expire nokey abc "
    "| pexpireat nokey 1 | persist nokey | ttl nokey | pttl nokey | expiretime nokey "
    "| pexpiretime nokey",
    "set a 1 | expire a 10 gt | expire a 10 lt | ttl a | expire a 20 lt | ttl a | expire a 5 lt "
    "| ttl a | expire a 100 gt | ttl a | expire a 50 nx | expire a 50 xx | ttl a | persist a "
    "| persist a | expire a 50 xx | ttl a",
    "set a 1 | expire a -1 gt | exists a | expire a -1 lt | exists a | set b 1 | expire b 10 "
    "| expire b -5 gt | expire b -5 lt | exists b | set c 1 | pexpireat c 1 xx | pexpireat c 1 nx "
    "| exists c | set d 1 | expire d 0 | exists d | set e 1 | expireat e 1 | exists e",
    "set k 1 | pexpireat k 99999999999499 | expiretime k | pexpiretime k "
    "| pexpireat k 99999999999500 | expiretime k | pexpireat k 99999999999500 gt "
    "| pexpireat k 99999999999501 gt | pexpiretime k | pexpireat k 99999999999501 lt "
    "| expireat k 99999999998 lt | expiretime k",
    "set p 1 | expiretime p | pexpiretime p | pttl p | ttl p | pexpire p 100400 | ttl p "
    "| pexpire p 100600 | ttl p",
    # RENAME, RENAMENX
    "rename nokey b | rename nokey nokey | renamenx nokey x | renamenx nokey nokey | set a 1 "
    "| rename a a | renamenx a a | set b 2 | renamenx a b | mget a b | expireat a 99999999999 "
    "| rename a c | expiretime c | get c | exists a | rename c b | expiretime b | get b",
    "set a 1 | set b 2 | expireat b 99999999999 | rename a b | ttl b | get b | renamenx b c "
    "| get c | rename b",
    # COPY
    "set b 1 | copy b b | copy b b db 1 | copy b b db 0 | copy nokey x | copy b x db 99 "
    "| copy b x db -1 | copy b x db abc | copy b x db | copy b x replace db | copy b x foo "
    "| copy nokey x db abc | copy b x | copy b x | copy b x replace | copy b x REPLACE replace "
    "| copy b x db 1 db 2",
    "copy nokey nokey | copy nokey nokey db 0 | copy nokey x db 99 | set b 1 "
    "| copy b x db 99 db 1 | copy b y db 1 db 99 | copy b z db abc db 1 | copy b z db 1 db abc "
    "| copy b b db 1 db 0 | copy b z db 2147483648 | copy b z db -2147483649 | select 1 "
    "| keys * | select 2 | keys *",
    "set b 1 | expireat b 99999999999 | copy b c | expiretime c | set d 2 | copy b d "
    "| copy b d replace | get d | expiretime d",
    # MOVE
    "set b 1 | set a 1 | select 1 | move b 1 | move b 0 | move b 1 | select 0 | move b 1 "
    "| exists b | set b 2 | move b 1 | move b 2147483648 | move b 4294967296 | move b 99 "
    "| move b abc | move b -1 | move nokey 0 | move nokey 99 | move nokey 1",
    "set k v | expireat k 99999999999 | move k 3 | select 3 | expiretime k | get k",
    # SWAPDB, FLUSHDB, FLUSHALL
    "set b 1 | select 1 | set c 2 | swapdb 0 2147483648 | swapdb 4294967296 0 | swapdb abc 0 "
    "| swapdb 0 abc | swapdb -1 0 | swapdb 0 -1 | swapdb 0 16 | swapdb 16 0 | swapdb 0 1 2 "
    "| swapdb 0 0 | dbsize | swapdb 0 1 | dbsize | get b | select 0 | get c",
    "set a 1 | flushdb foo | flushdb async | dbsize | set a 1 | flushdb sync | dbsize "
    "| flushall foo | flushdb sync async | flushall ASYNC | flushall sync | flushdb | flushall "
    "| flushall SYNC extra",
    # SCAN argument handling (the small db fits in one reply, so replies are exact)
    # (nonzero cursors land in a bucket chosen by Redis's per-process hash seed: see below)
    "set b 1 | scan 0 type foo | scan 0 type string | scan 0 TYPE STRING | scan 0 type list "
    "| scan 0 count 0 | scan 0 count -1 | scan 0 count abc | scan abc "
    "| scan 18446744073709551616 | scan '' | scan -0 | scan +0 | scan 000",
    "set b 1 | scan ' 1' | scan 1.5 | scan + | scan - | scan 0 match "
    "| scan 0 foo bar | scan 0 match * count 10 type string extra | scan 0 count 10 count 5 "
    "| scan 0 type | scan 0 match b | scan 0 match c | scan 0 count 9223372036854775807 "
    "| scan 0 count 9223372036854775808 | scan -18446744073709551616 | scan 0x10",
    # KEYS, RANDOMKEY
    "keys | randomkey | set '' 1 | keys * | keys ** | keys '' | randomkey | del '' | randomkey",
    # OBJECT
    "set a 123 | set b hello | set c 99999 | set d 10000 | set e -1 | set big 12345678901234567890 "
    "| set big2 9223372036854775807 | set neg -0 | set sp ' 1' | set plus +1 "
    "| object encoding a | object encoding b | object encoding c | object encoding big "
    "| object encoding big2 | object encoding neg | object encoding sp | object encoding plus "
    "| object refcount a | object refcount c | object refcount d | object refcount e "
    "| object refcount b | object refcount nokey",
    "set e44 12345678901234567890123456789012345678901234 "
    "| set e45 123456789012345678901234567890123456789012345 | object encoding e44 "
    "| object encoding e45 | set ap ab | append ap x | object encoding ap",
    "object encoding nokey | object idletime nokey | object freq nokey | set a 1 | object freq a "
    "| object foo | object | object encoding | object encoding a b | object help extra "
    "| object refcount",
]


def run(server: ServerProcess, sequence: str, resp3: bool) -> list[bytes]:
    conn = RawConnection(server.host, server.port)
    try:
        if server.name == "damselfly":
            # Other tests move the shared server's clock; Redis's cannot be moved.
            conn.request(encode_command("DEBUG", "SET-CLOCK-OFFSET", 0))
        conn.request(encode_command("FLUSHALL"))
        if resp3:
            conn.request(encode_command("HELLO", "3"))
        return [conn.request(encode_command(*shlex.split(cmd))) for cmd in sequence.split("|")]
    finally:
        conn.close()


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("sequence", SEQUENCES)
def test_keyspace_sequence_matches_redis(
    sequence: str, resp3: bool, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    expected = run(redis_oracle, sequence, resp3)
    actual = run(server, sequence, resp3)
    for cmd, want, got in zip(sequence.split("|"), expected, actual, strict=True):
        assert got == want, f"{cmd.strip()!r}: redis {want!r} damselfly {got!r}"


@pytest.mark.parametrize(
    "cursor",
    ["1", "01", "+1", "-1", "18446744073709551615", "-18446744073709551615", "9223372036854775808"],
)
def test_scan_accepts_the_same_nonzero_cursors_as_redis(
    cursor: str, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    """Where a nonzero cursor leads depends on Redis's hash seed, so only the shape is compared:
    both accept it and answer with a cursor and a page."""
    for proc in (redis_oracle, server):
        conn = RawConnection(proc.host, proc.port)
        try:
            conn.request(encode_command("FLUSHALL"))
            conn.request(encode_command("MSET", "a", 1, "b", 2, "c", 3))
            reply = conn.request(encode_command("SCAN", cursor))
            assert reply.startswith(b"*2\r\n$"), (proc.name, reply)
        finally:
            conn.close()


# -- KEYS with tricky glob patterns -------------------------------------------------------------

_ALPHABET = b"ab-^][\\*?cZ\x00\x80\xff"


def _fill(client: redis.Redis, keys: set[bytes]) -> None:
    client.flushall()
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, 1)
    pipe.execute()


@pytest.fixture(scope="module")
def glob_keys() -> set[bytes]:
    rng = random.Random(20240607)
    keys = {bytes(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 5))) for _ in range(1500)}
    keys |= {b"hello", b"hallo", b"h\x00llo", b"h\nllo", b"\xff", b"[a", b"a]", b"\\", b""}
    return keys


HANDPICKED_PATTERNS = [
    b"*", b"**", b"*?", b"?", b"[", b"[^", b"[]", b"[^]", b"[]]", b"[]a]", b"[a", b"[a-",
    b"[a-]", b"[\\", b"[\\]", b"\\", b"a\\", b"\\*", b"\\a", b"[z-a]", b"[^a-b]", b"[a-b-c]",
    b"[-a]", b"[a-\\]]", b"a*", b"*c", b"a**c", b"[[]", b"[\\]]", b"[^\\]", b"h?llo",
    b"h[^e]llo", b"[\x00-\xff]*", b"*[", b"*\\", b"?*?*?", b"[^-]*[-]", b"",
]  # fmt: skip


def test_keys_with_handpicked_patterns_matches_redis(
    server: ServerProcess, redis_oracle: ServerProcess, glob_keys: set[bytes]
) -> None:
    ours, theirs = server.client(), redis_oracle.client()
    try:
        _fill(ours, glob_keys)
        _fill(theirs, glob_keys)
        for pattern in HANDPICKED_PATTERNS:
            assert sorted(ours.keys(pattern)) == sorted(theirs.keys(pattern)), pattern
    finally:
        ours.close()
        theirs.close()


def test_keys_with_random_patterns_matches_redis(
    server: ServerProcess, redis_oracle: ServerProcess, glob_keys: set[bytes]
) -> None:
    rng = random.Random(99)
    ours, theirs = server.client(), redis_oracle.client()
    try:
        _fill(ours, glob_keys)
        _fill(theirs, glob_keys)
        for _ in range(600):
            pattern = bytes(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 8)))
            assert sorted(ours.keys(pattern)) == sorted(theirs.keys(pattern)), pattern
    finally:
        ours.close()
        theirs.close()


def test_keys_with_deeply_nested_stars_matches_redis(
    server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    ours, theirs = server.client(), redis_oracle.client()
    try:
        for client in (ours, theirs):
            client.flushall()
            client.mset({"a" * 1500: 1, "a" * 30 + "c": 1})
        for pattern in ["*a" * 1000, "*a" * 1001, "*a" * 1000 + "*", "**a" * 1001, "*a" * 40 + "b"]:
            assert ours.keys(pattern) == theirs.keys(pattern), pattern[:20]
    finally:
        ours.close()
        theirs.close()


# -- SCAN ----------------------------------------------------------------------------------------


def _scan_all(client: redis.Redis, *args: Any) -> list[bytes]:
    cursor: Any = b"0"
    keys: list[bytes] = []
    while True:
        cursor, page = client.execute_command("SCAN", cursor, *args)
        keys.extend(page)
        if int(cursor) == 0:
            return keys


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("COUNT", 3),
        ("MATCH", "user:*", "COUNT", 7),
        ("MATCH", "*[13]", "COUNT", 1000),
        ("TYPE", "string", "COUNT", 50),
        ("TYPE", "hash"),
        ("MATCH", "nothing*"),
    ],
)
def test_scan_iteration_returns_the_same_keys_as_redis(
    server: ServerProcess, redis_oracle: ServerProcess, args: tuple[Any, ...]
) -> None:
    ours, theirs = server.client(), redis_oracle.client()
    try:
        for client in (ours, theirs):
            client.flushall()
            client.mset({f"user:{i}": i for i in range(300)})
            client.mset({f"item:{i}": i for i in range(300)})
            client.set("vol", 1, ex=1000)
        mine = _scan_all(ours, *args)
        assert len(mine) == len(set(mine))
        assert sorted(mine) == sorted(set(_scan_all(theirs, *args)))
    finally:
        ours.close()
        theirs.close()


# -- OBJECT under an LFU policy --------------------------------------------------------------------


@pytest.fixture(scope="module")
def lfu_pair(redis_oracle: ServerProcess) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    options = ("--maxmemory-policy", "allkeys-lfu", "--maxmemory", "100mb")
    ours = start_damselfly(*options)
    theirs = start_redis(*options)
    yield ours, theirs
    ours.stop()
    theirs.stop()


def test_object_under_an_lfu_policy_matches_redis(
    lfu_pair: tuple[ServerProcess, ServerProcess],
) -> None:
    sequence = (
        "set a 1 | set b 5 | object freq a | object idletime a | object refcount b "
        "| object encoding b | object freq nokey | object idletime nokey"
    )
    ours, theirs = lfu_pair
    assert run(ours, sequence, False) == run(theirs, sequence, False)


# -- COMMAND INFO and COMMAND DOCS ---------------------------------------------------------------

FAMILY = [
    "del", "unlink", "exists", "type", "touch", "expire", "pexpire", "expireat", "pexpireat",
    "ttl", "pttl", "expiretime", "pexpiretime", "persist", "keys", "scan", "randomkey", "rename",
    "renamenx", "copy", "move", "dbsize", "flushdb", "flushall", "swapdb", "object",
]  # fmt: skip


@pytest.mark.parametrize("name", FAMILY)
def test_command_info_matches_redis(
    name: str, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    request = encode_command("COMMAND", "INFO", name)
    conns = [RawConnection(s.host, s.port) for s in (redis_oracle, server)]
    try:
        expected, actual = (c.request(request) for c in conns)
    finally:
        for c in conns:
            c.close()
    if name == "object":
        # Redis lists subcommands in the order of a hash table seeded per process.
        expected_entry, actual_entry = parse(expected)[0], parse(actual)[0]
        assert sorted(actual_entry.pop(9), key=repr) == sorted(expected_entry.pop(9), key=repr)
        assert actual_entry == expected_entry
    else:
        assert actual == expected


def _docs_without_prose(value: Any, drop: tuple[bytes, ...] = ()) -> Any:
    """COMMAND DOCS with the free-text fields removed (summaries are in our own words)."""
    if isinstance(value, dict):
        return {
            k: _docs_without_prose(v, drop)
            for k, v in value.items()
            if k not in (b"summary", b"complexity", b"history", *drop)
        }
    if isinstance(value, list):
        return [_docs_without_prose(v, drop) for v in value]
    return value


def _argument_since_shown(docs: Any) -> bool:
    """Whether any argument map carries `since` (COMMAND DOCS may not render it yet)."""
    if isinstance(docs, dict):
        if b"name" in docs and b"type" in docs and b"since" in docs:
            return True
        return any(_argument_since_shown(v) for v in docs.values())
    if isinstance(docs, list):
        return any(_argument_since_shown(v) for v in docs)
    return False


def test_command_docs_match_redis_apart_from_prose(
    server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    ours = server.client(protocol=3)
    theirs = redis_oracle.client(protocol=3)
    try:
        mine = ours.execute_command("COMMAND DOCS", *FAMILY)
        want = theirs.execute_command("COMMAND DOCS", *FAMILY)
    finally:
        ours.close()
        theirs.close()
    for name in FAMILY:
        key = name.encode()
        # The command-level `since` is always compared; an argument's `since` (EXPIRE's
        # condition 7.0.0, SCAN's TYPE 6.0.0, FLUSHDB's ASYNC/SYNC) only once COMMAND DOCS
        # renders argument `since` at all: keyspace.py declares them either way.
        drop = () if _argument_since_shown(mine) else (b"since",)
        mine_doc = {**_docs_without_prose(mine[key], drop), b"since": mine[key][b"since"]}
        want_doc = {**_docs_without_prose(want[key], drop), b"since": want[key][b"since"]}
        assert mine_doc == want_doc, name


C_STRING_CASES = [
    [b"SCAN", b"\x00\xff"],
    [b"SCAN", b"0\x00zz"],
    [b"SCAN", b"00\x007"],  # (a non-zero cursor's result depends on Redis's hash seed)
    [b"OBJECT", b"a\x00b"],
    [b"FOO\x00x", b"a"],
    [b"FOO", b"a\x00b", b"\xff"],
    [b"EXPIRE", b"k", b"100", b"\xff"],
    [b"EXPIRE", b"k", b"100", b"a\x00b"],
    [b"SET", b"f", b"11e308"],
    [b"INCRBYFLOAT", b"f", b"inf"],
    [b"INCRBYFLOAT", b"f", b"-inf"],
]


def test_arguments_quoted_in_errors_stop_at_nul_like_c_strings(
    r: redis.Redis, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    """Redis formats names, cursors and options as C strings (up to the first NUL byte)."""
    replies = []
    for proc in (redis_oracle, server):
        conn = RawConnection(proc.host, proc.port)
        try:
            conn.request(encode_command("FLUSHALL"))
            conn.request(encode_command("SET", "k", "v"))
            replies.append([conn.request(encode_command(*argv)) for argv in C_STRING_CASES])
        finally:
            conn.close()
    for argv, want, got in zip(C_STRING_CASES, replies[0], replies[1], strict=True):
        assert got == want, f"{argv!r}: redis {want!r} damselfly {got!r}"
