"""Expiry, lazy and active: every command that reads or writes a key treats a key past its time
as missing (and reclaims it), PTTL is 0 in the key's last millisecond, and the active cycle
reclaims keys nobody touches, in slices short enough that other clients keep being served.

The server's clock is moved with DEBUG SET-CLOCK-OFFSET (the `advance_clock` fixture) instead of
sleeping; two tests use real time on purpose (a real TTL running out, and the reclaim of 200k
keys), and they poll with a deadline rather than sleep a fixed time.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import redis

from tests.servers import RawConnection, ServerProcess, encode_command

# (command, exact reply when `k` has expired, whether `k` exists afterwards; None: the command
# need not have met `k`). Before each command: k = "v" with a TTL that has passed (active expiry
# off), other = "x" without TTL.
LAZY_CASES: list[tuple[list[str], bytes, bool | None]] = [
    # reads
    (["GET", "k"], b"$-1\r\n", False),
    (["STRLEN", "k"], b":0\r\n", False),
    (["GETRANGE", "k", "0", "-1"], b"$0\r\n\r\n", False),
    (["MGET", "k", "other"], b"*2\r\n$-1\r\n$1\r\nx\r\n", False),
    (["EXISTS", "k"], b":0\r\n", False),
    (["TYPE", "k"], b"+none\r\n", False),
    (["TTL", "k"], b":-2\r\n", False),
    (["PTTL", "k"], b":-2\r\n", False),
    (["EXPIRETIME", "k"], b":-2\r\n", False),
    (["PEXPIRETIME", "k"], b":-2\r\n", False),
    (["TOUCH", "k"], b":0\r\n", False),
    (["OBJECT", "ENCODING", "k"], b"$-1\r\n", False),
    (["COPY", "k", "dst"], b":0\r\n", False),
    (["LCS", "k", "other"], b"$0\r\n\r\n", False),
    (["RANDOMKEY"], b"$5\r\nother\r\n", None),
    (["SCAN", "0"], b"*2\r\n$1\r\n0\r\n*1\r\n$5\r\nother\r\n", False),
    # writes that find nothing
    (["DEL", "k"], b":0\r\n", False),
    (["UNLINK", "k"], b":0\r\n", False),
    (["EXPIRE", "k", "100"], b":0\r\n", False),
    (["PERSIST", "k"], b":0\r\n", False),
    (["RENAME", "k", "z"], b"-ERR no such key\r\n", False),
    (["RENAMENX", "k", "z"], b"-ERR no such key\r\n", False),
    (["MOVE", "k", "1"], b":0\r\n", False),
    (["GETDEL", "k"], b"$-1\r\n", False),
    (["GETEX", "k", "PERSIST"], b"$-1\r\n", False),
    (["SET", "k", "new", "XX"], b"$-1\r\n", False),
    # writes that create the key afresh (and must not inherit the old TTL)
    (["SET", "k", "new", "NX"], b"+OK\r\n", True),
    (["SET", "k", "new", "GET"], b"$-1\r\n", True),
    (["SETNX", "k", "new"], b":1\r\n", True),
    (["MSETNX", "k", "new"], b":1\r\n", True),
    (["GETSET", "k", "new"], b"$-1\r\n", True),
    (["APPEND", "k", "ab"], b":2\r\n", True),
    (["SETRANGE", "k", "1", "x"], b":2\r\n", True),
    (["INCR", "k"], b":1\r\n", True),
    (["DECRBY", "k", "5"], b":-5\r\n", True),
    (["INCRBYFLOAT", "k", "1.5"], b"$3\r\n1.5\r\n", True),
    (["RENAME", "other", "k"], b"+OK\r\n", True),
    (["COPY", "other", "k"], b":1\r\n", True),
]


@pytest.fixture
def raw(server: ServerProcess, r: redis.Redis) -> Iterator[RawConnection]:
    """A raw connection on a flushed server whose clock `r`'s fixtures reset afterwards."""
    conn = server.raw()
    yield conn
    conn.close()


