"""Malformed requests: the exact protocol error Redis 7.0 sends, the connection closed after the
replies to the commands before it, the server alive for everyone else, and no memory committed to
lengths that were only declared. Expected bytes were taken from redis-server 7.0.15."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.servers import ServerProcess, encode_command, start_damselfly
from tests.wire.rawio import connect, exchange, have_proc, pings, read_quiet, rss_kib

PE = b"-ERR Protocol error: "


def perr(detail: bytes) -> bytes:
    return PE + detail + b"\r\n"


CLOSING = [
    ("count-20-digits", b"*99999999999999999999\r\n", perr(b"invalid multibulk length")),
    ("count-over-int-max", b"*2147483648\r\n", perr(b"invalid multibulk length")),
    ("count-abc", b"*abc\r\n", perr(b"invalid multibulk length")),
    ("count-minus-zero", b"*-0\r\n", perr(b"invalid multibulk length")),
    ("count-plus", b"*+1\r\n", perr(b"invalid multibulk length")),
    ("count-leading-zero", b"*01\r\n", perr(b"invalid multibulk length")),
    ("bulk-2147483648", b"*1\r\n$2147483648\r\n", perr(b"invalid bulk length")),
    ("bulk-over-512mb", b"*1\r\n$536870913\r\n", perr(b"invalid bulk length")),
    ("bulk-minus-5", b"*1\r\n$-5\r\n", perr(b"invalid bulk length")),
    ("bulk-minus-1", b"*1\r\n$-1\r\n", perr(b"invalid bulk length")),
    ("bulk-abc", b"*1\r\n$abc\r\n", perr(b"invalid bulk length")),
    ("bulk-plus", b"*1\r\n$+4\r\nPING\r\n", perr(b"invalid bulk length")),
    ("bulk-space", b"*1\r\n$ 4\r\nPING\r\n", perr(b"invalid bulk length")),
    ("bulk-leading-zero", b"*1\r\n$04\r\nPING\r\n", perr(b"invalid bulk length")),
    ("got-x", b"*1\r\nx4\r\nPING\r\n", perr(b"expected '$', got 'x'")),
    ("got-f-after-args", b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", perr(b"expected '$', got 'f'")),
    ("got-byte-ff", b"*1\r\n\xff\r\n", perr(b"expected '$', got '\xff'")),
    ("got-cr-shown-as-space", b"*1\r\n\r\n", perr(b"expected '$', got ' '")),
    (
        "unbalanced-quotes",
        b'set """test-key""" test-value\r\nping\r\n',
        perr(b"unbalanced quotes in request"),
    ),
    ("too-big-mbulk-count", b"*" + b"1" * 65536, perr(b"too big mbulk count string")),
    ("too-big-bulk-count", b"*1\r\n$" + b"1" * 65536, perr(b"too big bulk count string")),
    ("too-big-inline", b"x" * 65537, perr(b"too big inline request")),
]


@pytest.mark.parametrize(
    ("payload", "expected"), [c[1:] for c in CLOSING], ids=[c[0] for c in CLOSING]
)
def test_protocol_error_reply_then_close(
    server: ServerProcess, payload: bytes, expected: bytes
) -> None:
    # No sentinel after the payload: the error must come from these bytes alone.
    assert exchange(server, payload, sentinel=False, quiet=10) == (expected, True)
    assert pings(server)


def test_replies_before_the_error_are_flushed_before_closing(server: ServerProcess) -> None:
    payload = encode_command("PING") + b"ECHO inline\r\n" + encode_command("NOPE") + b"*x\r\n"
    replies, closed = exchange(server, payload)
    assert replies == (
        b"+PONG\r\n$6\r\ninline\r\n"
        b"-ERR unknown command 'NOPE', with args beginning with: \r\n"
        + perr(b"invalid multibulk length")
    )
    assert closed


def test_commands_after_the_error_do_not_run(server: ServerProcess) -> None:
    payload = encode_command("SET", "wire:after", "1") + b"*1\r\n$x\r\n"
    payload += encode_command("SET", "wire:after", "2")
    assert exchange(server, payload) == (b"+OK\r\n" + perr(b"invalid bulk length"), True)
    assert exchange(server, encode_command("GETDEL", "wire:after")) == (b"$1\r\n1\r\n", False)


def test_malformed_bytes_after_quit_are_never_read(server: ServerProcess) -> None:
    assert exchange(server, b"QUIT\r\n*x\r\n") == (b"+OK\r\n", True)


@pytest.mark.parametrize(
    "payload",
    [b"*-1\r\n", b"*0\r\n", b"*-42\r\n", b"\r\n", b"\n", b"   \r\n"],
    ids=["count-minus-1", "count-0", "count-minus-42", "crlf", "lf", "blanks"],
)
def test_empty_requests_are_ignored(server: ServerProcess, payload: bytes) -> None:
    assert exchange(server, payload + b"PING\r\n") == (b"+PONG\r\n", False)


@pytest.mark.parametrize(
    "payload",
    [
        b"*1",
        b"*1\r",
        b"*1\r\n$4",
        b"*1\r\n$4\r\nPI",
        b"*1\r\n$4\r\nPING\r",
        b"*2147483647\r\n",
        b"*1\r\n$536870912\r\n",
        b"PING\x00\r\n",
        b"x" * 65536,
    ],
    ids=[
        "count",
        "count-cr",
        "bulk-header",
        "bulk-body",
        "bulk-terminator",
        "count-int-max",
        "bulk-512mb",
        "nul-hides-newline",
        "inline-64k-exactly",
    ],
)
def test_incomplete_request_waits_silently(server: ServerProcess, payload: bytes) -> None:
    assert exchange(server, payload, sentinel=False, quiet=0.2) == (b"", False)
    assert pings(server)


@pytest.mark.skipif(not have_proc(), reason="needs /proc")
@pytest.mark.parametrize(
    "payload",
    [
        b"*2\r\n$4\r\nECHO\r\n$536870000\r\nsome bytes",
        b"*2147483647\r\n$1\r\na\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n" + b"v" * 1000,
    ],
    ids=["huge-bulk", "huge-count", "huge-set-value"],
)
def test_declared_sizes_are_not_allocated(server: ServerProcess, payload: bytes) -> None:
    before = rss_kib(server.proc.pid)
    socks = [connect(server) for _ in range(4)]
    try:
        for sock in socks:
            sock.sendall(payload)
        assert pings(server)  # the server has read and parsed every payload by now
        time.sleep(0.1)
        grown = rss_kib(server.proc.pid) - before
        assert grown < 32 * 1024, f"RSS grew by {grown} KiB"
        for sock in socks:
            assert read_quiet(sock, 0.05) == (b"", False)
    finally:
        for sock in socks:
            sock.close()


# -- limits before authentication --------------------------------------------------------------


@pytest.fixture(scope="module")
def locked() -> Iterator[ServerProcess]:
    proc = start_damselfly("--requirepass", "secret")
    yield proc
    proc.stop()


def test_unauthenticated_count_above_10_is_a_protocol_error(locked: ServerProcess) -> None:
    assert exchange(locked, b"*11\r\n") == (perr(b"unauthenticated multibulk length"), True)
    assert exchange(locked, b"*10\r\n", sentinel=False, quiet=0.2) == (b"", False)


def test_unauthenticated_bulk_above_16384_is_a_protocol_error(locked: ServerProcess) -> None:
    assert exchange(locked, b"*1\r\n$16385\r\n") == (perr(b"unauthenticated bulk length"), True)
    assert exchange(locked, b"*1\r\n$16384\r\n", sentinel=False, quiet=0.2) == (b"", False)


def test_auth_in_the_same_packet_lifts_the_limits(locked: ServerProcess) -> None:
    big = b"x" * 20000
    payload = encode_command("AUTH", "secret") + encode_command("ECHO", big)
    payload += encode_command("ECHO", *["a"] * 11)
    replies, closed = exchange(locked, payload)
    assert not closed
    assert replies == (
        b"+OK\r\n$20000\r\n" + big + b"\r\n-ERR wrong number of arguments for 'echo' command\r\n"
    )


def test_failed_auth_in_the_same_packet_keeps_the_limits(locked: ServerProcess) -> None:
    payload = encode_command("AUTH", "wrong") + b"*11\r\n"
    replies, closed = exchange(locked, payload)
    assert replies == (
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        + perr(b"unauthenticated multibulk length")
    )
    assert closed


def test_inline_requests_have_no_unauthenticated_limits(locked: ServerProcess) -> None:
    replies, closed = exchange(locked, b"ECHO " + b"x" * 20000 + b"\r\n")
    assert (replies, closed) == (b"-NOAUTH Authentication required.\r\n", False)
