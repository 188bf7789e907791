"""Pub/Sub against the real redis-server: the bytes every connection receives, step by step.

A script is a list of steps `NAME: COMMAND ARGS`, run on named raw connections to one server.
After each step every open connection is synchronised with a `PING <token>` barrier, so what a
step yields is, for each connection, exactly the bytes it received because of that step: the
command's own replies (several for SUBSCRIBE a b c), the messages PUBLISH delivered, pushes a
RESP3 client got in between. Both servers run the same script and the records must be equal byte
for byte, in RESP2 and in RESP3 (every connection says HELLO 3 first).

Where Redis's order is its hash table's order (PUBSUB CHANNELS, UNSUBSCRIBE with no argument,
the patterns of one client that match the same channel), the step is marked `~`: the replies are
then compared as a sorted multiset, and the subscription counts in order.

Step prefixes: `~` unordered as above; `&` the command blocks (its reply is read by a later
`?NAME:` step, which collects that connection alone). Commands separated by ` | ` are sent in
one write (a pipeline). Arguments are shell words with Python escapes (`\\x00`) for binary
names.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator

import hiredis
import pytest

from tests.servers import (
    RawConnection,
    ServerProcess,
    _reply_end,
    dedicated_pair,
    encode_command,
)

pytestmark = pytest.mark.differential

Record = list[tuple[str, dict[str, object]]]


def parse_args(text: str) -> list[bytes]:
    return [
        word.encode("latin-1").decode("unicode_escape").encode("latin-1")
        for word in shlex.split(text)
    ]


def split_units(data: bytes) -> list[bytes]:
    """The complete RESP replies in `data`, each as its raw bytes."""
    units = []
    pos = 0
    while pos < len(data):
        end = _reply_end(data, pos)
        assert end is not None, f"truncated reply in {data[pos:]!r}"
        units.append(data[pos:end])
        pos = end
    return units


def unordered(data: bytes) -> tuple[list[bytes], list[bytes]]:
    """Replies as a sorted multiset (arrays of strings sorted inside), and the trailing counts
    of (un)subscribe confirmations in the order they came."""
    counts = []
    units = []
    for unit in split_units(data):
        if b"subscribe\r\n" in unit[:30]:
            cut = unit.rindex(b":")
            counts.append(unit[cut:])
            unit = unit[:cut]
        elif unit[:1] in b"*>~" and unit[1:2] != b"-":
            first = unit.index(b"\r\n") + 2
            parts = split_units(unit[first:])
            if all(p[:1] == b"$" for p in parts):
                unit = unit[:first] + b"".join(sorted(parts))
        units.append(unit)
    return sorted(units), counts


class Session:
    """Named raw connections to one server, each synchronised after every step."""

    def __init__(self, proc: ServerProcess, resp3: bool) -> None:
        self.proc = proc
        self.resp3 = resp3
        self.conns: dict[str, RawConnection] = {}
        self.blocked: set[str] = set()
        self.closed: set[str] = set()
        self.serial = 0

    def conn(self, name: str) -> RawConnection:
        conn = self.conns.get(name)
        if conn is None:
            conn = self.conns[name] = self.proc.raw()
            if self.resp3:
                conn.request(encode_command("HELLO", "3"))
        return conn

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()

    def _token(self) -> bytes:
        self.serial += 1
        return b"sync-%d" % self.serial

    @staticmethod
    def _read_until(conn: RawConnection, token: bytes) -> bytes:
        """Everything before the reply to `PING token` (a bulk, or ["pong", token] in RESP2
        subscriber mode)."""
        out = []
        while True:
            unit = conn.read_reply()
            reader = hiredis.Reader()
            reader.feed(unit)
            obj = reader.gets()
            if obj == token or obj == [b"pong", token]:
                return b"".join(out)
            out.append(unit)

    def barrier(self, name: str) -> bytes:
        conn = self.conns[name]
        token = self._token()
        conn.send(encode_command("PING", token))
        return self._read_until(conn, token)

    def step(self, line: str) -> dict[str, object]:
        head, _, command = line.partition(":")
        mode = head[0] if head[0] in "~&?" else ""
        name = head.lstrip("~&?").strip()
        received: dict[str, object] = {}
        if mode == "?":
            self.blocked.discard(name)
            received[name] = self.barrier(name)
            return received
        conn = self.conn(name)
        commands = [parse_args(part) for part in command.split(" | ")]
        request = b"".join(encode_command(*argv) for argv in commands)
        if mode == "&":
            before = self.blocked_clients()
            conn.send(request)
            self.blocked.add(name)
            self.wait_blocked(before + 1)
            return received
        if commands[-1][0].lower() == b"quit":
            conn.send(request)
            received[name] = conn.read_all_until_close()
            self.closed.add(name)
        else:
            token = self._token()
            conn.send(request + encode_command("PING", token))
            received[name] = self._read_until(conn, token)
        for other in self.conns:
            if other != name and other not in self.blocked and other not in self.closed:
                received[other] = self.barrier(other)
        if mode == "~":
            received = {k: unordered(v) for k, v in received.items()}  # type: ignore[arg-type]
        return received

    def blocked_clients(self) -> int:
        control = self.conn("__control__")
        info = control.request(encode_command("INFO", "clients"))
        for line in info.split(b"\r\n"):
            if line.startswith(b"blocked_clients:"):
                return int(line.split(b":")[1])
        raise AssertionError("INFO clients has no blocked_clients")

    def wait_blocked(self, count: int) -> None:
        deadline = time.monotonic() + 5
        while self.blocked_clients() < count:
            assert time.monotonic() < deadline, "the command did not block"
            time.sleep(0.002)


def run_script(proc: ServerProcess, script: list[str], resp3: bool, setup: list[str]) -> Record:
    session = Session(proc, resp3)
    try:
        control = session.conn("__control__")
        for command in setup:
            control.request(encode_command(*parse_args(command)))
        return [(line, session.step(line)) for line in script]
    finally:
        session.close()


def wait_until_idle(proc: ServerProcess) -> None:
    """Connections of the previous script may still be closing: wait until no subscription is
    left anywhere (bounded), so PUBSUB counts start from zero."""
    conn = proc.raw()
    try:
        deadline = time.monotonic() + 5
        while True:
            numpat = conn.request(encode_command("PUBSUB", "NUMPAT"))
            channels = conn.request(encode_command("PUBSUB", "CHANNELS"))
            shards = conn.request(encode_command("PUBSUB", "SHARDCHANNELS"))
            if (numpat, channels, shards) == (b":0\r\n", b"*0\r\n", b"*0\r\n"):
                return
            assert time.monotonic() < deadline, "subscriptions of earlier connections linger"
            time.sleep(0.005)
    finally:
        conn.close()


def compare(
    ours: ServerProcess,
    oracle: ServerProcess,
    script: list[str],
    resp3: bool,
    setup: list[str] | None = None,
) -> None:
    wait_until_idle(oracle)
    wait_until_idle(ours)
    expected = run_script(oracle, script, resp3, setup or [])
    actual = run_script(ours, script, resp3, setup or [])
    for (line, want), (_, got) in zip(expected, actual, strict=True):
        assert got == want, f"step {line!r}:\n redis     {want!r}\n damselfly {got!r}"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Dedicated servers, so that no other test's subscriber shows up in PUBSUB counts."""
    yield from dedicated_pair()


