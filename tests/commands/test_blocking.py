"""Blocking list commands with several real clients on real sockets: who is woken, when, with what.

Each client is a raw connection, so replies are checked byte for byte and a command can be sent
without waiting for its answer. A test never sleeps to let a client block: `block` sends the
command and polls CLIENT LIST until the server shows the client with the `b` flag, so the order
in which clients blocked is the order the test intends. Timeouts are the one place where real
time is the point: they are measured with a monotonic clock and bounded on both sides.
The exact bytes of the same scenarios are compared with redis-server in
tests/differential/test_blocking_diff.py; here each test states one rule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis

from tests.servers import RawConnection, ServerProcess, encode_command

NIL_ARRAY = b"*-1\r\n"
NULL3 = b"_\r\n"
UNBLOCKED = b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


def arr(*items: bytes) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(b"$%d\r\n%s\r\n" % (len(i), i) for i in items)


def bulk(item: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(item), item)


class Clients:
    """Raw connections to one server, closed at the end of the test; `admin` checks state."""

    def __init__(self, proc: ServerProcess) -> None:
        self.proc = proc
        self.open: list[RawConnection] = []
        self.closed: list[int] = []
        self.ids: dict[int, int] = {}
        self.admin = self.new()

    def new(self, resp3: bool = False, db: int = 0) -> RawConnection:
        conn = self.proc.raw()
        self.open.append(conn)
        self.ids[id(conn)] = int(conn.request(encode_command("CLIENT", "ID"))[1:-2])
        if resp3:
            conn.request(encode_command("HELLO", "3"))
        if db:
            assert conn.request(encode_command("SELECT", db)) == b"+OK\r\n"
        return conn

    def id_of(self, conn: RawConnection) -> int:
        return self.ids[id(conn)]

    def do(self, *args: str | bytes | int) -> bytes:
        return self.admin.request(encode_command(*args))

    def flags(self, conn: RawConnection) -> str | None:
        """CLIENT LIST's flags of `conn`, or None when the server no longer lists it."""
        line = self.do("CLIENT", "LIST", "ID", self.id_of(conn))
        for field in line.split(b"\r\n")[1].split():
            if field.startswith(b"flags="):
                return field[6:].decode()
        return None

    def wait_for(self, what: str, check: object, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while not check():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.002)

    def block(self, conn: RawConnection, *args: str | bytes | int) -> None:
        """Send a command that must block, and return once the server has it waiting."""
        conn.send(encode_command(*args))
        self.wait_blocked(conn)

    def wait_blocked(self, conn: RawConnection) -> None:
        self.wait_for("the client to block", lambda: "b" in (self.flags(conn) or ""))

    def is_blocked(self, conn: RawConnection) -> bool:
        return "b" in (self.flags(conn) or "")

    def close(self, conn: RawConnection) -> None:
        conn.close()
        self.open.remove(conn)
        self.closed.append(self.id_of(conn))
        self.wait_for("the server to drop the client", lambda: self.flags(conn) is None, 1)

    def close_all(self) -> None:
        # Killed through the server, not just closed: a blocked client whose disconnect the
        # server missed would stay blocked for the rest of the session.
        others = [self.id_of(conn) for conn in self.open if conn is not self.admin]
        for cid in [*self.closed, *others]:
            self.do("CLIENT", "KILL", "ID", cid)
        for conn in self.open:
            conn.close()


@pytest.fixture
def clients(server: ServerProcess, r: redis.Redis) -> Iterator[Clients]:
    """Connections to the shared damselfly, flushed by `r` first."""
    group = Clients(server)
    yield group
    group.close_all()


def nothing_pending(conn: RawConnection) -> bool:
    """True when the server sent `conn` nothing (checked with a PING round trip)."""
    return conn.request(encode_command("PING")) == b"+PONG\r\n"


# -- who is served, in which order --------------------------------------------------------------


