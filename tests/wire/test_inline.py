"""Inline (telnet-style) commands: splitting, quoting and escapes like Redis's sdssplitargs, line
endings, empty lines, long lines, and inline mixed with multibulk in one pipeline. Expected bytes
were taken from redis-server 7.0.15."""

from __future__ import annotations

import pytest

from tests.servers import ServerProcess, encode_command
from tests.wire.rawio import exchange


def bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


ECHOES = [
    ("plain-crlf", b"ECHO hello\r\n", b"hello"),
    ("plain-lf", b"ECHO hello\n", b"hello"),
    ("extra-blanks", b"  ECHO \t  hello  \t\r\n", b"hello"),
    ("vt-ff-are-blanks-between-tokens", b"ECHO \x0b\x0chello\r\n", b"hello"),
    ("vt-ff-stay-inside-a-token", b"ECHO he\x0bl\x0clo\r\n", b"he\x0bl\x0clo"),
    ("cr-inside-a-token-ends-it", b"ECHO hel\rlo\r\n", None),
    ("double-quotes", b'ECHO "hello world"\r\n', b"hello world"),
    ("single-quotes", b"ECHO 'hello world'\r\n", b"hello world"),
    ("hex-escape", b'ECHO "\\x41\\x62\\x00z"\r\n', b"Ab\x00z"),
    ("bad-hex-escapes", b'ECHO "\\xzz\\x4g"\r\n', b"xzzx4g"),
    ("short-hex-escape", b'ECHO "\\x4"\r\n', b"x4"),
    ("c-escapes", b'ECHO "\\n\\r\\t\\b\\a"\r\n', b"\n\r\t\b\a"),
    ("other-escapes-keep-the-char", b'ECHO "\\q\\"\\\\"\r\n', b'q"\\'),
    ("single-quote-escape", b"ECHO 'it\\'s'\r\n", b"it's"),
    ("single-quotes-keep-backslashes", b"ECHO 'a\\nb\\\\c'\r\n", b"a\\nb\\\\c"),
    ("empty-double-quotes", b'ECHO ""\r\n', b""),
    ("empty-single-quotes", b"ECHO ''\r\n", b""),
    ("quote-opens-mid-token", b"ECHO ab'c d'\r\n", b"abc d"),
    ("cr-inside-quotes-is-kept", b'ECHO "a\rb"\r\n', b"a\rb"),
    ("closing-quote-then-vt", b'ECHO "a"\x0b\r\n', b"a"),
    ("high-bytes", b"ECHO \xc3\xa9\xff\r\n", b"\xc3\xa9\xff"),
]


@pytest.mark.parametrize(("payload", "value"), [c[1:] for c in ECHOES], ids=[c[0] for c in ECHOES])
def test_inline_echo_splits_like_redis(
    server: ServerProcess, payload: bytes, value: bytes | None
) -> None:
    replies, closed = exchange(server, payload)
    if value is None:
        assert replies == b"-ERR wrong number of arguments for 'echo' command\r\n"
    else:
        assert replies == bulk(value)
    assert not closed


def test_vt_and_ff_do_not_end_a_token(server: ServerProcess) -> None:
    assert exchange(server, b"ECHO\x0b\x0chello\r\n") == (
        b"-ERR unknown command 'ECHO\x0b\x0chello', with args beginning with: \r\n",
        False,
    )


def test_empty_lines_are_ignored(server: ServerProcess) -> None:
    payload = b"\r\n\n \r\n\t\n\x0b\nPING\r\n\r\nPING\n"
    assert exchange(server, payload) == (b"+PONG\r\n+PONG\r\n", False)


@pytest.mark.parametrize(
    "payload",
    [b'ECHO "abc\r\n', b"ECHO 'abc\r\n", b'ECHO "abc"d\r\n', b'ECHO x"y"z\r\n', b'ECHO "a\\"\r\n'],
    ids=["open-double", "open-single", "text-after-quote", "quote-in-token", "escaped-close"],
)
def test_unbalanced_quotes_close_the_connection(server: ServerProcess, payload: bytes) -> None:
    assert exchange(server, payload + b"PING\r\n") == (
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
        True,
    )


def test_inline_and_multibulk_mix_in_one_pipeline(server: ServerProcess) -> None:
    payload = (
        b"SET wire:mix 1\r\n"
        + encode_command("INCR", "wire:mix")
        + b"INCR wire:mix\n"
        + encode_command("GET", "wire:mix")
        + b"DEL wire:mix\r\n"
    )
    assert exchange(server, payload) == (b"+OK\r\n:2\r\n:3\r\n$1\r\n3\r\n:1\r\n", False)


def test_inline_longer_than_64k_works_when_its_newline_arrives_with_it(
    server: ServerProcess,
) -> None:
    value = b"y" * 70000
    assert exchange(server, b"ECHO " + value + b"\r\n") == (bulk(value), False)


def test_inline_whose_newline_is_past_redis_first_read_is_too_big(
    server: ServerProcess,
) -> None:
    # A fresh Redis connection reads 81910 bytes before it first looks for the newline.
    payload = b"ECHO " + b"y" * 81904 + b"\r\n"
    assert exchange(server, payload, sentinel=False, quiet=10) == (
        b"-ERR Protocol error: too big inline request\r\n",
        True,
    )
    fits = b"ECHO " + b"y" * 81903 + b"\r\n"
    assert exchange(server, fits) == (bulk(b"y" * 81903), False)


def test_inline_without_newline_past_64k_is_too_big(server: ServerProcess) -> None:
    assert exchange(server, b"ECHO " + b"z" * 70000, sentinel=False, quiet=10) == (
        b"-ERR Protocol error: too big inline request\r\n",
        True,
    )


def test_nul_in_an_inline_line_hides_its_newline(server: ServerProcess) -> None:
    # Redis looks for the newline with strchr, which stops at the NUL: the line never ends.
    assert exchange(server, b"PING\x00\r\n", sentinel=False, quiet=0.2) == (b"", False)
    assert exchange(server, b"PING\x00\r\n" + b"x" * 70000, sentinel=False, quiet=10) == (
        b"-ERR Protocol error: too big inline request\r\n",
        True,
    )