RESP = pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])

SCRIPTS = {
    "confirmations-and-counts": [
        "a: SUBSCRIBE c1 c2 c3",
        "a: PSUBSCRIBE p1* p2?",
        "a: SSUBSCRIBE s1 s2",
        "a: SUBSCRIBE c1",
        "a: PSUBSCRIBE p1* p3",
        "a: SSUBSCRIBE s1",
        "a: UNSUBSCRIBE c2 never",
        "a: PUNSUBSCRIBE p2? p2?",
        "a: SUNSUBSCRIBE s2 nope",
        "~a: UNSUBSCRIBE",
        "~a: PUNSUBSCRIBE",
        "a: SUNSUBSCRIBE",
        "a: UNSUBSCRIBE",
        "a: PUNSUBSCRIBE",
        "a: SUNSUBSCRIBE",
        "a: SUNSUBSCRIBE never",
        "a: PUNSUBSCRIBE never",
    ],
    "unsubscribe-when-never-subscribed": [
        "a: UNSUBSCRIBE",
        "a: PUNSUBSCRIBE",
        "a: SUNSUBSCRIBE",
        "a: UNSUBSCRIBE x y",
        "a: PUNSUBSCRIBE x*",
        "a: SUNSUBSCRIBE x",
        "a: GET k",
    ],
    "message-shapes-and-counts": [
        "ch: SUBSCRIBE news",
        "p1: PSUBSCRIBE n*",
        "p2: PSUBSCRIBE ne?s",
        "both: SUBSCRIBE news",
        "both: PSUBSCRIBE n*",
        "x: PUBLISH news hello",
        "x: PUBLISH nope m",
        "x: PUBLISH nxxx ''",
        "x: PUBLISH other m",
        "x: PUBSUB NUMSUB news n* other",
        "x: PUBSUB NUMPAT",
        "both: PUNSUBSCRIBE n*",
        "x: PUBLISH news again",
        "x: PUBSUB NUMPAT",
        "p1: PUNSUBSCRIBE",
        "p2: PUNSUBSCRIBE",
        "x: PUBSUB NUMPAT",
        "x: PUBLISH news last",
    ],
    "client-with-channel-and-several-patterns": [
        "a: SUBSCRIBE topic",
        "a: PSUBSCRIBE t* *c topic",
        "~x: PUBLISH topic m",
        "~a: PUNSUBSCRIBE",
        "x: PUBLISH topic m",
    ],
    "shard-channels-apart": [
        "a: SSUBSCRIBE s1",
        "b: SUBSCRIBE s1",
        "c: PSUBSCRIBE s*",
        "x: SPUBLISH s1 m",
        "x: PUBLISH s1 m",
        "x: SPUBLISH s2 m",
        "x: PUBSUB SHARDNUMSUB s1 s2",
        "x: PUBSUB SHARDNUMSUB",
        "x: PUBSUB NUMSUB s1",
        "x: PUBSUB SHARDCHANNELS",
        "x: PUBSUB SHARDCHANNELS s?",
        "x: PUBSUB SHARDCHANNELS x*",
        "x: PUBSUB CHANNELS",
        "a: SUBSCRIBE s1",
        "a: UNSUBSCRIBE",
        "x: SPUBLISH s1 again",
        "a: SUNSUBSCRIBE",
    ],
    "pubsub-introspection": [
        "a: SUBSCRIBE alpha beta",
        "b: SUBSCRIBE beta gamma",
        "c: PSUBSCRIBE a* a* b*",
        "~x: PUBSUB CHANNELS",
        "x: PUBSUB CHANNELS a*",
        "~x: PUBSUB CHANNELS *a",
        "x: PUBSUB CHANNELS nothing*",
        "x: PUBSUB NUMSUB",
        "x: PUBSUB NUMSUB beta alpha beta zeta",
        "x: PUBSUB NUMPAT",
        "x: PUBSUB HELP",
        "x: PUBSUB channels a b",
        "x: PUBSUB SHARDCHANNELS a b",
        "x: PUBSUB NUMPAT x",
        "x: PUBSUB HELP x",
        "x: PUBSUB nosuch",
        "x: PUBSUB",
        "x: PUBLISH",
        "x: PUBLISH a",
        "x: PUBLISH a b c",
        "x: SPUBLISH a",
        "x: SUBSCRIBE",
        "x: PSUBSCRIBE",
        "x: SSUBSCRIBE",
    ],
    "subscriber-context": [
        "a: SUBSCRIBE c",
        "a: PING",
        "a: PING hello",
        "a: GET k",
        "a: SET k v",
        "a: PUBLISH c m",
        "a: ECHO hi",
        "a: SELECT 1",
        "a: PUBSUB NUMPAT",
        "a: CLIENT SETNAME n",
        "a: CONFIG GET maxclients",
        "a: AUTH x",
        "a: nosuchcommand x",
        "a: SUBSCRIBE",
        "a: PSUBSCRIBE p",
        "a: SSUBSCRIBE s",
        "a: UNSUBSCRIBE c",
        "a: GET k",
        "a: PUNSUBSCRIBE p",
        "a: GET k",
        "a: SUNSUBSCRIBE s",
        "a: GET k",
        "a: PING",
    ],
    "reset-leaves-subscriber-mode": [
        "a: SUBSCRIBE c",
        "a: PSUBSCRIBE p*",
        "a: SSUBSCRIBE s",
        "a: RESET",
        "a: GET k",
        "a: PING",
        "x: PUBLISH c m",
        "x: PUBLISH pq m",
        "x: SPUBLISH s m",
        "x: PUBSUB NUMSUB c",
        "x: PUBSUB NUMPAT",
        "a: SUBSCRIBE c",
        "x: PUBLISH c m",
    ],
    "quit-while-subscribed": [
        "a: SUBSCRIBE c",
        "b: SUBSCRIBE c",
        "a: QUIT",
        "b: PING",
    ],
    "commands-while-subscribed": [
        "a: SUBSCRIBE c",
        "a: SET k v",
        "a: GET k",
        "x: PUBLISH c m",
        "a: PUBLISH c self",
        "a: RPUSH l 1",
        "a: LPOP l",
        "a: PSUBSCRIBE *",
        "a: PUBLISH c both",
        "a: PUBSUB NUMSUB c",
        "a: PING",
    ],
    "self-publish-is-ordered": [
        "a: SUBSCRIBE me",
        "a: PUBLISH me first",
        "a: PUBLISH me second",
        "b: SUBSCRIBE me",
        "b: PUBLISH me third",
    ],
    "binary-channel-names": [
        "a: SUBSCRIBE 'bin\\x00ary' '\\xff\\xfe' ''",
        "b: PSUBSCRIBE 'bin\\x00*'",
        "x: PUBLISH 'bin\\x00ary' '\\x00\\x01'",
        "x: PUBLISH '\\xff\\xfe' 'caf\\xc3\\xa9'",
        "x: PUBLISH '' empty",
        "x: PUBLISH bin other",
        "x: PUBSUB NUMSUB 'bin\\x00ary' ''",
        "x: PUBSUB CHANNELS 'bin*'",
        "x: PUBSUB CHANNELS '\\xff?'",
        "a: UNSUBSCRIBE '\\xff\\xfe'",
    ],
}