def test_clients_blocked_on_one_key_are_served_first_blocked_first(clients: Clients) -> None:
    waiters = [clients.new() for _ in range(4)]
    for conn in waiters:
        clients.block(conn, "BLPOP", "q", 0)
    assert clients.do("RPUSH", "q", "1") == b":1\r\n"
    assert waiters[0].read_reply() == arr(b"q", b"1")
    assert all(clients.is_blocked(conn) for conn in waiters[1:])
    assert clients.do("RPUSH", "q", "2", "3", "4") == b":3\r\n"
    assert [conn.read_reply() for conn in waiters[1:]] == [
        arr(b"q", b"2"),
        arr(b"q", b"3"),
        arr(b"q", b"4"),
    ]
    assert clients.do("EXISTS", "q") == b":0\r\n"


def test_a_push_of_n_elements_serves_waiters_after_replying_the_full_length(
    clients: Clients,
) -> None:
    waiters = [clients.new() for _ in range(3)]
    for conn in waiters:
        clients.block(conn, "BRPOP", "m", 0)
    # The pusher sees the length before any waiter took its element.
    assert clients.do("LPUSH", "m", "a", "b", "c", "d", "e") == b":5\r\n"
    assert [conn.read_reply() for conn in waiters] == [
        arr(b"m", b"a"),
        arr(b"m", b"b"),
        arr(b"m", b"c"),
    ]
    assert clients.do("LRANGE", "m", 0, -1) == arr(b"e", b"d")


def test_waiters_beyond_the_pushed_elements_stay_blocked(clients: Clients) -> None:
    waiters = [clients.new() for _ in range(3)]
    for conn in waiters:
        clients.block(conn, "BLPOP", "few", 0)
    assert clients.do("RPUSH", "few", "x", "y") == b":2\r\n"
    assert waiters[0].read_reply() == arr(b"few", b"x")
    assert waiters[1].read_reply() == arr(b"few", b"y")
    assert clients.is_blocked(waiters[2])
    assert clients.do("RPUSH", "few", "z") == b":1\r\n"
    assert waiters[2].read_reply() == arr(b"few", b"z")


def test_a_client_on_several_keys_is_served_by_the_first_written_and_leaves_the_others(
    clients: Clients,
) -> None:
    multi, single = clients.new(), clients.new()
    clients.block(multi, "BLPOP", "k1", "k2", "k3", 0)
    clients.block(single, "BLPOP", "k3", 0)
    assert clients.do("RPUSH", "k2", "two") == b":1\r\n"
    assert multi.read_reply() == arr(b"k2", b"two")
    # `multi` no longer waits on k1 or k3: k1 keeps its element, k3 goes to the other waiter.
    assert clients.do("RPUSH", "k1", "one") == b":1\r\n"
    assert clients.do("RPUSH", "k3", "three") == b":1\r\n"
    assert single.read_reply() == arr(b"k3", b"three")
    assert clients.do("LRANGE", "k1", 0, -1) == arr(b"one")
    assert nothing_pending(multi)


def test_the_same_key_named_twice_serves_the_client_once(clients: Clients) -> None:
    twice, other = clients.new(), clients.new()
    clients.block(twice, "BLPOP", "dup", "dup", 0)
    clients.block(other, "BLPOP", "dup", 0)
    assert clients.do("RPUSH", "dup", "a", "b") == b":2\r\n"
    assert twice.read_reply() == arr(b"dup", b"a")
    assert other.read_reply() == arr(b"dup", b"b")


def test_a_waiter_is_served_from_the_key_written_even_when_an_earlier_key_changed_type(
    clients: Clients,
) -> None:
    waiter = clients.new()
    clients.block(waiter, "BLPOP", "turns-string", "gets-list", 0)
    assert clients.do("SET", "turns-string", "v") == b"+OK\r\n"
    assert clients.do("RPUSH", "gets-list", "x") == b":1\r\n"
    assert waiter.read_reply() == arr(b"gets-list", b"x")


