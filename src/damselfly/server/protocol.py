"""One asyncio.Protocol per connection: bytes in, replies out, one write per read.

`data_received` parses every complete command in what arrived, runs them in order through
`dispatch.execute`, encodes each reply for the client's protocol version at the time it ran (a
HELLO 3 in the middle of a pipeline switches the replies after it) and writes all the replies with
ONE `transport.write`: a pipeline of N commands costs one system call, not N. Only when the
replies of one batch pass FLUSH_BYTES are they written in several pieces (see below).

Flow control, and when each stop ends:
- Back-pressure: when the transport's write buffer passes its high-water mark (64 KiB) asyncio
  calls `pause_writing` and we stop reading the socket until `resume_writing` (buffer below the
  low-water mark). One read can still hold thousands of small requests with big replies (256 KiB
  of `GET k` is ~13000 GETs), so every CHECK_EVERY commands the replies built so far are
  measured; past FLUSH_BYTES they are written at once, and if that pauses writing the rest of
  the batch waits in `pending` until the transport drains. A client that does not read its
  replies therefore costs at most about FLUSH_BYTES + CHECK_EVERY replies + 64 KiB, and is
  stalled, not disconnected, when no output limit applies.
- `client-output-buffer-limit` (hard limit of class normal, or pubsub for subscribed clients):
  checked after every write. With a limit set the batch is not held back (Redis runs all that
  it read); past the limit the connection is dropped at once, buffered replies discarded.
- CLIENT PAUSE: a command that must wait is parked with the rest of its batch in `pending`, the
  socket is not read, and the server resumes us (`resume_pending`) when the pause ends.
- Blocking commands (BLPOP ...): the handler registers a waiter (`client.blocked`) and answers
  nothing; the commands after it wait in `pending` until the blocking manager calls `unblocked`
  with the reply. Blocked clients waiting on keys a command wrote are served right after that
  command, before the next one runs.
- Out-of-band data for a client (pub/sub messages, MONITOR lines) goes after the replies it has
  produced so far: into the batch being built when the client itself is running, else straight
  to the transport. One exception, the keyspace events a client's own command causes: the
  commands of `notify.AFTER_REPLY` (pops, GETSET, EXPIRE ...) reply before announcing some of
  their events, as in Redis 7.0, so from the first such event on the pushes for this client are
  `held` and follow the command's reply (each element's, inside EXEC; a served blocking
  command's, which is written at the end of the serving pass).
- Closing: after QUIT, a protocol error or a CLIENT KILL of itself the replies already produced
  are written first (`transport.close` flushes), and nothing pipelined after it runs.
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Any

from damselfly.errors import ProtocolError
from damselfly.protocol.encoder import encode
from damselfly.protocol.parser import RequestParser
from damselfly.server import dispatch
from damselfly.server.blocking import NOT_READY, Waiter
from damselfly.server.client import REPLY_OFF, REPLY_SKIP, REPLY_SKIP_NEXT, Client
from damselfly.server.notify import events_after_reply

if TYPE_CHECKING:
    from damselfly.server.server import Server

_SUPPRESSED = REPLY_OFF | REPLY_SKIP

# Every CHECK_EVERY commands of a batch the replies built so far are measured; past FLUSH_BYTES
# they are written right away (see the module docstring). Small enough to bound a non-reading
# client's cost, large enough that ordinary pipelines still get one write per read.
CHECK_EVERY = 32
FLUSH_BYTES = 256 * 1024


class ClientProtocol(asyncio.Protocol):
    __slots__ = (
        "batch",
        "client",
        "closed",
        "detached",
        "held",
        "parser",
        "pending",
        "pending_error",
        "reading_paused",
        "running",
        "server",
        "transport",
        "waiting_argv",
        "writing_paused",
    )

    def __init__(self, server: Server) -> None:
        self.server = server
        self.parser = RequestParser(server.config["proto-max-bulk-len"])
        # Commands held back by CLIENT PAUSE, and the protocol error that followed them.
        self.pending: list[list[bytes]] = []
        self.pending_error: ProtocolError | None = None
        self.reading_paused = False
        self.writing_paused = False
        self.closed = False
        self.detached = False
        self.transport: Any = None
        self.client: Client | None = None
        # The replies being built while this client's commands run; out-of-band messages for
        # the client (pub/sub, MONITOR) go here then, so they follow the replies before them.
        self.batch: list[bytes] | None = None
        # The command of this client that is blocked on keys (CLIENT LIST shows its argv-mem).
        self.waiting_argv: list[bytes] = []
        # The command of this client that is running (EXEC sets each queued one in turn), and
        # the pushes held back until its reply is written (see the module docstring).
        self.running: list[bytes] | None = None
        self.held: list[bytes] | None = None

    # -- connection lifecycle ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        server = self.server
        client = Client(server, server.next_client_id(), transport)
        client.extra["protocol"] = self
        self.client = client
        sock = transport.get_extra_info("socket")
        if sock is not None:
            client.fd = sock.fileno()
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                _tune_tcp(sock, server.config["tcp-keepalive"])
                client.addr = _format_addr(transport.get_extra_info("peername"))
                client.laddr = _format_addr(transport.get_extra_info("sockname"))
            else:
                # Redis names both ends of a unix socket connection "<path>:0".
                client.unix = True
                path = transport.get_extra_info("sockname") or server.config["unixsocket"]
                client.addr = client.laddr = f"{path}:0"
        if len(server.clients) >= server.config["maxclients"]:
            self.transport.write(b"-ERR max number of clients reached\r\n")
            self.transport.close()
            self.closed = self.detached = True
            server.stat_rejected_connections += 1
            return
        server.add_client(client)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._detach()

    def _detach(self) -> None:
        """Forget the client once: it leaves CLIENT LIST and its close hooks run."""
        if self.detached:
            return
        self.detached = True
        self.pending = []
        client = self.client
        if client is not None:
            if self in self.server.paused:
                self.server.paused.remove(self)
            self.server.remove_client(client)

    def pause_writing(self) -> None:
        self.writing_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self.writing_paused = False
        client = self.client
        if self.pending and client is not None and not client.postponed and client.blocked is None:
            # Held back by back-pressure (not by CLIENT PAUSE or a blocking command).
            self.resume_pending()
        elif not self.pending:
            self._resume_reading()

    def _pause_reading(self) -> None:
        if not self.reading_paused and not self.closed:
            self.reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.reading_paused and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()

    # -- requests ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        client = self.client
        assert client is not None
        server = self.server
        commands, error = self.parser.feed(data, client.authenticated)
        client.last_interaction_ms = server.clock.now_ms()
        buffered = self.parser.pending()
        if buffered and buffered > server.config["client-query-buffer-limit"]:
            server.log_warning(
                f"Closing client that reached max query buffer length: id={client.id} "
                f"addr={client.addr}"
            )
            self.close()
            return
        if self.pending or client.blocked is not None:
            # Parked (paused, blocked, or bytes in flight when reading paused): keep the order.
            self.pending.extend(commands)
            if error is not None and self.pending_error is None:
                self.pending_error = error
            return
        out: list[bytes] = []
        self.batch = out
        if commands:
            self.run_commands(commands, out)
        while self.parser.stalled and not (self.pending or client.close_after_reply or self.closed):
            # The parser stopped at a limit that depends on authentication: the commands before
            # it (maybe an AUTH) have run, so it goes on with the client's state now, like Redis.
            commands, error = self.parser.feed(b"", client.authenticated)
            if commands:
                self.run_commands(commands, out)
        if error is not None and not client.close_after_reply:
            # (After QUIT Redis reads no further, so it never sees the malformed bytes.)
            if self.pending:
                self.pending_error = error
            else:
                self._protocol_error(error, out)
        self.batch = None
        self.flush(out)

    def run_commands(self, commands: list[list[bytes]], out: list[bytes]) -> None:
        """Run `commands` in order, appending encoded replies to `out`.

        Stops early, keeping the rest in `pending`, at a command CLIENT PAUSE holds back, after
        a command that blocked (BLPOP ...), or when back-pressure says the client is not reading.
        """
        client = self.client
        assert client is not None
        server = self.server
        execute = dispatch.execute
        blocking = server.blocking
        counted = 0  # chunks of `out` already added to `size`
        size = 0
        for index in range(len(commands)):
            if client.close_after_reply or self.closed:
                return
            argv = commands[index]
            if server.pause_until and server.must_wait(client, argv):
                self.pending = commands[index:]
                client.postponed = True
                self._pause_reading()
                server.park_paused(self)
                return
            self.running = argv
            reply = execute(client, argv)
            self.running = None
            if client.blocked is not None:
                # The command waits for a key; its reply comes through `unblocked`, and the
                # commands pipelined after it wait for that.
                self.waiting_argv = argv
                self._hold_when_served(client.blocked, argv)
                self.pending = commands[index + 1 :]
                # Reading goes on (what arrives is queued behind the blocked command), so a
                # client that disconnects while blocked is noticed and leaves the wait queues.
                if blocking.ready:
                    blocking.serve_ready()
                return
            if client.reply_flags:
                self._reply_with_flags(reply, out)
            else:
                encode(reply, client.resp == 3, out)
            if self.held is not None:
                out.extend(self.held)
                self.held = None
            if blocking.ready:
                # This command wrote keys that blocked clients wait for: serve them now that it
                # has finished (never in the middle of it).
                blocking.serve_ready()
            if index % CHECK_EVERY == CHECK_EVERY - 1:
                end = len(out)
                size += sum(map(len, out[counted:end]))
                counted = end
                if size >= FLUSH_BYTES:
                    self.transport.write(b"".join(out))
                    out.clear()
                    counted = size = 0
                    self._check_output_limit()
                    if self.closed:
                        return
                    if self.writing_paused and not self._output_limit():
                        self.pending = commands[index + 1 :]
                        return

    def _reply_with_flags(self, reply: Any, out: list[bytes]) -> None:
        """Encode `reply` unless CLIENT REPLY OFF/SKIP says not to, then move SKIP along."""
        client = self.client
        assert client is not None
        flags = client.reply_flags
        if not flags & _SUPPRESSED:
            encode(reply, client.resp == 3, out)
        flags &= ~REPLY_SKIP
        if flags & REPLY_SKIP_NEXT:
            flags = (flags | REPLY_SKIP) & ~REPLY_SKIP_NEXT
        client.reply_flags = flags

    def _protocol_error(self, error: ProtocolError, out: list[bytes]) -> None:
        client = self.client
        assert client is not None
        if not client.reply_flags & _SUPPRESSED:
            # surrogateescape: "expected '$', got '%c'" quotes the raw request byte.
            out.append(b"-" + error.message.encode("utf-8", "surrogateescape") + b"\r\n")
        client.close_after_reply = True
        self.server.log_verbose(f"Protocol error ({error}) from client: id={client.id}")

    def resume_pending(self) -> None:
        """A pause or back-pressure is over: run the held commands, then read again."""
        client = self.client
        if self.closed or client is None:
            return
        client.postponed = False
        out: list[bytes] = []
        self._continue(out)

    def unblocked(self, reply: Any) -> None:
        """The blocking command finished (served, timed out or CLIENT UNBLOCK): send its
        reply, then run what was pipelined after it."""
        client = self.client
        if self.closed or client is None:
            return
        self.waiting_argv = []
        out: list[bytes] = []
        if client.reply_flags:
            self._reply_with_flags(reply, out)
        else:
            encode(reply, client.resp == 3, out)
        if self.held is not None:
            out.extend(self.held)
            self.held = None
        self.flush(out)
        if self.pending or self.pending_error is not None:
            # Like Redis (beforeSleep), what this client pipelined after the blocking command
            # runs once the input already read from every client has run, not in the middle of
            # the command that woke it.
            asyncio.get_running_loop().call_soon(self._resume_after_unblock)
        elif not self.writing_paused:
            self._resume_reading()

    def _resume_after_unblock(self) -> None:
        client = self.client
        if self.closed or client is None or client.blocked is not None:
            return
        self._continue([])

    def _continue(self, out: list[bytes]) -> None:
        commands, self.pending = self.pending, []
        self.batch = out
        if commands:
            self.run_commands(commands, out)
        if not self.pending and self.pending_error is not None:
            error, self.pending_error = self.pending_error, None
            self._protocol_error(error, out)
        self.batch = None
        self.flush(out)
        if not self.pending and not self.writing_paused:
            self._resume_reading()

    def flush(self, out: list[bytes]) -> None:
        client = self.client
        assert client is not None
        if out and not self.closed:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])
            self._check_output_limit()
        if client.close_after_reply:
            self.close()

    def _hold_when_served(self, waiter: Waiter, argv: list[bytes]) -> None:
        """Serving the blocked command runs its core again (waiter.retry): it is then this
        client's running command, and its reply, written by Redis at once, only goes out at
        the end of the serving pass here, so whatever comes for the client meanwhile waits."""
        retry = waiter.retry

        def served(key: bytes) -> Any:
            self.running = argv
            try:
                reply = retry(key)
            finally:
                self.running = None
            if reply is NOT_READY:
                self._release_held()
            elif self.held is None:
                self.held = []
            return reply

        waiter.retry = served

    def _release_held(self) -> None:
        held, self.held = self.held, None
        if held:
            self._write(b"".join(held))

    def reply_part(self, data: bytes) -> None:
        """A piece of reply the running command writes itself (EXEC, element by element): the
        pushes held for after that element follow it."""
        self.running = None
        held, self.held = self.held, None
        self.write_out_of_band(data)
        if held:
            self._write(b"".join(held))

    def write_out_of_band(self, data: bytes) -> None:
        """Bytes for this client that are not a reply to its own command (MONITOR, EXEC's
        elements, SUBSCRIBE's confirmations), silenced by CLIENT REPLY OFF|SKIP."""
        client = self.client
        if client is None or client.reply_flags & _SUPPRESSED:
            return
        self._write(data)

    def deliver_message(self, data: bytes, event: str | None = None) -> None:
        """A pub/sub message (keyspace notifications included). Like Redis 7.0, which marks
        these writes as pushes, CLIENT REPLY OFF|SKIP does not silence them.

        `event`: the keyspace event a notification announces; it is held for after the reply
        when this client's running command announces it after replying (notify.AFTER_REPLY).
        """
        if self.held is None and event is not None and self.running is not None:
            if event in events_after_reply(self.running):
                self.held = []
        self._write(data)

    def _write(self, data: bytes) -> None:
        if self.closed or self.client is None:
            return
        held = self.held
        if held is not None:
            # Past the reply point of the running command: all keeps its order behind it.
            held.append(data)
        elif self.batch is not None:
            self.batch.append(data)
        else:
            self.transport.write(data)
            self._check_output_limit()

    def _check_output_limit(self) -> None:
        buffered = self.transport.get_write_buffer_size()
        if not buffered:  # the usual case: the kernel took everything
            return
        limit = self._output_limit()
        if limit and buffered > limit:
            client = self.client
            assert client is not None
            self.server.log_warning(
                f"Client id={client.id} addr={client.addr} closed for overcoming of output "
                "buffer limits."
            )
            self.abort()

    def _output_limit(self) -> int:
        client = self.client
        assert client is not None
        server = self.server
        return server.output_pubsub_limit if client.pubsub else server.output_hard_limit

    def close(self) -> None:
        """Close after writing what is buffered; the client leaves the server's tables now."""
        if not self.closed:
            self.closed = True
            self.transport.close()
        self._detach()

    def abort(self) -> None:
        """Drop the connection and whatever is still buffered for it."""
        if not self.closed:
            self.closed = True
            self.transport.abort()
        self._detach()


def _tune_tcp(sock: socket.socket, keepalive: int) -> None:
    """TCP_NODELAY (replies are already batched per read) and Redis's keepalive settings."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if keepalive > 0:
            # Like Redis: first probe after `tcp-keepalive` idle seconds, then every third of
            # that, and give up after 3 unanswered probes.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if hasattr(socket, "TCP_KEEPIDLE"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, keepalive)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, keepalive // 3))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except OSError:
        pass


def _format_addr(addr: Any) -> str:
    if not addr:
        return ""
    host, port = addr[0], addr[1]
    # Like Redis: IPv6 hosts in brackets ("[::1]:6379"), so the port stays unambiguous.
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
