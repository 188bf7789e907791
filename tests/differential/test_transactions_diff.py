"""MULTI/EXEC/DISCARD/WATCH/UNWATCH against the real redis-server, reply bytes compared exactly.

Each scenario runs on a flushed server, in RESP2 and in RESP3, over named connections ("A:" and
"B:" prefixes; A when none is given) so that one connection can change a key another watches.
Covered: what is queued and what runs at once, the errors that abort EXEC and the ones that stay
in place, nested MULTI, WATCH inside MULTI, what dirties a watch (writes from any connection,
FLUSHALL, SWAPDB, RENAME, MOVE, COPY) and what does not (reads, failed or no-op writes, another
database), blocking pops inside EXEC, SUBSCRIBE inside a transaction, and the RESP3 shapes of the
replies EXEC collects. A few cases are pipelined in one write and compared as a single byte string:
there the replies are not well formed on purpose (CLIENT REPLY inside a transaction leaves EXEC's
array short, as Redis does), or their protocol changes half-way (HELLO 3 inside EXEC).
"""

from __future__ import annotations

import re
import shlex
import time

import pytest

from tests.servers import RawConnection, ServerProcess, encode_command

pytestmark = pytest.mark.differential

_HELLO_ID = re.compile(rb"(\$2\r\nid\r\n):\d+\r\n")

SCENARIOS = [
    # -- queueing and the errors that abort EXEC ------------------------------------------------
    "multi | set a 1 | nosuchcmd x | set b 2 | exec | exists a b | exec",
    "multi | set a 1 | get | exec | exists a",
    "multi | client nope | set a 1 | exec | exists a",
    "multi | object | ping | exec",
    "multi | multi | watch x | set a 1 | exec | get a",
    "exec | discard | multi | discard | discard | unwatch | watch",
    "multi | set a 1 | exec x | exec | exists a | discard x | multi x | exec x",
    "A:watch k | A:multi | A:exec x | B:set k 1 | A:multi | A:ping | A:exec",
    "subscribe ch | exec | exec x | discard | multi | reset",
    "multi | exec | multi | ping | discard | exec",
    "multi | set a 1 | get a | discard | get a",
    "config resetstat | set s x | multi | nosuchcmd | exec | multi | incr s | exec "
    "| info errorstats",
    # -- runtime errors stay in place -------------------------------------------------------------
    "set s abc | multi | incr s | lpush s x | get s | set t 1 | incrbyfloat t x | append s d "
    "| exec",
    "multi | set a 1 | expire a x | lpop a 1 2 | set a 2 | exec | get a",
    # -- reply shapes (RESP3 maps, nulls, doubles) inside EXEC ------------------------------------
    "multi | config get maxmemory | incrbyfloat f 1.5 | get nokey | rpush l a b | lrange l 0 -1 "
    "| lpop nol 2 | type l | exec",
    "multi | ping | ping hello | echo x | dbsize | exec",
    # -- SELECT, SUBSCRIBE and RESET inside a transaction -----------------------------------------
    "multi | select 1 | set k in1 | select 0 | exec | get k | select 1 | get k | select 0",
    "set a 1 | multi | subscribe ch | get a | ping | exec | ping",
    "subscribe ch | multi | ping | exec",
    "multi | set a 1 | reset | exec | exists a",
    # -- blocking pops inside EXEC answer at once -------------------------------------------------
    "multi | blpop nol 0 | brpop nol 1 | blmove nol d left left 0 | brpoplpush nol d 0 "
    "| blmpop 0 1 nol left | blmpop 0 1 nol left count 2 | blpop nol -1 | rpush l a b "
    "| blpop l 0 | blmove l d left right 0 | exec",
    # -- WATCH ------------------------------------------------------------------------------------
    "A:watch k | B:set k 1 | A:multi | A:get k | A:exec | A:get k",
    "A:watch k | B:eval \"redis.call('set', KEYS[1], 'y')\" 1 k | A:multi | A:ping | A:exec",
    "A:watch k | A:multi | A:eval \"return redis.call('incr', KEYS[1])\" 1 k | A:get k | A:exec",
    "A:set k 1 | A:watch k | B:get k | B:exists k | B:ttl k | A:multi | A:get k | A:exec",
    "A:watch k | A:set k mine | A:multi | A:ping | A:exec",
    "A:set k v | A:watch k | B:lpush k x | B:del nokey | B:expire nokey 9 | A:multi | A:ping "
    "| A:exec",
    "A:watch k | B:set k 1 | B:del k | A:multi | A:ping | A:exec",
    "A:set other 1 | A:watch nokey | B:flushall | A:multi | A:ping | A:exec",
    "A:set k 1 | A:watch k | B:flushall | A:multi | A:ping | A:exec",
    "A:set k 1 | A:watch k | B:select 1 | B:set x 1 | B:flushdb | A:multi | A:ping | A:exec",
    "A:select 1 | A:set k 1 | A:select 0 | A:watch k | B:swapdb 0 1 | A:multi | A:ping | A:exec",
    "A:select 1 | A:set x 1 | A:select 0 | A:watch k | B:swapdb 0 1 | A:multi | A:ping | A:exec",
    "A:select 1 | A:watch k | B:set k 1 | A:multi | A:ping | A:exec",
    "A:set src 1 | A:watch dst | B:rename src dst | A:multi | A:ping | A:exec",
    "A:set src 1 | A:watch src | B:rename src dst | A:multi | A:ping | A:exec",
    "A:set src 1 | A:watch src | B:move src 1 | A:multi | A:ping | A:exec",
    "A:set x 1 | A:watch y | B:copy x y | A:multi | A:ping | A:exec",
    "A:watch a b c | B:set c 1 | A:watch d | A:multi | A:ping | A:exec",
    "A:watch k | B:set k 1 | A:unwatch | A:multi | A:ping | A:exec",
    "A:watch k | B:set k 1 | A:multi | A:discard | A:multi | A:ping | A:exec",
    "A:watch k | B:set k 1 | A:multi | A:set a 1 | A:nosuchcmd | A:exec | A:exists a",
    "A:watch k | A:multi | A:set k 1 | A:exec | B:set k 2 | A:multi | A:get k | A:exec",
    "A:watch k | B:set k 1 | A:multi | A:set a 1 | A:reset | A:multi | A:ping | A:exec",
]