# Glob rules: one pattern per subscriber, so the delivery order is Redis's list order.
GLOB_PATTERNS = [
    "h[ae]llo",
    "h[^e]llo",
    "h[a-c]llo",
    "h[c-a]llo",
    "h\\\\*llo",
    "h?llo",
    "h*",
    "*llo",
    "[",
    "[a",
    "h\\\\",
    "\\\\",
    "a[]]b",
    "*[*]",
    "*",
    "[!e]*",
    "h[ae\\\\]]llo",
    "**o",
]
GLOB_CHANNELS = [
    "hello", "hallo", "hbllo", "hillo", "h*llo", "hllo", "heello", "h", "[", "[a", "a",
    "h\\\\", "\\\\", "a]b", "ab", "x*", "x[", "!ello", "h]llo", "H",
]  # fmt: skip
SCRIPTS["glob-rules"] = [
    *(f"p{i}: PSUBSCRIBE '{pattern}'" for i, pattern in enumerate(GLOB_PATTERNS)),
    *(f"x: PUBLISH '{channel}' m" for channel in GLOB_CHANNELS),
    *(f"x: PUBSUB CHANNELS '{pattern}'" for pattern in GLOB_PATTERNS[:6]),
]
SCRIPTS["glob-rules-channels"] = [
    "a: SUBSCRIBE " + " ".join(f"'{c}'" for c in GLOB_CHANNELS),
    *(f"~x: PUBSUB CHANNELS '{pattern}'" for pattern in GLOB_PATTERNS),
    "~a: UNSUBSCRIBE",
]


