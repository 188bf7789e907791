"""Keyspace notifications against the real redis-server: the full event stream, byte for byte.

A raw subscriber connection `s` listens to `__key*__:*` on each server; the same script of
writes, reads and blocking pops runs on both under one `notify-keyspace-events` setting, and after
every step the bytes `s` received (and the replies of the connection that ran the step) must be
equal. The script touches every command that emits an event, commands that fail (no event), and
keys whose time has passed (lazy expiry: `PXAT 1` is in the past on both clocks, and the key is
touched in the same pipeline, so the active cycle cannot get there first). Active expiry is
checked separately with a short real TTL and a bounded wait for the event.

Steps use the notation of test_pubsub_diff.py (`NAME: CMD | CMD`, `&` blocks, `?NAME:` collects).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.differential.test_pubsub_diff import Session, run_script
from tests.servers import ServerProcess, encode_command

pytestmark = pytest.mark.differential

SETUP = [
    "FLUSHALL",
    # damselfly only (the oracle refuses DEBUG): a real clock and the active cycle on.
    "DEBUG SET-CLOCK-OFFSET 0",
    "DEBUG SET-ACTIVE-EXPIRE 1",
]

STRINGS = [
    "s: PSUBSCRIBE __key*__:*",
    "a: SET k v",
    "a: SET k v2",
    "a: SET k v3 XX GET",
    "a: SET k v4 NX",
    "a: SET nk v NX GET",
    "a: SET k v EX 100",
    "a: SET k v PX 100000 KEEPTTL",
    "a: SET k v2 KEEPTTL",
    "a: SET k v EXAT 99999999999",
    "a: SET k v PXAT 99999999999999",
    "a: SET gone v XX",
    "a: SET k v EX 0",
    "a: SET k v BADOPTION",
    "a: SETNX k v",
    "a: SETNX sn v",
    "a: SETEX se 100 v",
    "a: SETEX se -1 v",
    "a: PSETEX pse 100000 v",
    "a: GETSET k new",
    "a: GETSET missing v",
    "a: GETDEL k",
    "a: GETDEL k",
    "a: SET ge v | GETEX ge | GETEX ge EX 100 | GETEX ge PERSIST | GETEX ge PERSIST",
    "a: GETEX ge PXAT 99999999999999 | GETEX ge EXAT 1 | GETEX ge",
    "a: MSET m1 1 m2 2 m1 3",
    "a: MSETNX m1 1 m3 3",
    "a: MSETNX m3 3 m4 4",
    "a: MGET m1 nope m3 nope2",
    "a: APPEND ap x | APPEND ap yz | SETRANGE sr 3 abc | SETRANGE sr 0 z | SETRANGE sr2 5 ''",
    "a: SETRANGE sr 0 '' | SETRANGE sr -1 x",
    "a: INCR n | INCR n | DECR n | INCRBY n 10 | DECRBY n 3 | DECR newn | INCRBY n2 5",
    "a: INCRBYFLOAT f 1.5 | INCRBYFLOAT f 2 | INCRBYFLOAT ap 1 | INCR ap",
    "a: GET nope | STRLEN nope | GETRANGE nope 0 -1 | GETRANGE ap 0 -1 | LCS nope ap",
    "a: SUBSTR nope 0 1 | SUBSTR ap 0 1 | GETRANGE nope x 1",
    "a: RPUSH lst x | GET lst | SET lst v GET | APPEND lst x | INCR lst | GETDEL lst",
]

KEYSPACE = [
    "s: PSUBSCRIBE __key*__:*",
    "a: MSET a 1 b 2 c 3 d 4 e 5",
    "a: DEL a nope a | UNLINK b nope",
    "a: EXISTS a c nope | TYPE nope | TYPE c | TOUCH c nope",
    "a: TTL nope | PTTL nope | EXPIRETIME nope | PEXPIRETIME nope | TTL c",
    "a: OBJECT ENCODING nope | OBJECT REFCOUNT nope | OBJECT ENCODING c",
    "a: EXPIRE c 100 | PEXPIRE c 100000 | EXPIREAT c 99999999999 | PEXPIREAT c 99999999999999",
    "a: EXPIRE c 50 GT | EXPIRE c 500 GT | EXPIRE c 50 LT | EXPIRE c 5 NX | EXPIRE c 5 XX",
    "a: EXPIRE nope 100 | PERSIST c | PERSIST c | PERSIST nope",
    "a: EXPIRE c 0 | SET c 3 | PEXPIRE c -5 | SET c 3 | EXPIREAT c 1 | SET c 3 | PEXPIREAT c 1",
    "a: EXPIRE d x | EXPIRE d 10 FOO | EXISTS d",
    "a: RENAME d d2 | RENAME d2 e | RENAMENX e d | RENAMENX d e | RENAME nope x | RENAME d d",
    "a: SET r1 v EX 100 | RENAME r1 r2 | TTL r2",
    "a: COPY e e2 | COPY e e2 | COPY e e2 REPLACE | COPY nope x | COPY e e DB 3 | COPY e e",
    "a: MOVE e 2 | MOVE e 2 | MOVE nope 2 | SET e 1 | MOVE e 2 | MOVE e 0",
    "a: SELECT 2 | SET here v | DEL e | SELECT 0",
    "a: SET sw v | SWAPDB 0 1 | SELECT 1 | DEL sw | SELECT 0",
    "a: SET f v | FLUSHDB | SET f v | FLUSHALL",
]

LAZY_EXPIRY = [
    "s: PSUBSCRIBE __key*__:*",
    "a: SET x1 v PXAT 1 | GET x1",
    "a: SET x2 v PXAT 1 | SET x2 w",
    "a: SET x3 v PXAT 1 | SET x4 v | RENAME x4 x3",
    "a: SET x5 v PXAT 1 | RENAMENX x5 y",
    "a: SET x6 v PXAT 1 | SET src v | COPY src x6",
    "a: SET x7 v PXAT 1 | EXISTS x7 | TYPE x7",
    "a: SET x8 v PXAT 1 | RPUSH x8 1",
    "a: SET x9 v PXAT 1 | INCR x9 | APPEND x9 z",
    "a: SET y1 v PXAT 1 | MGET y1 y1 | TTL y1",
    "a: SET y2 v PXAT 1 | OBJECT ENCODING y2",
    "a: SET y3 v PXAT 1 | DEL y3 | UNLINK y3",
    "a: SET y4 v PXAT 1 | GETEX y4 PERSIST | GETDEL y4",
    "a: SET y5 v PXAT 1 | MSETNX y5 1 | SETNX y5 2",
    "a: SET y6 v PXAT 1 | EXPIRE y6 100 | PERSIST y6",
    "a: SET y7 v PXAT 1 | SETRANGE y7 1 x",
    "a: SET y8 v PXAT 1 | RPOPLPUSH y8 y8 | LLEN y8",
    "a: SET y9 v PXAT 1 | LRANGE y9 0 -1 | LPOS y9 x | LINDEX y9 0",
    "a: SET z1 v PXAT 1 | MOVE z1 4",
    "a: SET z2 v PXAT 1 | GETSET z2 new",
    "a: SET z3 v PXAT 1 | INCRBYFLOAT z3 1",
    "a: SET z4 v PXAT 1 | SET z4 w NX GET",
    "a: PSETEX z5 1 v | SET z5 v PXAT 1 | LPUSHX z5 a | RPUSHX z5 b",
    "a: SET s1 v PXAT 1 | SCAN 0 MATCH s1 COUNT 1000",
    "a: SET s2 v PXAT 1 | SCAN 0 MATCH s2 TYPE string COUNT 1000",
    "a: SET s3 v PXAT 1 | SCAN 0 MATCH s3 TYPE list COUNT 1000",
    "a: SET s4 v | SCAN 0 MATCH s4 TYPE list COUNT 1000 | SCAN 0 MATCH s4 TYPE string COUNT 1000",
    "a: SET s5 v PXAT 1 | KEYS s5 | GET s5",
    "a: SET s6 v PXAT 1 | OBJECT FREQ s6 | OBJECT REFCOUNT s6",
]

LISTS = [
    "s: PSUBSCRIBE __key*__:*",
    "a: RPUSH m 1 2 3 4 5 | LPUSH m 0 | LPOP m | RPOP m 2 | LPOP m 0 | LSET m 0 x",
    "a: LINSERT m BEFORE x y | LINSERT m AFTER nope z | LINSERT m AFTER x z",
    "a: LREM m 1 y | LREM m 1 nope | LTRIM m 0 -1 | LTRIM m 1 1 | LTRIM m 5 6 | EXISTS m",
    "a: RPUSHX m 1 | LPUSHX m 1 | RPUSH m2 a a | LREM m2 0 a | RPUSH m3 a b | LPOP m3 2",
    "a: RPUSH m4 a | RPOPLPUSH m4 m4 | RPOPLPUSH m4 m5 | LMOVE m5 m6 RIGHT LEFT | LMOVE m6 m6 LEFT RIGHT",
    "a: RPUSH m7 1 2 | LMOVE m7 m8 LEFT LEFT | LMOVE m7 m8 LEFT RIGHT | LMOVE nope m8 LEFT LEFT",
    "a: RPUSH l1 1 2 3 | RPUSH l2 4 | LMPOP 2 nope l1 LEFT COUNT 2 | LMPOP 2 l1 l2 RIGHT COUNT 5",
    "a: LMPOP 1 l2 LEFT | LMPOP 1 l2 LEFT COUNT 0 | LPOP nope | RPOP nope 3",
    "a: LLEN nope | LINDEX nope 0 | LRANGE nope 0 -1 | LPOS nope a | LPOS nope a COUNT 0",
    "a: SET str v | LPUSH str a | RPOP str | LMOVE str m8 LEFT LEFT | LMOVE m8 str LEFT LEFT",
    "a: LSET nope 0 x | LSET m8 99 x | LINSERT m8 BEFORE 1 | LRANGE m8 0 -1",
    "&b: BLPOP bl1 0",
    "a: RPUSH bl1 x y",
    "?b:",
    "&c: BLMOVE bl2 bd LEFT RIGHT 0",
    "a: LPUSH bl2 v",
    "?c:",
    "&d: BLMPOP 0 2 bl3 bl4 RIGHT COUNT 2",
    "a: RPUSH bl4 1 2 3",
    "?d:",
    "&e: BRPOPLPUSH bl5 bl5 0",
    "a: RPUSH bl5 z",
    "?e:",
    "&f: BRPOP bl6 bl7 0",
    "&g: BLPOP bl6 0",
    "a: RPUSH bl6 one | RPUSH bl6 two",
    "?f:",
    "?g:",
    "a: BLPOP bl1 0.01 | BLPOP nope 0.01 | BLMPOP 0.01 1 nope LEFT",
]

SCRIPTS = {"strings": STRINGS, "keyspace": KEYSPACE, "lazy-expiry": LAZY_EXPIRY, "lists": LISTS}

FLAG_SETS = ["KEA", "KEAnm", "Kg", "E$", "Elx", "KA", "Kn", "Em", "Ex", "Kgxn", "K", "A", "E$lgm"]


@pytest.fixture
def notifying(
    server: ServerProcess, redis_oracle: ServerProcess
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """The shared servers, with notify-keyspace-events switched off again afterwards."""
    yield server, redis_oracle
    for proc in (server, redis_oracle):
        conn = proc.raw()
        try:
            conn.request(encode_command("CONFIG", "SET", "notify-keyspace-events", ""))
        finally:
            conn.close()


def compare(
    pair: tuple[ServerProcess, ServerProcess], script: list[str], flags: str, resp3: bool = False
) -> None:
    ours, oracle = pair
    setup = [*SETUP, "CONFIG SET notify-keyspace-events " + (flags or "''")]
    expected = run_script(oracle, script, resp3, setup)
    actual = run_script(ours, script, resp3, setup)
    for (line, want), (_, got) in zip(expected, actual, strict=True):
        assert got == want, (
            f"flags {flags!r}, step {line!r}:\n redis     {want!r}\n damselfly {got!r}"
        )


@pytest.mark.parametrize("flags", FLAG_SETS)
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_event_stream_matches_redis(
    name: str, flags: str, notifying: tuple[ServerProcess, ServerProcess]
) -> None:
    compare(notifying, SCRIPTS[name], flags)


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_event_stream_matches_redis_as_resp3_pushes(
    name: str, notifying: tuple[ServerProcess, ServerProcess]
) -> None:
    compare(notifying, SCRIPTS[name], "KEAnm", resp3=True)


# Commands that emit their events before replying; the ones that reply first (pops, GETSET,
# EXPIRE ...) are compared in test_event_order_diff.py.
SELF_SUBSCRIBED = [
    "a: PSUBSCRIBE __keyspace@0__:*",
    "a: SUBSCRIBE __keyevent@0__:del",
    "a: SET k v",
    "a: GET nope",
    "a: INCR n | APPEND k x | SETRANGE k 0 y | LINSERT nope BEFORE a b",
    "a: RENAME n m | COPY m n | EXPIRE m 0 | EXISTS m | TTL m",
    "a: DEL k | GET k",
    "x: SET k v | DEL k",
    "a: PUNSUBSCRIBE",
    "a: SET k2 v",
    "a: PUBLISH __keyevent@0__:del self",
]


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_client_subscribed_to_its_own_events(
    resp3: bool, notifying: tuple[ServerProcess, ServerProcess]
) -> None:
    """RESP3: the pushes for these writes come before the write's reply. RESP2: the
    client can only (un)subscribe, and the other connection's events still reach it."""
    compare(notifying, SELF_SUBSCRIBED, "KEAnm", resp3=resp3)


