"""In-process tests of the request parser and the inline splitter.

The socket tests (tests/wire/) compare the server with redis-server; these pin the parser's own
contracts: the fast path and the byte-by-byte path agree on every input, how the bytes are cut
into reads never changes the result, partial input is resumed without re-parsing, and the
authentication-dependent limits stop (`stalled`) instead of failing when an AUTH may come first.
"""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from damselfly.errors import ProtocolError
from damselfly.protocol.parser import RequestParser, split_inline
from tests.servers import encode_command

Result = tuple[list[list[bytes]], str | None]


def parse_whole(data: bytes, authenticated: bool = True) -> Result:
    commands, error = RequestParser().feed(data, authenticated)
    return commands, error.message if error else None


def parse_slow(data: bytes) -> Result:
    """The byte-by-byte path alone, without the split fast path."""
    parser = RequestParser()
    commands: list[list[bytes]] = []
    _, error = parser._slow(data, 0, commands, True, False)
    return commands, error.message if error else None


def parse_pieces(pieces: list[bytes], authenticated: bool = True) -> Result:
    parser = RequestParser()
    commands: list[list[bytes]] = []
    for piece in pieces:
        got, error = parser.feed(piece, authenticated)
        commands.extend(got)
        if error is not None:
            return commands, error.message
    return commands, None


def cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# -- generated streams: fast path == slow path == any cutting into reads ------------------------

_ARG = st.one_of(
    st.binary(max_size=24),
    st.sampled_from([b"", b"\r\n", b"\r", b"\n", b"a\r\nb", b"\r\n\r\n", b"$1", b"*1\r\n"]),
)
_COMMAND = st.lists(_ARG, min_size=1, max_size=5).map(lambda args: encode_command(*args))
_INLINE = st.tuples(
    st.lists(
        st.sampled_from(
            [b"a", b"b", b" ", b"\t", b'"', b"'", b"\\", b"x", b"4", b"\x0b", b"\x00", b"\r"]
        ),
        max_size=12,
    ).map(b"".join),
    st.sampled_from([b"\r\n", b"\n"]),
).map(b"".join)
_ODD = st.sampled_from(
    [
        b"*0\r\n",
        b"*-1\r\n",
        b"*1\r\n$-1\r\n",
        b"*x\r\n",
        b"*1\r\n:1\r\n",
        b"*2\r\n$1\r\nab\r\n",
        b"*1\r\n$2\r\nab!!",
        b"*1\rx$1\r\na\r\n",
        b"*1\r\n$1\rxa\r\n",
        b"*1\r\n$01\r\na\r\n",
        b"*1\r\n+a\r\n",
        b"*1\r\n=5\r\ntxt:a\r\n",
        b"\r\n",
        b"*1\x00\r\n",
        b"*1\r\n$12345\r\n",
    ]
)
_STREAM = st.lists(st.one_of(_COMMAND, _COMMAND, _INLINE, _ODD), max_size=8).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(_STREAM)
def test_fast_path_parses_exactly_like_the_byte_by_byte_path(data: bytes) -> None:
    assert parse_whole(data) == parse_slow(data)


@settings(max_examples=300, deadline=None)
@given(_STREAM, st.lists(st.integers(min_value=0, max_value=10_000), max_size=6))
def test_cutting_the_input_into_reads_never_changes_the_result(
    data: bytes, points: list[int]
) -> None:
    assert parse_pieces(cut(data, points)) == parse_whole(data)


def test_every_single_byte_cut_of_a_pipeline_gives_the_same_commands() -> None:
    data = (
        encode_command("SET", b"k\r\n", b"v" * 40)
        + b"ECHO 'a b'\n"
        + encode_command("ECHO", b"\r\n" * 3)
        + b"*0\r\nPING\r\n"
    )
    whole = parse_whole(data)
    assert whole[1] is None and len(whole[0]) == 4
    for i in range(1, len(data)):
        assert parse_pieces([data[:i], data[i:]]) == whole
    assert parse_pieces([data[i : i + 1] for i in range(len(data))]) == whole


