"""Connection commands (PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET) and per-connection
behaviour of the server: closing after QUIT and protocol errors, back-pressure on clients that do
not read, the output buffer limit, thousands of connections, maxclients, TCP keepalive and the
idle `timeout`. Tests that need their own settings start a server of their own.
"""

from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.servers import RawConnection, ServerProcess, encode_command, start_damselfly


def raw_request(conn: RawConnection, *args: str | int | bytes) -> bytes:
    return conn.request(encode_command(*args))


# -- PING, ECHO, QUIT, SELECT ------------------------------------------------------------------


def test_ping_through_redis_py(rp: redis.Redis) -> None:
    assert rp.ping() is True
    with pytest.raises(redis.ResponseError, match=r"^wrong number of arguments for 'ping'"):
        rp.execute_command("PING", "a", "b")


@pytest.mark.parametrize("protocol", ["2", "3"])
def test_ping_replies_pong_or_the_message(server: ServerProcess, protocol: str) -> None:
    conn = server.raw()
    raw_request(conn, "HELLO", protocol)
    assert raw_request(conn, "PING") == b"+PONG\r\n"
    assert raw_request(conn, "PING", "x y") == b"$3\r\nx y\r\n"
    assert raw_request(conn, "PING", "") == b"$0\r\n\r\n"
    conn.close()


