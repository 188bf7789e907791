"""The Server owns everything: config, clock, databases, clients, statistics and the event loop.

It also owns the cron (`hz` ticks a second: active expiry, client timeouts, CLIENT PAUSE
deadlines, the ops/sec and memory samples INFO reports), the diagnostics that watch commands
(MONITOR feed, SLOWLOG, LATENCY events), the listening sockets (rebound when CONFIG SET changes
`port` or `bind`) and graceful shutdown: SHUTDOWN, SIGTERM and SIGINT all end in `shutdown()`,
which stops listening, closes every client, removes the unix socket and pid file, and makes
`serve()` return the exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import resource
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from damselfly import REDIS_VERSION, __version__
from damselfly.clock import Clock
from damselfly.commands.registry import build_table
from damselfly.config import Config, ConfigError, quote
from damselfly.keyspace.database import Database
from damselfly.keyspace.expiry import ActiveExpiry
from damselfly.server.blocking import BlockingManager
from damselfly.server.notify import channels_for
from damselfly.server.pubsub import PubSub

if TYPE_CHECKING:
    from damselfly.commands.spec import CommandSpec
    from damselfly.server.client import Client
    from damselfly.server.protocol import ClientProtocol

# Commands that are not writes but may propagate one, so CLIENT PAUSE WRITE holds them too
# (Redis's MAY_REPLICATE flag, which COMMAND INFO does not show).
MAY_REPLICATE = frozenset({"eval", "evalsha", "fcall", "publish", "spublish", "pfcount"})

LOG_LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
LOG_MARKS = {0: ".", 1: "-", 2: "*", 3: "#"}

# instantaneous_ops_per_sec, like Redis: a sample every 100 ms, the mean of the last 16.
OPS_SAMPLE_PERIOD_S = 0.1
OPS_SAMPLES = 16
# LATENCY HISTORY keeps this many samples per event (one per second at most), as Redis does.
LATENCY_HISTORY_LEN = 160
# SLOWLOG entries keep at most this many arguments, each cut to this many bytes.
SLOWLOG_MAX_ARGC = 32
SLOWLOG_MAX_ARGLEN = 128

# SHUTDOWN flags (also what shutdown-on-sigint / shutdown-on-sigterm hold).
SHUTDOWN_SAVE = "save"
SHUTDOWN_NOSAVE = "nosave"
SHUTDOWN_FORCE = "force"

# Why an optional ("-" prefixed) bind address may be skipped: it does not exist here.
_UNAVAILABLE_ADDRESS = frozenset(
    {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT}
)


class Server:
    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or Clock()
        self.now_ms = self.clock.now_ms()
        # True while EXEC or a script runs: dispatch.execute keeps `now_ms` as it was.
        self.time_frozen = False
        # The Lua engines (scripting/engine.py: EVAL's and FUNCTION's), made on first use, and the
        # script that has run past busy-reply-threshold (dispatch.resolve answers -BUSY then).
        self.scripting: Any = None
        self.busy_script: Any = None
        self.start_monotonic = time.monotonic()
        self.pid = os.getpid()
        self.run_id = os.urandom(20).hex()
        self.commands = build_table()
        # Dispatch's lookup: the table plus each name in upper case, since clients send "SET" or
        # "set" and one dict probe beats lowering every command name.
        self.command_lookup = dict(self.commands)
        self.command_lookup.update({name.upper(): spec for name, spec in self.commands.items()})
        self.dbs = [Database(self, i) for i in range(config["databases"])]
        self.clients: dict[int, Client] = {}
        self._next_client_id = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.listeners: list[asyncio.AbstractServer] = []
        self.unix_listeners: list[asyncio.AbstractServer] = []
        # TCP listeners by (address as `bind` spells it, port), so a rebind keeps the ones
        # still wanted.
        self.tcp_listeners: dict[tuple[str, int], asyncio.AbstractServer] = {}
        self.active_expiry = ActiveExpiry(self)
        self.shutdown_event: asyncio.Event | None = None
        self.exit_code = 0
        # Statistics (INFO stats); the counters CONFIG RESETSTAT clears start in reset_stats.
        self.dirty = 0
        self.errorstats: dict[str, int] = {}
        self.lastsave = int(time.time())
        # instantaneous_ops_per_sec samples, and when/at which count the last one was taken.
        self.ops_samples: deque[float] = deque(maxlen=OPS_SAMPLES)
        self.reset_stats()
        self.memory_startup = self.memory_rss()
        # Replication IDs INFO reports (DEBUG CHANGE-REPL-ID draws new ones).
        self.replid = os.urandom(20).hex()
        self.replid2 = "0" * 40
        # DEBUG QUICKLIST-PACKED-THRESHOLD (list elements from this size are stored unpacked).
        self.quicklist_packed_threshold = 1 << 30
        # DEBUG PAUSE-CRON 1 stops the periodic tasks (expiry, timeouts, samples).
        self.cron_paused = False
        # INFO fields other families own ("pubsub_channels", "number_of_cached_scripts", ...):
        # name -> a callable giving the current value; INFO prints 0 for those not registered.
        self.info_fields: dict[str, Callable[[], Any]] = {}
        # The persistence hook SHUTDOWN calls when it must save: returns False when saving failed.
        # None while damselfly has no persistence (then SHUTDOWN SAVE saves nothing).
        self.shutdown_save: Callable[[], bool] | None = None
        self.shutting_down = False
        # MONITOR, SLOWLOG, LATENCY.
        self.monitors: list[Client] = []
        self.slowlog: deque[tuple[int, int, int, list[bytes], str, bytes]] = deque()
        self.slowlog_next_id = 0
        # dispatch calls slowlog_add for every command that took at least this long: the smaller
        # of the slowlog threshold and the latency monitor's (-1 when both are off).
        self.slowlog_threshold_us = config["slowlog-log-slower-than"]
        # event -> (unix time, latency ms) samples, newest last; and each event's all-time max.
        self.latency_events: dict[str, deque[tuple[int, int]]] = {}
        self.latency_max: dict[str, int] = {}
        # CLIENT PAUSE: deadline in ms (0 = not paused) and what it holds back.
        self.pause_until = 0
        self.pause_all = False
        self.paused: list[ClientProtocol] = []
        # client-output-buffer-limit hard limits in bytes (0 = none) for normal and pubsub clients.
        self.output_hard_limit = 0
        self.output_pubsub_limit = 0
        self.notify_flags = ""
        self.key_listeners: list[Any] = []
        # WATCH bookkeeping (commands/transactions.py `Watches`), made by the first MULTI/WATCH.
        self.watches: Any = None
        # Clients waiting on keys (BLPOP ...) and Pub/Sub subscriptions.
        self.blocking = BlockingManager(self)
        self.pubsub = PubSub()
        self.client_close_hooks: list[Any] = [self.blocking.client_gone, self.pubsub.client_gone]
        self.reset_hooks: list[Any] = [self.pubsub.client_gone]
        self.info_fields["pubsub_channels"] = lambda: len(self.pubsub.channels)
        self.info_fields["pubsub_patterns"] = lambda: len(self.pubsub.patterns)
        self.info_fields["pubsubshard_channels"] = lambda: len(self.pubsub.shard_channels)
        self.apply_config_hooks()

    # -- configuration -------------------------------------------------------------------------

    def apply_config_hooks(self) -> None:
        """Bind the parameters whose change must reach live state."""
        params = self.config.params

        def change_dir(value: Any) -> None:
            try:
                os.chdir(value)
            except OSError as exc:
                raise ConfigError(exc.strerror or "can't change directory") from None

        def set_slowlog(value: Any) -> None:
            self.update_slow_threshold()

        def set_slowlog_len(value: Any) -> None:
            while len(self.slowlog) > value:
                self.slowlog.pop()

        def set_output_limit(value: Any) -> None:
            self.output_hard_limit = parse_output_limit(value, "normal")
            self.output_pubsub_limit = parse_output_limit(value, "pubsub")

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
        params["latency-monitor-threshold"].on_change = set_slowlog
        params["port"].on_change = lambda value: self.rebind(value, self.config["bind"], "port")
        params["bind"].on_change = lambda value: self.rebind(self.config["port"], value, "bind")
        params["dir"].on_change = change_dir
        self.update_slow_threshold()

    def update_slow_threshold(self) -> None:
        candidates = []
        slowlog_us = self.config["slowlog-log-slower-than"]
        if slowlog_us >= 0:
            candidates.append(slowlog_us)
        latency_ms = self.config["latency-monitor-threshold"]
        if latency_ms > 0:
            candidates.append(latency_ms * 1000)
        self.slowlog_threshold_us = min(candidates) if candidates else -1

    def is_local(self, client: Client) -> bool:
        """A unix socket or loopback connection (enable-debug-command "local" and the like)."""
        if client.unix:
            return True
        host = client.addr.rsplit(":", 1)[0].strip("[]")
        return host in ("127.0.0.1", "::1") or host.startswith("::ffff:127.0.0.1")

    def allows(self, setting: str, client: Client) -> bool:
        """A yes/no/local protection setting (enable-debug-command ...) for this client."""
        value = self.config[setting]
        return bool(value == "yes" or (value == "local" and self.is_local(client)))

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
        if self.blocking.waiting:
            self.blocking.key_written(db, key)
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
        """Publish a keyspace notification when `notify-keyspace-events` enables its class."""
        flags = self.notify_flags
        if not flags or kind not in flags:
            return
        for channel, message in channels_for(flags, event, key, db.index):
            self.pubsub.publish(channel, message, event=event)

    # -- errors, monitor, slowlog --------------------------------------------------------------

    def count_error(self, text: str) -> None:
        prefix = text.split(" ", 1)[0]
        self.errorstats[prefix] = self.errorstats.get(prefix, 0) + 1
        self.stat_total_error_replies += 1

    def feed_monitors(self, client: Client, argv: list[bytes], force: bool = False) -> None:
        """Send one command to every MONITOR client, in Redis's line format.

        Like Redis, administrative commands (CONFIG, DEBUG, SLOWLOG ...) and those flagged
        skip_monitor are not shown, and passwords are replaced by "(redacted)".
        """
        spec = self._spec_for(argv)
        # `force`: EVAL & co. are skip_monitor for dispatch but show themselves before the
        # commands their script runs (scripting calls this with force=True).
        hidden = spec is not None and ("admin" in spec.flags or "skip_monitor" in spec.flags)
        if hidden and not force:
            return
        now = time.time()
        if client.unix:
            where = "unix:" + self.config["unixsocket"]
        else:
            where = client.addr
        shown = _redact(argv)
        # MONITOR quotes each argument like sdscatrepr, as CONFIG REWRITE does.
        parts = " ".join(quote(a.decode("utf-8", "surrogateescape")) for a in shown)
        line = f"+{now:.6f} [{client.db.index} {where}] {parts}\r\n".encode()
        for monitor in list(self.monitors):
            if monitor is not client:
                monitor.write_push(line)

    def _spec_for(self, argv: list[bytes]) -> CommandSpec | None:
        spec = self.commands.get(argv[0]) or self.commands.get(argv[0].lower())
        if spec is not None and spec.subcommands and len(argv) > 1:
            spec = spec.subcommands.get(argv[1].lower(), spec)
        return spec

    def slowlog_add(self, client: Client, argv: list[bytes], elapsed_us: int) -> None:
        """Called by dispatch for a command that ran past `slowlog_threshold_us`: it goes to the
        slow log (unless flagged skip_slowlog) and, past latency-monitor-threshold, becomes a
        "command" or "fast-command" latency event."""
        spec = self._spec_for(argv)
        flags = spec.flags if spec is not None else frozenset()
        latency_ms = self.config["latency-monitor-threshold"]
        if latency_ms and elapsed_us // 1000 >= latency_ms:
            event = "fast-command" if "fast" in flags else "command"
            self.latency_add_sample(event, elapsed_us // 1000)
        threshold = self.config["slowlog-log-slower-than"]
        if threshold < 0 or elapsed_us < threshold or "skip_slowlog" in flags:
            return
        max_len = self.config["slowlog-max-len"]
        if max_len <= 0:
            return
        shown = _redact(argv, self.config)
        args = list(shown[:SLOWLOG_MAX_ARGC])
        if len(shown) > SLOWLOG_MAX_ARGC:
            args[-1] = b"... (%d more arguments)" % (len(shown) - SLOWLOG_MAX_ARGC + 1)
        args = [
            a
            if len(a) <= SLOWLOG_MAX_ARGLEN
            else a[:SLOWLOG_MAX_ARGLEN] + b"... (%d more bytes)" % (len(a) - SLOWLOG_MAX_ARGLEN)
            for a in args
        ]
        entry = (
            self.slowlog_next_id,
            int(time.time()),
            elapsed_us,
            args,
            client.addr,
            client.name,
        )
        self.slowlog_next_id += 1
        self.slowlog.appendleft(entry)
        while len(self.slowlog) > max_len:
            self.slowlog.pop()

    def latency_add_sample(self, event: str, latency_ms: int) -> None:
        """Record a latency spike; samples in the same second keep only the largest."""
        now = int(time.time())
        history = self.latency_events.get(event)
        if history is None:
            history = self.latency_events[event] = deque(maxlen=LATENCY_HISTORY_LEN)
        if history and history[-1][0] == now:
            if latency_ms > history[-1][1]:
                history[-1] = (now, latency_ms)
        else:
            history.append((now, latency_ms))
        if latency_ms > self.latency_max.get(event, 0):
            self.latency_max[event] = latency_ms

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT (and start-up): what Redis's resetServerStats and
        resetCommandTableStats clear."""
        for spec in self.commands.values():
            for s in (spec, *spec.subcommands.values()):
                s.calls = s.usec = s.rejected_calls = s.failed_calls = 0
        self.errorstats.clear()
        self.stat_total_error_replies = 0
        self.stat_numcommands = 0
        self.stat_numconnections = 0
        self.stat_rejected_connections = 0
        self.stats_expired_keys = 0
        self.stat_keyspace_hits = 0
        self.stat_keyspace_misses = 0
        self.ops_samples.clear()
        self._ops_mark = (time.monotonic(), 0)
        self.memory_peak = 0

    # -- memory, cpu ---------------------------------------------------------------------------

    @staticmethod
    def memory_rss() -> int:
        """Resident set size in bytes (from /proc/self/statm; ru_maxrss where /proc is absent)."""
        try:
            with open("/proc/self/statm", "rb") as f:
                pages = int(f.read().split()[1])
            return pages * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def memory_used(self) -> int:
        """used_memory: damselfly counts its whole resident size (Python has no cheap exact
        figure for the dataset), so it is comparable to Redis's used_memory_rss."""
        used = self.memory_rss()
        if used > self.memory_peak:
            self.memory_peak = used
        return used

    def instantaneous_ops(self) -> int:
        if not self.ops_samples:
            return 0
        return round(sum(self.ops_samples) / len(self.ops_samples))

    def _sample_ops(self) -> None:
        now = time.monotonic()
        then, count = self._ops_mark
        if now - then >= OPS_SAMPLE_PERIOD_S:
            self.ops_samples.append((self.stat_numcommands - count) / (now - then))
            self._ops_mark = (now, self.stat_numcommands)

    # -- CLIENT PAUSE --------------------------------------------------------------------------

    def must_wait(self, client: Client, argv: list[bytes]) -> bool:
        """Does CLIENT PAUSE hold this command back? Like Redis, commands that fail before
        running (unknown, wrong arity, NOAUTH) are answered at once; under WRITE only writes,
        commands that may replicate (EVAL, PUBLISH, PFCOUNT ...) and EXEC of such wait."""
        if self.clock.now_ms() >= self.pause_until:
            self.unpause()
            return False
        spec = self._pausable_spec(client, argv)
        if spec is None:
            return False
        if self.pause_all:
            return True
        if spec.name == "exec":
            queued = client.multi or ()
            return any(self._writes(self._pausable_spec(client, a)) for a in queued)
        return self._writes(spec)

    def _pausable_spec(self, client: Client, argv: list[bytes]) -> CommandSpec | None:
        spec = self.commands.get(argv[0]) or self.commands.get(argv[0].lower())
        if spec is not None and spec.subcommands and len(argv) > 1:
            spec = spec.subcommands.get(argv[1].lower())
        if spec is None:
            return None
        n = len(argv)
        if (spec.arity > 0 and n != spec.arity) or n < -spec.arity:
            return None
        if not client.authenticated and "no_auth" not in spec.flags:
            return None
        return spec

    @staticmethod
    def _writes(spec: CommandSpec | None) -> bool:
        if spec is None:
            return False
        return "write" in spec.flags or "may_replicate" in spec.flags or spec.name in MAY_REPLICATE

    def park_paused(self, proto: ClientProtocol) -> None:
        if proto not in self.paused:
            self.paused.append(proto)

    def pause(self, until_ms: int, pause_all: bool) -> None:
        """A pause only ever grows: the later deadline and the stronger mode (ALL over WRITE)."""
        if self.pause_until:
            self.pause_until = max(self.pause_until, until_ms)
            self.pause_all = self.pause_all or pause_all
        else:
            self.pause_until = until_ms
            self.pause_all = pause_all
        if self.loop is not None:
            delay = max(0.0, (self.pause_until - self.clock.now_ms()) / 1000)
            self.loop.call_later(delay + 0.001, self._check_pause)

    def _check_pause(self) -> None:
        if self.pause_until and self.clock.now_ms() >= self.pause_until:
            self.unpause()

    def unpause(self) -> None:
        """End the pause; parked clients run their held commands in the order they were parked."""
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
        if self.shutting_down:
            return
        hz = max(1, min(500, self.config["hz"]))
        if self.cron_paused:
            self.loop.call_later(1.0 / hz, self.cron)
            return
        self.active_expiry.slow_cycle()
        self._sample_ops()
        self.memory_used()
        if self.pause_until and self.clock.now_ms() >= self.pause_until:
            self.unpause()
        timeout = self.config["timeout"]
        if timeout:
            limit = self.clock.now_ms() - timeout * 1000
            for client in list(self.clients.values()):
                if client.last_interaction_ms < limit and not client.idle_timeout_exempt():
                    client.kill()
        hz = max(1, min(500, self.config["hz"]))
        self.loop.call_later(1.0 / hz, self.cron)

    # -- run -----------------------------------------------------------------------------------

    def open_tcp_sockets(
        self, port: int, addrs: list[str]
    ) -> list[tuple[tuple[str, int], socket.socket]]:
        """Bound, listening sockets for `port` on each of `addrs` (as `bind` spells them), each
        with its (address, port) key, or OSError (and nothing left open).

        Addresses with a leading "-" are optional (skipped when unavailable, like an absent
        IPv6 stack); "*" means every IPv4 address and "::*" every IPv6 one.
        """
        opened: list[tuple[tuple[str, int], socket.socket]] = []
        try:
            for addr in addrs:
                optional = addr.startswith("-")
                host = addr.lstrip("-")
                if host == "*":
                    host = "0.0.0.0"
                elif host == "::*":
                    host = "::"
                try:
                    family = socket.AF_INET6 if ":" in host else socket.AF_INET
                    sock = socket.socket(family, socket.SOCK_STREAM)
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        if family == socket.AF_INET6:
                            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                        sock.bind((host, port))
                        sock.listen(self.config["tcp-backlog"])
                        sock.setblocking(False)
                    except OSError:
                        sock.close()
                        raise
                except OSError as exc:
                    if optional and exc.errno in _UNAVAILABLE_ADDRESS:
                        continue
                    raise OSError(exc.errno, f"{host}:{port}: {exc.strerror}") from None
                opened.append(((addr, port), sock))
                if port == 0:
                    # An ephemeral port: every address must share the one the first one got.
                    port = sock.getsockname()[1]
        except OSError:
            for _, sock in opened:
                sock.close()
            raise
        return opened

    async def _serve_sockets(self, opened: list[tuple[tuple[str, int], socket.socket]]) -> None:
        from damselfly.server.protocol import ClientProtocol

        assert self.loop is not None
        for key, sock in opened:
            listener = await self.loop.create_server(
                lambda: ClientProtocol(self), sock=sock, backlog=self.config["tcp-backlog"]
            )
            self.tcp_listeners[key] = listener
            self.listeners.append(listener)

    def rebind(self, port: int, bind: str, changed: str) -> None:
        """CONFIG SET port/bind: listen on the addresses not yet served first, then drop the
        ones no longer wanted, so a failure leaves the server listening where it was. An address
        served both before and after keeps its socket (closing and reopening it could race)."""
        if self.loop is None:
            return
        wanted = bind.split() if port else []
        missing = [addr for addr in wanted if (addr, port) not in self.tcp_listeners]
        try:
            opened = self.open_tcp_sockets(port, missing)
        except OSError:
            raise ConfigError(
                "Unable to listen on this port"
                if changed == "port"
                else "Failed to bind to specified addresses."
            ) from None
        keep = {(addr, port) for addr in wanted}
        for key in list(self.tcp_listeners):
            if key not in keep:
                listener = self.tcp_listeners.pop(key)
                listener.close()
                self.listeners.remove(listener)
        self.loop.create_task(self._serve_sockets(opened))

    async def start(self) -> None:
        from damselfly.server.protocol import ClientProtocol

        self.loop = asyncio.get_running_loop()
        self.shutdown_event = asyncio.Event()
        for line in self.banner():
            self.log_warning(line)
        directory = self.config["dir"]
        if directory and directory != ".":
            try:
                os.chdir(directory)
            except OSError as exc:
                self.log_warning(f"Can't chdir to '{directory}': {exc.strerror}")
                raise SystemExit(1) from None
        port = self.config["port"]
        if port:
            try:
                opened = self.open_tcp_sockets(port, self.config["bind"].split())
            except OSError as exc:
                self.log_warning(
                    f"Warning: Could not create server TCP listening socket {exc.strerror}"
                )
                self.log_warning(f"Failed listening on port {port} (tcp), aborting.")
                raise SystemExit(1) from None
            await self._serve_sockets(opened)
        unixsocket = self.config["unixsocket"]
        if unixsocket:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(unixsocket)
            try:
                listener = await self.loop.create_unix_server(
                    lambda: ClientProtocol(self), unixsocket, backlog=self.config["tcp-backlog"]
                )
            except OSError as exc:
                self.log_warning(f"Failed opening Unix socket: {exc.strerror}")
                raise SystemExit(1) from None
            perm = self.config["unixsocketperm"]
            if perm:
                os.chmod(unixsocket, perm)
            self.listeners.append(listener)
            self.unix_listeners.append(listener)
        if not self.listeners:
            self.log_warning("Configured to not listen anywhere, exiting.")
            raise SystemExit(1)
        pidfile = self.config["pidfile"]
        if pidfile:
            try:
                with open(pidfile, "w") as f:
                    f.write(f"{self.pid}\n")
            except OSError as exc:
                self.log_warning(f"Failed to write PID file: {exc.strerror}")
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self.loop.add_signal_handler(signum, self.signal_shutdown, signum)
        self.log_notice("Server initialized")
        if port:
            self.log_notice("Ready to accept connections tcp")
        if unixsocket:
            self.log_notice("Ready to accept connections unix")
        self.loop.call_later(1.0 / max(1, min(500, self.config["hz"])), self.cron)

    def signal_shutdown(self, signum: int) -> None:
        """SIGINT/SIGTERM: shut down with the flags shutdown-on-sigint/-sigterm give; a second
        signal while a shutdown is under way ends the process at once."""
        name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
        if self.shutting_down:
            self.log_warning("You insist... exiting now.")
            os._exit(1)
        self.log_warning(f"Received {name} scheduling shutdown...")
        setting = "shutdown-on-sigint" if signum == signal.SIGINT else "shutdown-on-sigterm"
        if not self.shutdown(set(self.config[setting])):
            self.log_warning("Errors trying to shut down the server, check the logs")

    def shutdown(self, flags: set[str]) -> bool:
        """Stop serving: save if asked (or if save points are set, unless NOSAVE), then close
        everything and let serve() return. False, and the server keeps running, when the save
        failed and FORCE was not given."""
        self.log_warning("User requested shutdown...")
        want_save = SHUTDOWN_SAVE in flags or (
            bool(self.config["save"]) and SHUTDOWN_NOSAVE not in flags
        )
        if want_save and self.shutdown_save is not None:
            self.log_notice("Saving the final RDB snapshot before exiting.")
            if not self.shutdown_save() and SHUTDOWN_FORCE not in flags:
                self.log_warning("Error trying to save the DB, can't exit.")
                return False
        self.shutting_down = True
        for listener in self.listeners:
            listener.close()
        for client in list(self.clients.values()):
            client.kill()
        unixsocket = self.config["unixsocket"]
        if unixsocket:
            with contextlib.suppress(OSError):
                os.unlink(unixsocket)
        pidfile = self.config["pidfile"]
        if pidfile:
            self.log_notice("Removing the pid file.")
            with contextlib.suppress(OSError):
                os.unlink(pidfile)
        self.log_warning("damselfly is now ready to exit, bye bye...")
        if self.shutdown_event is not None:
            self.shutdown_event.set()
        return True

    async def serve(self) -> int:
        await self.start()
        assert self.shutdown_event is not None
        await self.shutdown_event.wait()
        # Let the transports flush and close before the loop goes away.
        await asyncio.sleep(0)
        return self.exit_code

    def uptime_s(self) -> int:
        return int(time.monotonic() - self.start_monotonic)

    def banner(self) -> list[str]:
        return [
            "oO0OoO0OoO0Oo damselfly is starting oO0OoO0OoO0Oo",
            f"damselfly version={__version__}, redis_version={REDIS_VERSION}, bits=64, "
            f"pid={self.pid}, just started",
            f"Running mode=standalone, port={self.config['port']}.",
        ]