# -- individual rules ----------------------------------------------------------------------------


def test_canonical_commands_are_split_into_argv() -> None:
    data = encode_command("SET", "key", "value") + encode_command("GET", "key")
    assert parse_whole(data) == ([[b"SET", b"key", b"value"], [b"GET", b"key"]], None)


def test_values_holding_crlf_are_taken_whole() -> None:
    value = b"\r\n".join([b"x" * 10] * 50)
    assert parse_whole(encode_command("ECHO", value)) == ([[b"ECHO", value]], None)


def test_two_bytes_after_a_bulk_are_skipped_unchecked() -> None:
    assert parse_whole(b"*1\r\n$4\r\nPINGxy*1\r\n$4\r\nPING\r\n") == (
        [[b"PING"], [b"PING"]],
        None,
    )


def test_headers_end_at_the_first_cr_whatever_follows() -> None:
    assert parse_whole(b"*1\rx$4\r\nPING\r\n") == ([[b"PING"]], None)


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"*-0\r\n", "invalid multibulk length"),
        (b"*2147483648\r\n", "invalid multibulk length"),
        (b"*1\r\n$-0\r\n", "invalid bulk length"),
        (b"*1\r\n$-1\r\n", "invalid bulk length"),
        (b"*1\r\n$536870913\r\n", "invalid bulk length"),
        (b"*1\r\n$99999999999999999999\r\n", "invalid bulk length"),
        (b"*1\r\n#t\r\n", "expected '$', got '#'"),
        (b"*1\r\n\n\r\n", "expected '$', got ' '"),
        (b"ECHO 'a\r\n", "unbalanced quotes in request"),
    ],
)
def test_malformed_input_gives_redis_error_text(data: bytes, detail: str) -> None:
    assert parse_whole(data) == ([], "ERR Protocol error: " + detail)


def test_unprintable_byte_in_error_goes_out_as_itself() -> None:
    _, error = RequestParser().feed(b"*1\r\n\xe9\r\n", True)
    assert error is not None
    assert error.message.encode("utf-8", "surrogateescape").endswith(b"got '\xe9'")


def test_proto_max_bulk_len_applies_when_changed() -> None:
    parser = RequestParser()
    parser.max_bulk = 1024 * 1024
    _, error = parser.feed(b"*1\r\n$1048577\r\n", True)
    assert error is not None and error.message.endswith("invalid bulk length")
    parser = RequestParser(1024 * 1024)
    assert parser.feed(b"*1\r\n$1048576\r\n", True) == ([], None)


def test_nul_before_the_terminator_makes_the_line_wait() -> None:
    assert parse_whole(b"PING\x00\r\n") == ([], None)
    assert parse_whole(b"*1\x00\r\n$4\r\nPING\r\n") == ([], None)
    assert parse_whole(b"PING\x00\r\n" + b"x" * 65536) == (
        [],
        "ERR Protocol error: too big inline request",
    )


def test_terminator_past_redis_first_read_counts_as_missing() -> None:
    assert parse_whole(b"x" * 81909 + b"\n")[1] is None
    assert parse_whole(b"x" * 81910 + b"\n")[1] == "ERR Protocol error: too big inline request"
    assert parse_whole(b"*" + b"1" * 81910 + b"\r\n")[1] == (
        "ERR Protocol error: too big mbulk count string"
    )


# -- authentication-dependent limits ----------------------------------------------------------------


def test_unauthenticated_limits_are_errors_when_nothing_precedes() -> None:
    assert parse_whole(b"*11\r\n", authenticated=False) == (
        [],
        "ERR Protocol error: unauthenticated multibulk length",
    )
    assert parse_whole(b"*1\r\n$16385\r\n", authenticated=False) == (
        [],
        "ERR Protocol error: unauthenticated bulk length",
    )
    assert parse_whole(b"*10\r\n$16384\r\n", authenticated=False) == ([], None)