def test_a_key_that_becomes_another_type_keeps_the_client_blocked(clients: Clients) -> None:
    waiter = clients.new()
    clients.block(waiter, "BLPOP", "shape", 0)
    assert clients.do("SET", "shape", "string") == b"+OK\r\n"
    assert clients.do("APPEND", "shape", "!") == b":7\r\n"
    assert clients.is_blocked(waiter)
    assert clients.do("DEL", "shape") == b":1\r\n"
    assert clients.do("RPUSH", "shape", "x") == b":1\r\n"
    assert waiter.read_reply() == arr(b"shape", b"x")


def test_blmpop_takes_up_to_count_elements_from_the_key_that_got_data(clients: Clients) -> None:
    first, second = clients.new(), clients.new()
    clients.block(first, "BLMPOP", 0, 2, "ma", "mb", "RIGHT", "COUNT", 2)
    clients.block(second, "BLMPOP", 0, 1, "mb", "LEFT", "COUNT", 5)
    assert clients.do("RPUSH", "mb", "1", "2", "3") == b":3\r\n"
    assert first.read_reply() == b"*2\r\n$2\r\nmb\r\n" + arr(b"3", b"2")
    assert second.read_reply() == b"*2\r\n$2\r\nmb\r\n" + arr(b"1")
    assert clients.do("EXISTS", "mb") == b":0\r\n"


# -- BLMOVE ---------------------------------------------------------------------------------------


def test_blmove_chains_wake_the_waiters_of_each_destination(clients: Clients) -> None:
    mover1, mover2, popper = clients.new(), clients.new(), clients.new()
    clients.block(mover1, "BLMOVE", "src", "mid", "RIGHT", "LEFT", 0)
    clients.block(mover2, "BRPOPLPUSH", "mid", "dst", 0)
    clients.block(popper, "BLPOP", "dst", 0)
    assert clients.do("RPUSH", "src", "v") == b":1\r\n"
    assert mover1.read_reply() == bulk(b"v")
    assert mover2.read_reply() == bulk(b"v")
    assert popper.read_reply() == arr(b"dst", b"v")
    assert clients.do("EXISTS", "src", "mid", "dst") == b":0\r\n"


def test_blmove_into_a_key_of_another_type_wakes_with_wrongtype_and_keeps_the_element(
    clients: Clients,
) -> None:
    mover, popper = clients.new(), clients.new()
    clients.do("SET", "dst", "string")
    clients.block(mover, "BLMOVE", "src", "dst", "LEFT", "LEFT", 0)
    clients.block(popper, "BLPOP", "src", 0)
    assert clients.do("RPUSH", "src", "x") == b":1\r\n"
    assert mover.read_reply() == WRONGTYPE
    # The element was not taken: the next waiter of the key gets it.
    assert popper.read_reply() == arr(b"src", b"x")


def test_blmove_onto_its_own_key_rotates_and_leaves_the_element_for_the_next_waiter(
    clients: Clients,
) -> None:
    rotator, popper = clients.new(), clients.new()
    clients.block(rotator, "BLMOVE", "rot", "rot", "LEFT", "RIGHT", 0)
    clients.block(popper, "BLPOP", "rot", 0)
    assert clients.do("RPUSH", "rot", "1", "2") == b":2\r\n"
    assert rotator.read_reply() == bulk(b"1")
    assert popper.read_reply() == arr(b"rot", b"2")
    assert clients.do("LRANGE", "rot", 0, -1) == arr(b"1")


# -- timeouts -------------------------------------------------------------------------------------

TIMEOUT_COMMANDS = [
    ("BLPOP", "t1", "0.1"),
    ("BRPOP", "t1", "t2", "0.1"),
    ("BLMOVE", "t1", "t2", "LEFT", "RIGHT", "0.1"),
    ("BRPOPLPUSH", "t1", "t2", "0.1"),
    ("BLMPOP", "0.1", "2", "t1", "t2", "LEFT", "COUNT", "3"),
]


