"""MULTI, EXEC, DISCARD, WATCH and UNWATCH through redis-py, plus raw connections and an
in-process server where a rule can only be seen that way.

Each test states one rule: what is queued and what runs at once, which errors abort EXEC and which
stay in place, what makes a watched key dirty (writes from anyone, flushes, SWAPDB, RENAME, MOVE,
COPY, expiry) and what does not (reads, failed writes, another database), what ends a transaction
and its watches, and that blocking commands inside EXEC answer at once. Expiry moves the server's
clock (`advance_clock`), never sleeps. Byte-exact comparisons with redis-server are in
tests/differential/test_transactions_diff.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.helpers import error_is
from tests.servers import RawConnection, ServerProcess, encode_command

EXECABORT = "Transaction discarded because of previous errors."


@pytest.fixture
def other(server: ServerProcess) -> Iterator[redis.Redis]:
    """A second connection to the same (already flushed) server."""
    client = server.client(protocol=2)
    yield client
    client.close()


@pytest.fixture
def raw(server: ServerProcess, r: redis.Redis) -> Iterator[RawConnection]:
    conn = server.raw()
    yield conn
    conn.close()


def req(conn: RawConnection, *args: Any) -> bytes:
    return conn.request(encode_command(*args))


# -- queueing and EXEC -----------------------------------------------------------------------------


def test_exec_runs_queued_commands_in_order_and_returns_each_reply(rp: redis.Redis) -> None:
    with rp.pipeline(transaction=True) as p:
        p.set("k", "1").incr("k").rpush("l", "a", "b").lrange("l", 0, -1).get("k")
        assert p.execute() == [True, 2, 2, [b"a", b"b"], b"2"]


def test_commands_inside_multi_are_queued_not_run(raw: RawConnection, r: redis.Redis) -> None:
    assert req(raw, "MULTI") == b"+OK\r\n"
    assert req(raw, "SET", "k", "v") == b"+QUEUED\r\n"
    assert r.get("k") is None
    assert req(raw, "EXEC") == b"*1\r\n+OK\r\n"
    assert r.get("k") == b"v"


def test_empty_transaction_returns_empty_array(raw: RawConnection) -> None:
    assert req(raw, "MULTI") == b"+OK\r\n"
    assert req(raw, "EXEC") == b"*0\r\n"


def test_runtime_error_stays_in_place_and_the_rest_runs(rp: redis.Redis) -> None:
    rp.set("s", "abc")
    with rp.pipeline(transaction=True) as p:
        p.incr("s").set("after", "yes").lpush("s", "x").get("after")
        replies = p.execute(raise_on_error=False)
    assert isinstance(replies[0], redis.ResponseError)
    assert str(replies[0]) == "value is not an integer or out of range"
    assert replies[1] is True
    assert isinstance(replies[2], redis.ResponseError)
    assert str(replies[2]).startswith("WRONGTYPE Operation against a key")
    assert replies[3] == b"yes"


@pytest.mark.parametrize(
    "bad, reply",
    [
        (
            ("NOSUCHCMD", "x"),
            b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' \r\n",
        ),
        (("GET",), b"-ERR wrong number of arguments for 'get' command\r\n"),
        (("CLIENT", "NOPE"), b"-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n"),
    ],
    ids=["unknown", "arity", "subcommand"],
)
def test_command_rejected_before_queueing_makes_exec_abort(
    raw: RawConnection, r: redis.Redis, bad: tuple[str, ...], reply: bytes
) -> None:
    req(raw, "MULTI")
    assert req(raw, "SET", "k", "1") == b"+QUEUED\r\n"
    assert req(raw, *bad) == reply
    assert req(raw, "SET", "k2", "1") == b"+QUEUED\r\n"
    assert req(raw, "EXEC") == b"-EXECABORT " + EXECABORT.encode() + b"\r\n"
    assert r.exists("k", "k2") == 0
    # The transaction is over: the connection is back to normal.
    assert req(raw, "EXEC") == b"-ERR EXEC without MULTI\r\n"
    assert req(raw, "SET", "k", "1") == b"+OK\r\n"


def test_execabort_counts_as_failed_exec_in_commandstats(
    raw: RawConnection, r: redis.Redis
) -> None:
    req(raw, "MULTI")
    req(raw, "NOSUCHCMD")
    req(raw, "EXEC")
    stats = r.info("commandstats")["cmdstat_exec"]
    assert stats["calls"] == 1 and stats["failed_calls"] == 1
    assert r.info("errorstats")["errorstat_EXECABORT"]["count"] == 1


def test_nested_multi_is_an_error_that_does_not_abort(raw: RawConnection, r: redis.Redis) -> None:
    req(raw, "MULTI")
    assert req(raw, "MULTI") == b"-ERR MULTI calls can not be nested\r\n"
    req(raw, "SET", "k", "v")
    assert req(raw, "EXEC") == b"*1\r\n+OK\r\n"


def test_watch_inside_multi_is_an_error_that_does_not_abort(raw: RawConnection) -> None:
    req(raw, "MULTI")
    assert req(raw, "WATCH", "k") == b"-ERR WATCH inside MULTI is not allowed\r\n"
    req(raw, "SET", "k", "v")
    assert req(raw, "EXEC") == b"*1\r\n+OK\r\n"


def test_exec_and_discard_without_multi_are_errors(r: redis.Redis) -> None:
    with error_is("EXEC without MULTI"):
        r.execute_command("EXEC")
    with error_is("DISCARD without MULTI"):
        r.execute_command("DISCARD")


def test_discard_drops_the_queue(raw: RawConnection, r: redis.Redis) -> None:
    req(raw, "MULTI")
    req(raw, "SET", "k", "v")
    assert req(raw, "DISCARD") == b"+OK\r\n"
    assert r.get("k") is None
    assert req(raw, "GET", "k") == b"$-1\r\n"


def test_select_inside_multi_lasts_after_exec(raw: RawConnection, r: redis.Redis) -> None:
    req(raw, "MULTI")
    req(raw, "SELECT", "1")
    req(raw, "SET", "k", "in1")
    assert req(raw, "EXEC") == b"*2\r\n+OK\r\n+OK\r\n"
    assert req(raw, "GET", "k") == b"$3\r\nin1\r\n"
    assert r.get("k") is None


def test_resp3_replies_keep_their_shapes_inside_exec(server: ServerProcess, r: redis.Redis) -> None:
    conn = server.raw()
    try:
        req(conn, "HELLO", "3")
        req(conn, "MULTI")
        req(conn, "CONFIG", "GET", "maxmemory")
        req(conn, "GET", "nokey")
        req(conn, "INCRBYFLOAT", "f", "1.5")
        expected = b"*3\r\n%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n_\r\n$3\r\n1.5\r\n"
        assert req(conn, "EXEC") == expected
    finally:
        conn.close()


def test_hello_inside_multi_switches_protocol_for_later_replies(raw: RawConnection) -> None:
    req(raw, "MULTI")
    req(raw, "HELLO", "3")
    req(raw, "GET", "nokey")
    reply = req(raw, "EXEC")
    # The array header was written in RESP2, the replies after HELLO 3 in RESP3.
    assert reply.startswith(b"*2\r\n%7\r\n")
    assert reply.endswith(b"_\r\n")


def test_time_is_frozen_for_the_whole_exec(server: ServerProcess, r: redis.Redis) -> None:
    # DEBUG SET-CLOCK-OFFSET resets the frozen time itself, so this uses an in-process server
    # whose clock moves 100 ms every time it is read.
    from damselfly.clock import Clock
    from damselfly.config import default_config
    from damselfly.server.client import Client
    from damselfly.server.dispatch import execute
    from damselfly.server.server import Server

    class TickingClock(Clock):
        __slots__ = ("now",)

        def __init__(self) -> None:
            super().__init__()
            self.now = 1_000_000

        def now_ms(self) -> int:
            self.now += 100
            return self.now

    srv = Server(default_config(), clock=TickingClock())
    client = Client(srv, 1, None)
    srv.add_client(client)
    execute(client, [b"MULTI"])
    execute(client, [b"SET", b"k", b"v", b"PX", b"50"])
    execute(client, [b"GET", b"k"])
    execute(client, [b"GET", b"k"])
    assert execute(client, [b"EXEC"]) == ["OK", b"v", b"v"]
    assert srv.time_frozen is False
    assert "no_block" not in client.extra
    # Outside EXEC each command reads the clock again: the key is gone now.
    assert execute(client, [b"GET", b"k"]) is None


# -- blocking commands inside EXEC -----------------------------------------------------------------


def test_blocking_pops_inside_exec_answer_at_once(rp: redis.Redis) -> None:
    started = time.monotonic()
    with rp.pipeline(transaction=True) as p:
        p.blpop(["nol"], 0).brpop(["nol"], 0).blmove("nol", "d", 0, "LEFT", "LEFT")
        p.brpoplpush("nol", "d", 0).blmpop(0, 1, "nol", direction="LEFT")
        assert p.execute() == [None, None, None, None, None]
    assert time.monotonic() - started < 2


def test_blocking_pops_inside_exec_take_data_queued_before_them(rp: redis.Redis) -> None:
    with rp.pipeline(transaction=True) as p:
        p.rpush("l", "a", "b", "c").blpop(["l"], 0).blmove("l", "d", 0, "RIGHT", "LEFT")
        p.blmpop(0, 1, "l", direction="LEFT", count=5)
        replies = p.execute()
    # redis-py gives BLPOP's pair as a tuple in RESP2, a list in RESP3.
    assert [list(x) if isinstance(x, tuple) else x for x in replies] == [
        3,
        [b"l", b"a"],
        b"c",
        [b"l", [b"b"]],
    ]


def test_blocking_pop_after_exec_blocks_again(raw: RawConnection, r: redis.Redis) -> None:
    req(raw, "MULTI")
    req(raw, "BLPOP", "nol", "0")
    assert req(raw, "EXEC") == b"*1\r\n*-1\r\n"
    raw.send(encode_command("BLPOP", "nol", "0"))
    deadline = time.monotonic() + 5
    while "b" not in _flags_of(r, "blpop"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    r.rpush("nol", "x")
    assert raw.read_reply() == b"*2\r\n$3\r\nnol\r\n$1\r\nx\r\n"


def _flags_of(r: redis.Redis, cmd: str) -> str:
    for client in r.client_list():
        if client["cmd"] == cmd:
            return str(client["flags"])
    return ""


# -- WATCH ---------------------------------------------------------------------------------------


def _watched_transaction(r: redis.Redis, key: str, meddle: Any) -> bool:
    """WATCH key, let `meddle()` run, then MULTI/SET/EXEC: did EXEC run the transaction?"""
    with r.pipeline(transaction=True) as p:
        p.watch(key)
        meddle()
        p.multi()
        p.set("result", "done")
        try:
            p.execute()
        except redis.WatchError:
            return False
    return True


def test_unchanged_watched_key_lets_exec_run(r: redis.Redis, other: redis.Redis) -> None:
    r.set("k", "1")
    assert _watched_transaction(r, "k", lambda: other.get("k"))
    assert r.get("result") == b"done"


def test_write_by_another_client_fails_exec(r: redis.Redis, other: redis.Redis) -> None:
    r.set("k", "1")
    assert not _watched_transaction(r, "k", lambda: other.set("k", "1"))
    assert r.get("result") is None


def test_write_by_the_watching_client_itself_fails_exec(raw: RawConnection) -> None:
    req(raw, "WATCH", "k")
    req(raw, "SET", "k", "mine")
    req(raw, "MULTI")
    req(raw, "PING")
    assert req(raw, "EXEC") == b"*-1\r\n"


def test_failed_exec_answers_null_in_resp3(server: ServerProcess, r: redis.Redis) -> None:
    conn = server.raw()
    try:
        req(conn, "HELLO", "3")
        req(conn, "WATCH", "k")
        r.set("k", "x")
        req(conn, "MULTI")
        req(conn, "PING")
        assert req(conn, "EXEC") == b"_\r\n"
    finally:
        conn.close()


def test_creating_a_missing_watched_key_fails_exec(r: redis.Redis, other: redis.Redis) -> None:
    assert not _watched_transaction(r, "k", lambda: other.lpush("k", "x"))


@pytest.mark.parametrize(
    "meddle",
    [
        lambda o: o.delete("nokey"),
        lambda o: o.expire("nokey", 10),
        lambda o: o.get("nokey"),
    ],
    ids=["del-missing", "expire-missing", "read"],
)
def test_no_op_writes_and_reads_leave_the_watch_clean(
    r: redis.Redis, other: redis.Redis, meddle: Any
) -> None:
    assert _watched_transaction(r, "nokey", lambda: meddle(other))


def test_failed_write_leaves_the_watch_clean(r: redis.Redis, other: redis.Redis) -> None:
    r.set("s", "v")

    def wrong_type() -> None:
        with pytest.raises(redis.ResponseError):
            other.lpush("s", "x")

    assert _watched_transaction(r, "s", wrong_type)


def test_watch_is_per_database(r: redis.Redis, server: ServerProcess) -> None:
    db1 = server.client(protocol=2, db=1)
    try:
        assert _watched_transaction(r, "k", lambda: db1.set("k", "in db 1"))
    finally:
        db1.close()


def test_flushall_fails_exec_when_the_watched_key_existed(
    r: redis.Redis, other: redis.Redis
) -> None:
    r.set("k", "1")
    assert not _watched_transaction(r, "k", other.flushall)


def test_flushall_leaves_a_watch_on_a_missing_key_clean(r: redis.Redis, other: redis.Redis) -> None:
    r.set("unrelated", "1")
    assert _watched_transaction(r, "k", other.flushall)


def test_flushdb_of_another_database_leaves_the_watch_clean(
    r: redis.Redis, server: ServerProcess
) -> None:
    r.set("k", "1")
    db1 = server.client(protocol=2, db=1)
    try:
        db1.set("k", "1")
        assert _watched_transaction(r, "k", db1.flushdb)
    finally:
        db1.close()


def test_swapdb_fails_exec_when_either_side_has_the_key(
    r: redis.Redis, server: ServerProcess
) -> None:
    db1 = server.client(protocol=2, db=1)
    try:
        db1.set("k", "in db 1")
        assert not _watched_transaction(r, "k", lambda: r.swapdb(0, 1))
    finally:
        db1.close()


@pytest.mark.parametrize(
    "watched, meddle",
    [
        ("dst", lambda o: o.rename("src", "dst")),
        ("src", lambda o: o.rename("src", "dst")),
        ("src", lambda o: o.move("src", 1)),
        ("dst", lambda o: o.copy("src", "dst")),
    ],
    ids=["rename-target", "rename-source", "move", "copy-target"],
)
def test_key_moving_commands_fail_exec(
    r: redis.Redis, other: redis.Redis, watched: str, meddle: Any
) -> None:
    r.set("src", "v")
    assert not _watched_transaction(r, watched, lambda: meddle(other))


def test_watched_key_that_expires_before_exec_fails_it(r: redis.Redis, advance_clock: Any) -> None:
    r.set("k", "v", px=1000)
    assert not _watched_transaction(r, "k", lambda: advance_clock(2000))


def test_watched_key_that_expires_and_is_deleted_before_exec_fails_it(
    r: redis.Redis, other: redis.Redis, advance_clock: Any
) -> None:
    r.set("k", "v", px=1000)

    def expire_and_read() -> None:
        advance_clock(2000)
        assert other.get("k") is None  # lazy expiry deletes it

    assert not _watched_transaction(r, "k", expire_and_read)


def test_key_already_expired_when_watched_is_no_change_when_deleted(
    r: redis.Redis, other: redis.Redis, advance_clock: Any
) -> None:
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    r.set("k", "v", px=1000)
    advance_clock(2000)
    # WATCH does not delete the stale key; reading it later does, which changes nothing.
    assert _watched_transaction(r, "k", lambda: other.get("k"))
    r.set("k", "v", px=1000)
    advance_clock(4000)
    # But writing it again is a change.
    assert not _watched_transaction(r, "k", lambda: other.set("k", "new"))


def test_unwatch_forgets_keys_and_clears_dirtiness(raw: RawConnection, r: redis.Redis) -> None:
    req(raw, "WATCH", "k")
    r.set("k", "1")
    assert req(raw, "UNWATCH") == b"+OK\r\n"
    req(raw, "MULTI")
    req(raw, "PING")
    assert req(raw, "EXEC") == b"*1\r\n+PONG\r\n"


@pytest.mark.parametrize("end", [("EXEC",), ("DISCARD",)])
def test_exec_and_discard_end_the_watches(
    raw: RawConnection, r: redis.Redis, end: tuple[str]
) -> None:
    req(raw, "WATCH", "k")
    req(raw, "MULTI")
    req(raw, *end)
    r.set("k", "changed after")
    req(raw, "MULTI")
    req(raw, "PING")
    assert req(raw, "EXEC") == b"*1\r\n+PONG\r\n"


def test_discard_clears_a_dirty_watch(raw: RawConnection, r: redis.Redis) -> None:
    req(raw, "WATCH", "k")
    r.set("k", "1")
    req(raw, "MULTI")
    req(raw, "DISCARD")
    req(raw, "MULTI")
    req(raw, "PING")
    assert req(raw, "EXEC") == b"*1\r\n+PONG\r\n"


def test_reset_ends_multi_and_watches(raw: RawConnection, r: redis.Redis) -> None:
    req(raw, "WATCH", "k")
    r.set("k", "1")
    req(raw, "MULTI")
    req(raw, "SET", "x", "1")
    assert req(raw, "RESET") == b"+RESET\r\n"
    assert req(raw, "EXEC") == b"-ERR EXEC without MULTI\r\n"
    req(raw, "MULTI")
    req(raw, "PING")
    assert req(raw, "EXEC") == b"*1\r\n+PONG\r\n"
    assert r.get("x") is None


def test_watch_after_dirty_keeps_exec_failing(raw: RawConnection, r: redis.Redis) -> None:
    req(raw, "WATCH", "a")
    r.set("a", "1")
    assert req(raw, "WATCH", "b") == b"+OK\r\n"
    req(raw, "MULTI")
    req(raw, "PING")
    assert req(raw, "EXEC") == b"*-1\r\n"


def test_client_list_shows_multi_and_dirty_flags(raw: RawConnection, r: redis.Redis) -> None:
    req(raw, "CLIENT", "SETNAME", "txn")
    req(raw, "WATCH", "k")
    r.set("k", "1")
    req(raw, "MULTI")
    req(raw, "SET", "a", "1")
    (entry,) = [c for c in r.client_list() if c["name"] == "txn"]
    assert entry["flags"] == "xd"
    # Like Redis, a transaction bound to fail keeps nothing queued.
    assert entry["multi"] == "0"
    assert entry["cmd"] == "set"
    req(raw, "DISCARD")
    req(raw, "MULTI")
    req(raw, "SET", "a", "1")
    req(raw, "GET", "a")
    (entry,) = [c for c in r.client_list() if c["name"] == "txn"]
    assert entry["flags"] == "x"
    assert entry["multi"] == "2"


def test_watches_of_many_clients_are_independent(server: ServerProcess, r: redis.Redis) -> None:
    conns = [server.raw() for _ in range(3)]
    try:
        for i, conn in enumerate(conns):
            req(conn, "WATCH", f"k{i}", "shared")
        r.set("k1", "x")
        results = []
        for conn in conns:
            req(conn, "MULTI")
            req(conn, "PING")
            results.append(req(conn, "EXEC"))
        assert results == [b"*1\r\n+PONG\r\n", b"*-1\r\n", b"*1\r\n+PONG\r\n"]
    finally:
        for conn in conns:
            conn.close()


# -- interplay with other connection state ---------------------------------------------------------


def test_multi_in_resp2_subscriber_context_is_refused(raw: RawConnection) -> None:
    req(raw, "SUBSCRIBE", "ch")
    assert req(raw, "MULTI").startswith(b"-ERR Can't execute 'multi': only (P|S)SUBSCRIBE")
    assert req(raw, "RESET") == b"+RESET\r\n"


def test_commands_after_subscribe_inside_exec_still_run(raw: RawConnection, r: redis.Redis) -> None:
    r.set("k", "v")
    req(raw, "MULTI")
    req(raw, "SUBSCRIBE", "ch")
    req(raw, "GET", "k")
    assert req(raw, "EXEC") == (b"*2\r\n*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n$1\r\nv\r\n")
    req(raw, "RESET")


def test_exec_with_a_write_waits_for_client_pause_write(
    server: ServerProcess, r: redis.Redis
) -> None:
    reader, writer = server.raw(), server.raw()
    try:
        req(reader, "MULTI")
        req(reader, "GET", "k")
        req(writer, "MULTI")
        req(writer, "SET", "k", "v")
        r.execute_command("CLIENT", "PAUSE", 10000, "WRITE")
        try:
            # A read-only transaction runs during the pause; one with a write is held back.
            assert req(reader, "EXEC") == b"*1\r\n$-1\r\n"
            writer.send(encode_command("EXEC"))
            with pytest.raises(TimeoutError):
                writer.read_reply(timeout=0.2)
        finally:
            r.execute_command("CLIENT", "UNPAUSE")
        assert writer.read_reply() == b"*1\r\n+OK\r\n"
    finally:
        reader.close()
        writer.close()


def test_monitor_shows_queued_commands_before_exec(
    server: ServerProcess, raw: RawConnection
) -> None:
    monitor = server.raw()
    try:
        assert req(monitor, "MONITOR") == b"+OK\r\n"
        for command in (("MULTI",), ("SET", "k", "v"), ("EXEC",), ("PING",)):
            req(raw, *command)
        lines = [monitor.read_reply().split(b"] ", 1)[1] for _ in range(4)]
        assert lines == [b'"MULTI"\r\n', b'"SET" "k" "v"\r\n', b'"EXEC"\r\n', b'"PING"\r\n']
    finally:
        monitor.close()


# -- in-process: watch bookkeeping -------------------------------------------------------------


def test_watch_listener_is_registered_only_while_keys_are_watched() -> None:
    from damselfly.commands.transactions import watches
    from damselfly.config import default_config
    from damselfly.server.client import Client
    from damselfly.server.dispatch import execute
    from damselfly.server.server import Server

    srv = Server(default_config())
    a, b = Client(srv, 1, None), Client(srv, 2, None)
    srv.add_client(a)
    srv.add_client(b)
    listeners = list(srv.key_listeners)
    execute(a, [b"WATCH", b"k", b"j"])
    execute(b, [b"WATCH", b"k"])
    registry = watches(srv)
    assert registry.key_written in srv.key_listeners
    assert set(registry.keys[(srv.dbs[0], b"k")]) == {a, b}
    execute(a, [b"UNWATCH"])
    assert (srv.dbs[0], b"j") not in registry.keys
    srv.remove_client(b)  # a disconnection forgets its watches
    assert registry.keys == {}
    assert srv.key_listeners == listeners
    # Without a connection EXEC returns its replies as one array.
    execute(a, [b"MULTI"])
    execute(a, [b"SET", b"k", b"v"])
    execute(a, [b"GET", b"k"])
    assert execute(a, [b"EXEC"]) == ["OK", b"v"]


def test_no_multi_command_is_refused_inside_multi_and_aborts_exec() -> None:
    # In process, so that a regression cannot shut the shared test server down.
    from damselfly.config import default_config
    from damselfly.protocol.types import ErrorReply
    from damselfly.server.client import Client
    from damselfly.server.dispatch import execute
    from damselfly.server.server import Server

    srv = Server(default_config())
    client = Client(srv, 1, None)
    srv.add_client(client)
    execute(client, [b"MULTI"])
    reply = execute(client, [b"SHUTDOWN", b"NOSAVE"])
    assert reply == ErrorReply("ERR Command not allowed inside a transaction")
    assert not srv.shutting_down
    assert srv.commands[b"shutdown"].rejected_calls == 1
    assert execute(client, [b"EXEC"]) == ErrorReply(
        "EXECABORT Transaction discarded because of previous errors."
    )


def test_exec_refused_for_an_unauthenticated_client_says_why() -> None:
    from damselfly.config import default_config
    from damselfly.protocol.types import ErrorReply
    from damselfly.server.client import Client
    from damselfly.server.dispatch import execute
    from damselfly.server.server import Server

    config = default_config()
    config.set("requirepass", "secret")
    srv = Server(config)
    client = Client(srv, 1, None)
    srv.add_client(client)
    assert execute(client, [b"EXEC"]) == ErrorReply(
        "EXECABORT Transaction discarded because of: NOAUTH Authentication required."
    )
    assert execute(client, [b"MULTI"]) == ErrorReply("NOAUTH Authentication required.")
