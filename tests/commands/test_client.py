"""CLIENT subcommands through redis-py and raw sockets: ids, names, CLIENT LIST/INFO lines, KILL
filters, REPLY modes, PAUSE/UNPAUSE timing, the 7.2 additions (SETINFO, NO-TOUCH) and the
client-side-caching subcommands damselfly answers without implementing tracking.

These tests kill and pause clients, so they run on a server of their own (`own`), never on the
shared one other test modules use.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from tests.servers import RawConnection, ServerProcess, encode_command, start_damselfly

FIELDS_70 = [
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
]
LINE = re.compile(
    r"id=\d+ addr=\S+:\d+ laddr=\S+:\d+ fd=\d+ name=\S* age=\d+ idle=\d+ flags=[A-Za-z]+ "
    r"db=\d+ sub=\d+ psub=\d+ ssub=\d+ multi=-?\d+ qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ "
    r"multi-mem=\d+ rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=r?w? "
    r"cmd=\S+ user=\S+ redir=-?\d+ resp=[23]"
)


@pytest.fixture(scope="module")
def own() -> Iterator[ServerProcess]:
    proc = start_damselfly()
    yield proc
    proc.stop()


@pytest.fixture
def c(own: ServerProcess) -> Iterator[redis.Redis]:
    client = own.client(decode_responses=True)
    client.flushall()
    yield client
    client.close()


def raw_request(conn: RawConnection, *args: str | int) -> bytes:
    return conn.request(encode_command(*args))


def fields(line: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in line.split(" "))


def client_line(conn: RawConnection) -> dict[str, str]:
    reply = raw_request(conn, "CLIENT", "INFO")
    return fields(reply.split(b"\r\n")[1].decode().rstrip("\n"))


# -- ID, SETNAME, GETNAME ----------------------------------------------------------------------


def test_client_ids_are_unique_and_increase(own: ServerProcess) -> None:
    conns = [own.raw() for _ in range(3)]
    ids = [int(raw_request(conn, "CLIENT", "ID")[1:-2]) for conn in conns]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [int(client_line(conn)["id"]) for conn in conns] == ids
    for conn in conns:
        conn.close()


def test_setname_getname_and_empty_name_clears(c: redis.Redis) -> None:
    assert c.client_getname() is None
    assert c.client_setname("worker-1") is True
    assert c.client_getname() == "worker-1"
    assert "name=worker-1 " in c.execute_command("CLIENT", "INFO")
    c.client_setname("")
    assert c.client_getname() is None


@pytest.mark.parametrize("bad", ["a b", "a\nb", "tab\there", "é", "\x7f", "\x00"])
def test_setname_rejects_spaces_and_special_characters(c: redis.Redis, bad: str) -> None:
    c.client_setname("kept")
    with pytest.raises(
        redis.ResponseError, match=r"^Client names cannot contain spaces, newlines or special"
    ):
        c.client_setname(bad)
    assert c.client_getname() == "kept"


# -- LIST and INFO -------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 3])
def test_client_list_lines_have_redis_70_fields_in_order(own: ServerProcess, protocol: int) -> None:
    conn = own.raw()
    if protocol == 3:
        raw_request(conn, "HELLO", "3")
    reply = raw_request(conn, "CLIENT", "LIST")
    header, body = reply.split(b"\r\n", 1)
    # A bulk string in RESP2, a verbatim "txt" string in RESP3, like Redis.
    assert header[:1] == (b"=" if protocol == 3 else b"$")
    text = body[:-2].decode()
    if protocol == 3:
        assert text.startswith("txt:")
        text = text[4:]
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    for line in lines:
        assert LINE.fullmatch(line), line
        assert [item.split("=", 1)[0] for item in line.split(" ")] == FIELDS_70
    mine = [fields(line) for line in lines if fields(line)["cmd"] == "client|list"]
    assert len(mine) == 1 and mine[0]["resp"] == str(protocol)
    conn.close()


def test_client_info_describes_the_calling_connection(own: ServerProcess) -> None:
    conn = own.raw()
    raw_request(conn, "SELECT", "4")
    raw_request(conn, "CLIENT", "SETNAME", "infotest")
    info = client_line(conn)
    assert info["name"] == "infotest"
    assert info["db"] == "4"
    assert info["flags"] == "N"
    assert info["cmd"] == "client|info"
    assert info["multi"] == "-1"
    assert info["user"] == "default"
    assert info["redir"] == "-1"
    assert info["argv-mem"] == "10"  # "client" + "info"
    assert info["qbuf"] == "26"  # the request itself, as Redis counts it
    assert info["addr"] == "%s:%d" % conn.sock.getsockname()
    assert info["laddr"] == "%s:%d" % conn.sock.getpeername()
    conn.close()


def test_client_list_shows_other_clients_last_command(own: ServerProcess) -> None:
    a, b = own.raw(), own.raw()
    b_id = raw_request(b, "CLIENT", "ID")[1:-2].decode()
    raw_request(b, "SET", "lastcmd", "1")
    reply = raw_request(a, "CLIENT", "LIST", "ID", b_id).split(b"\r\n")[1].decode()
    assert fields(reply.rstrip("\n"))["cmd"] == "set"
    fresh = own.raw()
    time.sleep(0.05)  # let the server accept it
    listing = raw_request(a, "CLIENT", "LIST").decode()
    assert "cmd=NULL " in listing
    for conn in (a, b, fresh):
        conn.close()


def test_client_list_id_keeps_argument_order_and_repeats(own: ServerProcess) -> None:
    a, b, d = own.raw(), own.raw(), own.raw()
    ids = [raw_request(x, "CLIENT", "ID")[1:-2].decode() for x in (a, b, d)]
    reply = raw_request(a, "CLIENT", "LIST", "ID", ids[2], ids[1], ids[2], "999999")
    listed = [fields(line)["id"] for line in reply.split(b"\r\n")[1].decode().split("\n") if line]
    assert listed == [ids[2], ids[1], ids[2]]
    for conn in (a, b, d):
        conn.close()


def test_client_list_type_filters(c: redis.Redis) -> None:
    normal = c.execute_command("CLIENT", "LIST", "TYPE", "normal")
    assert "cmd=client|list" in normal
    for kind in ("pubsub", "master", "replica", "slave"):
        assert c.execute_command("CLIENT", "LIST", "TYPE", kind) == ""
    with pytest.raises(redis.ResponseError, match=r"^Unknown client type 'bogus'$"):
        c.execute_command("CLIENT", "LIST", "TYPE", "bogus")
    with pytest.raises(redis.ResponseError, match=r"^Invalid client ID$"):
        c.execute_command("CLIENT", "LIST", "ID", "1", "x")
    with pytest.raises(redis.ResponseError, match=r"^syntax error$"):
        c.execute_command("CLIENT", "LIST", "TYPE", "normal", "ID", "1")


# -- KILL ----------------------------------------------------------------------------------------


def test_kill_old_form_closes_the_client_at_that_address(own: ServerProcess) -> None:
    killer, victim = own.raw(), own.raw()
    addr = client_line(victim)["addr"]
    assert raw_request(killer, "CLIENT", "KILL", addr) == b"+OK\r\n"
    assert victim.read_all_until_close() == b""
    assert raw_request(killer, "CLIENT", "KILL", addr) == b"-ERR No such client\r\n"
    killer.close()


def test_kill_by_id_removes_the_client_from_the_list_at_once(own: ServerProcess) -> None:
    killer, victim = own.raw(), own.raw()
    victim_id = client_line(victim)["id"]
    # Same pipeline: the killed client must already be gone for the CLIENT LIST after KILL.
    killer.send(
        encode_command("CLIENT", "KILL", "ID", victim_id)
        + encode_command("CLIENT", "LIST", "ID", victim_id)
    )
    assert killer.read_reply() == b":1\r\n"
    assert killer.read_reply() == b"$0\r\n\r\n"
    assert victim.read_all_until_close() == b""
    assert raw_request(killer, "CLIENT", "KILL", "ID", victim_id) == b":0\r\n"
    killer.close()


def test_kill_filters_combine_and_skipme_spares_the_caller(own: ServerProcess) -> None:
    killer = own.raw()
    others = [own.raw() for _ in range(3)]
    for other in others:
        raw_request(other, "PING")
    laddr = client_line(killer)["laddr"]
    # All filters must match: a wrong ADDR alongside the right LADDR kills nobody.
    assert raw_request(killer, "CLIENT", "KILL", "LADDR", laddr, "ADDR", "10.0.0.1:1") == b":0\r\n"
    killed = raw_request(killer, "CLIENT", "KILL", "TYPE", "normal", "USER", "default")
    assert int(killed[1:-2]) >= 3
    for other in others:
        assert other.read_all_until_close() == b""
    assert raw_request(killer, "PING") == b"+PONG\r\n"
    killer.close()


def test_kill_of_self_replies_then_closes_without_running_the_rest(own: ServerProcess) -> None:
    conn = own.raw()
    my_id = client_line(conn)["id"]
    conn.send(
        encode_command("CLIENT", "KILL", "ID", my_id, "SKIPME", "no")
        + encode_command("SET", "after-self-kill", "1")
    )
    assert conn.read_all_until_close() == b":1\r\n"
    check = own.raw()
    assert raw_request(check, "EXISTS", "after-self-kill") == b":0\r\n"
    check.close()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["ID", "0"], "client-id should be greater than 0"),
        (["ID", "abc"], "client-id should be greater than 0"),
        (["TYPE", "nope"], "Unknown client type 'nope'"),
        (["USER", "nobody"], "No such user 'nobody'"),
        (["SKIPME", "maybe"], "syntax error"),
        (["MAXAGE", "5"], "syntax error"),
        (["ID", "1", "TYPE"], "syntax error"),
    ],
)
def test_kill_filter_errors(c: redis.Redis, args: list[str], error: str) -> None:
    with pytest.raises(redis.ResponseError, match=f"^{re.escape(error)}$"):
        c.execute_command("CLIENT", "KILL", *args)


# -- SETINFO, NO-EVICT, NO-TOUCH -----------------------------------------------------------------


def test_redis_py_handshake_with_setinfo_is_accepted(own: ServerProcess) -> None:
    # redis-py sends CLIENT SETINFO LIB-NAME/LIB-VER on connect; the server must take it.
    client = own.client()
    assert client.ping() is True
    assert client.execute_command("CLIENT", "SETINFO", "LIB-NAME", "my-lib") == b"OK"
    assert client.execute_command("CLIENT", "SETINFO", "lib-ver", "1.2.3") == b"OK"
    assert client.execute_command("CLIENT", "SETINFO", "LIB-VER", "") == b"OK"
    client.close()


def test_setinfo_validates_attribute_and_value(c: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match=r"^Unrecognized option 'lib-foo'$"):
        c.execute_command("CLIENT", "SETINFO", "lib-foo", "x")
    with pytest.raises(
        redis.ResponseError,
        match=r"^LIB-NAME cannot contain spaces, newlines or special characters\.$",
    ):
        c.execute_command("CLIENT", "SETINFO", "LIB-NAME", "two words")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        c.execute_command("CLIENT", "SETINFO", "LIB-NAME", "a", "LIB-VER", "1")


@pytest.mark.parametrize(("sub", "letter"), [("NO-EVICT", "e"), ("NO-TOUCH", "T")])
def test_no_evict_and_no_touch_show_in_flags(c: redis.Redis, sub: str, letter: str) -> None:
    assert c.execute_command("CLIENT", sub, "on") == "OK"
    assert f" flags={letter} " in c.execute_command("CLIENT", "INFO")
    assert c.execute_command("CLIENT", sub, "OFF") == "OK"
    assert " flags=N " in c.execute_command("CLIENT", "INFO")
    with pytest.raises(redis.ResponseError, match=r"^syntax error$"):
        c.execute_command("CLIENT", sub, "maybe")


# -- REPLY ---------------------------------------------------------------------------------------


def pipeline(conn: RawConnection, *commands: tuple[str, ...]) -> bytes:
    """Send commands in one write, end with CLIENT REPLY ON + ECHO end, return all replies."""
    payload = b"".join(encode_command(*cmd) for cmd in commands)
    conn.send(payload + encode_command("CLIENT", "REPLY", "ON") + encode_command("ECHO", "end"))
    data = b""
    conn.sock.settimeout(5)
    while not data.endswith(b"$3\r\nend\r\n"):
        chunk = conn.sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def test_reply_off_suppresses_everything_until_on(own: ServerProcess) -> None:
    conn = own.raw()
    out = pipeline(conn, ("CLIENT", "REPLY", "OFF"), ("SET", "r1", "v"), ("GET", "r1"), ("nosuch",))
    assert out == b"+OK\r\n$3\r\nend\r\n"
    assert raw_request(conn, "GET", "r1") == b"$1\r\nv\r\n"  # the commands did run
    conn.close()


def test_reply_skip_drops_only_the_next_reply(own: ServerProcess) -> None:
    conn = own.raw()
    out = pipeline(conn, ("CLIENT", "REPLY", "SKIP"), ("ECHO", "x"), ("ECHO", "y"))
    assert out == b"$1\r\ny\r\n+OK\r\n$3\r\nend\r\n"
    conn.close()


def test_reply_skip_is_ignored_while_off(own: ServerProcess) -> None:
    conn = own.raw()
    out = pipeline(
        conn, ("CLIENT", "REPLY", "OFF"), ("CLIENT", "REPLY", "SKIP"), ("ECHO", "s"), ("ECHO", "t")
    )
    assert out == b"+OK\r\n$3\r\nend\r\n"
    conn.close()


# -- PAUSE / UNPAUSE -----------------------------------------------------------------------------


def timed_request(conn: RawConnection, *args: str) -> tuple[bytes, float]:
    start = time.monotonic()
    reply = raw_request(conn, *args)
    return reply, time.monotonic() - start


def test_pause_all_holds_every_command_until_the_deadline(own: ServerProcess) -> None:
    pauser, other = own.raw(), own.raw()
    assert raw_request(pauser, "CLIENT", "PAUSE", "300") == b"+OK\r\n"
    reply, waited = timed_request(other, "PING")
    assert reply == b"+PONG\r\n"
    assert 0.2 <= waited < 2.0
    for conn in (pauser, other):
        conn.close()


def test_pause_write_holds_writes_but_not_reads(own: ServerProcess) -> None:
    pauser, reader, writer = own.raw(), own.raw(), own.raw()
    raw_request(reader, "SET", "pw", "old")
    assert raw_request(pauser, "CLIENT", "PAUSE", "300", "WRITE") == b"+OK\r\n"
    reply, waited = timed_request(reader, "GET", "pw")
    assert reply == b"$3\r\nold\r\n" and waited < 0.15
    reply, waited = timed_request(writer, "SET", "pw", "new")
    assert reply == b"+OK\r\n" and waited >= 0.2
    for conn in (pauser, reader, writer):
        conn.close()


def test_unpause_releases_held_clients_at_once(own: ServerProcess) -> None:
    pauser, writer = own.raw(), own.raw()
    raw_request(pauser, "CLIENT", "PAUSE", "5000", "WRITE")
    start = time.monotonic()
    writer.send(encode_command("SET", "up", "1"))
    time.sleep(0.05)
    assert raw_request(pauser, "CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert writer.read_reply() == b"+OK\r\n"
    assert time.monotonic() - start < 1.0
    for conn in (pauser, writer):
        conn.close()


def test_pipeline_keeps_its_order_across_a_pause(own: ServerProcess) -> None:
    pauser, conn = own.raw(), own.raw()
    raw_request(pauser, "CLIENT", "PAUSE", "200", "WRITE")
    # GET before the SET answers at once? No: the pipeline is held from the first write on,
    # and what follows it waits too, so replies keep the order of the requests.
    conn.send(
        encode_command("GET", "order")
        + encode_command("SET", "order", "1")
        + encode_command("GET", "order")
    )
    assert conn.read_reply() == b"$-1\r\n"
    assert conn.read_reply() == b"+OK\r\n"
    assert conn.read_reply() == b"$1\r\n1\r\n"
    for c in (pauser, conn):
        c.close()


def test_pause_only_grows(own: ServerProcess) -> None:
    pauser, other = own.raw(), own.raw()
    raw_request(pauser, "CLIENT", "PAUSE", "400", "WRITE")
    raw_request(pauser, "CLIENT", "PAUSE", "10", "ALL")  # shorter: keeps 400 ms, becomes ALL
    reply, waited = timed_request(other, "GET", "x")
    assert reply == b"$-1\r\n" and waited >= 0.3
    for conn in (pauser, other):
        conn.close()


def test_commands_that_fail_before_running_are_answered_during_a_pause(
    own: ServerProcess,
) -> None:
    pauser, other = own.raw(), own.raw()
    raw_request(pauser, "CLIENT", "PAUSE", "500")
    reply, waited = timed_request(other, "SET", "x")
    assert reply == b"-ERR wrong number of arguments for 'set' command\r\n" and waited < 0.2
    reply, waited = timed_request(other, "NOSUCH")
    assert reply.startswith(b"-ERR unknown command 'NOSUCH'") and waited < 0.2
    for conn in (pauser, other):
        conn.close()


def test_held_client_shows_flag_b_and_may_disconnect(own: ServerProcess) -> None:
    pauser, held = own.raw(), own.raw()
    held_id = client_line(held)["id"]
    raw_request(pauser, "CLIENT", "PAUSE", "300", "WRITE")
    held.send(encode_command("SET", "held", "1"))
    time.sleep(0.05)
    line = raw_request(pauser, "CLIENT", "LIST", "ID", held_id).split(b"\r\n")[1].decode()
    assert fields(line.rstrip("\n"))["flags"] == "b"
    assert fields(line.rstrip("\n"))["argv-mem"] == "8"  # "SET" "held" "1"
    held.close()
    time.sleep(0.4)
    assert raw_request(pauser, "PING") == b"+PONG\r\n"
    pauser.close()


def test_pause_argument_errors(c: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match=r"^timeout is not an integer or out of range$"):
        c.execute_command("CLIENT", "PAUSE", "soon")
    with pytest.raises(redis.ResponseError, match=r"^timeout is negative$"):
        c.execute_command("CLIENT", "PAUSE", "-1")
    with pytest.raises(redis.ResponseError, match=r"^CLIENT PAUSE mode must be WRITE or ALL$"):
        c.execute_command("CLIENT", "PAUSE", "10", "READ")


def test_many_clients_held_by_a_pause_all_resume(own: ServerProcess) -> None:
    pauser = own.raw()
    raw_request(pauser, "CLIENT", "PAUSE", "200", "WRITE")
    results: list[bytes] = []

    def writer(i: int) -> None:
        conn = own.raw()
        results.append(raw_request(conn, "INCR", "held-counter"))
        conn.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(int(r[1:-2]) for r in results) == list(range(1, 21))
    pauser.close()


# -- tracking-related subcommands, UNBLOCK, HELP --------------------------------------------------


def test_tracking_subcommands_answer_as_with_tracking_off(c: redis.Redis) -> None:
    assert c.execute_command("CLIENT", "GETREDIR") == -1
    assert c.execute_command("CLIENT", "TRACKINGINFO") == ["flags", ["off"], "redirect", -1,
                                                           "prefixes", []]  # fmt: skip
    assert c.execute_command("CLIENT", "TRACKING", "off") == "OK"
    with pytest.raises(redis.ResponseError, match="CLIENT TRACKING ON is not supported"):
        c.execute_command("CLIENT", "TRACKING", "on")
    with pytest.raises(redis.ResponseError, match=r"^CLIENT CACHING can be called only"):
        c.execute_command("CLIENT", "CACHING", "yes")


def test_unblock_of_a_client_that_is_not_blocked_returns_zero(c: redis.Redis) -> None:
    own_id = c.client_id()
    assert c.execute_command("CLIENT", "UNBLOCK", own_id) == 0
    assert c.execute_command("CLIENT", "UNBLOCK", 99999, "ERROR") == 0
    with pytest.raises(redis.ResponseError, match=r"^CLIENT UNBLOCK reason should be TIMEOUT"):
        c.execute_command("CLIENT", "UNBLOCK", own_id, "LATER")


def test_help_lists_every_subcommand(c: redis.Redis) -> None:
    lines = c.execute_command("CLIENT", "HELP")
    assert lines[0].startswith("CLIENT <subcommand>")
    documented = {line.split()[0] for line in lines[1:] if not line.startswith(" ")}
    assert documented == {
        "CACHING", "GETNAME", "GETREDIR", "HELP", "ID", "INFO", "KILL", "LIST", "NO-EVICT",
        "NO-TOUCH", "PAUSE", "REPLY", "SETINFO", "SETNAME", "TRACKING", "TRACKINGINFO",
        "UNBLOCK", "UNPAUSE",
    }  # fmt: skip


# -- blocked clients (BLPOP) -----------------------------------------------------------------------


def require_blocking(own: ServerProcess) -> None:
    conn = own.raw()
    try:
        reply, waited = timed_request(conn, "BLPOP", "blocking-probe", "0.05")
    finally:
        conn.close()
    if reply != b"*-1\r\n" or waited < 0.04:
        pytest.skip(f"blocking commands not wired yet: BLPOP answered {reply[:60]!r}")


def test_commands_pipelined_after_a_blocking_command_wait_for_it(own: ServerProcess) -> None:
    require_blocking(own)
    waiter, pusher = own.raw(), own.raw()
    waiter.send(encode_command("BLPOP", "bq", "0") + encode_command("ECHO", "after"))
    time.sleep(0.1)
    line = raw_request(pusher, "CLIENT", "LIST", "ID", client_line_id(waiter, pusher))
    assert fields(line.split(b"\r\n")[1].decode().rstrip("\n"))["flags"] == "b"
    assert raw_request(pusher, "RPUSH", "bq", "x") == b":1\r\n"
    assert waiter.read_reply() == b"*2\r\n$2\r\nbq\r\n$1\r\nx\r\n"
    assert waiter.read_reply() == b"$5\r\nafter\r\n"
    for conn in (waiter, pusher):
        conn.close()


def client_line_id(conn: RawConnection, other: RawConnection) -> str:
    """The id of `conn` (which may be blocked) found through `other` by its address."""
    addr = "%s:%d" % conn.sock.getsockname()
    listing = raw_request(other, "CLIENT", "LIST").split(b"\r\n")[1].decode()
    for line in listing.split("\n"):
        if f" addr={addr} " in line:
            return fields(line)["id"]
    raise LookupError(addr)


@pytest.mark.parametrize(
    ("reason", "reply"),
    [
        ("TIMEOUT", b"*-1\r\n"),
        ("ERROR", b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"),
    ],
)
def test_unblock_wakes_a_blocked_client(own: ServerProcess, reason: str, reply: bytes) -> None:
    require_blocking(own)
    waiter, admin = own.raw(), own.raw()
    waiter.send(encode_command("BLPOP", "never-pushed", "0") + encode_command("PING"))
    time.sleep(0.1)
    waiter_id = client_line_id(waiter, admin)
    assert raw_request(admin, "CLIENT", "UNBLOCK", waiter_id, reason) == b":1\r\n"
    assert waiter.read_reply() == reply
    assert waiter.read_reply() == b"+PONG\r\n"
    assert raw_request(admin, "CLIENT", "UNBLOCK", waiter_id) == b":0\r\n"
    for conn in (waiter, admin):
        conn.close()


def test_client_paused_is_not_unblockable(own: ServerProcess) -> None:
    pauser, held = own.raw(), own.raw()
    held_id = client_line(held)["id"]
    raw_request(pauser, "CLIENT", "PAUSE", "200", "WRITE")
    held.send(encode_command("SET", "pz", "1"))
    time.sleep(0.05)
    assert raw_request(pauser, "CLIENT", "UNBLOCK", held_id) == b":0\r\n"
    assert held.read_reply() == b"+OK\r\n"
    for conn in (pauser, held):
        conn.close()