@pytest.mark.parametrize(("resp3", "nil"), [(False, NIL_ARRAY), (True, NULL3)], ids=["2", "3"])
def test_fractional_timeouts_answer_nil_after_the_time_given(
    clients: Clients, resp3: bool, nil: bytes
) -> None:
    # Redis 7.0 answers a null array (`*-1`) on timeout for every blocking list command,
    # BLMOVE and BRPOPLPUSH included; RESP3 has one null.
    conns = [clients.new(resp3=resp3) for _ in TIMEOUT_COMMANDS]
    start = time.monotonic()
    for conn, argv in zip(conns, TIMEOUT_COMMANDS, strict=True):
        conn.send(encode_command(*argv))
    for conn in conns:
        assert conn.read_reply() == nil
        assert 0.1 <= time.monotonic() - start < 0.5
    assert all(nothing_pending(conn) for conn in conns)


def test_a_sub_millisecond_timeout_is_rounded_up_not_down_to_forever(clients: Clients) -> None:
    conn = clients.new()
    start = time.monotonic()
    assert conn.request(encode_command("BLPOP", "tiny", "0.0001")) == NIL_ARRAY
    assert time.monotonic() - start < 1


@pytest.mark.parametrize("timeout", ["0", "-0.0005", "0.0"])
def test_a_zero_timeout_waits_until_unblocked(clients: Clients, timeout: str) -> None:
    conn = clients.new()
    clients.block(conn, "BLPOP", "forever", timeout)
    time.sleep(0.3)  # real time passing is the point: nothing may time the client out
    assert clients.is_blocked(conn)
    assert clients.do("RPUSH", "forever", "x") == b":1\r\n"
    assert conn.read_reply() == arr(b"forever", b"x")


def test_a_served_client_gets_no_late_timeout_reply(clients: Clients) -> None:
    conn = clients.new()
    clients.block(conn, "BLPOP", "early", "0.2")
    clients.do("RPUSH", "early", "x")
    assert conn.read_reply() == arr(b"early", b"x")
    time.sleep(0.3)  # past the original deadline
    assert nothing_pending(conn)


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (("BLPOP", "k", "x"), b"-ERR timeout is not a float or out of range\r\n"),
        (("BLPOP", "k", "-1"), b"-ERR timeout is negative\r\n"),
        (("BRPOP", "k", "inf"), b"-ERR timeout is negative\r\n"),
        (("BLMOVE", "k", "d", "LEFT", "LEFT", "1e5000"), b"-ERR timeout is not a float or out "
         b"of range\r\n"),
        (("BRPOPLPUSH", "k", "d", "9223372036854775808"), b"-ERR timeout is negative\r\n"),
        (("BLMPOP", "-1", "1", "k", "LEFT"), b"-ERR timeout is negative\r\n"),
        (("BLMPOP", "x", "0", "k", "LEFT"), b"-ERR numkeys should be greater than 0\r\n"),
    ],
)  # fmt: skip
def test_bad_timeouts_are_rejected_before_blocking(
    clients: Clients, argv: tuple[str, ...], error: bytes
) -> None:
    assert clients.do(*argv) == error


# -- CLIENT UNBLOCK -------------------------------------------------------------------------------

UNBLOCK_COMMANDS = [
    ("BLPOP", "u1", "0"),
    ("BRPOP", "u1", "u2", "0"),
    ("BLMOVE", "u1", "u2", "LEFT", "RIGHT", "0"),
    ("BRPOPLPUSH", "u1", "u2", "0"),
    ("BLMPOP", "0", "1", "u1", "LEFT"),
]


