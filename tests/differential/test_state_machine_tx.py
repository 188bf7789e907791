"""Randomized differential test of lists, transactions and scripts against redis-server.

A second Hypothesis state machine, next to test_state_machine.py (strings, keys, expiry), whose
rules mix list commands with a few string/key commands on four keys, so that types collide and
WRONGTYPE comes up often; transactions on connection A (MULTI, random commands queued among
wrong-arity and unknown ones, EXEC, DISCARD, WATCH, UNWATCH) while connection B writes the keys
A watches; EVAL/EVALSHA of a handful of fixed scripts (compare-and-delete, compare-and-expire, a
fenced SET NX PX + INCR, pcall on a wrong type, nested tables of floats and booleans, RESP3
shapes, blocking commands) and SCRIPT LOAD/EXISTS/FLUSH; blocking pops inside MULTI and from
scripts, where they must answer at once; and A blocked with timeout 0 while B writes, where
B's writes serve A or B's CLIENT UNBLOCK releases it. Every reply of both connections is
compared byte for byte with redis-server's, in RESP2 and in RESP3, and at the end of each
example the keyspace of two databases is compared as well.

Time: nothing may expire while an example runs (redis-server's clock cannot be moved), so
relative expiries are >= 100 s and active expiry is off; TTLs are read only as top-level
commands, which compare.py compares with a tolerance, never inside EXEC or a script reply.
A blocking command with timeout 0 is sent only where it cannot block (inside MULTI, or from a
script) or where B releases it; otherwise A blocks at most 10 ms.

Budget: DAMSELFLY_HYPOTHESIS_EXAMPLES (default 80 here) examples of DAMSELFLY_HYPOTHESIS_STEPS
(default 40) steps per protocol; derandomized when CI is set. For a long local hunt, e.g.
`DAMSELFLY_HYPOTHESIS_EXAMPLES=3000 pytest tests/differential/test_state_machine_tx.py`.
"""

from __future__ import annotations

import hashlib
import os
import select
import time
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from tests.differential import compare
from tests.differential.test_state_machine import (
    machine_settings,
    private_servers,
    weighted,
)
from tests.servers import (
    RawConnection,
    ServerProcess,
    encode_command,
)

EXAMPLES = int(os.environ.get("DAMSELFLY_HYPOTHESIS_EXAMPLES", "80"))
STEPS = int(os.environ.get("DAMSELFLY_HYPOTHESIS_STEPS", "40"))

