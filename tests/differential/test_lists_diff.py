"""List commands against the real redis-server: same sequences, reply bytes compared exactly.

Each sequence runs on a flushed server in RESP2 and in RESP3 and every reply must be equal byte
for byte: values, nils, error texts and which error wins when several apply (Redis checks
arguments in a different order per command). Blocking commands appear here only where they
answer at once (data present, or an argument error); waiting is covered by
test_blocking_diff.py. Sequences that change the configuration restore it at their end, since
both servers live for the whole session.
"""

from __future__ import annotations

import shlex

import pytest

from tests.servers import RawConnection, ServerProcess, encode_command

pytestmark = pytest.mark.differential

BIG = 9223372036854775807
SMALL = -9223372036854775808

SEQUENCES = [
    # -- pushes and LLEN ----------------------------------------------------------------------
    "rpush l a b c a b c | lrange l 0 -1 | lrange l -100 100 | lrange l 2 1 | lrange l 5 10",
    "lpush l a b c | rpush l d e | llen l | lindex l 0 | lindex l -1 | lindex l 99 | lindex l x",
    "lpushx l a | rpushx l a | exists l | rpush l x | lpushx l y z | rpushx l w | lrange l 0 -1",
    "lpush l '' | rpush l '' | llen l | lrange l 0 -1 | lpos l '' count 0 | lrem l 1 '' | llen l",
    "rpush l a | rpush l a | lpush l a | llen l | llen nol",
    # -- LPOP / RPOP and their COUNT ----------------------------------------------------------
    "rpush l a b c | lpop l | rpop l | lpop l 0 | lpop l 5 | exists l | lpop l | lpop l 1",
    "lpop nol 0 | rpop nol 2 | lpop l -1 | lpop l 99999999999999999999 | lpop l 1 2",
    f"rpush l a b c d | rpop l 2 | lpop l {BIG} | exists l | rpop l {BIG} | lpop l 01 | lpop l +1",
    "rpush l a | lpop l 1.5 | rpop l '' | lpop l ' 1' | rpop l 0x1 | lrange l 0 -1",
    "set s v | lpop s x | lpop s 0 | rpop s 1 | lpop s | rpop s -1",
    # -- wrong types: the key check against each command's argument checks ----------------------
    "set s v | lpush s a | rpop s | llen s | lrange s 0 1 | lindex s 0 | lpos s a "
    "| lmove s d left left",
    "set s x | lpushx s a | rpushx s a | lpop s 0 | rpop s 0 | llen s | lindex s 0 | lindex s x "
    "| lrange s 0 x | lrange s x 0 | lset s 0 x | lset s x 0 | linsert s before a b "
    "| linsert s middle a b | lrem s 1 a | lrem s x a | ltrim s 0 1 | ltrim s x 1 | lpos s a "
    "| lpos s a rank 0 | lpos s a count x | lmove s d left left | lmove d s left left "
    "| rpoplpush s d | lmpop 1 s left | lmpop 2 nokey s left | lmpop 1 s middle",
    # -- LINDEX -------------------------------------------------------------------------------
    f"rpush l a b c | lindex l -3 | lindex l -4 | lindex l 2 | lindex l 3 | lindex l {BIG} "
    f"| lindex l {SMALL} | lindex l 99999999999999999999 | lindex l '' | lindex l 1.0",
    "lindex nol x | lindex nol 0 | lindex nol -1",
    # -- LRANGE -------------------------------------------------------------------------------
    f"rpush l 0 1 2 3 4 5 6 7 8 9 | lrange l {SMALL} {BIG} | lrange l {BIG} {SMALL} "
    f"| lrange l -3 -1 | lrange l -1 -3 | lrange l -100 -50 | lrange l -100 0 | lrange l 9 9 "
    f"| lrange l 10 10 | lrange l -10 -10 | lrange l -11 -11 | lrange l 3 {BIG} | lrange l 0 0",
    "lrange nol 0 -1 | lrange nol x 0 | lrange nol 0 x | lrange nol 1.5 2 "
    "| lrange nol 99999999999999999999 1",
    # -- LSET ---------------------------------------------------------------------------------
    "rpush l a b c | lset l 1 B | lset l -1 C | lset l 3 x | lset nol 0 x | lset l x y "
    "| lrange l 0 -1",
    f"rpush l a b c | lset l -3 A | lset l -4 x | lset l {BIG} x | lset l {SMALL} x "
    "| lset nol x y | lset nol 0 y | lset l 0 '' | lrange l 0 -1",
    # -- LINSERT ------------------------------------------------------------------------------
    "rpush l a b c | linsert l before b x | linsert l after c y | linsert l before zz q "
    "| linsert nol before a b | linsert l middle a b | lrange l 0 -1",
    "rpush l p x p y p | linsert l before p 1 | linsert l after p 2 | lrange l 0 -1 "
    "| linsert l AFTER y end | linsert l BeFoRe 1 start | lrange l 0 -1 | linsert nol middle a b "
    "| linsert l before '' z",
    # -- LREM ---------------------------------------------------------------------------------
    "rpush l a b a c a | lrem l 2 a | lrange l 0 -1 | rpush l a a | lrem l -1 a | lrange l 0 -1 "
    "| lrem l 0 a | lrange l 0 -1 | lrem l x a | lrem nol 1 a",
    "rpush l a | lrem l 0 a | exists l",
    f"rpush l x a x b x c x | lrem l -2 x | lrange l 0 -1 | lrem l {SMALL} x | lrange l 0 -1 "
    f"| rpush l x x | lrem l {BIG} x | lrange l 0 -1 | lrem l 5 nope | lrem l -5 c | lrange l 0 -1",
    "lrem nol x a | rpush l a | lrem l 1.0 a | lrem l '' a | llen l",
    # -- LTRIM --------------------------------------------------------------------------------
    "rpush l 1 2 3 4 5 6 | ltrim l 1 -2 | lrange l 0 -1 | ltrim l 5 10 | exists l | ltrim nol 0 1",
    "rpush l 1 2 3 | ltrim l -2 -1 | lrange l 0 -1 | ltrim l 0 x",
    f"rpush l 1 2 3 4 5 | ltrim l {SMALL} {BIG} | lrange l 0 -1 | ltrim l -100 -4 "
    "| lrange l 0 -1 | ltrim l 1 0 | exists l",
    "rpush l 1 2 3 | ltrim l 2 1 | exists l | rpush l 1 2 3 | ltrim l -1 -2 | exists l "
    "| ltrim nol x 1 | ltrim nol 0 -1",
    # -- LPOS ---------------------------------------------------------------------------------
    "rpush l a b c a b c a | lpos l a | lpos l a rank 2 | lpos l a rank -1 | lpos l a count 0 "
    "| lpos l a count 2 rank -2 | lpos l a maxlen 3 count 0 | lpos l z | lpos l z count 1 "
    "| lpos l a rank 0 | lpos l a count -1 | lpos l a maxlen -1 | lpos l a foo 1 | lpos l a rank "
    "| lpos nol a | lpos nol a count 0",
    "rpush l a b a c a | lpos l a rank 3 | lpos l a rank 4 | lpos l a rank -3 | lpos l a rank -4 "
    "| lpos l a rank 2 count 0 | lpos l a rank -2 count 0 | lpos l a rank 2 count 1 "
    "| lpos l a rank 1 maxlen 1 | lpos l a rank 1 maxlen 2 count 0 | lpos l a rank -1 maxlen 1 "
    "| lpos l a rank -1 maxlen 2 count 0 | lpos l a rank 2 maxlen 3 | lpos l a rank 2 maxlen 2",
    f"rpush l a b a c a | lpos l a rank {BIG} | lpos l a rank -{BIG} | lpos l a rank {SMALL} "
    f"| lpos l a rank {SMALL} count 0 | lpos l a rank {SMALL} count 1 "
    f"| lpos l a rank {SMALL} count 2 maxlen 3 | lpos l a count {BIG} | lpos l a maxlen {BIG}",
    "rpush l a | lpos l a count x | lpos l a maxlen x | lpos l a rank x | lpos l a count 1.5 "
    "| lpos l a maxlen '' | lpos l a rank 99999999999999999999 | lpos l a count",
    "rpush l a b a | lpos l a count 1 count 0 | lpos l a rank 1 rank -1 | lpos l a RANK 2 "
    "| lpos l a Count 0 | lpos l a maxlen 0 count 0 | lpos l a maxlen 1 maxlen 0 count 0",
    "set s v | lpos s a count x | lpos s a rank 0 | lpos s a foo | lpos nol a rank 0 "
    "| lpos nol a count 0 rank 2 | lpos nol a maxlen 5",
    # -- LMOVE / RPOPLPUSH --------------------------------------------------------------------
    "rpush a 1 2 3 | lmove a b left right | lmove a b right left | lrange a 0 -1 | lrange b 0 -1 "
    "| lmove a a left right | lrange a 0 -1 | lmove a b up left | lmove nol b left left",
    "rpush a 1 | lmove a a left left | lrange a 0 -1 | rpoplpush a b | exists a | lrange b 0 -1",
    "set s x | rpush a 1 | lmove a s left left | lrange a 0 -1 | rpoplpush s a",
    "rpush a 1 2 3 | lmove a a right left | lrange a 0 -1 | lmove a a left right | lrange a 0 -1 "
    "| lmove a a left left | lmove a a right right | lrange a 0 -1 | rpoplpush a a | lrange a 0 -1",
    "rpush a x | lmove a b Left RIGHT | lmove b a lEfT left | lrange a 0 -1 | exists b "
    "| lmove nol s left left | set s v | lmove nol s left left | lmove nol s middle left "
    "| lmove s nol left middle",
    "rpush a 1 | rpoplpush a b | rpoplpush b b | lrange b 0 -1 | rpoplpush nol b | set s v "
    "| rpoplpush b s | lrange b 0 -1 | rpoplpush nol s",
    # -- LMPOP --------------------------------------------------------------------------------
    "rpush a 1 2 3 | rpush b 4 | lmpop 2 nol a left | lmpop 2 a b right count 5 | lmpop 2 a b left "
    "count 10 | lmpop 1 b left | lmpop 0 a left | lmpop -1 a left | lmpop x a left | lmpop 3 a left "
    "| lmpop 1 a middle | lmpop 1 a left count 0 | lmpop 1 a left count -1 | lmpop 1 a left count",
    "rpush a 1 | lmpop 1 a left count 1 count 2 | lmpop 1 a left foo",
    f"rpush a 1 2 | lmpop {BIG} a left | lmpop {BIG - 1} a left | lmpop 2 a left | lmpop 1 a "
    "| lmpop 1 a left count x | lmpop 1 a left COUNT 1 extra | lmpop 2 a nol LEFT count 1 "
    f"| lmpop 1 a right count {BIG} | exists a | lmpop 1 nol left count 0",
    "rpush a 1 2 3 | set s v | lmpop 3 nol a s left | lmpop 2 s a left | lmpop 1 a left count 1.0 "
    "| lmpop 1.0 a left | lmpop '' a left | lmpop 01 a left | lmpop 1 a left count 01",
    "rpush a 1 2 3 | lmpop 1 a LEFT count 2 COUNT 1 | lmpop 1 a left Count 2 | exists a",
    # -- blocking forms that answer at once ---------------------------------------------------
    "rpush a 1 2 3 | blpop nol a 0 | brpop a nol 1 | blpop a a 0.5 | exists a | set s v "
    "| blpop nol s a 0 | rpush b x | blpop b s 0 | brpop s 0",
    "rpush a 1 2 3 | blmove a b left right 0 | brpoplpush a b 0.5 | lrange b 0 -1 "
    "| blmove a b up left 0 | blmove a b left up 0 | blmove a b left left x | set s v "
    "| blmove s b left left 0 | blmove a s left left 0 | lrange a 0 -1 | brpoplpush a s 0",
    "rpush a 1 2 3 4 | blmpop 0 2 nol a right count 3 | blmpop 1 1 a left | exists a "
    "| blmpop 0 0 a left | blmpop 0 1 a | blmpop 0 1 a left count 0 | blmpop 0 3 a left",
    "blmpop x 0 k left | blmpop x 1 k left count 0 | blmpop -1 0 k left | blmpop -1 1 k middle "
    "| blmpop -1 1 k left count 1 count 1 | blmpop x 1 k left | blmpop -1 1 k left "
    "| blmpop 0 -5 k left | blmpop '' 1 k left",
    # Timeouts: parsed as long doubles, rounded up to whole ms; the list holds data, so every
    # valid timeout answers at once with an element.
    "rpush k 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 "
    "| blpop k 1e5000 | blpop k 1e400 | blpop k inf | blpop k -inf | blpop k 1e-5000 | blpop k nan "
    "| blpop k 9223372036854775 | blpop k 9223372036854775807 | blpop k -0.0001 | blpop k 0x10 "
    "| blpop k ' 1' | blpop k 1.5e16 | blpop k 9223372036854774 | blpop k -0 | blpop k 1e-400 "
    "| blpop k +1 | blpop k .5 | blpop k 5. | blpop k infinity | blpop k 1e4933 | blpop k 1e4932 "
    "| blpop k '' | blpop k 1x | blpop k -1 | blpop k -0.0015 | blpop k -0.001 | blpop k 0.0001",
    "rpush k 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 "
    "| brpop k 9223372036854775.807 | brpop k 9223372036854775.8071 "
    "| brpop k 9223372036854775.80713 | brpop k 9223372036854775.808 | brpop k 9223372036854776 "
    "| brpop k -9223372036854775.808 | brpop k 9223370000000000 | brpop k 9223372000000000 "
    "| brpop k -0.0009 | brpop k -0.0010001 | brpop k 1e-4950 | brpop k 1e-4951 | brpop k 0X1P-3 "
    "| brpop k 1E2 | brpop k 00010 | brpop k 0.000000000000000000001",
    "set s v | blpop s -1 | blpop s x | blmove s d left left x | blmove s d left left -1 "
    "| brpoplpush s d x | blmpop x 1 s left | blpop s 0.01 | brpoplpush s d 0.01",
    # -- arity --------------------------------------------------------------------------------
    "lpush | rpush l | lrange l 0 | linsert l before a | lmove a b left",
    "rpush l a | lpushx l | lpop | lpop l 1 2 | rpop l 1 2 | llen | llen l l | lindex l "
    "| lrange l 0 | lset l 0 | linsert l before a | lrem l 0 | ltrim l 0 | lpos l | lmove l d left "
    "| rpoplpush l | lmpop 1 | lmpop 1 l | blpop l | brpop l | blmove l d left left "
    "| brpoplpush l d | blmpop 0 1 l | blmpop 0 1 | blmpop 0",
    # -- types and encodings (7.0 reports quicklist for every list) ---------------------------
    "rpush l a | object encoding l | type l",
    "rpush l2 1 2 3 | object encoding l2 | rpush l3 "
    + " ".join(str(i) for i in range(200))
    + " | object encoding l3 | type l3 | lpop l3 199 | object encoding l3 | object encoding nol "
    "| type nol",
    "config set list-max-listpack-size 1 | rpush l a b c | object encoding l "
    "| config set list-max-listpack-size -2 | object encoding l",
    # -- configuration ------------------------------------------------------------------------
    "config get list-max-listpack-size | config get list-max-ziplist-size "
    "| config set list-max-ziplist-size 5 | config get list-max-listpack-size "
    "| config set list-max-listpack-size -3 | config get list-max-ziplist-size "
    "| config set list-max-listpack-size -6 | config get list-max-listpack-size "
    "| config set list-max-listpack-size abc | config set list-max-listpack-size 2147483648 "
    "| config set list-max-listpack-size -2147483648 | config get list-max-listpack-size "
    "| config set list-max-listpack-size -2 | config get list-max-ziplist-size",
    "config get list-compress-depth | config set list-compress-depth 1 "
    "| config get list-compress-depth | config set list-compress-depth -1 "
    "| config set list-compress-depth x | config set list-compress-depth 0 "
    "| config get list-compress-depth",
]