@pytest.mark.parametrize("argv", UNBLOCK_COMMANDS, ids=[a[0] for a in UNBLOCK_COMMANDS])
@pytest.mark.parametrize(("resp3", "nil"), [(False, NIL_ARRAY), (True, NULL3)], ids=["2", "3"])
def test_client_unblock_timeout_answers_like_a_timeout(
    clients: Clients, argv: tuple[str, ...], resp3: bool, nil: bytes
) -> None:
    conn = clients.new(resp3=resp3)
    clients.block(conn, *argv)
    assert clients.do("CLIENT", "UNBLOCK", clients.id_of(conn), "TIMEOUT") == b":1\r\n"
    assert conn.read_reply() == nil
    assert clients.do("CLIENT", "UNBLOCK", clients.id_of(conn)) == b":0\r\n"


@pytest.mark.parametrize("argv", UNBLOCK_COMMANDS, ids=[a[0] for a in UNBLOCK_COMMANDS])
def test_client_unblock_error_answers_the_unblocked_error(
    clients: Clients, argv: tuple[str, ...]
) -> None:
    conn = clients.new()
    clients.block(conn, *argv)
    assert clients.do("CLIENT", "UNBLOCK", clients.id_of(conn), "error") == b":1\r\n"
    assert conn.read_reply() == UNBLOCKED
    # Nothing was taken and the client is no longer waiting.
    assert clients.do("RPUSH", "u1", "x") == b":1\r\n"
    assert clients.do("LLEN", "u1") == b":1\r\n"


def test_client_unblock_without_a_reason_is_a_timeout(clients: Clients) -> None:
    conn = clients.new()
    clients.block(conn, "BLPOP", "u", 0)
    assert clients.do("CLIENT", "UNBLOCK", clients.id_of(conn)) == b":1\r\n"
    assert conn.read_reply() == NIL_ARRAY


def test_unblock_errors_are_counted_in_errorstats(clients: Clients) -> None:
    clients.do("CONFIG", "RESETSTAT")
    conn = clients.new()
    clients.block(conn, "BLPOP", "u", 0)
    clients.do("CLIENT", "UNBLOCK", clients.id_of(conn), "ERROR")
    assert conn.read_reply() == UNBLOCKED
    assert b"errorstat_UNBLOCKED:count=1" in clients.do("INFO", "errorstats")
    stats = clients.do("INFO", "commandstats")
    assert b"cmdstat_blpop:calls=1," in stats
    assert b"failed_calls=1" in stats.split(b"cmdstat_blpop:")[1].split(b"\r\n")[0]


# -- pipelines ------------------------------------------------------------------------------------


def test_commands_pipelined_after_a_blocking_one_run_after_it_in_order(clients: Clients) -> None:
    conn = clients.new()
    conn.send(
        encode_command("BLPOP", "pq", 0)
        + encode_command("ECHO", "first")
        + encode_command("RPUSH", "after", "x")
        + encode_command("BLPOP", "pq", 0)
        + encode_command("ECHO", "second")
    )
    clients.wait_blocked(conn)
    assert clients.do("EXISTS", "after") == b":0\r\n"
    clients.do("RPUSH", "pq", "1")
    assert conn.read_reply() == arr(b"pq", b"1")
    assert conn.read_reply() == bulk(b"first")
    assert conn.read_reply() == b":1\r\n"
    clients.wait_blocked(conn)
    clients.do("RPUSH", "pq", "2")
    assert conn.read_reply() == arr(b"pq", b"2")
    assert conn.read_reply() == bulk(b"second")


def test_a_woken_client_runs_its_pipeline_after_every_waiter_of_the_key_is_served(
    clients: Clients,
) -> None:
    # Redis resumes unblocked clients after serving all ready keys: `first`'s second BLPOP
    # comes after `second`, which blocked before it.
    first, second = clients.new(), clients.new()
    first.send(encode_command("BLPOP", "order", 0) + encode_command("BLPOP", "order", 0))
    clients.wait_blocked(first)
    clients.block(second, "BLPOP", "order", 0)
    assert clients.do("RPUSH", "order", "1", "2", "3") == b":3\r\n"
    assert first.read_reply() == arr(b"order", b"1")
    assert second.read_reply() == arr(b"order", b"2")
    assert first.read_reply() == arr(b"order", b"3")