def test_ping_in_resp2_subscribed_mode_replies_like_a_message(server: ServerProcess) -> None:
    conn = server.raw()
    reply = raw_request(conn, "SUBSCRIBE", "ch")
    if reply.startswith(b"-ERR unknown command"):
        conn.close()
        pytest.skip("SUBSCRIBE belongs to the pub/sub family, not written yet")
    assert raw_request(conn, "PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert raw_request(conn, "PING", "hi") == b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
    conn.close()


def test_echo_is_binary_safe(r: redis.Redis) -> None:
    value = bytes(range(256))
    assert r.echo(value) == value


def test_quit_replies_ok_and_closes_before_pipelined_commands(server: ServerProcess) -> None:
    conn = server.raw()
    conn.send(encode_command("QUIT") + encode_command("SET", "after-quit", "1"))
    assert conn.read_all_until_close() == b"+OK\r\n"
    conn.close()
    check = server.raw()
    assert raw_request(check, "EXISTS", "after-quit") == b":0\r\n"
    check.close()


def test_select_switches_database(r: redis.Redis) -> None:
    r.set("k", "zero")
    assert r.execute_command("SELECT", 9) is True  # redis-py turns +OK into True
    assert r.get("k") is None
    r.set("k", "nine")
    r.execute_command("SELECT", 0)
    assert r.get("k") == b"zero"


@pytest.mark.parametrize(
    ("index", "error"),
    [
        ("16", "DB index is out of range"),
        ("-1", "DB index is out of range"),
        ("abc", "value is not an integer or out of range"),
        ("01", "value is not an integer or out of range"),
        ("2147483648", "value is out of range, value must between -2147483648 and 2147483647"),
    ],
)
def test_select_errors(r: redis.Redis, index: str, error: str) -> None:
    with pytest.raises(redis.ResponseError) as info:
        r.execute_command("SELECT", index)
    assert str(info.value) == error


# -- AUTH, HELLO, RESET --------------------------------------------------------------------------


def test_auth_without_a_configured_password_gives_redis_error(server: ServerProcess) -> None:
    conn = server.raw()
    assert raw_request(conn, "AUTH", "secret") == (
        b"-ERR AUTH <password> called without any password configured for the default user. "
        b"Are you sure your configuration is correct?\r\n"
    )
    # With a user name, the default user takes any password when none is configured.
    assert raw_request(conn, "AUTH", "default", "anything") == b"+OK\r\n"
    conn.close()


@pytest.fixture(scope="module")
def locked() -> Iterator[ServerProcess]:
    proc = start_damselfly("--requirepass", "s3cret")
    yield proc
    proc.stop()


def test_commands_before_auth_are_refused(locked: ServerProcess) -> None:
    conn = locked.raw()
    for command in (("PING",), ("GET", "x"), ("CLIENT", "ID"), ("SELECT", "1")):
        assert raw_request(conn, *command) == b"-NOAUTH Authentication required.\r\n"
    # Unknown commands and arity errors are reported as such, before the auth check.
    assert raw_request(conn, "NOSUCH").startswith(b"-ERR unknown command 'NOSUCH'")
    conn.close()


def test_auth_with_password_or_default_user(locked: ServerProcess) -> None:
    conn = locked.raw()
    wrongpass = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    assert raw_request(conn, "AUTH", "nope") == wrongpass
    assert raw_request(conn, "AUTH", "default", "nope") == wrongpass
    assert raw_request(conn, "AUTH", "other", "s3cret") == wrongpass
    assert raw_request(conn, "PING") == b"-NOAUTH Authentication required.\r\n"
    assert raw_request(conn, "AUTH", "s3cret") == b"+OK\r\n"
    assert raw_request(conn, "PING") == b"+PONG\r\n"
    # A failed attempt later does not log an authenticated connection out.
    assert raw_request(conn, "AUTH", "nope") == wrongpass
    assert raw_request(conn, "PING") == b"+PONG\r\n"
    conn.close()
    second = locked.raw()
    assert raw_request(second, "AUTH", "default", "s3cret") == b"+OK\r\n"
    second.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_logs_in_with_password(locked: ServerProcess, protocol: int) -> None:
    client = locked.client(protocol=protocol, password="s3cret")
    assert client.set("authed", "1") is True
    assert client.get("authed") == b"1"
    client.close()
    no_retry = Retry(NoBackoff(), 0)
    with pytest.raises(redis.AuthenticationError):
        locked.client(protocol=protocol, password="wrong", retry=no_retry).ping()


def test_hello_must_authenticate_first(locked: ServerProcess) -> None:
    conn = locked.raw()
    assert raw_request(conn, "HELLO", "3") == (
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        b"HELLO AUTH <user> <pass> option can be used to authenticate the client and select the "
        b"RESP protocol version at the same time\r\n"
    )
    reply = raw_request(conn, "HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "h")
    assert reply.startswith(b"%7\r\n")
    assert raw_request(conn, "CLIENT", "GETNAME") == b"$1\r\nh\r\n"
    assert raw_request(conn, "RESET") == b"+RESET\r\n"
    assert raw_request(conn, "PING") == b"-NOAUTH Authentication required.\r\n"
    conn.close()


def hello_reply(protocol: int, client_id: int) -> bytes:
    fields = [
        (b"server", b"$5\r\nredis\r\n"),
        (b"version", b"$6\r\n7.0.15\r\n"),
        (b"proto", b":%d\r\n" % protocol),
        (b"id", b":%d\r\n" % client_id),
        (b"mode", b"$10\r\nstandalone\r\n"),
        (b"role", b"$6\r\nmaster\r\n"),
        (b"modules", b"*0\r\n"),
    ]
    head = b"%7\r\n" if protocol == 3 else b"*14\r\n"
    return head + b"".join(b"$%d\r\n%s\r\n%s" % (len(k), k, v) for k, v in fields)


def test_hello_reply_has_redis_fields_in_order(server: ServerProcess) -> None:
    conn = server.raw()
    client_id = int(raw_request(conn, "CLIENT", "ID")[1:-2])
    assert raw_request(conn, "HELLO") == hello_reply(2, client_id)
    assert raw_request(conn, "HELLO", "3") == hello_reply(3, client_id)
    # Without a version HELLO keeps the protocol in use.
    assert raw_request(conn, "HELLO") == hello_reply(3, client_id)
    assert raw_request(conn, "CLIENT", "GETNAME") == b"_\r\n"
    assert raw_request(conn, "HELLO", "2") == hello_reply(2, client_id)
    assert raw_request(conn, "CLIENT", "GETNAME") == b"$-1\r\n"
    conn.close()


def test_hello_switches_protocol_in_the_middle_of_a_pipeline(server: ServerProcess) -> None:
    conn = server.raw()
    conn.send(
        encode_command("CLIENT", "GETNAME")
        + encode_command("HELLO", "3")
        + encode_command("CLIENT", "GETNAME")
    )
    assert conn.read_reply() == b"$-1\r\n"
    assert conn.read_reply().startswith(b"%7\r\n")
    assert conn.read_reply() == b"_\r\n"
    conn.close()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["1"], b"-NOPROTO unsupported protocol version\r\n"),
        (["4", "bogus"], b"-NOPROTO unsupported protocol version\r\n"),
        (["two"], b"-ERR Protocol version is not an integer or out of range\r\n"),
        (["3", "AUTH", "default"], b"-ERR Syntax error in HELLO option 'AUTH'\r\n"),
        (["3", "SETNAME"], b"-ERR Syntax error in HELLO option 'SETNAME'\r\n"),
        (["3", "bogus"], b"-ERR Syntax error in HELLO option 'bogus'\r\n"),
        (
            ["3", "SETNAME", "a b"],
            b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
        ),
    ],
)
def test_hello_errors_keep_the_protocol(
    server: ServerProcess, args: list[str], error: bytes
) -> None:
    conn = server.raw()
    assert raw_request(conn, "HELLO", *args) == error
    assert raw_request(conn, "CLIENT", "GETNAME") == b"$-1\r\n"  # still RESP2
    conn.close()