def parse_output_limit(text: str, cls: str) -> int:
    """The hard limit of class `cls` from `client-output-buffer-limit` (0 = none)."""
    from damselfly.config import parse_memory

    words = str(text).split()
    for i in range(0, len(words) - 3, 4):
        if words[i].lower() == cls:
            return parse_memory(words[i + 1])
    return 0


def _redact(argv: list[bytes], config: Config | None = None) -> list[bytes]:
    """argv with secrets replaced by "(redacted)" for MONITOR and SLOWLOG, as Redis does:
    AUTH's arguments, HELLO's AUTH user and password, and sensitive CONFIG SET values."""
    name = argv[0].lower()
    if name == b"auth":
        return [argv[0], *([b"(redacted)"] * (len(argv) - 1))]
    if name == b"hello":
        shown = list(argv)
        for i, arg in enumerate(argv):
            if arg.lower() == b"auth" and i + 2 < len(argv) and i >= 2:
                shown[i + 1] = shown[i + 2] = b"(redacted)"
        return shown
    if name == b"config" and config is not None and len(argv) > 2 and argv[1].lower() == b"set":
        shown = list(argv)
        for i in range(2, len(argv) - 1, 2):
            param = config.params.get(argv[i].decode("utf-8", "replace").lower())
            if param is not None and param.sensitive:
                shown[i + 1] = b"(redacted)"
        return shown
    return argv
