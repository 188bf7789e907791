"""The same raw bytes sent to damselfly and to redis-server 7.0: every reply byte and whether the
connection was closed must be identical.

Each case is one fresh connection. Cases with sentinel=False leave a command incomplete or must be
judged on their own bytes (a missing terminator), so they are read until the line is quiet
instead of being followed by a sentinel command. Keys live under `wirediff:` and are deleted by
the case that creates them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import pytest

from tests.servers import ServerProcess, encode_command, start_damselfly, start_redis
from tests.wire.rawio import exchange, pings

cmd = encode_command


class Case(NamedTuple):
    name: str
    payload: bytes | tuple[bytes, ...]
    sentinel: bool = True


VALID = [
    Case("ping", cmd("PING")),
    Case("echo-binary-crlf-inside", cmd("ECHO", b"a\r\nb\r\n\x00\xff\r")),
    Case("echo-empty", cmd("ECHO", b"")),
    Case(
        "set-get-del-binary-key",
        cmd("SET", b"wirediff:\r\n\x00k", b"v\r\nv")
        + cmd("GET", b"wirediff:\r\n\x00k")
        + cmd("DEL", b"wirediff:\r\n\x00k"),
    ),
    Case("pipeline-100-pings", cmd("PING") * 100),
    Case("count-zero-ignored", b"*0\r\n" + cmd("PING")),
    Case("count-minus-one-ignored", b"*-1\r\n" + cmd("PING")),
    Case("count-minus-five-ignored", b"*-5\r\n" + cmd("PING")),
    Case("lowercase-command", cmd("ping")),
    Case("bytes-after-bulk-not-crlf-are-skipped", b"*1\r\n$4\r\nPINGxy*1\r\n$4\r\nPING\r\n"),
    Case("header-ends-at-first-cr", b"*1\rx$4\r\nPING\r\n"),
    Case("bulk-header-ends-at-first-cr", b"*1\r\n$4\rx\nPING\r\nPING\r\n"),
    Case("count-1023", b"*1023\r\n" + b"$1\r\na\r\n" * 1023),
    Case("count-1024", b"*1024\r\n" + b"$1\r\na\r\n" * 1024),
    Case("bulk-10000", cmd("ECHO", b"x" * 10000)),
    Case("bulk-with-crlf-spanning-parts", cmd("ECHO", b"\r\n" * 50 + b"end")),
    Case("bulk-ending-in-cr", cmd("ECHO", b"abc\r") + cmd("PING")),
    Case("bulk-starting-with-lf", cmd("ECHO", b"\nabc") + cmd("PING")),
    Case("unknown-command", cmd("NOSUCHCMD", "a", "b")),
    Case("unknown-command-with-crlf-in-name", cmd(b"NO\r\nSUCH", "a")),
    Case("wrong-arity", cmd("GET")),
]

INLINE = [
    Case("inline-ping-crlf", b"PING\r\n"),
    Case("inline-ping-lf", b"PING\n"),
    Case("inline-empty-lines-ignored", b"\r\n\n  \r\n\t\nPING\n"),
    Case("inline-leading-trailing-blanks", b"  ECHO   hi  \r\n"),
    Case("inline-vt-ff-inside-token", b"\tECHO\t\x0bhi\x0c\r\n"),
    Case("inline-double-quotes-escapes", b'ECHO "a\\x41\\n\\r\\t\\b\\a\\z\\"q"\r\n'),
    Case("inline-bad-hex-escape", b'ECHO "\\xzz\\x4g\\x4"\r\n'),
    Case("inline-single-quotes", b"ECHO 'a\\'b\\n'\r\n"),
    Case("inline-empty-quotes", b"ECHO \"\"\r\nECHO ''\r\n"),
    Case("inline-quote-mid-token", b"ECHO a'b c'\r\n"),
    Case("inline-quote-then-vt", b'ECHO "a"\x0bb\r\n'),
    Case("inline-cr-inside-token", b"ECHO a\rb\r\n"),
    Case("inline-cr-inside-quotes", b'ECHO "a\rb"\r\n'),
    Case("inline-starts-with-plus", b"+PING\r\n"),
    Case("inline-starts-with-dollar", b"$4\r\nPING\r\n"),
    Case("inline-set-get", b"SET wirediff:inl 'x y'\r\nGET wirediff:inl\r\nDEL wirediff:inl\r\n"),
    Case("inline-pipeline-mixed", b"PING\r\n" + cmd("ECHO", "mb") + b"ECHO inline\n" + cmd("PING")),
    Case("inline-65000-bytes", b"ECHO " + b"x" * 65000 + b"\r\n"),
    Case("inline-81903-bytes-fits-first-read", b"ECHO " + b"x" * 81903 + b"\r\n"),
    Case("inline-81904-bytes-too-big", b"ECHO " + b"x" * 81904 + b"\r\n", sentinel=False),
    Case("inline-200000-bytes-too-big", b"ECHO " + b"x" * 200000 + b"\r\n", sentinel=False),
    Case("inline-unknown-many-args", b" ".join([b"x"] * 40) + b"\r\n"),
]

MALFORMED = [
    Case("count-too-big", b"*99999999999999999999\r\n"),
    Case("count-over-int-max", b"*2147483648\r\n"),
    Case("count-not-a-number", b"*abc\r\n"),
    Case("count-empty", b"*\r\n"),
    Case("count-plus-sign", b"*+1\r\n$4\r\nPING\r\n"),
    Case("count-leading-zero", b"*01\r\n$4\r\nPING\r\n"),
    Case("count-minus-zero", b"*-0\r\nPING\r\n"),
    Case("count-space", b"* 1\r\n$4\r\nPING\r\n"),
    Case("bulk-over-int-max", b"*1\r\n$2147483648\r\n"),
    Case("bulk-over-proto-max", b"*1\r\n$536870913\r\n"),
    Case("bulk-negative", b"*1\r\n$-5\r\n"),
    Case("bulk-minus-one", b"*1\r\n$-1\r\n"),
    Case("bulk-minus-zero", b"*1\r\n$-0\r\n"),
    Case("bulk-not-a-number", b"*1\r\n$abc\r\n"),
    Case("bulk-empty", b"*1\r\n$\r\n"),
    Case("bulk-plus-sign", b"*1\r\n$+4\r\nPING\r\n"),
    Case("bulk-leading-space", b"*1\r\n$ 4\r\nPING\r\n"),
    Case("bulk-trailing-space", b"*1\r\n$4 \r\nPING\r\n"),
    Case("bulk-leading-zero", b"*1\r\n$04\r\nPING\r\n"),
    Case("expected-dollar-got-x", b"*1\r\nx4\r\nPING\r\n"),
    Case("expected-dollar-got-colon", b"*1\r\n:4\r\nPING\r\n"),
    Case("expected-dollar-got-plus", b"*1\r\n+PING\r\n"),
    Case("expected-dollar-got-star", b"*1\r\n*1\r\n$4\r\nPING\r\n"),
    Case("expected-dollar-got-equals", b"*1\r\n=8\r\ntxt:PING\r\n"),
    Case("expected-dollar-got-high-byte", b"*1\r\n\xff4\r\nPING\r\n"),
    Case("expected-dollar-got-cr", b"*1\r\n\r\n"),
    Case("expected-dollar-got-lf", b"*1\r\r\n$4\r\nPING\r\n"),
    Case("error-after-valid-commands", cmd("PING") + b"PING\r\n" + cmd("NOPE") + b"*x\r\n"),
    Case("quit-then-garbage", b"QUIT\r\n*x\r\n"),
    Case("unbalanced-double-quote", b'ECHO "abc\r\n'),
    Case("unbalanced-single-quote", b"ECHO 'abc\r\n"),
    Case("closing-quote-followed-by-char", b'ECHO "abc"def\r\n'),
    Case("quote-mid-token-unterminated", b'ECHO a"b"c\r\n'),
    Case("lone-backslash-in-quotes", b'ECHO "\\"\r\n'),
    Case("newline-inside-quotes", b'ECHO "a\nb"\r\n'),
    Case("mbulk-count-no-newline-64k", b"*" + b"1" * 65536, sentinel=False),
    Case("bulk-count-no-newline-64k", b"*1\r\n$" + b"1" * 65536, sentinel=False),
    Case("inline-no-newline-64k", b"P" * 65537, sentinel=False),
    Case("nul-hides-count-newline", b"*1\x00\r\n" + b"x" * 70000, sentinel=False),
    Case("nul-hides-bulk-newline", b"*1\r\n$4\x00\r\n" + b"x" * 70000, sentinel=False),
    Case("nul-hides-inline-newline", b"PING\x00\r\n" + b"x" * 70000, sentinel=False),
]

PARTIAL = [
    Case("truncated-count", b"*1", sentinel=False),
    Case("count-cr-only", b"*1\r", sentinel=False),
    Case("truncated-bulk-header", b"*1\r\n$4\r", sentinel=False),
    Case("truncated-bulk-body", b"*2\r\n$4\r\nECHO\r\n$10\r\nabc", sentinel=False),
    Case("bulk-cr-then-body-short", b"*1\r\n$4\rPING\r\n", sentinel=False),
    Case("count-int-max-waits", b"*2147483647\r\n", sentinel=False),
    Case("bulk-proto-max-waits", b"*1\r\n$536870912\r\n", sentinel=False),
    Case("inline-no-newline", b"PING", sentinel=False),
    Case("inline-65536-no-newline-waits", b"P" * 65536, sentinel=False),
    Case("nul-hides-newline-waits", b"PING\x00\r\n", sentinel=False),
    Case("nul-in-count-waits", b"*1\x00\r\n$4\r\nPING\r\n", sentinel=False),
    Case("nul-inside-inline-waits", b"ECHO a\x00b\r\n", sentinel=False),
    Case("reply-then-truncated", cmd("PING") + b"*1\r\n$4\r\nPI", sentinel=False),
]

SPLIT = [
    Case("split-inside-count", (b"*", b"1\r", b"\n$4\r\nPING\r\n")),
    Case("split-inside-bulk", (b"*2\r\n$4\r\nECHO\r\n$6\r\nab", b"c\r\nde", b"f\r\n")),
    Case("split-before-trailing-crlf", (cmd("ECHO", "x" * 40000)[:-2], b"\r\n")),
    Case("split-big-bulk", (cmd("ECHO", b"y" * 70000)[:1000], cmd("ECHO", b"y" * 70000)[1000:])),
    Case("split-inline", (b"EC", b"HO hel", b"lo\r", b"\n")),
    Case("split-then-error", (cmd("PING") + b"*1\r\n", b"$x\r\n")),
]

CASES = VALID + INLINE + MALFORMED + PARTIAL + SPLIT


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_bytes_and_close_as_redis(
    case: Case, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    expected = exchange(redis_oracle, case.payload, sentinel=case.sentinel)
    got = exchange(server, case.payload, sentinel=case.sentinel, **patience(expected))
    assert got == expected
    assert pings(server)


def patience(expected: tuple[bytes, bool]) -> dict[str, float]:
    """How long to wait for our server, knowing Redis's answer: a close ends the wait by
    itself, so waiting long for one costs nothing unless the server is wrong."""
    replies, closed = expected
    return {"quiet": 10.0 if closed else 0.3, "at_least": len(replies)}


# -- before authentication (requirepass set on both servers) ------------------------------------


@pytest.fixture(scope="module")
def auth_pair(redis_oracle: ServerProcess) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    ours = start_damselfly("--requirepass", "pw")
    theirs = start_redis("--requirepass", "pw")
    yield ours, theirs
    ours.stop()
    theirs.stop()


UNAUTH = [
    Case("unauth-count-10-waits", b"*10\r\n", sentinel=False),
    Case("unauth-count-11", b"*11\r\n"),
    Case("unauth-bulk-16384-waits", b"*1\r\n$16384\r\n", sentinel=False),
    Case("unauth-bulk-16385", b"*1\r\n$16385\r\n"),
    Case("unauth-noauth-then-limit", b"PING\r\n*11\r\n"),
    Case("unauth-inline-has-no-limits", b" ".join([b"x"] * 20) + b"\r\n"),
    Case("unauth-inline-long", b"ECHO " + b"x" * 20000 + b"\r\n"),
    Case("auth-then-11-args-same-packet", cmd("AUTH", "pw") + cmd("ECHO", *["a"] * 10)),
    Case("auth-then-big-bulk-same-packet", cmd("AUTH", "pw") + cmd("ECHO", b"x" * 20000)),
    Case("inline-auth-then-big-bulk", b"AUTH pw\r\n" + cmd("ECHO", b"x" * 20000)),
    Case("wrong-auth-then-limit", cmd("AUTH", "bad") + b"*11\r\n"),
    Case(
        "auth-then-limit-inside-command",
        cmd("AUTH", "pw") + b"*2\r\n$4\r\nECHO\r\n$20000\r\n",
        sentinel=False,
    ),
]


@pytest.mark.parametrize("case", UNAUTH, ids=[c.name for c in UNAUTH])
def test_same_bytes_and_close_as_redis_before_auth(
    case: Case, auth_pair: tuple[ServerProcess, ServerProcess]
) -> None:
    ours, theirs = auth_pair
    expected = exchange(theirs, case.payload, sentinel=case.sentinel)
    got = exchange(ours, case.payload, sentinel=case.sentinel, **patience(expected))
    assert got == expected
