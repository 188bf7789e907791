"""Server commands: INFO, CONFIG, TIME, LASTSAVE, DEBUG, MONITOR, SLOWLOG, LATENCY, SHUTDOWN.

These report on and steer the server as a whole rather than on keys. INFO is built from named
sections in Redis's order and field names, so tools that parse it (redis-cli --stat, exporters,
client libraries reading `redis_version`) work unchanged; every field can be overridden by the
family that owns it through `server.info_fields`. CONFIG is a thin shell over the parameter
registry (config.py), which owns parsing, error texts and atomicity. DEBUG carries damselfly's
test hooks (`SET-CLOCK-OFFSET`, `GET-CLOCK-OFFSET`) next to the Redis subcommands that make
sense without Redis's internals.
"""

from __future__ import annotations

import itertools
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from damselfly import REDIS_VERSION, __version__, errors
from damselfly.commands.args import to_int
from damselfly.commands.keyspace import object_encoding
from damselfly.commands.spec import Cmd, CommandSpec
from damselfly.config import (
    ConfigError,
    ConfigSetError,
    UnknownOption,
    memtoull,
)
from damselfly.errors import CommandError
from damselfly.protocol.encoder import encode_one
from damselfly.protocol.types import (
    NO_REPLY,
    OK,
    BigNumber,
    Bool,
    Double,
    Map,
    Push,
    Raw,
    SetReply,
    Status,
    Verbatim,
)
from damselfly.server.client import Client

_G = "server"

# -- HELP replies ----------------------------------------------------------------------------------


def help_reply(command: str, lines: list[str]) -> list[Status]:
    """Redis's HELP shape: a header naming the command, the entries, then HELP itself."""
    head = f"{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    return [Status(line) for line in (head, *lines, "HELP", "    Print this help.")]


# -- INFO ------------------------------------------------------------------------------------------

SECTIONS = (
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
)
DEFAULT_SECTIONS = frozenset(SECTIONS) - {"commandstats", "latencystats"}
_TITLES = {"cpu": "CPU"}

Field = tuple[str, Any]


def bytes_to_human(n: int) -> str:
    """Redis's bytesToHuman: B below 1K, else two decimals and the unit."""
    if n < 1024:
        return f"{n}B"
    for unit, power in (("K", 1), ("M", 2), ("G", 3), ("T", 4), ("P", 5)):
        if n < 1024 ** (power + 1) or unit == "P":
            return "%.2f%s" % (n / 1024**power, unit)
    return f"{n}B"  # pragma: no cover - the loop always returns


def _info_server(client: Client) -> list[Field]:
    server = client.server
    config = server.config
    uptime = server.uptime_s()
    uname = os.uname()
    now_us = server.clock.now_us()
    return [
        ("redis_version", REDIS_VERSION),
        ("damselfly_version", __version__),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", "0"),
        ("redis_mode", "standalone"),
        ("os", f"{uname.sysname} {uname.release} {uname.machine}"),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll" if sys.platform.startswith("linux") else "kqueue"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("python_version", platform.python_version()),
        ("process_id", server.pid),
        ("process_supervised", "no"),
        ("run_id", server.run_id),
        ("tcp_port", config["port"]),
        ("server_time_usec", now_us),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", max(1, min(500, config["hz"]))),
        ("configured_hz", config["hz"]),
        ("lru_clock", (now_us // 1_000_000) & ((1 << 24) - 1)),
        ("executable", os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""),
        ("config_file", config.file),
        ("io_threads_active", 0),
    ]


def _info_clients(client: Client) -> list[Field]:
    server = client.server
    clients = server.clients.values()
    return [
        ("connected_clients", len(server.clients)),
        ("cluster_connections", 0),
        ("maxclients", server.config["maxclients"]),
        ("client_recent_max_input_buffer", 0),
        ("client_recent_max_output_buffer", 0),
        ("blocked_clients", sum(1 for c in clients if _is_blocked(c))),
        ("tracking_clients", 0),
        ("clients_in_timeout_table", server.blocking.timed_count()),
    ]


def _info_memory(client: Client) -> list[Field]:
    server = client.server
    config = server.config
    used = server.memory_used()
    peak = max(server.memory_peak, used)
    startup = server.memory_startup
    dataset = max(0, used - startup)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        total = 0
    maxmemory = config["maxmemory"]
    return [
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", used),
        ("used_memory_rss_human", bytes_to_human(used)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", bytes_to_human(peak)),
        ("used_memory_peak_perc", "%.2f%%" % (used * 100 / peak if peak else 100)),
        ("used_memory_overhead", startup),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", "%.2f%%" % (dataset * 100 / used if used else 0)),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", used),
        ("total_system_memory", total),
        ("total_system_memory_human", bytes_to_human(total)),
        ("used_memory_lua", 0),
        ("used_memory_vm_eval", 0),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", 0),
        ("number_of_functions", 0),
        ("number_of_libraries", 0),
        ("used_memory_vm_functions", 0),
        ("used_memory_vm_total", 0),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", 0),
        ("used_memory_scripts", 0),
        ("used_memory_scripts_human", "0B"),
        ("maxmemory", maxmemory),
        ("maxmemory_human", bytes_to_human(maxmemory)),
        ("maxmemory_policy", config["maxmemory-policy"]),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "1.00"),
        ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "1.00"),
        ("mem_fragmentation_bytes", 0),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", 0),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "pymalloc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    ]