pytestmark = [
    pytest.mark.differential,
    pytest.mark.timeout(max(300, EXAMPLES * STEPS // 100)),
]

KEYS = [b"a", b"b", b"c", b"{a}x"]
DBS = [0, 1]

# --- scripts --------------------------------------------------------------------------------

# Each script: KEYS/ARGV as the rules below pass them.
SCRIPTS: dict[str, bytes] = {
    # KEYS[1] lock; ARGV[1] token. Deletes the lock only if it still holds the token.
    "compare_and_delete": b"if redis.call('get', KEYS[1]) == ARGV[1] then\n"
    b"  return redis.call('del', KEYS[1])\nend\nreturn 0",
    # KEYS[1] lock; ARGV[1] token, ARGV[2] new TTL in ms. Extends the lock only if held.
    "compare_and_expire": b"if redis.call('get', KEYS[1]) == ARGV[1] then\n"
    b"  return redis.call('pexpire', KEYS[1], ARGV[2])\nend\nreturn 0",
    # KEYS[1] lock, KEYS[2] fence counter; ARGV[1] token, ARGV[2] TTL in ms.
    "fenced_acquire": b"if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
    b"  return redis.call('incr', KEYS[2])\nend\nreturn false",
    # KEYS[1] any key; ARGV[1] element. A wrong type is caught and reported as a string.
    "pcall_wrongtype": b"local r = redis.pcall('lpush', KEYS[1], ARGV[1])\n"
    b"if type(r) == 'table' and r.err then return 'caught: ' .. r.err end\nreturn r",
    # KEYS[1] any key. The error table of pcall returned as is becomes an error reply.
    "pcall_return_error": b"return redis.pcall('rpop', KEYS[1])",
    # KEYS[1] any key; ARGV[1] anything. Floats are truncated, false is nil, nil ends a table.
    "nested": b"return {1, 2.75, -3.5, true, false, {ARGV[1], {KEYS[1], 0.5, {}}},"
    b" redis.pcall('llen', KEYS[1]), 'tail', nil, 'lost'}",
    # KEYS[1] any key. RESP3 replies seen by the script, then converted back for the client.
    "resp3_shapes": b"redis.setresp(3)\n"
    b"local r = redis.pcall('lrange', KEYS[1], 0, -1)\n"
    b"return {r, {double=3.25}, {map={k=1}}, {set={m=true}}, true, false,"
    b" redis.pcall('get', KEYS[1]), {ok='fine'}}",
    # KEYS[1], KEYS[2] lists; ARGV[1] LEFT/RIGHT. Blocking commands never block in a script.
    "blocking": b"local a = redis.call('blmpop', 0, 2, KEYS[1], KEYS[2], ARGV[1])\n"
    b"local b = redis.call('blmove', KEYS[2], KEYS[1], 'LEFT', 'RIGHT', 0)\n"
    b"local c = redis.call('blpop', KEYS[1], 0)\nreturn {a or 'none', b or 'none', c or 'none'}",
    # KEYS[1] any key; ARGV[1] a command name, the rest its arguments after the key.
    "generic": b"return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))",
    # KEYS[1] any key; ARGV[1] a database. SELECT inside a script does not outlive it.
    "select_inside": b"redis.call('select', ARGV[1])\n"
    b"return {redis.call('rpush', KEYS[1], ARGV[1]), redis.call('dbsize')}",
    # Errors raised by the script itself, as a table and as a string.
    "raise": b"if ARGV[1] == 'table' then return redis.error_reply('MYERR custom') end\n"
    b"if ARGV[1] == 'status' then return redis.status_reply('FINE') end\n"
    b"error('plain failure')",
}
SCRIPT_NAMES = sorted(SCRIPTS)
SHA = {name: hashlib.sha1(body).hexdigest() for name, body in SCRIPTS.items()}
UNKNOWN_SHA = "0" * 40
BAD_SCRIPTS = [b"return +", b"return {1,", b"local x = ", b"retrun 1"]

# --- alphabets ------------------------------------------------------------------------------

keys = st.sampled_from(KEYS)
ELEMENTS = [b"x", b"y", b"z", b"1", b"", b"10", b"-1", b"tok", b"\x00\xff"]
elements = st.sampled_from(ELEMENTS)
element_lists = st.lists(elements, min_size=1, max_size=4)
INDEXES = [b"0", b"1", b"2", b"-1", b"-2", b"-100", b"100", b"3", b"x", b"", b"1.5"]
INDEX_EDGES = [b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808"]
indexes = weighted((8, st.sampled_from(INDEXES)), (1, st.sampled_from(INDEX_EDGES)))
COUNTS = [b"0", b"1", b"2", b"3", b"10", b"-1", b"x", b"9223372036854775807", b"2147483648"]
counts = st.sampled_from(COUNTS)
directions = weighted(
    (8, st.sampled_from([b"LEFT", b"RIGHT", b"left", b"Right"])), (1, st.just(b"UP"))
)
# TTLs in ms for scripts; never small enough to expire during an example.
SCRIPT_TTLS = [b"100000", b"200000", b"0", b"-5", b"abc", b"9223372036854775807", b"1.5"]
script_ttls = weighted((4, st.sampled_from(SCRIPT_TTLS[:2])), (1, st.sampled_from(SCRIPT_TTLS)))
PAST_MS = b"1000"
FUTURE_AT_MS = b"4102444800000"

lpos_option = st.one_of(
    st.tuples(
        st.sampled_from([b"RANK", b"rank"]),
        st.sampled_from([b"1", b"-1", b"2", b"0", b"-2", b"x", b"-9223372036854775808"]),
    ),
    st.tuples(
        st.sampled_from([b"COUNT", b"count"]), st.sampled_from([b"0", b"1", b"2", b"-1", b"x"])
    ),
    st.tuples(
        st.sampled_from([b"MAXLEN", b"maxlen"]), st.sampled_from([b"0", b"1", b"2", b"-1", b"x"])
    ),
    st.sampled_from([(b"BOGUS",), (b"RANK",)]),
)


def list_command() -> st.SearchStrategy[list[bytes]]:
    """One list command with random (often edge or invalid) arguments."""
    k = keys
    return st.one_of(
        st.tuples(
            st.sampled_from([b"LPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"]), k, element_lists
        ).map(lambda t: [t[0], t[1], *t[2]]),
        st.tuples(st.sampled_from([b"LPOP", b"RPOP"]), k).map(list),
        st.tuples(st.sampled_from([b"LPOP", b"RPOP"]), k, counts).map(list),
        st.tuples(st.just(b"LRANGE"), k, indexes, indexes).map(list),
        st.tuples(st.just(b"LTRIM"), k, indexes, indexes).map(list),
        st.tuples(st.just(b"LINDEX"), k, indexes).map(list),
        st.tuples(st.just(b"LSET"), k, indexes, elements).map(list),
        st.tuples(st.just(b"LLEN"), k).map(list),
        st.tuples(
            st.just(b"LREM"), k, st.sampled_from([b"0", b"1", b"-1", b"2", b"-2", b"x"]), elements
        ).map(list),
        st.tuples(
            st.just(b"LINSERT"),
            k,
            st.sampled_from([b"BEFORE", b"AFTER", b"after", b"MIDDLE"]),
            elements,
            elements,
        ).map(list),
        st.tuples(st.just(b"LPOS"), k, elements, st.lists(lpos_option, max_size=3)).map(
            lambda t: [t[0], t[1], t[2], *(w for opt in t[3] for w in opt)]
        ),
        st.tuples(st.just(b"LMOVE"), k, k, directions, directions).map(list),
        st.tuples(st.just(b"RPOPLPUSH"), k, k).map(list),
        st.tuples(
            st.just(b"LMPOP"),
            st.sampled_from([b"1", b"2", b"0", b"-1", b"5", b"x"]),
            st.lists(k, min_size=2, max_size=2),
            directions,
            st.sampled_from(
                [(), (b"COUNT", b"2"), (b"COUNT", b"0"), (b"COUNT", b"x"), (b"count", b"10")]
            ),
        ).map(lambda t: [t[0], t[1], *t[2], t[3], *t[4]]),
    )


def other_command() -> st.SearchStrategy[list[bytes]]:
    """String and key commands on the same keys: type collisions and WRONGTYPE."""
    k = keys
    return st.one_of(
        st.tuples(st.just(b"SET"), k, elements).map(list),
        st.tuples(
            st.just(b"SET"), k, elements, st.sampled_from([b"NX", b"XX", b"GET", b"KEEPTTL"])
        ).map(list),
        st.tuples(st.just(b"SET"), k, elements, st.just(b"PX"), script_ttls).map(list),
        st.tuples(
            st.sampled_from([b"GET", b"INCR", b"DEL", b"EXISTS", b"TYPE", b"PERSIST", b"STRLEN"]), k
        ).map(list),
        st.tuples(st.just(b"APPEND"), k, elements).map(list),
        st.tuples(st.sampled_from([b"RENAME", b"RENAMENX", b"COPY"]), k, k).map(list),
        st.tuples(st.just(b"PEXPIRE"), k, script_ttls).map(list),
        st.tuples(st.just(b"PEXPIREAT"), k, st.sampled_from([PAST_MS, FUTURE_AT_MS])).map(list),
        st.tuples(st.just(b"OBJECT"), st.just(b"ENCODING"), k).map(list),
        st.tuples(st.just(b"MOVE"), k, st.sampled_from([b"0", b"1"])).map(list),
        st.sampled_from([[b"FLUSHDB"], [b"SWAPDB", b"0", b"1"], [b"FLUSHALL"]]),
    )


# Rejected before queueing: unknown commands, wrong arity, unknown subcommands.
BAD_COMMANDS = [
    [b"NOSUCH"], [b"nosuch", b"a"], [b"LPUSH", b"a"], [b"LRANGE", b"a", b"0"], [b"GET"],
    [b"LMOVE", b"a", b"b", b"LEFT"], [b"BLPOP", b"a"], [b"EVAL"], [b"EVAL", b"return 1"],
    [b"OBJECT", b"NOPE", b"a"], [b"SCRIPT", b"NOPE"], [b"LPOS", b"a"], [b"lset", b"a", b"0"],
]  # fmt: skip

# Blocking with timeout 0: sent only where it must answer at once.
blocking_command = st.one_of(
    st.tuples(st.sampled_from([b"BLPOP", b"BRPOP"]), st.lists(keys, min_size=1, max_size=2)).map(
        lambda t: [t[0], *t[1], b"0"]
    ),
    st.tuples(st.just(b"BLMOVE"), keys, keys, directions, directions).map(lambda t: [*t, b"0"]),
    st.tuples(st.just(b"BRPOPLPUSH"), keys, keys).map(lambda t: [*t, b"0"]),
    st.tuples(
        st.just(b"BLMPOP"),
        st.just(b"0"),
        st.sampled_from([b"1", b"2"]),
        st.lists(keys, min_size=2, max_size=2),
        directions,
    ).map(lambda t: [t[0], t[1], t[2], *(t[3][: int(t[2])]), t[4]]),
    st.tuples(
        st.just(b"BLMPOP"),
        st.just(b"0"),
        st.just(b"1"),
        keys,
        directions,
        st.just(b"COUNT"),
        counts,
    ).map(list),
    st.sampled_from(
        [[b"BLPOP", b"a", b"-1"], [b"BLPOP", b"a", b"x"], [b"BLMPOP", b"0", b"0", b"LEFT"]]
    ),
)

# What the generic script may call with KEYS[1]: ARGV[1] is the name, the rest its arguments.
generic_calls = st.one_of(
    st.tuples(st.sampled_from([b"lpush", b"rpush"]), element_lists).map(lambda t: [t[0], *t[1]]),
    st.tuples(st.sampled_from([b"lpop", b"rpop"]), counts).map(list),
    st.tuples(st.just(b"lrange"), indexes, indexes).map(list),
    st.tuples(st.just(b"lpos"), elements, st.lists(lpos_option, max_size=2)).map(
        lambda t: [t[0], t[1], *(w for opt in t[2] for w in opt)]
    ),
    st.tuples(st.just(b"lrem"), st.sampled_from([b"0", b"1", b"-1"]), elements).map(list),
    st.sampled_from(
        [
            [b"get"],
            [b"incr"],
            [b"type"],
            [b"llen"],
            [b"nosuch"],
            [b"lpush"],
            [b"blpop", b"0"],
            [b"watch"],
            [b"multi"],
            [b"exists", b"a", b"b"],
            [b"brpop", b"1"],
            [b"object", b"freq"],
        ]
    ),
)


# --- connections ----------------------------------------------------------------------------


class Conns:
    """Connections A and B to redis-server and to damselfly, all in one protocol.

    After a failed step a reply may still be in flight (or A may be left inside MULTI), so the
    next example reconnects instead of reading a stale reply as its own.
    """

    def __init__(self, oracle: ServerProcess, ours: ServerProcess, protocol: int) -> None:
        self.procs = (oracle, ours)
        self.protocol = protocol
        self.dirty = False
        self.a, self.b = self.connect(), self.connect()
        self.a_ids = self.client_ids()

    def client_ids(self) -> tuple[bytes, bytes]:
        """A's CLIENT ID on each server, for B to CLIENT UNBLOCK it."""
        ids = [compare.parse(conn.request(encode_command("CLIENT", "ID"))) for conn in self.a]
        return str(ids[0]).encode(), str(ids[1]).encode()

    def connect(self) -> tuple[RawConnection, RawConnection]:
        conns = (self.procs[0].raw(), self.procs[1].raw())
        if self.protocol == 3:
            for conn in conns:
                reply = conn.request(encode_command("HELLO", "3"))
                assert reply.startswith(b"%"), reply
        return conns

    def reconnect_if_dirty(self) -> None:
        if self.dirty:
            self.close()
            self.a, self.b = self.connect(), self.connect()
            self.a_ids = self.client_ids()
            self.dirty = False

    def close(self) -> None:
        for conn in (*self.a, *self.b):
            conn.close()


class TxMachine(RuleBasedStateMachine):
    def __init__(self, conns: Conns) -> None:
        super().__init__()
        self.conns = conns
        self.log: list[str] = []
        self.failed = False
        # Whether A is inside MULTI, as redis-server's replies tell.
        self.in_multi = False
        conns.reconnect_if_dirty()
        for pair in (conns.a, conns.b):
            for conn in pair:
                for argv in (["SELECT", "0"], ["FLUSHALL"], ["SCRIPT", "FLUSH"]):
                    assert conn.request(encode_command(*argv)) == b"+OK\r\n"

    # --- plumbing -------------------------------------------------------------------------

    def fail(self, message: str) -> NoReturn:
        self.failed = True
        self.conns.dirty = True
        history = "\n".join(self.log[-80:])
        raise AssertionError(f"{message}\n--- commands of this example (last 80) ---\n{history}")

    def exchange(self, conn: RawConnection, argv: list[bytes], who: str) -> bytes:
        try:
            return conn.request(encode_command(*argv))
        except (OSError, ConnectionError) as exc:
            self.fail(f"{who} did not answer {compare.format_argv(argv)}: {exc!r}")

    def check(self, who: str, argv: list[bytes]) -> bytes:
        """Send argv on connection `who` of both servers; return redis-server's reply."""
        pair = self.conns.a if who == "A" else self.conns.b
        expected = self.exchange(pair[0], argv, "redis-server")
        actual = self.exchange(pair[1], argv, "damselfly")
        self.log.append(f"  {who}: {compare.format_argv(argv)}  ->  {expected!r} | {actual!r}")
        diff = compare.difference(argv, expected, actual)
        if diff is not None:
            self.fail(f"reply to {who} differs:\n{diff}")
        return expected

    def on_a(self, argv: list[bytes]) -> bytes:
        reply = self.check("A", argv)
        name = argv[0].lower()
        if name == b"multi" and reply == b"+OK\r\n":
            self.in_multi = True
        elif name == b"exec" or (name == b"discard" and len(argv) == 1):
            # EXEC with any arguments ends the transaction too (Redis 7.0 discards it).
            self.in_multi = False
        return reply

    def run(self, who: str, argv: list[bytes]) -> None:
        if who == "A":
            self.on_a(argv)
        else:
            self.check("B", argv)

    # --- plain commands, on A (queued when in MULTI) or on B --------------------------------

    @rule(who=st.sampled_from(["A", "A", "A", "B"]), argv=list_command())
    def list_cmd(self, who: str, argv: list[bytes]) -> None:
        self.run(who, argv)

    @rule(who=st.sampled_from(["A", "A", "B"]), argv=other_command())
    def other_cmd(self, who: str, argv: list[bytes]) -> None:
        self.run(who, argv)

    @rule(argv=st.sampled_from(BAD_COMMANDS))
    def bad_command(self, argv: list[bytes]) -> None:
        self.on_a(argv)

    @rule(db=st.sampled_from([b"0", b"1", b"0"]))
    def select(self, db: bytes) -> None:
        self.on_a([b"SELECT", db])

    @precondition(lambda self: not self.in_multi)
    @rule(name=st.sampled_from([b"PTTL", b"TTL"]), key=keys)
    def ttl(self, name: bytes, key: bytes) -> None:
        self.on_a([name, key])

    # --- transactions ---------------------------------------------------------------------

    @rule()
    def multi(self) -> None:
        self.on_a([b"MULTI"])

    @precondition(lambda self: self.in_multi)
    @rule(extra=st.sampled_from([[], [], [], [], [b"x"]]))
    def exec_(self, extra: list[bytes]) -> None:
        self.on_a([b"EXEC", *extra])

    @precondition(lambda self: self.in_multi)
    @rule(extra=st.sampled_from([[], [], [b"x"]]))
    def discard(self, extra: list[bytes]) -> None:
        self.on_a([b"DISCARD", *extra])

    @rule(keys_=st.lists(keys, min_size=1, max_size=3))
    def watch(self, keys_: list[bytes]) -> None:
        self.on_a([b"WATCH", *keys_])

    @rule()
    def unwatch(self) -> None:
        self.on_a([b"UNWATCH"])

    @precondition(lambda self: self.in_multi)
    @rule(argv=blocking_command)
    def blocking_in_multi(self, argv: list[bytes]) -> None:
        self.on_a(argv)

    @precondition(lambda self: not self.in_multi)
    @rule(key=keys)
    def blocking_briefly(self, key: bytes) -> None:
        # Outside MULTI A may really block: only for 10 ms, then both answer the timeout.
        self.on_a([b"BLPOP", key, b"0.01"])

    @precondition(lambda self: not self.in_multi)
    @rule(
        argv=blocking_command,
        writes=st.lists(
            st.one_of(
                list_command(),
                other_command(),
                st.tuples(keys, element_lists).map(
                    lambda t: [
                        b"EVAL",
                        b"redis.call('rpush', KEYS[1], unpack(ARGV))\n"
                        b"return redis.call('lpop', KEYS[1])",
                        b"1",
                        t[0],
                        *t[1],
                    ]
                ),
            ),
            min_size=1,
            max_size=3,
        ),
    )
    def blocked_then_served(self, argv: list[bytes], writes: list[list[bytes]]) -> None:
        """A blocks with timeout 0, B writes; what B did either served A or B unblocks it."""
        for a, b, client_id in zip(self.conns.a, self.conns.b, self.conns.a_ids, strict=True):
            a.request(encode_command("PING"))
            a.send(encode_command(*argv))
            self.wait_until_run(a, b, client_id, argv)
        self.log.append(f"  A: {compare.format_argv(argv)}  (reply read later)")
        for write in writes:
            self.check("B", write)
        unblocked = []
        for conn, client_id in zip(self.conns.b, self.conns.a_ids, strict=True):
            unblock = [b"CLIENT", b"UNBLOCK", client_id]
            unblocked.append(self.exchange(conn, unblock, "B"))
        self.log.append(f"  B: CLIENT UNBLOCK <A>  ->  {unblocked[0]!r} | {unblocked[1]!r}")
        if unblocked[0] != unblocked[1]:
            self.fail("A was blocked on one server only (CLIENT UNBLOCK answered differently)")
        replies = [
            self.read(conn, argv, who)
            for conn, who in zip(self.conns.a, ("redis-server", "damselfly"), strict=True)
        ]
        self.log.append(
            f"  A: (reply to {compare.format_argv(argv)})  ->  {replies[0]!r} | {replies[1]!r}"
        )
        diff = compare.difference(argv, replies[0], replies[1])
        if diff is not None:
            self.fail(f"reply to A differs:\n{diff}")

    def wait_until_run(
        self, a: RawConnection, b: RawConnection, client_id: bytes, argv: list[bytes]
    ) -> None:
        """Wait until A's server ran argv (blocked or answered): else B's writes could overtake
        it, and whether A blocks would depend on which socket the server read first. A's
        PING just before makes CLIENT LIST show cmd=ping until then; a command rejected
        before running (arity) leaves cmd=ping but has its reply on the way."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if a.buf or select.select([a.sock], [], [], 0)[0]:
                return
            info = compare.parse(b.request(encode_command("CLIENT", "LIST", "ID", client_id)))
            text = info.value if isinstance(info, compare.Tagged) else info
            if b" cmd=ping " not in text:
                return
            time.sleep(0.001)
        self.fail(f"A never ran {compare.format_argv(argv)}")

    def read(self, conn: RawConnection, argv: list[bytes], who: str) -> bytes:
        try:
            return conn.read_reply()
        except (OSError, ConnectionError) as exc:
            self.fail(f"{who} did not answer {compare.format_argv(argv)}: {exc!r}")

    # --- scripts --------------------------------------------------------------------------

    def script_args(
        self, name: str, k: list[bytes], data: st.DataObject
    ) -> tuple[list[bytes], list[bytes]]:
        if name == "fenced_acquire":
            return k[:2], [data.draw(elements), data.draw(script_ttls)]
        if name == "compare_and_expire":
            return k[:1], [data.draw(elements), data.draw(script_ttls)]
        if name == "blocking":
            return k[:2], [data.draw(directions)]
        if name == "generic":
            return k[:1], data.draw(generic_calls)
        if name == "select_inside":
            return k[:1], [data.draw(st.sampled_from([b"0", b"1", b"1", b"16", b"x"]))]
        if name == "raise":
            return [], [data.draw(st.sampled_from([b"table", b"status", b"other"]))]
        return k[:1], [data.draw(elements)]

    def numkeys(self, n: int, data: st.DataObject) -> bytes:
        return data.draw(
            weighted((12, st.just(str(n).encode())), (1, st.sampled_from([b"-1", b"x", b"9"])))
        )

    @rule(
        who=st.sampled_from(["A", "A", "B"]),
        name=st.sampled_from(SCRIPT_NAMES),
        k=st.lists(keys, min_size=2, max_size=2),
        data=st.data(),
    )
    def eval_(self, who: str, name: str, k: list[bytes], data: st.DataObject) -> None:
        script_keys, args = self.script_args(name, k, data)
        argv = [b"EVAL", SCRIPTS[name], self.numkeys(len(script_keys), data), *script_keys, *args]
        self.run(who, argv)

    @rule(
        name=st.sampled_from([*SCRIPT_NAMES, "unknown"]),
        k=st.lists(keys, min_size=2, max_size=2),
        case=st.sampled_from([str.lower, str.upper, str.lower]),
        load_first=st.booleans(),
        data=st.data(),
    )
    def evalsha(
        self, name: str, k: list[bytes], case: Any, load_first: bool, data: st.DataObject
    ) -> None:
        sha = UNKNOWN_SHA if name == "unknown" else SHA[name]
        if load_first and name != "unknown":
            # Else most EVALSHAs would only meet NOSCRIPT: few examples EVAL that script first.
            self.on_a([b"SCRIPT", b"LOAD", SCRIPTS[name]])
        script_keys, args = self.script_args(name, k, data)
        argv = [
            b"EVALSHA",
            case(sha).encode(),
            self.numkeys(len(script_keys), data),
            *script_keys,
            *args,
        ]
        self.on_a(argv)

    @rule(
        body=st.one_of(
            st.sampled_from(SCRIPT_NAMES).map(SCRIPTS.__getitem__), st.sampled_from(BAD_SCRIPTS)
        )
    )
    def script_load(self, body: bytes) -> None:
        self.on_a([b"SCRIPT", b"LOAD", body])

    @rule(names=st.lists(st.sampled_from([*SCRIPT_NAMES, "unknown"]), min_size=1, max_size=3))
    def script_exists(self, names: list[str]) -> None:
        shas = [(UNKNOWN_SHA if n == "unknown" else SHA[n]).encode() for n in names]
        self.on_a([b"SCRIPT", b"EXISTS", *shas])

    @rule(opt=st.sampled_from([[], [b"SYNC"], [b"ASYNC"], [b"BOGUS"]]))
    def script_flush(self, opt: list[bytes]) -> None:
        self.on_a([b"SCRIPT", b"FLUSH", *opt])

    # --- the whole keyspace, once per example ---------------------------------------------

    def teardown(self) -> None:
        if self.failed:
            return
        if self.in_multi:
            self.on_a([b"DISCARD"])
        self.on_a([b"UNWATCH"])
        self.on_a([b"SCRIPT", b"EXISTS", *(SHA[n].encode() for n in SCRIPT_NAMES)])
        for db in DBS:
            self.on_a([b"SELECT", str(db).encode()])
            self.on_a([b"DBSIZE"])
            for key in KEYS:
                self.on_a([b"TYPE", key])
                self.on_a([b"LRANGE", key, b"0", b"-1"])
                self.on_a([b"GET", key])
                self.on_a([b"PTTL", key])
                self.on_a([b"OBJECT", b"ENCODING", key])


# --- the test -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    yield from private_servers()


@pytest.mark.parametrize("protocol", [2, 3], ids=["resp2", "resp3"])
def test_random_lists_transactions_and_scripts_reply_like_redis(
    servers: tuple[ServerProcess, ServerProcess], protocol: int
) -> None:
    oracle, ours = servers
    conns = Conns(oracle, ours, protocol)
    try:
        run_state_machine_as_test(
            # Hypothesis accepts any factory here; its annotation only names the class form.
            lambda: TxMachine(conns),  # type: ignore[arg-type]
            settings=machine_settings(EXAMPLES, STEPS),
        )
    finally:
        conns.close()
    assert oracle.alive() and ours.alive(), "a server died during the run"