def test_reset_restores_a_fresh_connection_state(server: ServerProcess) -> None:
    conn = server.raw()
    raw_request(conn, "SELECT", "5")
    raw_request(conn, "CLIENT", "SETNAME", "before-reset")
    raw_request(conn, "HELLO", "3")
    conn.send(encode_command("CLIENT", "REPLY", "OFF") + encode_command("RESET"))
    # RESET turns replies back on and answers itself.
    assert conn.read_reply() == b"+RESET\r\n"
    info = raw_request(conn, "CLIENT", "INFO").decode()
    assert " db=0 " in info and " name= " in info and " resp=2" in info
    assert raw_request(conn, "CLIENT", "GETNAME") == b"$-1\r\n"
    conn.close()


# -- closing, protocol errors ----------------------------------------------------------------------


def test_protocol_error_closes_after_earlier_replies(server: ServerProcess) -> None:
    conn = server.raw()
    conn.send(encode_command("PING") + b"*1\r\n$abc\r\n" + encode_command("PING"))
    assert conn.read_all_until_close() == (b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n")
    conn.close()


# -- back-pressure and the output buffer limit -----------------------------------------------------


def fill_socket_without_reading(conn: RawConnection, request: bytes, count: int) -> None:
    """Send `count` copies of `request` without reading replies (the server may stop reading)."""
    payload = request * count
    conn.sock.setblocking(False)
    sent = 0
    deadline = time.monotonic() + 5
    while sent < len(payload) and time.monotonic() < deadline:
        try:
            sent += conn.sock.send(payload[sent : sent + 65536])
        except BlockingIOError:
            time.sleep(0.01)
    conn.sock.setblocking(True)


def client_field(conn: RawConnection, client_id: int, name: str) -> int:
    line = raw_request(conn, "CLIENT", "LIST", "ID", client_id).split(b"\r\n")[1].decode()
    return int(dict(f.split("=", 1) for f in line.split())[name])


@pytest.fixture(scope="module")
def spare() -> Iterator[ServerProcess]:
    """A server for tests that load it heavily or change its settings."""
    proc = start_damselfly()
    yield proc
    proc.stop()


def test_client_that_does_not_read_is_stalled_not_buffered(spare: ServerProcess) -> None:
    setup = spare.raw()
    value = b"v" * 32768
    assert raw_request(setup, "SET", "bp:big", value) == b"+OK\r\n"
    lazy = spare.raw()
    lazy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    lazy_id = int(raw_request(lazy, "CLIENT", "ID")[1:-2])
    count = 2000  # 64 MiB of replies if they were all buffered at once
    sender = threading.Thread(
        target=fill_socket_without_reading,
        args=(lazy, encode_command("GET", "bp:big"), count),
        daemon=True,
    )
    sender.start()
    time.sleep(0.5)
    # The server answers others promptly and holds little for the client that is not reading.
    start = time.monotonic()
    assert raw_request(setup, "PING") == b"+PONG\r\n"
    assert time.monotonic() - start < 0.5
    assert client_field(setup, lazy_id, "omem") < 8 * 1024 * 1024
    # Once the client reads, every reply arrives, complete and in order.
    reply = b"$32768\r\n" + value + b"\r\n"
    expected = len(reply) * count
    lazy.sock.settimeout(20)
    received = 0
    while received < expected:
        chunk = lazy.sock.recv(1 << 20)
        assert chunk, f"closed after {received} of {expected} bytes"
        start_at = received % len(reply)
        stream = reply[start_at:] + reply * (len(chunk) // len(reply) + 1)
        assert chunk == stream[: len(chunk)]
        received += len(chunk)
    sender.join(5)
    assert raw_request(lazy, "PING") == b"+PONG\r\n"
    lazy.close()
    setup.close()


def test_output_buffer_limit_disconnects_a_client_that_does_not_read() -> None:
    proc = start_damselfly("--client-output-buffer-limit", "normal 1mb 0 0")
    try:
        admin = proc.client()
        with contextlib.suppress(redis.ResponseError):  # CONFIG SET arrives with its family
            admin.config_set("client-output-buffer-limit", "normal 1mb 0 0")
        admin.set("obl:big", b"x" * 500_000)
        lazy = proc.raw()
        lazy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        lazy_id = int(raw_request(lazy, "CLIENT", "ID")[1:-2])
        fill_socket_without_reading(lazy, encode_command("GET", "obl:big"), 200)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if admin.execute_command("CLIENT", "LIST", "ID", lazy_id) == b"":
                break
            time.sleep(0.05)
        assert admin.execute_command("CLIENT", "LIST", "ID", lazy_id) == b""
        # The server keeps serving everyone else.
        assert admin.ping() is True
        assert len(admin.get("obl:big") or b"") == 500_000
        lazy.close()
        admin.close()
    finally:
        proc.stop()


# -- many connections, maxclients, keepalive, timeout -------------------------------------------


def test_two_thousand_concurrent_connections_are_all_answered() -> None:
    wanted = 2000 + 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted * 2:
        if hard != resource.RLIM_INFINITY and hard < wanted * 2:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is too low for 2000 connections")
        # Raised before the server starts, so it inherits the limit too.
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted * 2, hard))
    proc = start_damselfly()
    sockets: list[socket.socket] = []
    try:
        for _ in range(2000):
            sockets.append(socket.create_connection((proc.host, proc.port), timeout=10))
        ping = encode_command("PING")
        for sock in sockets:
            sock.sendall(ping)
        selector = selectors.DefaultSelector()
        buffers: dict[socket.socket, bytes] = {}
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        answered = 0
        deadline = time.monotonic() + 30
        while answered < len(sockets) and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                buffers[sock] = buffers.get(sock, b"") + sock.recv(64)
                if buffers[sock] == b"+PONG\r\n":
                    answered += 1
                    selector.unregister(sock)
        selector.close()
        assert answered == 2000
        admin = proc.client()
        assert len(admin.client_list()) == 2001
        admin.close()
    finally:
        for sock in sockets:
            sock.close()
        proc.stop()


