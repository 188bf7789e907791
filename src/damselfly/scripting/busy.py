"""Serving the other clients while a script runs past `busy-reply-threshold`.

The server is one thread and a script runs inside one event-loop callback, so while a script
loops the event loop cannot run. Redis solves this by processing events from the Lua hook, and
so do we: once a run is older than the threshold, the engine's count hook (every HOOK_EVERY Lua
instructions, about 0.1 ms) calls `BusyServing.serve`, which polls with a zero timeout

- every connected client's socket except the script caller's (its next commands must wait for
  the script's reply, as in Redis) and those whose reading is paused (CLIENT PAUSE,
  back-pressure): the bytes are read with `os.read` and fed to that client's ClientProtocol,
  the same path the event loop would take, so pipelining, RESP3, AUTH and HELLO all work;
- the listening sockets, through duplicates of their descriptors: new connections are
  accepted here (a fresh `redis-cli` sending SCRIPT KILL is the case that matters) and served
  through a small blocking-free transport until the script ends, when `finish` hands each
  socket to the event loop (`connect_accepted_socket`) with its existing protocol.

While busy, `server.busy_script` is set and `dispatch.resolve` answers -BUSY to every command
without the allow_busy flag (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE, AUTH, HELLO, MULTI ...);
so that every command reaches `resolve`, dispatch's fast lookup table is emptied for the
duration (`lookup` keeps the real one). Replies are written by each transport at once. A client
that closes is left to the event loop to notice (its end-of-file stays readable), except the
connections accepted here, which are closed at once.

Limits: a connection the event loop accepted in the very turn the script started in has no
protocol yet (uvloop calls connection_made later), so it is served only after the script; and
SIGTERM/SIGINT are event-loop callbacks, so they take effect once the script ends (SHUTDOWN
NOSAVE works at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
from typing import TYPE_CHECKING, Any

from damselfly.server.protocol import ClientProtocol

if TYPE_CHECKING:
    from damselfly.commands.spec import CommandSpec
    from damselfly.scripting.engine import RunContext
    from damselfly.server.client import Client
    from damselfly.server.server import Server

BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = (
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
)
READ_SIZE = 65536
_READ_EVENTS = select.POLLIN | select.POLLHUP | select.POLLERR


class BusyServing:
    """The state of one busy period: from the first late hook call to the end of the run."""

    def __init__(self, server: Server, ctx: RunContext, script_client: Client) -> None:
        self.server = server
        self.ctx = ctx
        self.script_client = script_client
        self.error = BUSY_EVAL if ctx.is_eval else BUSY_FUNCTION
        self.lookup: dict[bytes, CommandSpec] = server.command_lookup
        # Descriptors at end-of-file: the event loop closes those clients after the script.
        self.finished_fds: set[int] = set()
        self.accepted: list[tuple[socket.socket, _AcceptedProtocol]] = []
        self.listening: list[socket.socket] = []
        for listener in server.listeners:
            for lsock in getattr(listener, "sockets", None) or ():
                with contextlib.suppress(OSError):
                    dup = socket.fromfd(lsock.fileno(), lsock.family, lsock.type)
                    dup.setblocking(False)
                    self.listening.append(dup)
        server.command_lookup = {}
        server.busy_script = self

    def blocks(self, client: Client) -> bool:
        return client is not self.script_client

    @staticmethod
    def shutdown_allowed(argv: list[bytes]) -> bool:
        """SHUTDOWN while busy: only with NOSAVE (Redis), or when it fails by itself anyway (a
        syntax error, ABORT with nothing to abort), which its handler then reports."""
        words = [a.lower() for a in argv[1:]]
        known = {b"nosave", b"save", b"now", b"force", b"abort"}
        return b"nosave" in words or b"abort" in words or any(w not in known for w in words)

    def serve(self) -> None:
        """One round: accept new connections, run what the other clients sent."""
        server = self.server
        poller = select.poll()
        listening = {}
        for lsock in self.listening:
            fd = lsock.fileno()
            listening[fd] = lsock
            poller.register(fd, select.POLLIN)
        protocols: dict[int, ClientProtocol] = {}
        caller = self.ctx.caller
        for client in server.clients.values():
            fd = client.fd
            if client is caller or fd < 0 or fd in self.finished_fds:
                continue
            proto = client.extra.get("protocol")
            if proto is None or proto.closed or proto.reading_paused:
                continue
            protocols[fd] = proto
            poller.register(fd, _READ_EVENTS)
        try:
            ready = poller.poll(0)
        except OSError:
            return
        for fd, _events in ready:
            if fd in listening:
                self._accept(listening[fd])
                continue
            proto = protocols.get(fd)
            if proto is None or proto.closed:
                continue
            try:
                data = os.read(fd, READ_SIZE)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if data:
                proto.data_received(data)
            elif isinstance(proto, _AcceptedProtocol):
                proto.close()
            else:
                self.finished_fds.add(fd)
            if server.shutting_down:
                return

    def _accept(self, lsock: socket.socket) -> None:
        try:
            conn, _addr = lsock.accept()
        except OSError:
            return
        conn.setblocking(False)
        proto = _AcceptedProtocol(self.server)
        proto.connection_made(_BusyTransport(conn))
        if proto.closed:
            conn.close()
            return
        self.accepted.append((conn, proto))

    def finish(self) -> None:
        """The run ended: normal dispatch again, and the event loop takes the new sockets."""
        server = self.server
        server.command_lookup = self.lookup
        server.busy_script = None
        for lsock in self.listening:
            lsock.close()
        loop = server.loop
        for conn, proto in self.accepted:
            if proto.closed or loop is None or server.shutting_down:
                conn.close()
                continue
            loop.create_task(_hand_over(loop, conn, proto))
        self.accepted = []


async def _hand_over(
    loop: asyncio.AbstractEventLoop, conn: socket.socket, proto: _AcceptedProtocol
) -> None:
    try:
        await loop.connect_accepted_socket(lambda: proto, conn)
    except OSError:
        conn.close()
        proto.close()


class _AcceptedProtocol(ClientProtocol):
    """A connection accepted while busy: first on a _BusyTransport, then on the event loop's."""

    __slots__ = ()

    def connection_made(self, transport: Any) -> None:
        if self.client is None:
            super().connection_made(transport)
            return
        old = self.transport
        self.transport = transport
        self.client.transport = transport
        if isinstance(old, _BusyTransport) and old.out:
            transport.write(bytes(old.out))
        if self.reading_paused:
            transport.pause_reading()


class _BusyTransport:
    """Just enough of an asyncio transport for a socket served from the script hook."""

    __slots__ = ("out", "paused", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.out = bytearray()
        self.paused = False

    def write(self, data: bytes) -> None:
        if self.out:
            self.out += data
            data = bytes(self.out)
            self.out.clear()
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            return
        if sent < len(data):
            self.out += data[sent:]

    def get_write_buffer_size(self) -> int:
        return len(self.out)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        try:
            if name == "socket":
                return self.sock
            if name == "peername":
                return self.sock.getpeername()
            if name == "sockname":
                return self.sock.getsockname()
        except OSError:
            return default
        return default

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def is_closing(self) -> bool:
        return self.sock.fileno() < 0

    def close(self) -> None:
        if self.out:
            with contextlib.suppress(OSError):
                self.sock.send(bytes(self.out))
        self.sock.close()

    def abort(self) -> None:
        self.sock.close()
