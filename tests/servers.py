"""Starting real servers for tests: damselfly (ours) and redis-server (the oracle).

Both run as subprocesses on free loopback ports, so every test talks over a real socket.
`ServerProcess.client()` gives a redis-py client; `raw()` a RawConnection for exact bytes.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes], log: Any, timeout: float = 15.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            out = log.read().decode(errors="replace")
            raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError(f"server did not listen on port {port} within {timeout}s")


class ServerProcess:
    def __init__(self, name: str, argv: list[str], port: int) -> None:
        self.name = name
        self.port = port
        self.host = "127.0.0.1"
        # The log goes to a file, not a pipe: nobody reads a pipe while the server runs, and a
        # full one would stall the server.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        wait_for_port(port, self.proc, self.log)

    def client(self, protocol: int = 2, **kwargs: Any) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, protocol=protocol, **kwargs)

    def raw(self) -> RawConnection:
        return RawConnection(self.host, self.port)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.output()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def start_damselfly(*options: str) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "damselfly", "--port", str(port), "--bind", "127.0.0.1", *options]
    return ServerProcess("damselfly", argv, port)


def redis_server_path() -> str | None:
    return shutil.which("redis-server")


def start_redis(*options: str) -> ServerProcess:
    path = redis_server_path()
    assert path is not None
    port = free_port()
    argv = [
        path,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--dir", tempfile.mkdtemp(prefix="damselfly-oracle-"),
        "--dbfilename", "oracle.rdb",
        *options,
    ]  # fmt: skip
    return ServerProcess("redis", argv, port)


class RawConnection:
    """A plain socket for exact-byte tests: send bytes, read until a reply is complete."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_exact(self, expected_len: int, timeout: float = 5.0) -> bytes:
        self.sock.settimeout(timeout)
        while len(self.buf) < expected_len:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        data, self.buf = self.buf[:expected_len], self.buf[expected_len:]
        return data

    def read_reply(self, timeout: float = 5.0) -> bytes:
        """One complete RESP reply (any type, nested), as raw bytes."""
        self.sock.settimeout(timeout)
        while True:
            end = _reply_end(self.buf, 0)
            if end is not None:
                data, self.buf = self.buf[:end], self.buf[end:]
                return data
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; buffered {self.buf!r}")
            self.buf += chunk

    def request(self, data: bytes) -> bytes:
        self.send(data)
        return self.read_reply()

    def read_all_until_close(self, timeout: float = 5.0) -> bytes:
        self.sock.settimeout(timeout)
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()


def encode_command(*args: bytes | str | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, int):
            arg = str(arg)
        if isinstance(arg, str):
            arg = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def _reply_end(buf: bytes, pos: int) -> int | None:
    if pos >= len(buf):
        return None
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    kind = buf[pos : pos + 1]
    head = buf[pos + 1 : nl]
    if kind in (b"+", b"-", b":", b"_", b",", b"#", b"("):
        return nl + 2
    if kind in (b"$", b"=", b"!"):
        n = int(head)
        if n < 0:
            return nl + 2
        end = nl + 2 + n + 2
        return end if end <= len(buf) else None
    if kind in (b"*", b"~", b">", b"%", b"|"):
        n = int(head)
        if n < 0:
            return nl + 2
        if kind in (b"%", b"|"):
            n *= 2
        p: int | None = nl + 2
        for _ in range(n):
            assert p is not None
            p = _reply_end(buf, p)
            if p is None:
                return None
        return p
    raise ValueError(f"bad reply type {kind!r} in {buf[pos : pos + 40]!r}")


def dedicated_pair(*redis_options: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """(damselfly, redis-server) of one module's own, for tests whose clients (killed, paused,
    subscribed) must not reach other tests; use as the body of a module-scoped fixture."""
    ours = start_damselfly()
    oracle = start_redis(*redis_options)
    try:
        yield ours, oracle
    finally:
        ours.stop()
        oracle.stop()