def _info_persistence(client: Client) -> list[Field]:
    server = client.server
    return [
        ("loading", 0),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", server.dirty),
        ("rdb_bgsave_in_progress", 0),
        ("rdb_last_save_time", server.lastsave),
        ("rdb_last_bgsave_status", "ok"),
        ("rdb_last_bgsave_time_sec", -1),
        ("rdb_current_bgsave_time_sec", -1),
        ("rdb_saves", 0),
        ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", 0),
        ("rdb_last_load_keys_loaded", 0),
        ("aof_enabled", 0),
        ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ]


def _pubsub_counts(client: Client) -> tuple[int, int, int]:
    """Distinct channels, patterns and shard channels with at least one subscriber (the pub/sub
    family keeps each client's subscriptions in `client.extra`)."""
    found: dict[str, set[bytes]] = {"channels": set(), "patterns": set(), "shard_channels": set()}
    for c in client.server.clients.values():
        extra = c.extra
        for kind, names in found.items():
            subscribed = extra.get(kind)
            if subscribed:
                names.update(subscribed)
    return len(found["channels"]), len(found["patterns"]), len(found["shard_channels"])


def _is_blocked(c: Client) -> bool:
    # Waiting on keys (BLPOP ...) or held back by CLIENT PAUSE: Redis counts both as blocked.
    return bool(c.blocked) or bool(getattr(c, "postponed", False))


def _info_stats(client: Client) -> list[Field]:
    server = client.server
    channels, patterns, shard = _pubsub_counts(client)
    return [
        ("total_connections_received", server.stat_numconnections),
        ("total_commands_processed", server.stat_numcommands),
        ("instantaneous_ops_per_sec", server.instantaneous_ops()),
        ("total_net_input_bytes", 0),
        ("total_net_output_bytes", 0),
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", "0.00"),
        ("instantaneous_output_kbps", "0.00"),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", server.stat_rejected_connections),
        ("sync_full", 0),
        ("sync_partial_ok", 0),
        ("sync_partial_err", 0),
        ("expired_keys", server.stats_expired_keys),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", 0),
        ("evicted_clients", 0),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", server.stat_keyspace_hits),
        ("keyspace_misses", server.stat_keyspace_misses),
        ("pubsub_channels", channels),
        ("pubsub_patterns", patterns),
        ("pubsubshard_channels", shard),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", 0),
        ("tracking_total_items", 0),
        ("tracking_total_prefixes", 0),
        ("unexpected_error_replies", 0),
        ("total_error_replies", server.stat_total_error_replies),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", 0),
        ("total_writes_processed", 0),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
    ]


