"""Well-formed RESP requests on a real socket: pipelines, binary safety, big values, commands
split across packets, and one slow client not holding up the others."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from tests.servers import RawConnection, ServerProcess, encode_command
from tests.wire.rawio import connect, exchange, pings, read_quiet


@pytest.fixture
def raw(server: ServerProcess, r: redis.Redis) -> Iterator[RawConnection]:
    """A raw connection to a flushed damselfly."""
    conn = server.raw()
    yield conn
    conn.close()


def test_ping_gets_pong(raw: RawConnection) -> None:
    assert raw.request(encode_command("PING")) == b"+PONG\r\n"


def test_pipeline_of_10000_commands_in_one_send_is_answered_in_order(
    raw: RawConnection,
) -> None:
    payload = b"".join(encode_command("INCR", "wire:counter") for _ in range(10000))
    raw.send(payload)
    expected = b"".join(b":%d\r\n" % i for i in range(1, 10001))
    assert raw.read_exact(len(expected)) == expected


def test_pipeline_of_mixed_commands_keeps_reply_order(raw: RawConnection) -> None:
    payload = b"".join(
        encode_command("SET", f"wire:k{i}", f"v{i}") + encode_command("GET", f"wire:k{i}")
        for i in range(500)
    )
    raw.send(payload)
    expected = b"".join(b"+OK\r\n$%d\r\nv%d\r\n" % (len(str(i)) + 1, i) for i in range(500))
    assert raw.read_exact(len(expected)) == expected


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"\r\n",
        b"a\r\nb",
        b"\r\n\r\n\r\n",
        b"ends with cr\r",
        b"\nstarts with lf",
        b"\x00\x01\x02\xff\xfe",
        b"$3\r\nfoo\r\n",
        b"*1\r\n$4\r\nPING\r\n",
        bytes(range(256)) * 4,
    ],
    ids=[
        "empty",
        "crlf",
        "crlf-inside",
        "only-crlfs",
        "trailing-cr",
        "leading-lf",
        "binary",
        "looks-like-bulk",
        "looks-like-command",
        "all-bytes",
    ],
)
def test_keys_and_values_are_binary_safe(raw: RawConnection, value: bytes) -> None:
    key = b"wire:\r\n\x00" + value
    assert raw.request(encode_command(b"SET", key, value)) == b"+OK\r\n"
    assert raw.request(encode_command(b"GET", key)) == b"$%d\r\n%s\r\n" % (len(value), value)
    assert raw.request(encode_command(b"ECHO", value)) == b"$%d\r\n%s\r\n" % (len(value), value)


def test_command_split_at_every_byte_is_parsed_once_complete(server: ServerProcess) -> None:
    payload = encode_command("ECHO", b"split\r\nme") + b"ECHO inline\r\n"
    replies, closed = exchange(server, tuple(payload[i : i + 1] for i in range(len(payload))))
    assert (replies, closed) == (b"$9\r\nsplit\r\nme\r\n$6\r\ninline\r\n", False)


def test_100mb_value_across_many_packets_is_stored_quickly(
    raw: RawConnection, r: redis.Redis
) -> None:
    size = 100 * 1024 * 1024
    value = b"\r\n" + b"x" * (size - 4) + b"\r\n"
    start = time.monotonic()
    raw.send(b"*3\r\n$3\r\nSET\r\n$8\r\nwire:big\r\n$%d\r\n" % size)
    view = memoryview(value)
    for offset in range(0, size, 1 << 20):  # 100 sends of 1 MiB, read in <=256 KiB pieces
        raw.send(view[offset : offset + (1 << 20)].tobytes())
    raw.send(b"\r\n" + encode_command("STRLEN", "wire:big"))
    assert raw.read_reply(timeout=60) == b"+OK\r\n"
    assert raw.read_reply(timeout=60) == b":%d\r\n" % size
    elapsed = time.monotonic() - start
    # Linear parsing takes well under a second here; re-scanning the buffer on every packet
    # (quadratic) would take minutes.
    assert elapsed < 20
    assert r.getrange("wire:big", 0, 3) == b"\r\nxx"
    assert r.getrange("wire:big", size - 3, size) == b"x\r\n"
    r.delete("wire:big")


def test_big_value_with_crlf_inside_round_trips(raw: RawConnection) -> None:
    value = (b"abc\r\n" * 20000)[:99999]
    raw.send(encode_command("SET", "wire:crlf", value) + encode_command("GET", "wire:crlf"))
    assert raw.read_reply() == b"+OK\r\n"
    assert raw.read_reply() == b"$99999\r\n" + value + b"\r\n"


def test_half_sent_command_gets_no_reply_and_does_not_block_others(
    server: ServerProcess,
) -> None:
    slow = connect(server)
    try:
        slow.sendall(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel")
        for _ in range(3):
            assert pings(server)
        replies, closed = read_quiet(slow, 0.2)
        assert (replies, closed) == (b"", False)
        slow.sendall(b"lo\r\n")
        replies, closed = read_quiet(slow, 0.3, at_least=11)
        assert (replies, closed) == (b"$5\r\nhello\r\n", False)
    finally:
        slow.close()


def test_half_sent_header_then_rest_is_one_command(server: ServerProcess) -> None:
    replies, closed = exchange(server, (b"*2\r\n$4\r\nEC", b"HO\r\n$2\r", b"\nhi\r\n"))
    assert (replies, closed) == (b"$2\r\nhi\r\n", False)


def test_count_zero_and_negative_are_skipped(server: ServerProcess) -> None:
    replies, closed = exchange(server, b"*0\r\n*-1\r\n*-100\r\n*1\r\n$4\r\nPING\r\n")
    assert (replies, closed) == (b"+PONG\r\n", False)


def test_two_bytes_after_a_bulk_are_skipped_unchecked(server: ServerProcess) -> None:
    replies, closed = exchange(server, b"*2\r\n$4\r\nECHO\r\n$2\r\nhi!!*1\r\n$4\r\nPING\r\n")
    assert (replies, closed) == (b"$2\r\nhi\r\n+PONG\r\n", False)