def send(conn: RawConnection, *args: str | int) -> bytes:
    return conn.request(encode_command(*args))


@pytest.mark.parametrize(
    "command, reply, exists_after", LAZY_CASES, ids=[" ".join(c[0]) for c in LAZY_CASES]
)
def test_every_command_treats_an_expired_key_as_missing(
    raw: RawConnection,
    advance_clock,
    command: list[str],
    reply: bytes,
    exists_after: bool | None,
) -> None:  # type: ignore[no-untyped-def]
    send(raw, "DEBUG", "SET-ACTIVE-EXPIRE", 0)
    send(raw, "SET", "k", "v", "PX", 100)
    send(raw, "SET", "other", "x")
    advance_clock(1000)
    assert send(raw, "DBSIZE") == b":2\r\n"  # nothing reclaimed it yet
    assert send(raw, *command) == reply
    if exists_after is None:
        assert send(raw, "EXISTS", "k") == b":0\r\n"
    elif exists_after:
        assert send(raw, "EXISTS", "k") == b":1\r\n"
        assert send(raw, "PTTL", "k") == b":-1\r\n"
    else:
        assert send(raw, "DBSIZE") == b":1\r\n"  # the lookup reclaimed it
        assert send(raw, "EXISTS", "k") == b":0\r\n"


def test_keys_hides_an_expired_key_without_reclaiming_it(raw: RawConnection, advance_clock) -> None:  # type: ignore[no-untyped-def]
    send(raw, "DEBUG", "SET-ACTIVE-EXPIRE", 0)
    send(raw, "SET", "k", "v", "PX", 100)
    advance_clock(1000)
    assert send(raw, "KEYS", "*") == b"*0\r\n"
    assert send(raw, "DBSIZE") == b":1\r\n"  # like Redis: KEYS only filters
    assert send(raw, "GET", "k") == b"$-1\r\n"
    assert send(raw, "DBSIZE") == b":0\r\n"


def test_expired_destination_of_move_does_not_block_it(
    server: ServerProcess, r: redis.Redis, advance_clock
) -> None:  # type: ignore[no-untyped-def]
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    r1 = server.client(db=1)
    try:
        r1.set("k", "old", px=100)
        r.set("k", "new")
        advance_clock(1000)
        assert r.move("k", 1) is True
        assert r1.get("k") == b"new"
        assert r1.pttl("k") == -1
    finally:
        r1.close()


def test_key_exists_until_the_clock_passes_its_time(r: redis.Redis, advance_clock) -> None:  # type: ignore[no-untyped-def]
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    r.set("k", "v", px=5000)
    advance_clock(4000)
    assert r.get("k") == b"v"
    advance_clock(1100)
    assert r.get("k") is None


def test_pttl_is_zero_in_the_last_millisecond_then_the_key_is_gone(r: redis.Redis) -> None:
    """Redis expires a key when now > its time, so at now == time PTTL is 0. The moment is hit
    by polling PTTL faster than once a millisecond; a stalled machine can skip it, so a few
    attempts are allowed, and every answer seen must be >= 0 or -2."""
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    for _attempt in range(20):
        r.set("k", "v", px=15)
        replies = []
        while True:
            ttl = r.pttl("k")
            replies.append(ttl)
            if ttl == -2:
                break
        assert all(t >= 0 for t in replies[:-1]), replies
        assert replies == [*sorted(replies[:-1], reverse=True), -2]
        if 0 in replies:
            return
    pytest.fail("never observed PTTL 0 in 20 attempts")


def test_expire_set_by_set_px_is_in_milliseconds(r: redis.Redis, advance_clock) -> None:  # type: ignore[no-untyped-def]
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    r.set("k", "v", px=1500)
    advance_clock(1400)
    assert r.exists("k") == 1
    advance_clock(200)
    assert r.exists("k") == 0