def _info_replication(client: Client) -> list[Field]:
    server = client.server
    return [
        ("role", "master"),
        ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", server.replid),
        ("master_replid2", server.replid2),
        ("master_repl_offset", 0),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", server.config["repl-backlog-size"]),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


def _info_cpu(client: Client) -> list[Field]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    thread_usage = getattr(resource, "RUSAGE_THREAD", None)
    main = resource.getrusage(thread_usage) if thread_usage is not None else me
    return [
        ("used_cpu_sys", "%.6f" % me.ru_stime),
        ("used_cpu_user", "%.6f" % me.ru_utime),
        ("used_cpu_sys_children", "%.6f" % children.ru_stime),
        ("used_cpu_user_children", "%.6f" % children.ru_utime),
        ("used_cpu_sys_main_thread", "%.6f" % main.ru_stime),
        ("used_cpu_user_main_thread", "%.6f" % main.ru_utime),
    ]


def _all_specs(client: Client) -> list[CommandSpec]:
    specs: list[CommandSpec] = []
    for spec in client.server.commands.values():
        specs.append(spec)
        specs.extend(spec.subcommands.values())
    return specs


def _info_commandstats(client: Client) -> list[Field]:
    fields = []
    for spec in _all_specs(client):
        if not (spec.calls or spec.failed_calls or spec.rejected_calls):
            continue
        per_call = spec.usec / spec.calls if spec.calls else 0.0
        fields.append(
            (
                f"cmdstat_{spec.name}",
                f"calls={spec.calls},usec={spec.usec},usec_per_call={per_call:.2f},"
                f"rejected_calls={spec.rejected_calls},failed_calls={spec.failed_calls}",
            )
        )
    return fields


def _info_errorstats(client: Client) -> list[Field]:
    stats = client.server.errorstats
    return [(f"errorstat_{prefix}", f"count={stats[prefix]}") for prefix in sorted(stats)]


def _info_cluster(client: Client) -> list[Field]:
    return [("cluster_enabled", 0)]


# Average TTL is estimated from this many volatile keys per database (Redis estimates it from
# the keys its expiry cycle samples; an exact figure would cost a scan of every volatile key).
AVG_TTL_SAMPLE = 128


def _info_keyspace(client: Client) -> list[Field]:
    now = client.server.clock.now_ms()
    fields = []
    for db in client.server.dbs:
        keys = len(db.data)
        if not keys:
            continue
        expires = db.expires
        avg_ttl = 0
        if expires:
            sample = [when - now for when in itertools.islice(expires.values(), AVG_TTL_SAMPLE)]
            live = [t for t in sample if t > 0]
            avg_ttl = sum(live) // len(live) if live else 0
        fields.append((f"db{db.index}", f"keys={keys},expires={len(expires)},avg_ttl={avg_ttl}"))
    return fields


_GENERATORS: dict[str, Callable[[Client], list[Field]]] = {
    "server": _info_server,
    "clients": _info_clients,
    "memory": _info_memory,
    "persistence": _info_persistence,
    "stats": _info_stats,
    "replication": _info_replication,
    "cpu": _info_cpu,
    "modules": lambda client: [],
    "commandstats": _info_commandstats,
    "errorstats": _info_errorstats,
    "latencystats": lambda client: [],
    "cluster": _info_cluster,
    "keyspace": _info_keyspace,
}


def info_sections(args: list[bytes]) -> list[str]:
    """The sections an INFO argument list asks for, in Redis's fixed output order."""
    if not args:
        return [s for s in SECTIONS if s in DEFAULT_SECTIONS]
    wanted: set[str] = set()
    for arg in args:
        name = arg.decode("utf-8", "replace").lower()
        if name in ("all", "everything"):
            wanted.update(SECTIONS)
        elif name == "default":
            wanted.update(DEFAULT_SECTIONS)
        else:
            wanted.add(name)
    return [s for s in SECTIONS if s in wanted]


def info_text(client: Client, args: list[bytes]) -> bytes:
    overrides = client.server.info_fields
    parts = []
    for section in info_sections(args):
        lines = ["# " + _TITLES.get(section, section.capitalize())]
        for name, value in _GENERATORS[section](client):
            if name in overrides:
                value = overrides[name]()
            lines.append(f"{name}:{value}")
        parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts).encode()


def cmd_info(client: Client, argv: list[bytes]) -> Any:
    return Verbatim(info_text(client, argv[1:]))


# -- CONFIG ----------------------------------------------------------------------------------------


def _text(arg: bytes) -> str:
    return arg.decode("utf-8", "surrogateescape")


def cmd_config_get(client: Client, argv: list[bytes]) -> Any:
    found = client.server.config.matching([_text(a) for a in argv[2:]])
    return Map(
        (name.encode("utf-8", "surrogateescape"), value.encode("utf-8", "surrogateescape"))
        for name, value in found
    )


def cmd_config_set(client: Client, argv: list[bytes]) -> Any:
    if (len(argv) - 2) % 2:
        raise CommandError(errors.SYNTAX)
    server = client.server
    pairs = [(_text(argv[i]), _text(argv[i + 1])) for i in range(2, len(argv), 2)]
    try:
        server.config.set_many(
            pairs, allow_protected=server.allows("enable-protected-configs", client)
        )
    except UnknownOption as exc:
        raise CommandError(errors.CONFIG_SET_UNKNOWN.format(exc)) from None
    except ConfigSetError as exc:
        raise CommandError(errors.CONFIG_SET_FAILED.format(exc.arg, exc.reason)) from None
    return OK


def cmd_config_resetstat(client: Client, argv: list[bytes]) -> Any:
    client.server.reset_stats()
    return OK


