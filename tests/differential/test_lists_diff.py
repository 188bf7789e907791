"""List commands against the real redis-server: same sequences, reply bytes compared exactly."""

from __future__ import annotations

import shlex

import pytest

from tests.servers import RawConnection, ServerProcess, encode_command

pytestmark = pytest.mark.differential

SEQUENCES = [
    "rpush l a b c a b c | lrange l 0 -1 | lrange l -100 100 | lrange l 2 1 | lrange l 5 10",
    "lpush l a b c | rpush l d e | llen l | lindex l 0 | lindex l -1 | lindex l 99 | lindex l x",
    "lpushx l a | rpushx l a | exists l | rpush l x | lpushx l y z | rpushx l w | lrange l 0 -1",
    "rpush l a b c | lpop l | rpop l | lpop l 0 | lpop l 5 | exists l | lpop l | lpop l 1",
    "lpop nol 0 | rpop nol 2 | lpop l -1 | lpop l 99999999999999999999 | lpop l 1 2",
    "set s v | lpush s a | rpop s | llen s | lrange s 0 1 | lindex s 0 | lpos s a | lmove s d left left",
    "rpush l a b c | lset l 1 B | lset l -1 C | lset l 3 x | lset nol 0 x | lset l x y | lrange l 0 -1",
    "rpush l a b c | linsert l before b x | linsert l after c y | linsert l before zz q "
    "| linsert nol before a b | linsert l middle a b | lrange l 0 -1",
    "rpush l a b a c a | lrem l 2 a | lrange l 0 -1 | rpush l a a | lrem l -1 a | lrange l 0 -1 "
    "| lrem l 0 a | lrange l 0 -1 | lrem l x a | lrem nol 1 a",
    "rpush l a | lrem l 0 a | exists l",
    "rpush l 1 2 3 4 5 6 | ltrim l 1 -2 | lrange l 0 -1 | ltrim l 5 10 | exists l | ltrim nol 0 1",
    "rpush l 1 2 3 | ltrim l -2 -1 | lrange l 0 -1 | ltrim l 0 x",
    "rpush l a b c a b c a | lpos l a | lpos l a rank 2 | lpos l a rank -1 | lpos l a count 0 "
    "| lpos l a count 2 rank -2 | lpos l a maxlen 3 count 0 | lpos l z | lpos l z count 1 "
    "| lpos l a rank 0 | lpos l a count -1 | lpos l a maxlen -1 | lpos l a foo 1 | lpos l a rank "
    "| lpos nol a | lpos nol a count 0",
    "rpush a 1 2 3 | lmove a b left right | lmove a b right left | lrange a 0 -1 | lrange b 0 -1 "
    "| lmove a a left right | lrange a 0 -1 | lmove a b up left | lmove nol b left left",
    "rpush a 1 | lmove a a left left | lrange a 0 -1 | rpoplpush a b | exists a | lrange b 0 -1",
    "set s x | rpush a 1 | lmove a s left left | lrange a 0 -1 | rpoplpush s a",
    "rpush a 1 2 3 | rpush b 4 | lmpop 2 nol a left | lmpop 2 a b right count 5 | lmpop 2 a b left "
    "count 10 | lmpop 1 b left | lmpop 0 a left | lmpop -1 a left | lmpop x a left | lmpop 3 a left "
    "| lmpop 1 a middle | lmpop 1 a left count 0 | lmpop 1 a left count -1 | lmpop 1 a left count",
    "rpush a 1 | lmpop 1 a left count 1 count 2 | lmpop 1 a left foo",
    "lpush | rpush l | lrange l 0 | linsert l before a | lmove a b left",
    "rpush l a | object encoding l | type l",
]


def run(server: ServerProcess, sequence: str, resp3: bool) -> list[bytes]:
    conn = RawConnection(server.host, server.port)
    try:
        conn.request(encode_command("FLUSHALL"))
        if resp3:
            conn.request(encode_command("HELLO", "3"))
        return [conn.request(encode_command(*shlex.split(cmd))) for cmd in sequence.split("|")]
    finally:
        conn.close()


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("sequence", SEQUENCES)
def test_list_sequence_matches_redis(
    sequence: str, resp3: bool, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    expected = run(redis_oracle, sequence, resp3)
    actual = run(server, sequence, resp3)
    for cmd, want, got in zip(sequence.split("|"), expected, actual, strict=True):
        assert got == want, f"{cmd.strip()!r}: redis {want!r} damselfly {got!r}"