def test_commands_sent_while_blocked_wait_for_the_blocked_reply(clients: Clients) -> None:
    conn = clients.new()
    clients.block(conn, "BLPOP", "late", 0)
    conn.send(encode_command("ECHO", "sent-later") + encode_command("LLEN", "late"))
    time.sleep(0.05)  # let the bytes reach the server while the client is blocked
    assert clients.is_blocked(conn)
    clients.do("RPUSH", "late", "a", "b")
    assert conn.read_reply() == arr(b"late", b"a")
    assert conn.read_reply() == bulk(b"sent-later")
    assert conn.read_reply() == b":1\r\n"


# -- disconnects, databases, other writes --------------------------------------------------------


def test_a_client_that_disconnects_while_blocked_loses_nothing(clients: Clients) -> None:
    gone, next_in_line = clients.new(), clients.new()
    clients.block(gone, "BLPOP", "dq", 0)
    clients.block(next_in_line, "BLPOP", "dq", 0)
    clients.close(gone)
    assert clients.do("RPUSH", "dq", "x") == b":1\r\n"
    assert next_in_line.read_reply() == arr(b"dq", b"x")
    lonely = clients.new()
    clients.block(lonely, "BLMOVE", "dq", "dest", "LEFT", "LEFT", 0)
    clients.close(lonely)
    assert clients.do("RPUSH", "dq", "y") == b":1\r\n"
    assert clients.do("LRANGE", "dq", 0, -1) == arr(b"y")
    assert clients.do("EXISTS", "dest") == b":0\r\n"


def test_waiters_in_different_databases_do_not_wake_each_other(clients: Clients) -> None:
    in0, in1 = clients.new(db=0), clients.new(db=1)
    clients.block(in0, "BLPOP", "same", 0)
    clients.block(in1, "BLPOP", "same", 0)
    clients.do("SELECT", 1)
    assert clients.do("RPUSH", "same", "one") == b":1\r\n"
    assert in1.read_reply() == arr(b"same", b"one")
    assert clients.is_blocked(in0)
    clients.do("SELECT", 0)
    assert clients.do("RPUSH", "same", "zero") == b":1\r\n"
    assert in0.read_reply() == arr(b"same", b"zero")


def test_deletes_expiry_and_flushes_wake_nobody(clients: Clients) -> None:
    conn = clients.new()
    clients.block(conn, "BLPOP", "quiet", 0)
    clients.do("SET", "quiet", "v", "PXAT", 1)  # already expired
    clients.do("EXISTS", "quiet")
    clients.do("SET", "quiet", "v")
    clients.do("DEL", "quiet")
    clients.do("FLUSHDB")
    clients.do("FLUSHALL")
    assert clients.is_blocked(conn)
    clients.do("RPUSH", "quiet", "x")
    assert conn.read_reply() == arr(b"quiet", b"x")


@pytest.mark.parametrize(
    "bring",
    [
        [("SELECT", 1), ("RPUSH", "arrive", "x"), ("SWAPDB", 0, 1), ("SELECT", 0)],
        [("SELECT", 1), ("RPUSH", "arrive", "x"), ("MOVE", "arrive", 0), ("SELECT", 0)],
        [("RPUSH", "elsewhere", "x"), ("RENAME", "elsewhere", "arrive")],
        [("RPUSH", "elsewhere", "x"), ("COPY", "elsewhere", "arrive")],
    ],
    ids=["swapdb", "move", "rename", "copy"],
)
def test_a_list_arriving_under_the_key_wakes_the_waiter(
    clients: Clients, bring: list[tuple[str | int, ...]]
) -> None:
    conn = clients.new()
    clients.block(conn, "BLPOP", "arrive", 0)
    for argv in bring:
        reply = clients.do(*argv)
        assert not reply.startswith(b"-"), (argv, reply)
    assert conn.read_reply() == arr(b"arrive", b"x")