def test_expireat_in_seconds_and_pexpireat_in_milliseconds_agree(r: redis.Redis) -> None:
    r.mset({"a": 1, "b": 1})
    r.expireat("a", 99999999999)
    r.pexpireat("b", 99999999999000)
    assert r.pexpiretime("a") == r.pexpiretime("b") == 99999999999000


# -- active expiry ---------------------------------------------------------------------------------


def wait_for_dbsize(r: redis.Redis, expected: int, deadline_s: float) -> float:
    """Poll DBSIZE (which touches no key) until it reads `expected`; returns the time taken."""
    start = time.monotonic()
    while True:
        if r.dbsize() == expected:
            return time.monotonic() - start
        if time.monotonic() - start > deadline_s:
            pytest.fail(f"DBSIZE still {r.dbsize()} after {deadline_s}s, wanted {expected}")
        time.sleep(0.01)


def test_active_expiry_reclaims_untouched_keys_after_the_clock_moves(
    r: redis.Redis, advance_clock
) -> None:  # type: ignore[no-untyped-def]
    for i in range(100):
        r.set(f"k{i}", 1, px=1000)
    r.set("keeper", 1)
    advance_clock(2000)
    wait_for_dbsize(r, 1, deadline_s=2.0)
    assert r.keys() == [b"keeper"]


def test_keys_with_a_one_second_ttl_are_gone_within_two_seconds_untouched(
    r: redis.Redis,
) -> None:
    start = time.monotonic()
    for key in ("a", "b", "c"):
        r.set(key, 1, ex=1)
    elapsed = wait_for_dbsize(r, 0, deadline_s=2.0)
    assert time.monotonic() - start >= 0.9  # not before their time
    assert elapsed <= 2.0


def test_debug_set_active_expire_0_leaves_expired_keys_in_place(
    r: redis.Redis, advance_clock
) -> None:  # type: ignore[no-untyped-def]
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    for i in range(10):
        r.set(f"k{i}", 1, px=100)
    advance_clock(1000)
    deadline = time.monotonic() + 0.4  # several cron ticks at hz 10
    while time.monotonic() < deadline:
        assert r.dbsize() == 10
        time.sleep(0.02)
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
    wait_for_dbsize(r, 0, deadline_s=2.0)


def load_volatile_keys(server: ServerProcess, count: int, ttl_ms: int) -> None:
    """SET key 1 PX ttl for `count` keys, sent as raw pipelined batches (redis-py's own
    encoding would take longer than the server)."""
    sock = socket.create_connection((server.host, server.port))
    try:
        batch = 1000
        ttl = str(ttl_ms).encode()
        for start in range(0, count, batch):
            payload = b"".join(
                encode_command(b"SET", b"vol:%d" % i, b"1", b"PX", ttl)
                for i in range(start, min(count, start + batch))
            )
            sock.sendall(payload)
            expected = 5 * (min(count, start + batch) - start)
            got = 0
            while got < expected:
                chunk = sock.recv(1 << 20)
                assert chunk, "connection closed while loading"
                got += len(chunk)
    finally:
        sock.close()


@pytest.mark.slow
def test_reclaiming_200k_keys_at_once_keeps_the_server_responsive(
    server: ServerProcess, r: redis.Redis, advance_clock
) -> None:  # type: ignore[no-untyped-def]
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    load_volatile_keys(server, 200_000, ttl_ms=60_000)
    assert r.dbsize() == 200_000
    advance_clock(120_000)  # every key is now due
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
    worst = 0.0
    deadline = time.monotonic() + 60
    while True:
        before = time.perf_counter()
        assert r.ping() is True
        worst = max(worst, time.perf_counter() - before)
        left = r.dbsize()
        if left == 0:
            break
        assert time.monotonic() < deadline, f"{left} keys left after 60s"
    assert worst < 0.2, f"a PING took {worst * 1000:.0f} ms during the reclaim"
