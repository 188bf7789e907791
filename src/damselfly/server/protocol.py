"""One asyncio.Protocol per connection: bytes in, replies out, one write per read.

`data_received` parses every complete command in what arrived, runs them in order through
`dispatch.execute`, encodes each reply for the client's protocol version (a HELLO 3 in the middle
of a pipeline switches the replies after it) and writes all replies with ONE `transport.write`.

Back-pressure: when the transport's write buffer passes its high-water mark asyncio calls
`pause_writing`; we stop reading that client until it drains (`resume_writing`), so a client that
does not read its replies cannot make us buffer without bound. `client-output-buffer-limit`
(normal class, hard limit) disconnects it outright, like Redis. Commands that must wait (CLIENT
PAUSE) are kept in `pending` and the socket is not read until they have run.
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Any

from damselfly.errors import ProtocolError
from damselfly.protocol.encoder import encode
from damselfly.protocol.parser import RequestParser
from damselfly.server import dispatch
from damselfly.server.client import REPLY_OFF, REPLY_ON, REPLY_SKIP, Client

if TYPE_CHECKING:
    from damselfly.server.server import Server


class ClientProtocol(asyncio.Protocol):
    __slots__ = ("server", "client", "parser", "transport", "pending", "reading_paused", "closed")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.parser = RequestParser(server.config["proto-max-bulk-len"])
        self.pending: list[list[bytes]] = []
        self.reading_paused = False
        self.closed = False
        self.transport: Any = None
        self.client: Client | None = None

    # -- connection lifecycle ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        server = self.server
        sock = transport.get_extra_info("socket")
        client = Client(server, server.next_client_id(), transport)
        if sock is not None:
            client.fd = sock.fileno()
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
                peer = transport.get_extra_info("peername")
                local = transport.get_extra_info("sockname")
                client.addr = _format_addr(peer)
                client.laddr = _format_addr(local)
            else:
                client.unix = True
                client.addr = "/unixsocket:0"
                client.laddr = str(transport.get_extra_info("sockname") or "")
        self.client = client
        client.extra["protocol"] = self
        if len(server.clients) >= server.config["maxclients"]:
            transport.write(b"-ERR max number of clients reached\r\n")
            transport.close()
            self.closed = True
            server.stat_rejected_connections += 1
            return
        server.add_client(client)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.client is not None:
            self.server.remove_client(self.client)

    def pause_writing(self) -> None:
        self._pause_reading()

    def resume_writing(self) -> None:
        if not self.pending and not self.server.client_paused(self.client):
            self._resume_reading()

    def _pause_reading(self) -> None:
        if not self.reading_paused and not self.closed:
            self.reading_paused = True
            try:
                self.transport.pause_reading()
            except RuntimeError:
                pass

    def _resume_reading(self) -> None:
        if self.reading_paused and not self.closed:
            self.reading_paused = False
            try:
                self.transport.resume_reading()
            except RuntimeError:
                pass

    # -- requests ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None or self.closed:
            return
        commands, error = self.parser.feed(data, client.authenticated)
        if self.parser.pending() > self.server.config["client-query-buffer-limit"]:
            self.server.log_warning(
                f"Closing client that reached max query buffer length: id={client.id} "
                f"addr={client.addr}"
            )
            self.close()
            return
        if self.pending:
            self.pending.extend(commands)
            commands = []
        out: list[bytes] = []
        if commands:
            self.run_commands(commands, out)
        if error is not None:
            if self.pending:
                # Commands held back by CLIENT PAUSE run first; the error follows them.
                self.pending.append([b"\x00protocol-error", error.message.encode()])
            else:
                out.append(b"-" + error.message.encode() + b"\r\n")
                client.close_after_reply = True
                self.server.log_verbose(f"Protocol error ({error}) from client: id={client.id}")
        self.flush(out)

    def run_commands(self, commands: list[list[bytes]], out: list[bytes]) -> None:
        client = self.client
        assert client is not None
        server = self.server
        for index, argv in enumerate(commands):
            if client.close_after_reply or self.closed:
                break
            if argv[0] == b"\x00protocol-error":
                out.append(b"-" + argv[1] + b"\r\n")
                client.close_after_reply = True
                break
            if server.pause_until and server.must_wait(client, argv):
                self.pending = commands[index:]
                self._pause_reading()
                server.park_paused(self)
                return
            client.last_interaction_ms = server.clock.now_ms()
            reply = dispatch.execute(client, argv)
            mode = client.reply_mode
            if mode == REPLY_ON:
                encode(reply, client.resp == 3, out)
            elif mode == REPLY_SKIP:
                client.reply_mode = REPLY_ON
            elif mode == REPLY_OFF:
                pass
        self.pending = []

    def resume_pending(self) -> None:
        """Run commands held back by CLIENT PAUSE, then read the socket again."""
        if self.closed or not self.pending:
            return
        commands, self.pending = self.pending, []
        out: list[bytes] = []
        self.run_commands(commands, out)
        self.flush(out)
        if not self.pending and not self.transport.is_closing():
            if self.transport.get_write_buffer_size() == 0 or not self.reading_paused:
                self._resume_reading()
            else:
                self._resume_reading()

    def flush(self, out: list[bytes]) -> None:
        client = self.client
        assert client is not None
        if out and not self.closed:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])
            limit = self.server.output_hard_limit
            if limit and self.transport.get_write_buffer_size() > limit:
                self.server.log_warning(
                    f"Client id={client.id} addr={client.addr} scheduled to be closed ASAP "
                    "for overcoming of output buffer limits."
                )
                self.transport.abort()
                self.closed = True
                return
        if client.close_after_reply or client.kill_requested:
            self.close()

    def write_out_of_band(self, data: bytes) -> None:
        """Bytes for this client that are not a reply to its own command (MONITOR feed)."""
        if not self.closed:
            self.transport.write(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()


def _format_addr(addr: Any) -> str:
    if not addr:
        return ""
    host, port = addr[0], addr[1]
    return f"{host}:{port}"