# Elements that shlex cannot spell: NUL, CR/LF, high bytes, a large element.
BINARY_CASES: list[list[tuple[bytes, ...]]] = [
    [
        (b"RPUSH", b"b", b"\x00", b"a\r\nb", b"\xff\xfe", b"", b"\x00"),
        (b"LRANGE", b"b", b"0", b"-1"),
        (b"LPOS", b"b", b"\x00", b"COUNT", b"0"),
        (b"LINSERT", b"b", b"AFTER", b"a\r\nb", b"\r\n"),
        (b"LREM", b"b", b"-1", b"\x00"),
        (b"LINDEX", b"b", b"-1"),
        (b"LSET", b"b", b"0", b"\x00\x01"),
        (b"LRANGE", b"b", b"0", b"-1"),
        (b"LMOVE", b"b", b"\x00key", b"LEFT", b"RIGHT"),
        (b"LRANGE", b"\x00key", b"0", b"-1"),
        (b"BLPOP", b"\x00key", b"0"),
    ],
    [
        (b"RPUSH", b"big", b"x" * 100_000, b"y"),
        (b"LINDEX", b"big", b"0"),
        (b"LPOS", b"big", b"x" * 100_000),
        (b"LPOP", b"big"),
        (b"LLEN", b"big"),
        (b"OBJECT", b"ENCODING", b"big"),
    ],
]