# Pipelined in one write; the reply bytes up to the final ECHO are compared whole.
PIPELINES = [
    "multi | client reply skip | set x 1 | exec | ping a | ping b",
    "multi | client reply off | set x 1 | client reply on | exec | ping a",
    "multi | client reply off | set x 1 | exec | client reply on | ping b",
    "client reply off | multi | set x 1 | exec | client reply on | ping b",
    "client reply skip | multi | set x 1 | exec | ping b",
    "set a 1 | multi | hello 3 | get a | hello 2 | get a | exec | get a",
    "hello 3 | subscribe ch | multi | publish ch x | ping | exec | unsubscribe ch",
]

_END = "__end__"


def parse(sequence: str) -> list[tuple[str, list[str]]]:
    steps = []
    for part in sequence.split("|"):
        part = part.strip()
        name = "A"
        if len(part) > 2 and part[1] == ":" and part[0] in "AB":
            name, part = part[0], part[2:]
        steps.append((name, shlex.split(part)))
    return steps


def run(proc: ServerProcess, sequence: str, resp3: bool) -> list[bytes]:
    conns: dict[str, RawConnection] = {}
    replies = []
    try:
        for name, argv in parse(sequence):
            conn = conns.get(name)
            if conn is None:
                conn = conns[name] = proc.raw()
                if len(conns) == 1:
                    conn.request(encode_command("FLUSHALL"))
                if resp3:
                    conn.request(encode_command("HELLO", "3"))
            replies.append(conn.request(encode_command(*argv)))
    finally:
        for conn in conns.values():
            conn.close()
    return replies


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("sequence", SCENARIOS)
def test_transaction_scenario_matches_redis(
    sequence: str, resp3: bool, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    expected = run(redis_oracle, sequence, resp3)
    actual = run(server, sequence, resp3)
    for (name, argv), want, got in zip(parse(sequence), expected, actual, strict=True):
        assert got == want, f"{name}: {' '.join(argv)!r}: redis {want!r} damselfly {got!r}"


def run_pipelined(proc: ServerProcess, sequence: str) -> bytes:
    """Send the whole sequence and an ECHO in one write; return every byte up to its reply."""
    end = b"$%d\r\n%s\r\n" % (len(_END), _END.encode())
    conn = proc.raw()
    try:
        conn.request(encode_command("FLUSHALL"))
        argvs = [argv for _, argv in parse(sequence)] + [["ECHO", _END]]
        conn.send(b"".join(encode_command(*argv) for argv in argvs))
        data = b""
        deadline = time.monotonic() + 5
        conn.sock.settimeout(5)
        while not data.endswith(end):
            assert time.monotonic() < deadline, f"no end marker in {data!r}"
            try:
                chunk = conn.sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
        return _HELLO_ID.sub(rb"\1:ID\r\n", data)
    finally:
        conn.close()


@pytest.mark.parametrize("sequence", PIPELINES)
def test_pipelined_transaction_bytes_match_redis(
    sequence: str, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    assert run_pipelined(server, sequence) == run_pipelined(redis_oracle, sequence)
