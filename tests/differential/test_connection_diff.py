"""Connection commands against the real redis-server: same sequences, replies compared as bytes.

Each case runs on a fresh pair of connections, one to each server. Replies must be equal byte
for byte, except the values that name a particular connection (HELLO's id, CLIENT ID) which
are replaced by a placeholder, and CLIENT LIST / CLIENT INFO lines, which are compared field by
field: the same field names in the same order, and the same values for every field that is not
an address, a time or a memory figure. `{id:NAME}` in a command stands for the id of connection
NAME on the server the command is sent to. A few cases pipeline commands without reading (for
CLIENT REPLY) or time how long a command waits (CLIENT PAUSE).
"""

from __future__ import annotations

import re
import shlex
import socket
import time
from collections.abc import Iterator

import pytest

from tests.servers import (
    RawConnection,
    ServerProcess,
    dedicated_pair,
    encode_command,
    start_damselfly,
    start_redis,
)

# CLIENT LIST fields whose values depend on the process, the OS or the clock, not on semantics.
_VOLATILE_FIELDS = {
    "id", "addr", "laddr", "fd", "age", "idle", "qbuf", "qbuf-free", "argv-mem", "multi-mem",
    "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events",
}  # fmt: skip
_HELLO_ID = re.compile(rb"(\$2\r\nid\r\n):\d+\r\n")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Dedicated servers: these cases kill and pause clients, which must not reach other tests."""
    yield from dedicated_pair()


@pytest.fixture(scope="module")
def auth_servers() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    ours = start_damselfly("--requirepass", "secret")
    oracle = start_redis("--requirepass", "secret")
    yield ours, oracle
    ours.stop()
    oracle.stop()


class Session:
    """Named raw connections to one server, with `{id:NAME}` filled from that server."""

    def __init__(self, proc: ServerProcess) -> None:
        self.proc = proc
        self.conns: dict[str, RawConnection] = {}
        self.ids: dict[str, int] = {}

    def conn(self, name: str) -> RawConnection:
        if name not in self.conns:
            self.conns[name] = self.proc.raw()
        return self.conns[name]

    def client_id(self, name: str) -> int:
        if name not in self.ids:
            reply = self.conn(name).request(encode_command("CLIENT", "ID"))
            self.ids[name] = int(reply[1:-2])
        return self.ids[name]

    def argv(self, command: str) -> list[str]:
        words = shlex.split(command)
        return [
            re.sub(r"\{id:(\w+)\}", lambda m: str(self.client_id(m.group(1))), w) for w in words
        ]

    def request(self, name: str, command: str) -> bytes:
        return self.conn(name).request(encode_command(*self.argv(command)))

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()


def normalize(reply: bytes, command: str = "") -> object:
    """The comparable form of a reply: connection-specific values masked, client lines split."""
    if command.lower().split() == ["client", "id"] and reply.startswith(b":"):
        return b":<id>\r\n"
    reply = _HELLO_ID.sub(rb"\1:<id>\r\n", reply)
    if reply[:1] in (b"$", b"=") and b"id=" in reply and b" addr=" in reply:
        body = reply.split(b"\r\n", 1)[1][:-2]
        if reply[:1] == b"=":
            body = body[4:]  # "txt:"
        return [client_fields(line) for line in body.decode().split("\n") if line]
    return reply


def client_fields(line: str) -> list[tuple[str, str]]:
    fields = []
    for item in line.split(" "):
        name, _, value = item.partition("=")
        fields.append((name, "<v>" if name in _VOLATILE_FIELDS else value))
    return fields


def run_case(
    servers: tuple[ServerProcess, ServerProcess], steps: list[str], password: str = ""
) -> None:
    """Steps are "NAME: COMMAND"; both servers get them in order, replies must agree."""
    ours, oracle = Session(servers[0]), Session(servers[1])
    try:
        for session in (ours, oracle):
            # A fresh data set: redis-server may have loaded a dump.rdb left in its directory.
            if password:
                assert session.request("setup", f"AUTH {password}") == b"+OK\r\n"
            assert session.request("setup", "FLUSHALL") == b"+OK\r\n"
        for step in steps:
            name, _, command = step.partition(": ")
            expected = normalize(oracle.request(name, command), command)
            got = normalize(ours.request(name, command), command)
            assert got == expected, f"{step!r}: damselfly {got!r} != redis {expected!r}"
    finally:
        ours.close()
        oracle.close()


CASES: dict[str, list[str]] = {
    "ping-echo": [
        "a: PING", "a: PING hello", "a: ping ''", "a: PING a b", "a: ECHO x", "a: ECHO",
        "a: ECHO a b",
    ],
    "select": [
        "a: SELECT 1", "a: SET k v", "a: SELECT 0", "a: EXISTS k", "a: SELECT 15", "a: SELECT 16",
        "a: SELECT -1", "a: SELECT abc", "a: SELECT 1.5", "a: SELECT ' 1'", "a: SELECT 01",
        "a: SELECT +1", "a: SELECT 2147483648", "a: SELECT -2147483649",
        "a: SELECT 99999999999999999999", "a: SELECT", "a: SELECT 1 2", "a: SELECT 1",
        "a: DEL k",
    ],
    "auth-without-password": [
        "a: AUTH x", "a: AUTH default x", "a: AUTH nobody x", "a: AUTH a b c", "a: AUTH",
        "a: PING",
    ],
    "hello": [
        "a: HELLO", "a: HELLO 2", "a: HELLO 3", "a: HELLO", "a: PING", "a: HELLO 2", "a: HELLO 1",
        "a: HELLO 4", "a: HELLO -1", "a: HELLO x", "a: HELLO 02", "a: HELLO 2.0",
        "a: HELLO 99999999999999999999", "a: HELLO 4 bogus", "a: HELLO 3 foo",
        "a: HELLO 3 auth a", "a: HELLO 3 setname", "a: HELLO 2 AUTH default x SETNAME",
        "a: HELLO 3 AUTH default x", "a: HELLO 2 auth nobody x", "a: HELLO 2 auth default x",
    ],
    "hello-setname-in-order": [
        "a: HELLO 2 SETNAME first", "a: CLIENT GETNAME", "a: HELLO 2 setname c foo",
        "a: CLIENT GETNAME", "a: HELLO 2 SETNAME a SETNAME b", "a: CLIENT GETNAME",
        "a: HELLO 2 setname z auth nobody x", "a: CLIENT GETNAME",
        "a: HELLO 2 auth nobody x setname y", "a: CLIENT GETNAME", "a: HELLO 3 setname 'a b'",
        "a: HELLO 2 setname ''", "a: CLIENT GETNAME", "a: HELLO 3 auth nobody x bogus",
        "a: PING",
    ],
    "reset": [
        "a: SELECT 3", "a: CLIENT SETNAME n", "a: HELLO 3", "a: CLIENT NO-EVICT on", "a: RESET",
        "a: CLIENT GETNAME", "a: HELLO", "a: CLIENT INFO", "a: RESET x",
    ],
    "quit": ["a: QUIT"],
    "quit-with-arguments": ["a: QUIT now please"],
    "client-id-name": [
        "a: CLIENT GETNAME", "a: CLIENT SETNAME alpha", "a: CLIENT GETNAME",
        "a: CLIENT SETNAME 'a b'", "a: CLIENT SETNAME é", "a: CLIENT SETNAME a\nb",
        "a: CLIENT GETNAME", "a: CLIENT SETNAME ''", "a: CLIENT GETNAME", "a: CLIENT SETNAME",
        "a: CLIENT SETNAME a b", "a: CLIENT GETNAME x", "a: CLIENT ID x", "a: CLIENT",
        "a: CLIENT nosuch", "a: client Id",
    ],
    "client-info": [
        "a: CLIENT INFO", "a: CLIENT SETNAME me", "a: SELECT 5", "a: CLIENT INFO",
        "a: CLIENT NO-EVICT on", "a: CLIENT INFO", "a: CLIENT NO-EVICT off", "a: HELLO 3",
        "a: CLIENT INFO", "a: CLIENT INFO x",
    ],
    "client-list": [
        "b: PING", "c: CLIENT SETNAME cc", "a: CLIENT LIST", "a: CLIENT LIST TYPE normal",
        "a: CLIENT LIST TYPE NORMAL", "a: CLIENT LIST type pubsub", "a: CLIENT LIST type master",
        "a: CLIENT LIST type replica", "a: CLIENT LIST type slave", "a: CLIENT LIST type foo",
        "a: CLIENT LIST foo", "a: CLIENT LIST type", "a: CLIENT LIST id",
        "a: CLIENT LIST type normal x", "a: CLIENT LIST type normal id 1",
        "a: CLIENT LIST id {id:c} {id:b} {id:c} 999999", "a: CLIENT LIST id 0",
        "a: CLIENT LIST id -1", "a: CLIENT LIST id abc", "a: CLIENT LIST id {id:b} type normal",
        "a: CLIENT LIST id 99999999999999999999", "a: HELLO 3", "a: CLIENT LIST ID {id:a}",
    ],
    "client-kill-errors": [
        "a: CLIENT KILL", "a: CLIENT KILL 1.2.3.4:5", "a: CLIENT KILL id", "a: CLIENT KILL id abc",
        "a: CLIENT KILL id 0", "a: CLIENT KILL id -5", "a: CLIENT KILL id 99999",
        "a: CLIENT KILL foo bar", "a: CLIENT KILL type foo", "a: CLIENT KILL skipme maybe",
        "a: CLIENT KILL user nobody", "a: CLIENT KILL addr 1.2.3.4:5",
        "a: CLIENT KILL laddr 1.2.3.4:5", "a: CLIENT KILL maxage 5", "a: CLIENT KILL id 1 type",
        "a: CLIENT KILL a b c", "a: CLIENT KILL 127.0.0.1:1 x", "a: CLIENT KILL id 1 skipme",
        "a: CLIENT KILL type master", "a: CLIENT KILL type slave", "a: CLIENT KILL type replica",
        "a: CLIENT KILL type pubsub", "a: CLIENT KILL TYPE Normal SKIPME YES id {id:a}",
        "a: CLIENT KILL id 99999 id 99998", "a: PING",
    ],
    "client-kill-by-id": [
        "b: PING", "c: PING", "a: CLIENT KILL ID {id:b}", "a: CLIENT KILL ID {id:b}",
        "a: CLIENT KILL ID {id:a}", "a: CLIENT LIST ID {id:a} {id:b} {id:c}",
        "a: CLIENT KILL ID {id:c} SKIPME no", "a: CLIENT KILL USER default SKIPME yes",
        "a: PING",
    ],
    "client-kill-self": ["a: PING", "a: CLIENT KILL ID {id:a} SKIPME no"],
    "client-modes": [
        "a: CLIENT NO-EVICT maybe", "a: CLIENT NO-EVICT", "a: CLIENT NO-EVICT on",
        "a: CLIENT NO-EVICT OFF", "a: CLIENT REPLY foo", "a: CLIENT REPLY on x",
        "a: CLIENT REPLY ON",
    ],
    "client-tracking-shapes": [
        "a: CLIENT GETREDIR", "a: CLIENT TRACKINGINFO", "a: HELLO 3", "a: CLIENT TRACKINGINFO",
        "a: CLIENT GETREDIR x", "a: CLIENT CACHING yes", "a: CLIENT CACHING foo",
        "a: CLIENT CACHING", "a: CLIENT TRACKING off", "a: CLIENT TRACKING", "a: CLIENT TRACKING foo",
        "a: CLIENT TRACKING on foo", "a: CLIENT TRACKING on prefix",
        "a: CLIENT TRACKING on prefix a", "a: CLIENT TRACKING on optin optout",
        "a: CLIENT TRACKING on bcast optin", "a: CLIENT TRACKING on redirect 99999",
        "a: CLIENT TRACKING on redirect x", "a: CLIENT TRACKING off redirect {id:a} redirect 1",
        "a: CLIENT TRACKING off bcast prefix a optin", "a: CLIENT TRACKINGINFO",
    ],
    "client-unblock": [
        "a: CLIENT UNBLOCK 1", "a: CLIENT UNBLOCK x", "a: CLIENT UNBLOCK 1 foo",
        "a: CLIENT UNBLOCK x foo", "a: CLIENT UNBLOCK 1 timeout", "a: CLIENT UNBLOCK 1 ERROR",
        "a: CLIENT UNBLOCK {id:b} error", "a: CLIENT UNBLOCK 1 timeout x", "a: CLIENT UNBLOCK",
    ],
    "client-pause-arguments": [
        "a: CLIENT PAUSE", "a: CLIENT PAUSE x", "a: CLIENT PAUSE -1", "a: CLIENT PAUSE 10 foo",
        "a: CLIENT PAUSE x foo", "a: CLIENT PAUSE 99999999999999999999", "a: CLIENT PAUSE 1.5",
        "a: CLIENT PAUSE 1 write x", "a: CLIENT PAUSE 0", "a: CLIENT PAUSE 5 WRITE",
        "a: CLIENT UNPAUSE", "a: CLIENT UNPAUSE x", "a: PING",
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_same_replies_as_redis(servers: tuple[ServerProcess, ServerProcess], name: str) -> None:
    run_case(servers, CASES[name])


AUTH_CASES: dict[str, list[str]] = {
    "before-auth": [
        "a: PING", "a: GET x", "a: CLIENT ID", "a: SELECT 1", "a: nosuchcommand",
        "a: HELLO 3 setname z", "a: HELLO", "a: HELLO 4", "a: HELLO x", "a: HELLO 3 bogus",
        "a: AUTH x", "a: AUTH default x", "a: AUTH nobody secret", "a: AUTH a b c", "a: PING",
        "a: AUTH secret", "a: CLIENT GETNAME", "a: PING",
    ],
    "auth-with-user": [
        "a: AUTH default secret", "a: PING", "a: AUTH wrong", "a: PING", "a: CLIENT INFO",
    ],
    "hello-auth": [
        "a: HELLO 2 AUTH default wrong", "a: PING", "a: HELLO 3 AUTH default secret SETNAME n",
        "a: CLIENT GETNAME", "a: HELLO", "a: PING",
    ],
    "reset-requires-auth-again": [
        "a: AUTH secret", "a: SELECT 2", "a: RESET", "a: PING", "a: CLIENT GETNAME",
        "a: AUTH secret", "a: CLIENT INFO",
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", list(AUTH_CASES))
def test_same_replies_as_redis_with_requirepass(
    auth_servers: tuple[ServerProcess, ServerProcess], name: str
) -> None:
    run_case(auth_servers, AUTH_CASES[name], password="secret")


def pipeline_bytes(proc: ServerProcess, commands: list[str]) -> bytes:
    """Send all commands in one write, then everything the server answers up to `ECHO end`."""
    conn = proc.raw()
    try:
        payload = b"".join(encode_command(*shlex.split(c)) for c in commands)
        conn.send(payload + encode_command("CLIENT", "REPLY", "ON") + encode_command("ECHO", "end"))
        data = b""
        conn.sock.settimeout(5)
        while not data.endswith(b"$3\r\nend\r\n"):
            chunk = conn.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        conn.close()


REPLY_CASES: dict[str, list[str]] = {
    "off-then-on": ["CLIENT REPLY OFF", "PING", "ECHO hidden", "nosuch", "PING a b"],
    "skip-drops-next-only": ["CLIENT REPLY SKIP", "ECHO x", "ECHO y"],
    "skip-then-unknown": ["CLIENT REPLY SKIP", "nosuch", "ECHO shown"],
    "skip-twice": ["CLIENT REPLY SKIP", "CLIENT REPLY SKIP", "ECHO a", "ECHO b"],
    "skip-then-on": ["CLIENT REPLY SKIP", "CLIENT REPLY ON", "ECHO a"],
    "skip-then-off": ["CLIENT REPLY SKIP", "CLIENT REPLY OFF", "ECHO w"],
    "skip-while-off": ["CLIENT REPLY OFF", "CLIENT REPLY SKIP", "ECHO s", "ECHO t"],
    "skip-then-reset": ["CLIENT REPLY SKIP", "RESET", "ECHO after"],
    "off-then-reset": ["CLIENT REPLY OFF", "ECHO gone", "RESET", "ECHO after"],
    "skip-then-hello": ["CLIENT REPLY SKIP", "HELLO 3", "PING"],
    "bad-mode-while-off": ["CLIENT REPLY OFF", "CLIENT REPLY maybe", "ECHO x"],
}


@pytest.mark.parametrize("name", list(REPLY_CASES))
def test_client_reply_pipelines_match_redis(
    servers: tuple[ServerProcess, ServerProcess], name: str
) -> None:
    ours, oracle = servers
    commands = REPLY_CASES[name]
    assert pipeline_bytes(ours, commands) == pipeline_bytes(oracle, commands)


def test_client_kill_of_self_answers_then_closes_like_redis(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    results = []
    for proc in servers:
        conn = proc.raw()
        own_id = int(conn.request(encode_command("CLIENT", "ID"))[1:-2])
        conn.send(
            encode_command("CLIENT", "KILL", "ID", own_id, "SKIPME", "no") + encode_command("PING")
        )
        results.append(conn.read_all_until_close())
        conn.close()
    assert results[0] == results[1] == b":1\r\n"


def test_old_form_kill_of_self_answers_ok_then_closes_like_redis(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    results = []
    for proc in servers:
        conn = proc.raw()
        info = conn.request(encode_command("CLIENT", "INFO")).decode()
        addr = re.search(r" addr=(\S+)", info)
        assert addr is not None
        conn.send(encode_command("CLIENT", "KILL", addr.group(1)) + encode_command("PING"))
        results.append(conn.read_all_until_close())
        conn.close()
    assert results[0] == results[1] == b"+OK\r\n"


def test_quit_closes_before_pipelined_commands_like_redis(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    results = []
    for proc in servers:
        conn = proc.raw()
        conn.send(encode_command("PING") + encode_command("QUIT") + encode_command("SET", "q", "1"))
        results.append(conn.read_all_until_close())
        conn.close()
        check = proc.raw()
        results.append(check.request(encode_command("EXISTS", "q")))
        check.close()
    assert results[0] == results[2] == b"+PONG\r\n+OK\r\n"
    assert results[1] == results[3] == b":0\r\n"


def test_client_list_field_names_match_redis(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    names = []
    for proc in servers:
        conn = proc.raw()
        line = conn.request(encode_command("CLIENT", "INFO")).split(b"\r\n")[1].decode()
        names.append([item.partition("=")[0] for item in line.split(" ")])
        conn.close()
    assert names[0] == names[1]


# Commands sent during CLIENT PAUSE: does the server hold them back (True) or answer (False)?
PAUSE_PROBES = [
    "PING", "GET x", "SET x 1", "DEL nokey", "EXPIRE x 10", "FLUSHALL", "nosuch", "SET x",
    "CLIENT ID", "QUIT", "AUTH a b", "SELECT 1", "SWAPDB 0 1",
]  # fmt: skip


def held_back(proc: ServerProcess, mode: str, commands: list[str]) -> dict[str, bool]:
    """Send each command on its own connection during one pause; which got no answer yet?"""
    pauser = proc.raw()
    conns = [proc.raw() for _ in commands]
    try:
        assert pauser.request(encode_command("CLIENT", "PAUSE", 400, mode)) == b"+OK\r\n"
        for conn, command in zip(conns, commands, strict=True):
            conn.send(encode_command(*shlex.split(command)))
        time.sleep(0.2)
        held = {}
        for conn, command in zip(conns, commands, strict=True):
            try:
                conn.read_reply(timeout=0.01)
                held[command] = False
            except TimeoutError:
                held[command] = True
        pauser.request(encode_command("CLIENT", "UNPAUSE"))
        return held
    finally:
        for conn in [pauser, *conns]:
            conn.close()


def implemented(proc: ServerProcess, name: str) -> bool:
    conn = proc.raw()
    try:
        return not conn.request(encode_command("COMMAND", "INFO", name)).startswith(b"*1\r\n*-1")
    finally:
        conn.close()


@pytest.mark.parametrize("mode", ["WRITE", "ALL"])
def test_pause_holds_back_the_same_commands_as_redis(
    servers: tuple[ServerProcess, ServerProcess], mode: str
) -> None:
    ours, oracle = servers
    # Commands of families not written yet are left out; "nosuch" is unknown on purpose.
    probes = [c for c in PAUSE_PROBES if c == "nosuch" or implemented(ours, c.split()[0])]
    assert held_back(ours, mode, probes) == held_back(oracle, mode, probes)
    # CLIENT UNPAUSE from another client waits too under ALL (only the deadline ends it).
    unpause = ["CLIENT UNPAUSE"]
    assert held_back(ours, mode, unpause) == held_back(oracle, mode, unpause)


def test_unix_socket_addresses_match_redis() -> None:
    sockets = []
    procs = []
    try:
        for start, tag in ((start_damselfly, "d"), (start_redis, "r")):
            path = f"/tmp/damselfly-conn-{tag}-{time.monotonic_ns()}.sock"
            procs.append(start("--unixsocket", path))
            sockets.append(path)
        lines = []
        for path in sockets:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(5)
            deadline = time.monotonic() + 5
            while True:
                try:
                    sock.connect(path)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            sock.sendall(encode_command("CLIENT", "INFO"))
            data = b""
            while not data.endswith(b"\n\r\n"):
                data += sock.recv(65536)
            sock.close()
            fields = dict(
                item.partition("=")[::2] for item in data.split(b"\r\n")[1].decode().split()
            )
            lines.append((fields["addr"].replace(path, "P"), fields["laddr"].replace(path, "P"),
                          fields["flags"]))  # fmt: skip
        assert lines[0] == lines[1] == ("P:0", "P:0", "U")
    finally:
        for proc in procs:
            proc.stop()


def test_ipv6_addresses_are_bracketed_like_redis() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    procs = [start_damselfly("--bind", "127.0.0.1 ::1"), start_redis("--bind", "127.0.0.1 ::1")]
    try:
        shapes = []
        for proc in procs:
            try:
                sock = socket.create_connection(("::1", proc.port), timeout=5)
            except OSError:
                pytest.skip("no IPv6 loopback")
            sock.sendall(encode_command("CLIENT", "INFO"))
            data = b""
            while not data.endswith(b"\n\r\n"):
                data += sock.recv(65536)
            sock.close()
            info = data.split(b"\r\n")[1].decode()
            addr = re.search(r" addr=(\S+) laddr=(\S+) ", info)
            assert addr is not None
            shapes.append(
                (re.sub(r"\d+$", "P", addr.group(1)), addr.group(2).replace(str(proc.port), "S"))
            )
        assert shapes[0] == shapes[1] == ("[::1]:P", "[::1]:S")
    finally:
        for proc in procs:
            proc.stop()