def run(server: ServerProcess, commands: list[tuple[bytes, ...]], resp3: bool) -> list[bytes]:
    conn = RawConnection(server.host, server.port)
    try:
        conn.request(encode_command("FLUSHALL"))
        if resp3:
            conn.request(encode_command("HELLO", "3"))
        return [conn.request(encode_command(*argv)) for argv in commands]
    finally:
        conn.close()


def parse(sequence: str) -> list[tuple[bytes, ...]]:
    return [tuple(arg.encode() for arg in shlex.split(cmd)) for cmd in sequence.split("|")]


def compare(
    commands: list[tuple[bytes, ...]], server: ServerProcess, oracle: ServerProcess, resp3: bool
) -> None:
    expected = run(oracle, commands, resp3)
    actual = run(server, commands, resp3)
    for argv, want, got in zip(commands, expected, actual, strict=True):
        shown = b" ".join(arg[:40] for arg in argv)
        assert got == want, f"{shown!r}: redis {want[:300]!r} damselfly {got[:300]!r}"


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("sequence", SEQUENCES)
def test_list_sequence_matches_redis(
    sequence: str, resp3: bool, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    compare(parse(sequence), server, redis_oracle, resp3)


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("case", range(len(BINARY_CASES)))
def test_binary_elements_match_redis(
    case: int, resp3: bool, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    compare(BINARY_CASES[case], server, redis_oracle, resp3)


def dirty_deltas(proc: ServerProcess, commands: list[tuple[bytes, ...]]) -> list[int]:
    """How much each command moves INFO's rdb_changes_since_last_save."""
    conn = proc.raw()

    def changes() -> int:
        info = conn.request(encode_command("INFO", "persistence"))
        for line in info.split(b"\r\n"):
            if line.startswith(b"rdb_changes_since_last_save:"):
                return int(line.split(b":")[1])
        raise AssertionError("INFO persistence has no rdb_changes_since_last_save")

    try:
        conn.request(encode_command("FLUSHALL"))
        deltas = []
        for argv in commands:
            before = changes()
            conn.request(encode_command(*argv))
            deltas.append(changes() - before)
        return deltas
    finally:
        conn.close()


def test_changes_since_last_save_count_like_redis(
    server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    # One per element pushed, popped, trimmed or removed; one per LSET, LINSERT and move.
    commands = parse(
        "rpush l a b c d e f g | lpushx nol a | lset l 0 z | linsert l before z y "
        "| linsert l before nope y | ltrim l 0 -1 | ltrim l 1 -2 | lrem l 0 nope | lrem l 0 b "
        "| lmpop 1 l left count 2 | rpoplpush l l | lmove l m left left | lpop l 0 | lpop l 10 "
        "| lpop m | rpush b 1 2 3 | blpop b 0 | blmove b c left left 0 | blmpop 0 1 c left count 5 "
        "| lset nol 0 x | lpop nol | rpush q 1 | ltrim q 5 6"
    )
    assert dirty_deltas(server, commands) == dirty_deltas(redis_oracle, commands)


def keyspace_counters(server: ServerProcess) -> tuple[int, int]:
    conn = RawConnection(server.host, server.port)
    try:
        for cmd in ["FLUSHALL", "CONFIG RESETSTAT", "RPUSH l a b", "SET s v"]:
            conn.request(encode_command(*cmd.split()))
        reads = ["LLEN l", "LLEN nol", "LINDEX l 0", "LINDEX nol 0", "LRANGE l 0 -1"]
        reads += ["LRANGE nol 0 -1", "LPOS l a", "LPOS nol a", "LPUSH l x", "LPOP nol"]
        for cmd in reads:
            conn.request(encode_command(*cmd.split()))
        info = conn.request(encode_command("INFO", "stats")).decode()
    finally:
        conn.close()
    fields = dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)
    return int(fields["keyspace_hits"]), int(fields["keyspace_misses"])


def test_list_reads_count_keyspace_hits_and_misses_like_redis(
    server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    expected = keyspace_counters(redis_oracle)
    assert expected == (4, 4)  # the reads count, the writes (LPUSH, LPOP) do not
    assert keyspace_counters(server) == expected