def test_notify_config_values_match_redis(notifying: tuple[ServerProcess, ServerProcess]) -> None:
    values = ["KEA", "AKE", "KEAnm", "Kn", "g$lshzxetd", "g$lshzxetdn", "EKA", "", "m", "Am"]
    values += ["Ex$", "KEgx$", "n", "A n", "Q", "KEQ", "K E", "a"]
    records = []
    for proc in notifying[::-1]:
        conn = proc.raw()
        try:
            record = []
            for value in values:
                record.append(
                    conn.request(encode_command("CONFIG", "SET", "notify-keyspace-events", value))
                )
                record.append(
                    conn.request(encode_command("CONFIG", "GET", "notify-keyspace-events"))
                )
            records.append(record)
        finally:
            conn.close()
    assert records[1] == records[0]


@pytest.mark.parametrize("flags", ["KEA", "Ex", "Kx", "Kg"])
def test_active_expiry_events_match_redis(
    flags: str, notifying: tuple[ServerProcess, ServerProcess]
) -> None:
    """Keys that expire untouched: the active cycle emits `expired`; nobody reads the key."""
    streams = []
    for proc in notifying[::-1]:
        session = Session(proc, resp3=False)
        try:
            control = session.conn("a")
            for command in SETUP:
                control.request(encode_command(*command.split()))
            control.request(encode_command("CONFIG", "SET", "notify-keyspace-events", flags))
            sub = session.conn("s")
            sub.request(encode_command("PSUBSCRIBE", "__key*__:*"))
            control.request(encode_command("SET", "short", "v", "PX", "30"))
            control.request(encode_command("SET", "long", "v", "EX", "1000"))
            # DBSIZE counts keys past their time until they are reclaimed, and touches none:
            # once it says 1, the active cycle has deleted `short` (and only it).
            deadline = time.monotonic() + 5
            while control.request(encode_command("DBSIZE")) != b":1\r\n":
                assert time.monotonic() < deadline, f"{proc.name}: the key did not expire"
                time.sleep(0.01)
            assert control.request(encode_command("EXISTS", "long")) == b":1\r\n"
            streams.append(session.barrier("s"))
        finally:
            session.close()
    assert streams[1] == streams[0]
