"""The Server owns everything: config, clock, databases, clients, statistics and the event loop.

It also owns the cron (`hz` ticks a second: active expiry, client timeouts, CLIENT PAUSE
deadlines) and graceful shutdown (SIGINT/SIGTERM or SHUTDOWN: stop listening, close clients, exit).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from damselfly import REDIS_VERSION, __version__
from damselfly.clock import Clock
from damselfly.commands.registry import build_table
from damselfly.config import Config
from damselfly.keyspace.database import Database
from damselfly.keyspace.expiry import ActiveExpiry

if TYPE_CHECKING:
    from damselfly.server.client import Client
    from damselfly.server.protocol import ClientProtocol

LOG_LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
LOG_MARKS = {0: ".", 1: "-", 2: "*", 3: "#"}


class Server:
    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or Clock()
        self.now_ms = self.clock.now_ms()
        self.start_time = time.time()
        self.start_monotonic = time.monotonic()
        self.pid = os.getpid()
        self.run_id = os.urandom(20).hex()
        self.commands = build_table()
        self.dbs = [Database(self, i) for i in range(config["databases"])]
        self.clients: dict[int, Client] = {}
        self._next_client_id = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.listeners: list[asyncio.AbstractServer] = []
        self.active_expiry = ActiveExpiry(self)
        self.shutdown_event: asyncio.Event | None = None
        self.exit_code = 0
        # Statistics (INFO stats).
        self.dirty = 0
        self.stat_numcommands = 0
        self.stat_numconnections = 0
        self.stat_rejected_connections = 0
        self.stats_expired_keys = 0
        self.stat_keyspace_hits = 0
        self.stat_keyspace_misses = 0
        self.errorstats: dict[str, int] = {}
        self.stat_total_error_replies = 0
        self.lastsave = int(time.time())
        # MONITOR, SLOWLOG, LATENCY.
        self.monitors: list[Client] = []
        self.slowlog: deque[tuple[int, int, int, list[bytes], str, bytes]] = deque()
        self.slowlog_next_id = 0
        self.slowlog_threshold_us = config["slowlog-log-slower-than"]
        self.latency_events: dict[str, deque[tuple[int, int]]] = {}
        # CLIENT PAUSE: deadline in ms (0 = not paused) and what it holds back.
        self.pause_until = 0
        self.pause_all = False
        self.paused: list[ClientProtocol] = []
        self.output_hard_limit = 0
        self.notify_flags = ""
        self.key_listeners: list[Any] = []
        self.client_close_hooks: list[Any] = []
        self.reset_hooks: list[Any] = []
        self.apply_config_hooks()

    # -- configuration -------------------------------------------------------------------------

    def apply_config_hooks(self) -> None:
        """Bind the parameters whose change must reach live state."""
        params = self.config.params

        def set_slowlog(value: Any) -> None:
            self.slowlog_threshold_us = value

        def set_slowlog_len(value: Any) -> None:
            while len(self.slowlog) > value:
                self.slowlog.pop()

        def set_output_limit(value: Any) -> None:
            self.output_hard_limit = parse_output_limit(value)

        def set_notify(value: Any) -> None:
            self.notify_flags = value

        def set_max_bulk(value: Any) -> None:
            for client in self.clients.values():
                proto = client.extra.get("protocol")
                if proto is not None:
                    proto.parser.max_bulk = value

        params["slowlog-log-slower-than"].on_change = set_slowlog
        params["slowlog-max-len"].on_change = set_slowlog_len
        params["proto-max-bulk-len"].on_change = set_max_bulk
        if "client-output-buffer-limit" in params:
            params["client-output-buffer-limit"].on_change = set_output_limit
            set_output_limit(self.config["client-output-buffer-limit"])
        params["notify-keyspace-events"].on_change = set_notify
        self.notify_flags = self.config["notify-keyspace-events"]

    def requires_auth(self) -> bool:
        return bool(self.config["requirepass"])

    # -- clients -------------------------------------------------------------------------------

    def next_client_id(self) -> int:
        self._next_client_id += 1
        return self._next_client_id

    def add_client(self, client: Client) -> None:
        self.clients[client.id] = client
        self.stat_numconnections += 1

    def remove_client(self, client: Client) -> None:
        self.clients.pop(client.id, None)
        if client.monitor and client in self.monitors:
            self.monitors.remove(client)
        for hook in self.client_close_hooks:
            hook(client)

    # -- the write path ------------------------------------------------------------------------

    def key_modified(self, db: Database, key: bytes) -> None:
        """Every write to a key passes here (WATCH, blocked clients, persistence hook in)."""
        self.dirty += 1
        if self.key_listeners:
            for listener in self.key_listeners:
                listener(db, key)

    def database_flushed(self, db: Database) -> None:
        self.dirty += 1
        if self.key_listeners:
            for key in list(db.data):
                for listener in self.key_listeners:
                    listener(db, key)

    def notify_keyspace_event(self, kind: str, event: str, key: bytes, db: Database) -> None:
        """Keyspace notifications (issue: pub/sub); a no-op while `notify-keyspace-events` is empty."""
        if not self.notify_flags:
            return

    # -- errors, monitor, slowlog --------------------------------------------------------------

    def count_error(self, text: str) -> None:
        prefix = text.split(" ", 1)[0]
        self.errorstats[prefix] = self.errorstats.get(prefix, 0) + 1
        self.stat_total_error_replies += 1

    def feed_monitors(self, client: Client, argv: list[bytes]) -> None:
        now = time.time()
        where = "unix:" + client.laddr if client.unix else client.addr
        parts = " ".join('"' + _monitor_escape(a) + '"' for a in argv)
        line = f"+{now:.6f} [{client.db.index} {where}] {parts}\r\n".encode()
        for monitor in list(self.monitors):
            proto = monitor.extra.get("protocol")
            if proto is not None and monitor is not client:
                proto.write_out_of_band(line)

    def slowlog_add(self, client: Client, argv: list[bytes], elapsed_us: int) -> None:
        max_len = self.config["slowlog-max-len"]
        if max_len <= 0:
            return
        args = list(argv[:32])
        if len(argv) > 32:
            args[-1] = b"... (%d more arguments)" % (len(argv) - 31)
        args = [a if len(a) <= 128 else a[:128] + b"... (%d more bytes)" % (len(a) - 128) for a in args]
        entry = (self.slowlog_next_id, int(time.time()), elapsed_us, args, client.addr, client.name)
        self.slowlog_next_id += 1
        self.slowlog.appendleft(entry)
        while len(self.slowlog) > max_len:
            self.slowlog.pop()

    # -- CLIENT PAUSE --------------------------------------------------------------------------

    def client_paused(self, client: Client | None) -> bool:
        return bool(self.pause_until) and client is not None

    def must_wait(self, client: Client, argv: list[bytes]) -> bool:
        if self.clock.now_ms() >= self.pause_until:
            self.unpause()
            return False
        spec = self.commands.get(argv[0].lower())
        if spec is None:
            return False
        if spec.subcommands and len(argv) > 1:
            spec = spec.subcommands.get(argv[1].lower(), spec)
        if self.pause_all:
            return spec.name not in ("client|unpause",)
        return "write" in spec.flags or spec.name in ("eval", "evalsha", "publish", "pfcount")

    def park_paused(self, proto: ClientProtocol) -> None:
        if proto not in self.paused:
            self.paused.append(proto)

    def pause(self, until_ms: int, pause_all: bool) -> None:
        self.pause_until = max(self.pause_until, until_ms) if self.pause_until else until_ms
        self.pause_all = pause_all or (self.pause_all and bool(self.pause_until))
        self.pause_all = pause_all
        if self.loop is not None:
            delay = max(0.0, (until_ms - self.clock.now_ms()) / 1000)
            self.loop.call_later(delay + 0.001, self._check_pause)

    def _check_pause(self) -> None:
        if self.pause_until and self.clock.now_ms() >= self.pause_until:
            self.unpause()

    def unpause(self) -> None:
        self.pause_until = 0
        self.pause_all = False
        parked, self.paused = self.paused, []
        for proto in parked:
            proto.resume_pending()

    # -- logging -------------------------------------------------------------------------------

    def log(self, level: int, message: str) -> None:
        if level < LOG_LEVELS.get(self.config["loglevel"], 2):
            return
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % (
            int(now * 1000) % 1000
        )
        line = f"{self.pid}:M {stamp} {LOG_MARKS.get(level, '*')} {message}\n"
        logfile = self.config["logfile"]
        if logfile:
            with open(logfile, "a") as f:
                f.write(line)
        else:
            sys.stdout.write(line)
            sys.stdout.flush()

    def log_notice(self, message: str) -> None:
        self.log(2, message)

    def log_warning(self, message: str) -> None:
        self.log(3, message)

    def log_verbose(self, message: str) -> None:
        self.log(1, message)

    # -- cron ----------------------------------------------------------------------------------

    def cron(self) -> None:
        assert self.loop is not None
        self.active_expiry.slow_cycle()
        if self.pause_until and self.clock.now_ms() >= self.pause_until:
            self.unpause()
        timeout = self.config["timeout"]
        if timeout:
            limit = self.clock.now_ms() - timeout * 1000
            for client in list(self.clients.values()):
                if client.last_interaction_ms < limit and not client.monitor:
                    proto = client.extra.get("protocol")
                    if proto is not None:
                        proto.close()
        hz = max(1, min(500, self.config["hz"]))
        self.loop.call_later(1.0 / hz, self.cron)

    # -- run -----------------------------------------------------------------------------------

    async def start(self) -> None:
        from damselfly.server.protocol import ClientProtocol

        self.loop = asyncio.get_running_loop()
        self.shutdown_event = asyncio.Event()
        port = self.config["port"]
        backlog = self.config["tcp-backlog"]
        if port:
            for addr in self.config["bind"].split():
                optional = addr.startswith("-")
                host = addr.lstrip("-")
                if host == "*":
                    host = "0.0.0.0"
                try:
                    listener = await self.loop.create_server(
                        lambda: ClientProtocol(self),
                        host,
                        port,
                        reuse_address=True,
                        backlog=backlog,
                    )
                except OSError as exc:
                    if optional:
                        continue
                    self.log_warning(f"Warning: Could not create server TCP listening socket {host}:{port}: {exc.strerror}")
                    raise SystemExit(1) from None
                self.listeners.append(listener)
        unixsocket = self.config["unixsocket"]
        if unixsocket:
            try:
                os.unlink(unixsocket)
            except FileNotFoundError:
                pass
            listener = await self.loop.create_unix_server(lambda: ClientProtocol(self), unixsocket, backlog=backlog)
            perm = self.config["unixsocketperm"]
            if perm:
                os.chmod(unixsocket, int(str(perm), 8))
            self.listeners.append(listener)
            self.log_notice(f"The server is now ready to accept connections at {unixsocket}")
        if not self.listeners:
            self.log_warning("Failed listening on any address")
            raise SystemExit(1)
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self.loop.add_signal_handler(signum, self.signal_shutdown, signum)
            except (NotImplementedError, RuntimeError):
                pass
        self.log_notice("Server initialized")
        self.log_notice("Ready to accept connections tcp" if port else "Ready to accept connections unix")
        self.loop.call_later(1.0 / max(1, self.config["hz"]), self.cron)

    def signal_shutdown(self, signum: int) -> None:
        name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
        self.log_warning(f"Received {name} scheduling shutdown...")
        self.request_shutdown()

    def request_shutdown(self) -> None:
        if self.shutdown_event is not None:
            self.shutdown_event.set()

    async def serve(self) -> int:
        await self.start()
        assert self.shutdown_event is not None
        await self.shutdown_event.wait()
        await self.stop()
        return self.exit_code

    async def stop(self) -> None:
        self.log_warning("User requested shutdown...")
        for listener in self.listeners:
            listener.close()
        for client in list(self.clients.values()):
            proto = client.extra.get("protocol")
            if proto is not None:
                proto.close()
        unixsocket = self.config["unixsocket"]
        if unixsocket:
            try:
                os.unlink(unixsocket)
            except OSError:
                pass
        self.log_warning("damselfly is now ready to exit, bye bye...")

    def uptime_s(self) -> int:
        return int(time.monotonic() - self.start_monotonic)

    def banner(self) -> list[str]:
        return [
            "oO0OoO0OoO0Oo damselfly is starting oO0OoO0OoO0Oo",
            f"damselfly version={__version__}, redis_version={REDIS_VERSION}, bits=64, "
            f"pid={self.pid}, just started",
            f"Running mode=standalone, port={self.config['port']}.",
        ]


def parse_output_limit(text: str) -> int:
    """The hard limit of the `normal` class from `client-output-buffer-limit` (0 = none)."""
    from damselfly.config import parse_memory

    words = str(text).split()
    for i in range(0, len(words) - 3, 4):
        if words[i].lower() == "normal":
            return parse_memory(words[i + 1])
    return 0


def _monitor_escape(arg: bytes) -> str:
    out = []
    for b in arg:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x22:
            out.append('\\"')
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x09:
            out.append("\\t")
        elif b == 0x07:
            out.append("\\a")
        elif b == 0x08:
            out.append("\\b")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)