def test_info_counts_blocked_clients_and_those_with_a_deadline(clients: Clients) -> None:
    def counts() -> tuple[bytes, bytes]:
        info = clients.do("INFO", "clients")
        fields = dict(line.split(b":", 1) for line in info.split(b"\r\n") if b":" in line)
        return fields[b"blocked_clients"], fields[b"clients_in_timeout_table"]

    blocked, timed_out = (int(n) for n in counts())  # normally 0: other tests' leftovers
    forever, timed = clients.new(), clients.new()
    clients.block(forever, "BLPOP", "info", 0)
    clients.block(timed, "BLMOVE", "info", "x", "LEFT", "LEFT", 100)
    assert counts() == (b"%d" % (blocked + 2), b"%d" % (timed_out + 1))
    assert b"cmd=blmove" in clients.do("CLIENT", "LIST", "ID", clients.id_of(timed))
    clients.do("RPUSH", "info", "1", "2")
    forever.read_reply()
    timed.read_reply()
    assert counts() == (b"%d" % blocked, b"%d" % timed_out)


# -- through redis-py -----------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_clients_in_threads_wait_and_are_served(
    server: ServerProcess, r: redis.Redis, protocol: int
) -> None:
    results: list[object] = []

    def wait() -> None:
        client = server.client(protocol=protocol)
        try:
            results.append(client.blpop(["thread-q"], timeout=5))
        finally:
            client.close()

    thread = threading.Thread(target=wait)
    thread.start()
    deadline = time.monotonic() + 5
    while r.info("clients")["blocked_clients"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    assert r.rpush("thread-q", "payload") == 1
    thread.join(5)
    assert results in ([(b"thread-q", b"payload")], [[b"thread-q", b"payload"]])
    client = server.client(protocol=protocol)
    try:
        assert client.blpop(["empty"], timeout=0.05) is None
        assert client.blmove("empty", "d", 0.05) is None
        assert client.brpoplpush("empty", "d", 0.05) is None
    finally:
        client.close()


# -- inside MULTI or a script (no socket: the framework itself) -----------------------------------


def test_blocking_commands_answer_at_once_where_blocking_is_not_allowed() -> None:
    # MULTI/EXEC and scripts set `no_block`: Redis answers the timeout's nil at once, except
    # BLMOVE and BRPOPLPUSH, which answer a null bulk there (a null array on a real timeout).
    from damselfly.config import default_config
    from damselfly.protocol.types import NULL_ARRAY
    from damselfly.server.client import Client
    from damselfly.server.dispatch import execute
    from damselfly.server.server import Server

    srv = Server(default_config())
    client = Client(srv, 1, None)
    srv.add_client(client)
    client.extra["no_block"] = True
    assert execute(client, [b"BLPOP", b"k", b"0"]) is NULL_ARRAY
    assert execute(client, [b"BRPOP", b"k", b"1"]) is NULL_ARRAY
    assert execute(client, [b"BLMPOP", b"0", b"1", b"k", b"LEFT"]) is NULL_ARRAY
    assert execute(client, [b"BLMOVE", b"k", b"d", b"LEFT", b"LEFT", b"0"]) is None
    assert execute(client, [b"BRPOPLPUSH", b"k", b"d", b"0"]) is None
    assert client.blocked is None
    # With data they behave as usual.
    execute(client, [b"RPUSH", b"k", b"x"])
    assert execute(client, [b"BLPOP", b"k", b"0"]) == [b"k", b"x"]
    # Allowed to block, the client waits and a later write serves it.
    client.extra["no_block"] = False
    execute(client, [b"BLPOP", b"k", b"0"])
    assert client.blocked is not None
    other = Client(srv, 2, None)
    srv.add_client(other)
    execute(other, [b"RPUSH", b"k", b"y"])
    assert srv.blocking.ready
    srv.blocking.serve_ready()
    assert client.blocked is None
    assert execute(other, [b"EXISTS", b"k"]) == 0
