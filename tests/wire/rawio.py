"""Raw-socket exchanges for the wire tests: exact bytes out, every reply byte back, and whether
the server closed the connection.

A payload that leaves the server at a command boundary is followed by a sentinel command: reading
stops at its reply (connection still open) or at EOF (closed), so no test waits on a timer. A
payload that leaves a command incomplete cannot take a sentinel (it would become part of that
command), so those exchanges read until the line has been quiet for `quiet` seconds.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from typing import Any

from tests.servers import ServerProcess, encode_command

# An unknown command: its error comes before the authentication check (in Redis and here), so
# the sentinel is answered the same way on authenticated and unauthenticated connections.
SENTINEL = b"wire-test-sentinel-7f3a"
SENTINEL_COMMAND = encode_command(SENTINEL)
SENTINEL_REPLY = b"-ERR unknown command '%s', with args beginning with: \r\n" % SENTINEL


def connect(server: ServerProcess, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _recv(sock: socket.socket) -> bytes | None:
    """Bytes from the socket; None once the server has closed (EOF or reset)."""
    try:
        chunk = sock.recv(1 << 20)
    except (ConnectionResetError, BrokenPipeError):
        return None
    return chunk or None


def read_until_sentinel(sock: socket.socket, timeout: float = 10.0) -> tuple[bytes, bool]:
    """(replies before the sentinel's, closed) — closed when EOF came before the sentinel."""
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(SENTINEL_REPLY):
        chunk = _recv(sock)
        if chunk is None:
            return data, True
        data += chunk
    return data[: -len(SENTINEL_REPLY)], False


def read_quiet(
    sock: socket.socket, quiet: float = 0.3, at_least: int = 0, timeout: float = 10.0
) -> tuple[bytes, bool]:
    """Everything that arrives until `quiet` seconds pass with nothing, or EOF. The first
    `at_least` bytes are waited for up to `timeout` (a loaded machine may be slow to answer)."""
    data = b""
    while True:
        sock.settimeout(timeout if len(data) < at_least else quiet)
        try:
            chunk = _recv(sock)
        except TimeoutError:
            return data, False
        if chunk is None:
            return data, True
        data += chunk


def exchange(
    server: ServerProcess,
    payload: bytes | Iterable[bytes],
    *,
    sentinel: bool = True,
    quiet: float = 0.3,
    at_least: int = 0,
) -> tuple[bytes, bool]:
    """Send payload on a fresh connection (an iterable is sent piece by piece, each piece its
    own packet); return (every reply byte, whether the server closed the connection).

    sentinel=False is for payloads that leave a command incomplete, or whose error must come
    from their own bytes alone (a missing terminator): nothing is sent after them, and reading
    stops at EOF or after `quiet` seconds of silence once `at_least` bytes have come. A test
    that expects the connection to close passes a long `quiet`: EOF ends the wait anyway."""
    sock = connect(server)
    try:
        pieces = [payload] if isinstance(payload, bytes) else list(payload)
        try:
            for index, piece in enumerate(pieces):
                if index:
                    time.sleep(0.02)  # separate reads on the server, not a wait for expiry
                sock.sendall(piece)
            if sentinel:
                sock.sendall(SENTINEL_COMMAND)
        except (ConnectionResetError, BrokenPipeError):
            pass
        if sentinel:
            return read_until_sentinel(sock)
        return read_quiet(sock, quiet, at_least)
    finally:
        sock.close()


def pings(server: ServerProcess) -> bool:
    """A fresh connection gets +PONG: the server survived whatever came before."""
    sock = connect(server, timeout=5)
    try:
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        data = b""
        while len(data) < 7:
            chunk = _recv(sock)
            if chunk is None:
                return False
            data += chunk
        return data == b"+PONG\r\n"
    finally:
        sock.close()


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def parse_replies(data: bytes) -> list[Any]:
    """Every reply in data as a tree: (type char, value); aggregates hold lists of trees, maps
    and attributes lists of (key, value) pairs. For comparing shapes, not for speed."""
    replies: list[Any] = []
    pos = 0
    while pos < len(data):
        node, pos = _parse_one(data, pos)
        replies.append(node)
    return replies


def _parse_one(data: bytes, pos: int) -> tuple[Any, int]:
    kind = chr(data[pos])
    nl = data.index(b"\r\n", pos)
    head = data[pos + 1 : nl]
    pos = nl + 2
    if kind in "$=!":
        size = int(head)
        if size < 0:
            return (kind, None), pos
        return (kind, data[pos : pos + size]), pos + size + 2
    if kind in "*~>%|":
        count = int(head)
        if count < 0:
            return (kind, None), pos
        items: list[Any] = []
        for _ in range(count):
            item, pos = _parse_one(data, pos)
            if kind in "%|":
                value, pos = _parse_one(data, pos)
                item = (item, value)
            items.append(item)
        return (kind, items), pos
    return (kind, head), pos


def have_proc() -> bool:
    return os.path.exists(f"/proc/{os.getpid()}/status")