def test_maxclients_rejects_connections_beyond_the_limit() -> None:
    proc = start_damselfly("--maxclients", "3")
    conns: list[RawConnection] = []
    try:
        conns = [proc.raw() for _ in range(3)]
        for conn in conns:
            assert raw_request(conn, "PING") == b"+PONG\r\n"
        extra = proc.raw()
        assert extra.read_all_until_close() == b"-ERR max number of clients reached\r\n"
        extra.close()
        assert raw_request(conns[0], "PING") == b"+PONG\r\n"
    finally:
        for conn in conns:
            conn.close()
        proc.stop()


def keepalive_timer(server_port: int, client_port: int) -> tuple[int, float]:
    """(timer kind, seconds left) of the server end of a connection, from /proc/net/tcp.

    Kind 2 is the keepalive timer: armed only when the socket has SO_KEEPALIVE set.
    """
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                local_port = int(parts[1].rsplit(":", 1)[1], 16)
                remote_port = int(parts[2].rsplit(":", 1)[1], 16)
                if local_port == server_port and remote_port == client_port:
                    kind, when = parts[5].split(":")
                    return int(kind, 16), int(when, 16) / 100  # clock ticks (USER_HZ)
    raise LookupError("connection not found")


@pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="Linux keepalive options")
@pytest.mark.parametrize(("setting", "kind"), [("100", 2), ("0", 0)])
def test_tcp_keepalive_setting_arms_the_keepalive_timer(setting: str, kind: int) -> None:
    proc = start_damselfly("--tcp-keepalive", setting)
    try:
        conn = proc.raw()
        assert raw_request(conn, "PING") == b"+PONG\r\n"
        time.sleep(0.05)
        found_kind, seconds = keepalive_timer(proc.port, conn.sock.getsockname()[1])
        assert found_kind == kind
        if kind == 2:
            assert 90 < seconds <= 100
        conn.close()
    finally:
        proc.stop()


def test_idle_clients_are_closed_after_timeout() -> None:
    proc = start_damselfly("--timeout", "1")
    try:
        idle = proc.raw()
        assert raw_request(idle, "PING") == b"+PONG\r\n"
        # Move the server's clock instead of waiting: the cron then sees the client idle.
        mover = proc.raw()
        assert raw_request(mover, "DEBUG", "SET-CLOCK-OFFSET", "5000") == b"+OK\r\n"
        assert idle.read_all_until_close(timeout=5) == b""
        idle.close()
        mover.close()
        # A client active after the move is not closed.
        fresh = proc.raw()
        assert raw_request(fresh, "PING") == b"+PONG\r\n"
        time.sleep(0.3)
        assert raw_request(fresh, "PING") == b"+PONG\r\n"
        fresh.close()
    finally:
        proc.stop()


# -- one write per read ----------------------------------------------------------------------------


def segments_received(sock: socket.socket) -> int:
    """tcpi_segs_in from Linux's struct tcp_info: TCP segments this socket has received."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int(struct.unpack_from("I", info, 140)[0])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's tcp_info")
def test_replies_to_a_pipeline_are_written_at_once(server: ServerProcess) -> None:
    conn = server.raw()
    assert raw_request(conn, "PING") == b"+PONG\r\n"
    time.sleep(0.05)
    before = segments_received(conn.sock)
    conn.send(b"".join(encode_command("ECHO", str(i)) for i in range(200)))
    expected = b"".join(b"$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(200))
    assert conn.read_exact(len(expected)) == expected
    time.sleep(0.05)
    # One transport write is one segment here (2 KB, TCP_NODELAY); 200 writes would be ~200.
    assert segments_received(conn.sock) - before <= 2
    conn.close()