def cmd_config_rewrite(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    try:
        server.config.rewrite()
    except ConfigError as exc:
        if not server.config.file:
            raise CommandError(f"ERR {exc}") from None
        server.log_warning(f"CONFIG REWRITE failed: {exc}")
        raise CommandError(f"ERR {exc}") from None
    server.log_notice("CONFIG REWRITE executed with success.")
    return OK


def cmd_config_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply(
        "CONFIG",
        [
            "GET <pattern>",
            "    Reply with the name and value of every parameter matching <pattern>.",
            "SET <directive> <value>",
            "    Change the parameter <directive> to <value> (several pairs: all or none).",
            "RESETSTAT",
            "    Zero the statistics that INFO reports.",
            "REWRITE",
            "    Write the current configuration back into the config file.",
        ],
    )


# -- TIME, LASTSAVE --------------------------------------------------------------------------------


def cmd_time(client: Client, argv: list[bytes]) -> Any:
    now_us = client.server.clock.now_us()
    return [b"%d" % (now_us // 1_000_000), b"%d" % (now_us % 1_000_000)]


def cmd_lastsave(client: Client, argv: list[bytes]) -> Any:
    return client.server.lastsave


# -- DEBUG -----------------------------------------------------------------------------------------


def _debug_error(argv: list[bytes]) -> CommandError:
    return CommandError(
        errors.SUBCOMMAND_SYNTAX.format(argv[1].decode("utf-8", "replace"), "DEBUG")
    )


def _atoi(data: bytes) -> int:
    """C's atoi: optional sign and leading digits, anything else ignored (0 if none)."""
    text = data.decode("latin-1").lstrip()
    sign = -1 if text[:1] == "-" else 1
    if text[:1] in "+-":
        text = text[1:]
    digits = ""
    for ch in text:
        if not ch.isdigit():
            break
        digits += ch
    return sign * int(digits) if digits else 0


def _atof(data: bytes) -> float:
    """C's atof: the longest numeric prefix, 0.0 if none."""
    text = data.decode("latin-1").strip()
    for end in range(len(text), 0, -1):
        try:
            return float(text[:end])
        except ValueError:
            continue
    return 0.0


def _debug_object(client: Client, argv: list[bytes]) -> Any:
    value = client.db.lookup(argv[2])
    if value is None:
        raise CommandError(errors.NO_SUCH_KEY)
    encoding = object_encoding(value).decode()
    # Redis reports the value's size in an RDB file; its length plus a header byte is close.
    length = len(value) if hasattr(value, "__len__") else 0
    lru = (client.server.clock.now_ms() // 1000) & ((1 << 24) - 1)
    return Status(
        f"Value at:0x{id(value):x} refcount:1 encoding:{encoding} serializedlength:{length + 1} "
        f"lru:{lru} lru_seconds_idle:0"
    )


def _debug_populate(client: Client, argv: list[bytes]) -> Any:
    count = to_int(argv[2])
    if count is None or count < 0:
        raise CommandError(errors.DEBUG_NOT_POSITIVE)
    prefix = argv[3] if len(argv) > 3 else b"key"
    size = None
    if len(argv) > 4:
        size = to_int(argv[4])
        if size is None or size < 0:
            raise CommandError(errors.DEBUG_NOT_POSITIVE)
    db = client.db
    for i in range(count):
        key = b"%s:%d" % (prefix, i)
        if db.lookup(key) is not None:
            continue
        value = b"value:%d" % i
        if size is not None:
            value = value[:size].ljust(size, b"\x00")
        db.set_value(key, value)
    return OK


def _debug_protocol(client: Client, argv: list[bytes]) -> Any:
    kind = argv[2].lower()
    resp3 = client.resp == 3
    if kind == b"string":
        return b"Hello World"
    if kind == b"integer":
        return 12345
    if kind == b"double":
        return Double(3.141)
    if kind == b"bignum":
        return BigNumber("1234567999999999999999999999999999999")
    if kind == b"null":
        return None
    if kind == b"array":
        return [0, 1, 2]
    if kind == b"set":
        return SetReply([0, 1, 2])
    if kind == b"map":
        return Map((i, Bool(i == 1)) for i in range(3))
    if kind == b"attrib":
        reply = b"Some real reply following the attribute"
        if not resp3:
            return reply
        attribute = b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"
        return Raw(attribute + encode_one(reply, True))
    if kind == b"push":
        if not resp3:
            raise CommandError(errors.DEBUG_RESP2_UNSUPPORTED)
        push = encode_one(Push([b"server-cpu-usage", 42]), True)
        return Raw(push + encode_one(b"Some real reply following the push reply", True))
    if kind == b"true":
        return Bool(True)
    if kind == b"false":
        return Bool(False)
    if kind == b"verbatim":
        return Verbatim(b"This is a verbatim\nstring")
    raise CommandError(errors.DEBUG_PROTOCOL_TYPE)


def _debug_sleep(client: Client, argv: list[bytes]) -> Any:
    # Deliberately blocks the whole event loop, like Redis: tests use it to simulate a stall.
    seconds = _atof(argv[2])
    if seconds > 0:
        time.sleep(seconds)
    return OK


def _debug_set_active_expire(client: Client, argv: list[bytes]) -> Any:
    client.server.active_expiry.enabled = _atoi(argv[2]) != 0
    return OK


def _debug_log(client: Client, argv: list[bytes]) -> Any:
    client.server.log_warning("DEBUG LOG: " + argv[2].decode("utf-8", "replace"))
    return OK


def _debug_change_repl_id(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    server.replid = os.urandom(20).hex()
    server.replid2 = "0" * 40
    return OK


def _debug_quicklist_threshold(client: Client, argv: list[bytes]) -> Any:
    size = memtoull(argv[2].decode("latin-1"))
    if size is None or size >= 4 * 1024**3:
        raise CommandError(errors.DEBUG_QUICKLIST_THRESHOLD)
    # 0 restores the default (1GB).
    client.server.quicklist_packed_threshold = size or 1 << 30
    return OK


def _debug_reload(client: Client, argv: list[bytes]) -> Any:
    # Nothing to reload while damselfly keeps no snapshot: the options are checked and the data
    # stays as it is, which is what a save-then-load round trip would leave.
    for opt in argv[2:]:
        if opt.upper() not in (b"MERGE", b"NOFLUSH", b"NOSAVE"):
            raise CommandError(errors.DEBUG_RELOAD_OPTIONS)
    return OK


def _debug_pause_cron(client: Client, argv: list[bytes]) -> Any:
    client.server.cron_paused = _atoi(argv[2]) != 0
    return OK


def _debug_error_reply(client: Client, argv: list[bytes]) -> Any:
    raise CommandError(argv[2].decode("utf-8", "replace"))


def _debug_set_clock_offset(client: Client, argv: list[bytes]) -> Any:
    value = to_int(argv[2])
    if value is None:
        raise CommandError(errors.NOT_INTEGER)
    server = client.server
    server.clock.offset_ms = value
    server.now_ms = server.clock.now_ms()
    return OK


def _debug_get_clock_offset(client: Client, argv: list[bytes]) -> Any:
    return client.server.clock.offset_ms


def _debug_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply(
        "DEBUG",
        [
            "CHANGE-REPL-ID",
            "    Give the server new replication IDs.",
            "ERROR <string>",
            "    Reply with <string> as an error (to test how clients handle errors).",
            "GET-CLOCK-OFFSET",
            "    Reply with the offset, in milliseconds, added to the server's clock.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Describe how the value of <key> is stored.",
            "PAUSE-CRON <0|1>",
            "    Stop (1) or resume (0) the periodic background tasks.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys <prefix>:<n> (prefix 'key'), skipping existing ones;",
            "    <size> pads or cuts each value to that many bytes.",
            "PROTOCOL <type>",
            "    Reply with a sample value of <type>: string, integer, double, bignum, null,",
            "    array, set, map, attrib, push, verbatim, true or false.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Set the element size from which list elements are stored unpacked.",
            "RELOAD [MERGE] [NOFLUSH] [NOSAVE]",
            "    Save and reload the dataset; damselfly keeps no snapshot, so the data stays.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Turn the background expiry of keys off (0) or back on (1).",
            "SET-CLOCK-OFFSET <milliseconds>",
            "    Move the server's clock by <milliseconds> (may be negative) for expiry tests.",
            "SLEEP <seconds>",
            "    Stall the whole server for <seconds> (decimals allowed).",
        ],
    )


# subcommand -> (handler, exact argc or -minimum argc)
_DEBUG: dict[bytes, tuple[Callable[[Client, list[bytes]], Any], int]] = {
    b"help": (_debug_help, 2),
    b"sleep": (_debug_sleep, 3),
    b"set-active-expire": (_debug_set_active_expire, 3),
    b"log": (_debug_log, 3),
    b"object": (_debug_object, 3),
    b"populate": (_debug_populate, -3),
    b"protocol": (_debug_protocol, 3),
    b"change-repl-id": (_debug_change_repl_id, 2),
    b"quicklist-packed-threshold": (_debug_quicklist_threshold, 3),
    b"reload": (_debug_reload, -2),
    b"pause-cron": (_debug_pause_cron, 3),
    b"error": (_debug_error_reply, 3),
    b"set-clock-offset": (_debug_set_clock_offset, 3),
    b"get-clock-offset": (_debug_get_clock_offset, 2),
}


def cmd_debug(client: Client, argv: list[bytes]) -> Any:
    if not client.server.allows("enable-debug-command", client):
        raise CommandError(errors.DEBUG_NOT_ALLOWED)
    entry = _DEBUG.get(argv[1].lower())
    if entry is None:
        raise _debug_error(argv)
    handler, arity = entry
    n = len(argv)
    if (arity > 0 and n != arity) or (arity < 0 and n < -arity):
        raise _debug_error(argv)
    if argv[1].lower() == b"populate" and n > 5:
        raise _debug_error(argv)
    return handler(client, argv)


# -- MONITOR ---------------------------------------------------------------------------------------


def cmd_monitor(client: Client, argv: list[bytes]) -> Any:
    if client.monitor:
        # Already monitoring: Redis answers nothing at all.
        return NO_REPLY
    client.monitor = True
    client.server.monitors.append(client)
    return OK


# -- SLOWLOG ---------------------------------------------------------------------------------------


def cmd_slowlog_get(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    if len(argv) > 3:
        raise CommandError(
            errors.SUBCOMMAND_SYNTAX.format(argv[1].decode("utf-8", "replace"), "SLOWLOG")
        )
    count = 10
    if len(argv) == 3:
        value = to_int(argv[2])
        if value is None or value < -1:
            raise CommandError(errors.SLOWLOG_COUNT)
        count = len(server.slowlog) if value == -1 else value
    return [
        [entry_id, ts, duration, list(args), addr.encode(), name]
        for entry_id, ts, duration, args, addr, name in itertools.islice(server.slowlog, count)
    ]


def cmd_slowlog_len(client: Client, argv: list[bytes]) -> Any:
    return len(client.server.slowlog)


def cmd_slowlog_reset(client: Client, argv: list[bytes]) -> Any:
    client.server.slowlog.clear()
    return OK


def cmd_slowlog_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply(
        "SLOWLOG",
        [
            "GET [<count>]",
            "    Reply with the <count> newest entries (10 by default, -1 for all). Each entry",
            "    is: id, unix time, duration in microseconds, the command's arguments, the",
            "    client's address and the client's name.",
            "LEN",
            "    Reply with the number of entries.",
            "RESET",
            "    Remove every entry.",
        ],
    )


# -- LATENCY ---------------------------------------------------------------------------------------


def cmd_latency_latest(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    return [
        [event.encode(), history[-1][0], history[-1][1], server.latency_max.get(event, 0)]
        for event, history in server.latency_events.items()
        if history
    ]


def cmd_latency_history(client: Client, argv: list[bytes]) -> Any:
    history = client.server.latency_events.get(_text(argv[2]))
    return [[ts, ms] for ts, ms in history] if history else []


def cmd_latency_reset(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    if len(argv) == 2:
        count = len(server.latency_events)
        server.latency_events.clear()
        server.latency_max.clear()
        return count
    count = 0
    for arg in argv[2:]:
        event = _text(arg)
        if server.latency_events.pop(event, None) is not None:
            count += 1
        server.latency_max.pop(event, None)
    return count


def cmd_latency_graph(client: Client, argv: list[bytes]) -> Any:
    event = _text(argv[2])
    history = client.server.latency_events.get(event)
    if not history:
        raise CommandError(errors.LATENCY_NO_SAMPLES.format(event))
    return Verbatim(latency_graph(event, list(history), client.server.latency_max[event]))


def latency_graph(event: str, samples: list[tuple[int, int]], all_time_max: int) -> bytes:
    """A small text chart: one column per sample (oldest left), bar height by latency, and
    below each column how long ago it was (digits, then s/m/h/d for the unit)."""
    values = [ms for _, ms in samples]
    high, low = max(values), min(values)
    header = (
        f"{event} - high {high} ms, low {low} ms (all time high {all_time_max} ms)\n" + "-" * 80
    )
    rows = 4
    grid = []
    for level in range(rows, 0, -1):
        row = "".join(
            "#" if (ms - low) * rows >= (level - 1) * max(1, high - low) and ms else " "
            for ms in values
        )
        grid.append(row)
    now = int(time.time())
    ages = []
    for ts, _ in samples:
        age = max(0, now - ts)
        for unit, size in (("s", 1), ("m", 60), ("h", 3600), ("d", 86400)):
            if age < size * 60 or unit == "d":
                ages.append(f"{age // size}{unit}")
                break
    width = max(len(a) for a in ages)
    legend = ["".join(a.rjust(width)[i] for a in ages) for i in range(width)]
    return ("\n".join([header, *grid, *legend]) + "\n").encode()


def cmd_latency_doctor(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    threshold = server.config["latency-monitor-threshold"]
    if not threshold and not server.latency_events:
        text = (
            "Latency monitoring is off in this damselfly server. Turn it on with "
            '"CONFIG SET latency-monitor-threshold <milliseconds>": events slower than that '
            "are then recorded and reported here."
        )
        return Verbatim((text + "\n").encode())
    if not server.latency_events:
        return Verbatim(
            b"No latency spikes recorded so far: every monitored event took less than "
            b"latency-monitor-threshold.\n"
        )
    lines = ["Latency spikes recorded in this damselfly server:", ""]
    for n, (event, history) in enumerate(server.latency_events.items(), 1):
        values = [ms for _, ms in history]
        mean = sum(values) / len(values)
        deviation = sum(abs(v - mean) for v in values) / len(values)
        span = history[-1][0] - history[0][0]
        period = span / (len(values) - 1) if len(values) > 1 else 0
        lines.append(
            f"{n}. {event}: {len(values)} latency spikes (average {mean:.0f}ms, mean deviation "
            f"{deviation:.0f}ms, period {period:.2f} sec). Worst all time event "
            f"{server.latency_max.get(event, 0)}ms."
        )
    lines += [
        "",
        "Things to look at:",
        "- SLOWLOG GET lists the slowest commands and their arguments.",
        "- Commands over large values (KEYS, big deletions or expirations) stall every client;",
        "  split large values into smaller ones or use SCAN-style commands.",
    ]
    return Verbatim(("\n".join(lines) + "\n").encode())


def cmd_latency_histogram(client: Client, argv: list[bytes]) -> Any:
    # Per-command call counts; damselfly keeps no per-command latency histogram, so the
    # histogram map is empty (documented difference).
    wanted = {a.lower() for a in argv[2:]}
    reply = []
    for spec in _all_specs(client):
        if spec.calls and (not wanted or spec.name.encode() in wanted):
            reply.append(
                (spec.name.encode(), Map([(b"calls", spec.calls), (b"histogram_usec", Map())]))
            )
    return Map(reply)


def cmd_latency_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply(
        "LATENCY",
        [
            "DOCTOR",
            "    Reply with a report, in words, on the latency events recorded.",
            "GRAPH <event>",
            "    Reply with a text chart of the samples of <event>.",
            "HISTORY <event>",
            "    Reply with the (unix time, latency ms) samples of <event>.",
            "LATEST",
            "    Reply with each event's newest sample and its all-time maximum.",
            "RESET [<event> ...]",
            "    Forget the samples of the given events (of all events when none is given).",
            "HISTOGRAM [COMMAND ...]",
            "    Reply with the call counts of the given commands (of all commands when none",
            "    is given).",
        ],
    )


# -- SHUTDOWN --------------------------------------------------------------------------------------


def cmd_shutdown(client: Client, argv: list[bytes]) -> Any:
    flags: set[str] = set()
    abort = False
    for arg in argv[1:]:
        opt = arg.lower()
        if opt == b"nosave":
            flags.add("nosave")
        elif opt == b"save":
            flags.add("save")
        elif opt == b"now":
            flags.add("now")
        elif opt == b"force":
            flags.add("force")
        elif opt == b"abort":
            abort = True
        else:
            raise CommandError(errors.SYNTAX)
    if (abort and flags) or {"save", "nosave"} <= flags:
        raise CommandError(errors.SYNTAX)
    if abort:
        # A shutdown only waits (for lagging replicas) in Redis; damselfly's never does.
        raise CommandError(errors.SHUTDOWN_NOT_IN_PROGRESS)
    if not client.server.shutdown(flags):
        raise CommandError(errors.SHUTDOWN_FAILED)
    client.close_after_reply = True
    return NO_REPLY


# -- declarations ----------------------------------------------------------------------------------

_ADMIN = "admin noscript loading stale"

COMMANDS: list[CommandSpec] = [
    Cmd(
        "info", -1, "loading stale", cmd_info, group=_G, since="1.0.0",
        summary="Reports information and statistics about the server, by section.",
        args="[section:string] ...", categories=("@dangerous",),
        tips="nondeterministic_output request_policy:all_shards response_policy:special",
    ),
    Cmd(
        "config", -2, "", None, group=_G, since="2.0.0", complexity="Depends on subcommand.",
        summary="A container for the commands that read and change the configuration.",
        subcommands=[
            Cmd(
                "config|get", -3, _ADMIN, cmd_config_get, group=_G, since="2.0.0",
                complexity="O(N) when N is the number of configuration parameters provided",
                summary="Returns the names and values of the matching configuration parameters.",
                args="parameter:string ...",
            ),
            Cmd(
                "config|set", -4, _ADMIN, cmd_config_set, group=_G, since="2.0.0",
                complexity="O(N) when N is the number of configuration parameters provided",
                summary="Changes one or more configuration parameters, all of them or none.",
                args="(parameter_value= parameter:string value:string) ...",
                tips="request_policy:all_nodes response_policy:all_succeeded",
            ),
            Cmd(
                "config|resetstat", 2, _ADMIN, cmd_config_resetstat, group=_G, since="2.0.0",
                summary="Zeroes the statistics INFO reports.",
            ),
            Cmd(
                "config|rewrite", 2, _ADMIN, cmd_config_rewrite, group=_G, since="2.8.0",
                summary="Writes the current configuration back into the config file.",
            ),
            Cmd(
                "config|help", 2, "loading stale", cmd_config_help, group=_G, since="5.0.0",
                summary="Lists the CONFIG subcommands.",
            ),
        ],
    ),
    Cmd(
        "time", 1, "loading stale fast", cmd_time, group=_G, since="2.6.0",
        summary="Returns the server's current time (seconds and microseconds).",
        tips="nondeterministic_output",
    ),
    Cmd(
        "lastsave", 1, "loading stale fast", cmd_lastsave, group=_G, since="1.0.0",
        summary="Returns the unix time of the last successful save of the dataset.",
        categories=("@admin", "@dangerous"), tips="nondeterministic_output",
    ),
    Cmd(
        "debug", -2, _ADMIN + " protected", cmd_debug, group=_G, since="1.0.0",
        complexity="Depends on subcommand.",
        summary="A container of commands for debugging and testing the server.",
        doc_flags=("syscmd",),
    ),
    Cmd(
        # Redis documents no complexity for MONITOR; the registry wants one for every command.
        "monitor", 1, _ADMIN, cmd_monitor, group=_G, since="1.0.0", complexity="O(1)",
        summary="Streams every command the server runs to this connection.",
    ),
    Cmd(
        "slowlog", -2, "", None, group=_G, since="2.2.12", complexity="Depends on subcommand.",
        summary="A container for the slow log commands.",
        subcommands=[
            Cmd(
                "slowlog|get", -2, "admin loading stale", cmd_slowlog_get, group=_G,
                since="2.2.12", complexity="O(N) where N is the number of entries returned",
                summary="Returns the newest entries of the slow log.", args="[count:integer]",
                tips="request_policy:all_nodes nondeterministic_output",
            ),
            Cmd(
                "slowlog|len", 2, "admin loading stale", cmd_slowlog_len, group=_G,
                since="2.2.12", summary="Returns the number of entries in the slow log.",
                tips="request_policy:all_nodes response_policy:agg_sum nondeterministic_output",
            ),
            Cmd(
                "slowlog|reset", 2, "admin loading stale", cmd_slowlog_reset, group=_G,
                since="2.2.12",
                complexity="O(N) where N is the number of entries in the slowlog",
                summary="Removes every entry from the slow log.",
                tips="request_policy:all_nodes response_policy:all_succeeded",
            ),
            Cmd(
                "slowlog|help", 2, "loading stale", cmd_slowlog_help, group=_G, since="6.2.0",
                summary="Lists the SLOWLOG subcommands.",
            ),
        ],
    ),
    Cmd(
        "latency", -2, "", None, group=_G, since="2.8.13", complexity="Depends on subcommand.",
        summary="A container for the latency monitor commands.",
        subcommands=[
            Cmd(
                "latency|doctor", 2, _ADMIN, cmd_latency_doctor, group=_G, since="2.8.13",
                summary="Returns a report, in words, on the recorded latency events.",
                tips="nondeterministic_output request_policy:all_nodes "
                "response_policy:special",
            ),
            Cmd(
                "latency|graph", 3, _ADMIN, cmd_latency_graph, group=_G, since="2.8.13",
                summary="Returns a text chart of the samples of one latency event.",
                args="event:string",
                tips="nondeterministic_output request_policy:all_nodes "
                "response_policy:special",
            ),
            Cmd(
                "latency|history", 3, _ADMIN, cmd_latency_history, group=_G, since="2.8.13",
                summary="Returns the time and latency samples of one latency event.",
                args="event:string",
                tips="nondeterministic_output request_policy:all_nodes "
                "response_policy:special",
            ),
            Cmd(
                "latency|latest", 2, _ADMIN, cmd_latency_latest, group=_G, since="2.8.13",
                summary="Returns the newest sample of every latency event.",
                tips="nondeterministic_output request_policy:all_nodes "
                "response_policy:special",
            ),
            Cmd(
                "latency|reset", -2, _ADMIN, cmd_latency_reset, group=_G, since="2.8.13",
                summary="Forgets the samples of some or all latency events.",
                args="[event:string] ...",
                tips="request_policy:all_nodes response_policy:all_succeeded",
            ),
            Cmd(
                "latency|histogram", -2, _ADMIN, cmd_latency_histogram, group=_G,
                since="7.0.0",
                complexity="O(N) where N is the number of commands with latency information "
                "being retrieved.",
                summary="Returns latency statistics of some or all commands.",
                args="[command:string] ...",
                tips="nondeterministic_output request_policy:all_nodes "
                "response_policy:special",
            ),
            Cmd(
                "latency|help", 2, "loading stale", cmd_latency_help, group=_G, since="2.8.13",
                summary="Lists the LATENCY subcommands.",
            ),
        ],
    ),
    Cmd(
        "shutdown", -1, _ADMIN + " no_multi allow_busy", cmd_shutdown, group=_G,
        since="1.0.0",
        complexity="O(N) when saving, where N is the total number of keys in all databases "
        "when saving data, otherwise O(1)",
        summary="Stops the server, optionally saving the dataset first.",
        args="[nosave_save= NOSAVE|SAVE] [NOW] [FORCE] [ABORT]",
    ),
]  # fmt: skip


def _config_get_arguments() -> None:
    # Redis documents CONFIG GET's argument as a repeated block holding one string; the `args=`
    # notation turns a one-member group into the member itself, so the tree is given whole.
    spec = next(c for c in COMMANDS if c.name == "config").subcommands[b"get"]
    spec.arguments = [
        {
            "name": "parameter",
            "type": "block",
            "flags": ["multiple"],
            "arguments": [{"name": "parameter", "type": "string"}],
        }
    ]


_config_get_arguments()