@RESP
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_pubsub_script_matches_redis(
    name: str, resp3: bool, servers: tuple[ServerProcess, ServerProcess]
) -> None:
    ours, oracle = servers
    compare(ours, oracle, SCRIPTS[name], resp3)


def test_resp3_client_blocked_in_blpop_still_receives_pushes(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    ours, oracle = servers
    script = [
        "a: SUBSCRIBE c",
        "&a: BLPOP l 0",
        "x: PUBLISH c while-blocked",
        "x: RPUSH l v",
        "?a:",
        "x: PUBLISH c after",
    ]
    compare(ours, oracle, script, resp3=True, setup=["DEL l"])


def test_resp3_subscriber_mixes_pushes_and_replies_in_one_pipeline(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    """A RESP3 client pipelining SUBSCRIBE, PUBLISH to itself and GET sees each push exactly
    where Redis puts it among the replies."""
    ours, oracle = servers
    pipeline = b"".join(
        encode_command(*argv)
        for argv in (
            ("HELLO", "3"),
            ("SUBSCRIBE", "a", "b"),
            ("PUBLISH", "a", "1"),
            ("SET", "k", "v"),
            ("PUBLISH", "b", "2"),
            ("GET", "k"),
            ("UNSUBSCRIBE", "a"),
            ("PUBLISH", "a", "3"),
            ("PING",),
        )
    )
    results = []
    for proc in (oracle, ours):
        wait_until_idle(proc)
        conn = proc.raw()
        try:
            conn.request(encode_command("DEL", "k"))
            conn.send(pipeline)
            units = [conn.read_reply() for _ in range(12)]
        finally:
            conn.close()
        results.append(units[1:])  # HELLO's reply names the connection id
    assert results[1] == results[0]


def test_pipelined_publishes_reach_a_subscriber_in_order(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    ours, oracle = servers
    streams = []
    for proc in (oracle, ours):
        wait_until_idle(proc)
        sub = proc.raw()
        pub = proc.raw()
        try:
            sub.request(encode_command("SUBSCRIBE", "seq"))
            pub.send(b"".join(encode_command("PUBLISH", "seq", str(i)) for i in range(200)))
            assert [pub.read_reply() for _ in range(200)] == [b":1\r\n"] * 200
            streams.append(b"".join(sub.read_reply() for _ in range(200)))
        finally:
            sub.close()
            pub.close()
    assert streams[1] == streams[0]


def test_subscriber_disconnect_is_forgotten(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    """After a subscriber's socket closes, both servers count it out and PUBLISH returns 0."""
    for proc in servers:
        wait_until_idle(proc)
        sub = proc.raw()
        sub.request(encode_command("SUBSCRIBE", "gone"))
        sub.close()
        conn = proc.raw()
        try:
            deadline = time.monotonic() + 5
            while conn.request(encode_command("PUBSUB", "NUMSUB", "gone")) != (
                b"*2\r\n$4\r\ngone\r\n:0\r\n"
            ):
                assert time.monotonic() < deadline, f"{proc.name} still counts the subscriber"
                time.sleep(0.005)
            assert conn.request(encode_command("PUBLISH", "gone", "m")) == b":0\r\n"
        finally:
            conn.close()