def test_limit_after_a_command_stalls_until_the_caller_resumes() -> None:
    parser = RequestParser()
    auth = encode_command("AUTH", "pw")
    big = encode_command("ECHO", b"x" * 20000)
    commands, error = parser.feed(auth + big, False)
    assert (commands, error, parser.stalled) == ([[b"AUTH", b"pw"]], None, True)
    commands, error = parser.feed(b"", True)
    assert (commands, error, parser.stalled) == ([[b"ECHO", b"x" * 20000]], None, False)


def test_stalled_parser_resumed_unauthenticated_reports_the_error() -> None:
    parser = RequestParser()
    commands, error = parser.feed(encode_command("AUTH", "bad") + b"*11\r\n", False)
    assert commands == [[b"AUTH", b"bad"]] and error is None and parser.stalled
    commands, error = parser.feed(b"", False)
    assert commands == [] and error is not None
    assert error.message == "ERR Protocol error: unauthenticated multibulk length"


# -- partial input ----------------------------------------------------------------------------------


def test_declared_bulk_is_waited_for_not_allocated() -> None:
    parser = RequestParser()
    assert parser.feed(b"*2\r\n$4\r\nECHO\r\n$536870000\r\nabc", True) == ([], None)
    assert parser.pending() < 100
    assert parser.need == 536870002


def test_big_value_in_many_reads_is_parsed_in_linear_time() -> None:
    size = 32 * 1024 * 1024
    parser = RequestParser()
    chunk = b"v" * 65536
    start = time.process_time()
    assert parser.feed(b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % size, True) == ([], None)
    for _ in range(size // len(chunk)):
        assert parser.feed(chunk, True) == ([], None)
    commands, error = parser.feed(b"\r\n" + encode_command("PING"), True)
    elapsed = time.process_time() - start
    assert error is None
    assert [len(argv[-1]) for argv in commands] == [size, 4]
    assert parser.pending() == 0
    # Linear: ~0.1 s. Re-scanning the buffer on every read would be ~500 times that.
    assert elapsed < 5


def test_long_pipeline_in_many_reads_is_resumed_not_rescanned() -> None:
    data = b"".join(encode_command("MSET", *[f"k{i}" for i in range(2000)]) for _ in range(20))
    parser = RequestParser()
    start = time.process_time()
    commands: list[list[bytes]] = []
    for i in range(0, len(data), 1000):
        got, error = parser.feed(data[i : i + 1000], True)
        assert error is None
        commands.extend(got)
    assert len(commands) == 20 and all(len(argv) == 2001 for argv in commands)
    assert time.process_time() - start < 5


def test_pending_counts_buffered_bytes_and_partial_arguments() -> None:
    parser = RequestParser()
    parser.feed(b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\nval", True)
    assert parser.pending() == len(b"SET") + len(b"key") + len(b"val")
    parser.feed(b"ue:1234\r\n", True)
    assert parser.pending() == 0


# -- inline splitting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (b"", []),
        (b"  \t ", []),
        (b"SET a b", [b"SET", b"a", b"b"]),
        (b"  SET\ta  ", [b"SET", b"a"]),
        (b"a\x0bb \x0cc", [b"a\x0bb", b"c"]),
        (b"\x0b\x0ca", [b"a"]),
        (b'"a b" c', [b"a b", b"c"]),
        (b'"\\x41\\x4g\\x4"', [b"Ax4gx4"]),
        (b'"\\n\\r\\t\\b\\a\\"\\\\\\q"', [b'\n\r\t\b\a"\\q']),
        (b"'a\\'b' 'c\\nd'", [b"a'b", b"c\\nd"]),
        (b"ab'c d'e f", None),
        (b"ab'c d' f", [b"abc d", b"f"]),
        (b'"a"\x0bb', [b"a", b"b"]),
        (b"a\x00b c", [b"a"]),
        (b'"', None),
        (b"'", None),
        (b'"a"b', None),
        (b'"\\"', None),
    ],
)
def test_split_inline_follows_sdssplitargs(line: bytes, words: list[bytes] | None) -> None:
    if words is None:
        with pytest.raises(ProtocolError, match="unbalanced quotes in request"):
            split_inline(line)
    else:
        assert split_inline(line) == words
