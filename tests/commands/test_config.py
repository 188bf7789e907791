"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP, and the parameter registry behind them.

Through redis-py against the shared server (every change is put back by `restore_config`), plus
dedicated servers for what only a restart or a config file can show (immutable parameters,
CONFIG REWRITE, rebinding the port). The registry's parsers are also tested directly where the
wire would add nothing (memory units, save schedules, notify-keyspace-events spelling).
"""

from __future__ import annotations

import os
import socket
import tempfile

import pytest
import redis

from damselfly.config import (
    ConfigError,
    ConfigSetError,
    UnknownOption,
    default_config,
    memtoull,
)
from tests.helpers import error_has, error_is
from tests.servers import ServerProcess, free_port, start_damselfly


def set_error(r: redis.Redis, *args: object) -> str:
    with pytest.raises(redis.ResponseError) as info:
        r.execute_command("CONFIG", "SET", *args)
    return str(info.value)


def failed(arg: str, reason: str) -> str:
    return f"CONFIG SET failed (possibly related to argument '{arg}') - {reason}"


# -- CONFIG GET ------------------------------------------------------------------------------------


def test_config_get_returns_name_value_pairs(r: redis.Redis) -> None:
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.execute_command("CONFIG", "GET", "hz") == [b"hz", b"10"] or r.config_get("hz") == {
        "hz": "10"
    }


def test_config_get_glob_matches_every_name_case_insensitively(r: redis.Redis) -> None:
    got = r.config_get("MAXMEMORY*")
    assert set(got) == {
        "maxmemory",
        "maxmemory-policy",
        "maxmemory-samples",
        "maxmemory-eviction-tenacity",
        "maxmemory-clients",
    }


def test_config_get_takes_several_patterns_and_lists_each_name_once(r: redis.Redis) -> None:
    reply = r.execute_command("CONFIG", "GET", "hz", "h?", "timeout")
    names = reply[0::2] if isinstance(reply, list) else list(reply)
    assert sorted(names) == [b"hz", b"timeout"]


def test_config_get_answers_an_exact_name_under_the_spelling_asked(r: redis.Redis) -> None:
    reply = r.execute_command("CONFIG", "GET", "MaxMemory")
    assert reply == [b"MaxMemory", b"0"]


def test_config_get_of_unknown_names_is_empty(r: redis.Redis) -> None:
    assert r.config_get("no-such-parameter") == {}
    assert r.config_get("zzz*") == {}


def test_config_get_star_includes_aliases_with_their_target_values(r: redis.Redis) -> None:
    everything = r.config_get("*")
    assert len(everything) > 120
    assert everything["slave-read-only"] == everything["replica-read-only"] == "yes"
    assert everything["lua-time-limit"] == everything["busy-reply-threshold"] == "5000"
    assert everything["hash-max-ziplist-entries"] == everything["hash-max-listpack-entries"]


def test_config_get_in_resp3_is_a_map(server: ServerProcess) -> None:
    conn = server.raw()
    try:
        conn.request(b"HELLO 3\r\n")
        assert conn.request(b"CONFIG GET hz\r\n") == b"%1\r\n$2\r\nhz\r\n$2\r\n10\r\n"
    finally:
        conn.close()


def test_config_get_needs_a_pattern(r: redis.Redis) -> None:
    with error_has("wrong number of arguments for 'config|get'"):
        r.execute_command("CONFIG", "GET")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("client-output-buffer-limit",
         "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
        ("proto-max-bulk-len", "536870912"),
        ("client-query-buffer-limit", "1073741824"),
        ("appendonly", "no"),
        ("appendfsync", "everysec"),
        ("maxmemory-policy", "noeviction"),
        ("notify-keyspace-events", ""),
        ("busy-reply-threshold", "5000"),
        ("list-max-listpack-size", "-2"),
        ("set-max-intset-entries", "512"),
        ("hash-max-listpack-entries", "512"),
        ("timeout", "0"),
        ("tcp-keepalive", "300"),
        ("databases", "16"),
        ("requirepass", ""),
        ("replica-read-only", "yes"),
        ("cluster-enabled", "no"),
        ("latency-tracking-info-percentiles", "50 99 99.9"),
        ("shutdown-on-sigterm", "default"),
        ("unixsocketperm", "0"),
        ("slowlog-log-slower-than", "10000"),
    ],
)  # fmt: skip
def test_defaults_print_like_redis(r: redis.Redis, name: str, value: str) -> None:
    assert r.config_get(name) == {name: value}


def test_dir_is_shown_as_the_absolute_working_directory(r: redis.Redis) -> None:
    directory = r.config_get("dir")["dir"]
    assert os.path.isabs(directory) and os.path.isdir(directory)


# -- CONFIG SET ------------------------------------------------------------------------------------


def test_config_set_changes_what_config_get_reports(r: redis.Redis, restore_config: None) -> None:
    assert r.config_set("maxmemory", "1gb")
    assert r.config_get("maxmemory") == {"maxmemory": "1073741824"}
    assert r.config_set("maxmemory-policy", "ALLKEYS-LRU")
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert r.config_set("appendonly", "YES")
    assert r.config_get("appendonly") == {"appendonly": "yes"}


def test_config_set_takes_several_pairs(r: redis.Redis, restore_config: None) -> None:
    assert r.execute_command("CONFIG", "SET", "hz", "20", "timeout", "30") == b"OK"
    assert r.config_get("hz") == {"hz": "20"}
    assert r.config_get("timeout") == {"timeout": "30"}


def test_config_set_is_all_or_nothing(r: redis.Redis, restore_config: None) -> None:
    assert set_error(r, "hz", "20", "maxmemory", "abc") == failed(
        "maxmemory", "argument must be a memory value"
    )
    assert r.config_get("hz") == {"hz": "10"}


def test_config_set_through_an_alias_changes_the_parameter(
    r: redis.Redis, restore_config: None
) -> None:
    r.config_set("lua-time-limit", 1234)
    assert r.config_get("busy-reply-threshold") == {"busy-reply-threshold": "1234"}
    r.config_set("slave-read-only", "no")
    assert r.config_get("replica-read-only") == {"replica-read-only": "no"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("foo", "bar"), "Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (("hz", "abc", "foo", "bar"),
         "Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (("hz", "1", "hz"), "syntax error"),
        (("databases", "3"), failed("databases", "can't set immutable config")),
        (("hz", "abc", "databases", "3"), failed("databases", "can't set immutable config")),
        (("dir", "/tmp"), failed("dir", "can't set protected config")),
        (("hz", "1", "HZ", "2"), failed("HZ", "duplicate parameter")),
        (("hz", "abc"), failed("hz", "argument couldn't be parsed into an integer")),
        (("hz", "05"), failed("hz", "argument couldn't be parsed into an integer")),
        (("hz", "-1"), failed("hz", "argument must be between 0 and 2147483647 inclusive")),
        (("port", "70000"), failed("port", "argument must be between 0 and 65535 inclusive")),
        (("maxmemory", "-1"), failed("maxmemory", "argument must be a memory value")),
        (("maxmemory", "1.5gb"), failed("maxmemory", "argument must be a memory value")),
        (("proto-max-bulk-len", "10"),
         failed("proto-max-bulk-len",
                "argument must be between 1048576 and 9223372036854775807 inclusive")),
        (("appendonly", "maybe"), failed("appendonly", "argument must be 'yes' or 'no'")),
        (("loglevel", "loud"),
         failed("loglevel",
                "argument(s) must be one of the following: debug, verbose, notice, warning")),
        (("maxmemory-clients", "101%"),
         failed("maxmemory-clients", "percentage argument must be less or equal to 100")),
        (("notify-keyspace-events", "Z"),
         failed("notify-keyspace-events",
                "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")),
        (("save", "3600"), failed("save", "Invalid save parameters")),
        (("save", "0 1"), failed("save", "Invalid save parameters")),
        (("client-output-buffer-limit", "normal 1 2"),
         failed("client-output-buffer-limit",
                "Wrong number of arguments in buffer limit configuration.")),
        (("client-output-buffer-limit", "master 1 2 3"),
         failed("client-output-buffer-limit",
                "Invalid client class specified in buffer limit configuration.")),
        (("client-output-buffer-limit", "normal -1 0 0"),
         failed("client-output-buffer-limit",
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.")),
        (("shutdown-on-sigint", "bad"),
         failed("shutdown-on-sigint",
                "argument(s) must be one of the following: default, save, nosave, now, force")),
        (("shutdown-on-sigint", "save nosave"),
         failed("shutdown-on-sigint",
                "shutdown options SAVE and NOSAVE can't be used simultaneously")),
        (("latency-tracking-info-percentiles", "50 200"),
         failed("latency-tracking-info-percentiles",
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")),
    ],
)  # fmt: skip
def test_config_set_errors_match_redis(
    r: redis.Redis, restore_config: None, args: tuple[str, ...], expected: str
) -> None:
    assert set_error(r, *args) == expected


def test_config_set_needs_a_name_and_a_value(r: redis.Redis) -> None:
    with error_has("wrong number of arguments for 'config|set'"):
        r.execute_command("CONFIG", "SET", "hz")


def test_memory_values_accept_units_and_print_bytes(r: redis.Redis, restore_config: None) -> None:
    for text, expected in [("1k", "1000"), ("1kb", "1024"), ("2MB", "2097152"), ("05", "5"),
                           ("", "0"), ("3gB", str(3 * 1024**3))]:  # fmt: skip
        r.config_set("maxmemory", text)
        assert r.config_get("maxmemory") == {"maxmemory": expected}


def test_percent_parameters_keep_the_percent_sign(r: redis.Redis, restore_config: None) -> None:
    r.config_set("maxmemory-clients", "5%")
    assert r.config_get("maxmemory-clients") == {"maxmemory-clients": "5%"}
    r.config_set("maxmemory-clients", "1mb")
    assert r.config_get("maxmemory-clients") == {"maxmemory-clients": "1048576"}


@pytest.mark.parametrize(
    ("given", "shown"),
    [("KEA", "AKE"), ("xE", "xE"), ("Kg$lshzxetmd", "AKm"), ("KEtn", "tnKE"), ("ezhsl", "lshze"),
     ("AAm", "Am"), ("KEAn", "AKE"), ("", "")],
)  # fmt: skip
def test_notify_keyspace_events_is_shown_in_redis_spelling(
    r: redis.Redis, restore_config: None, given: str, shown: str
) -> None:
    r.config_set("notify-keyspace-events", given)
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": shown}


def test_client_output_buffer_limit_changes_only_the_classes_named(
    r: redis.Redis, restore_config: None
) -> None:
    r.config_set("client-output-buffer-limit", "normal 1mb 2mb 3 Pubsub 1 2 3")
    assert r.config_get("client-output-buffer-limit") == {
        "client-output-buffer-limit": "normal 1048576 2097152 3 slave 268435456 67108864 60 "
        "pubsub 1 2 3"
    }
    r.config_set("client-output-buffer-limit", "replica 1 1 1")
    value = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    assert " slave 1 1 1 " in value


def test_save_schedule_is_set_whole_and_can_be_emptied(
    r: redis.Redis, restore_config: None
) -> None:
    r.config_set("save", "3600 1 300 100")
    assert r.config_get("save") == {"save": "3600 1 300 100"}
    r.config_set("save", "60 5")
    assert r.config_get("save") == {"save": "60 5"}
    r.config_set("save", "")
    assert r.config_get("save") == {"save": ""}


def test_shutdown_flags_print_in_a_fixed_order(r: redis.Redis, restore_config: None) -> None:
    r.config_set("shutdown-on-sigint", "force now save")
    assert r.config_get("shutdown-on-sigint") == {"shutdown-on-sigint": "save now force"}
    r.config_set("shutdown-on-sigint", "default")
    assert r.config_get("shutdown-on-sigint") == {"shutdown-on-sigint": "default"}


def test_latency_percentiles_print_like_printf(r: redis.Redis, restore_config: None) -> None:
    r.config_set("latency-tracking-info-percentiles", "50 99.5 12.3456789 1.0000001")
    assert r.config_get("latency-tracking-info-percentiles") == {
        "latency-tracking-info-percentiles": "50 99.5 12.345679 1"
    }


def test_slowlog_threshold_takes_effect_at_once(r: redis.Redis, restore_config: None) -> None:
    r.slowlog_reset()
    r.config_set("slowlog-log-slower-than", 0)
    r.set("k", "v")
    assert any(e["command"] == b"SET k v" for e in r.slowlog_get())


def test_loglevel_accepts_any_case(r: redis.Redis, restore_config: None) -> None:
    r.config_set("loglevel", "WARNING")
    assert r.config_get("loglevel") == {"loglevel": "warning"}


def test_protected_configs_can_be_set_when_enabled() -> None:
    directory = tempfile.mkdtemp(prefix="dfly-")
    proc = start_damselfly("--enable-protected-configs", "yes")
    try:
        r = proc.client()
        assert r.config_set("dir", directory)
        assert r.config_get("dir") == {"dir": os.path.realpath(directory)}
        with error_has("No such file or directory"):
            r.config_set("dir", os.path.join(directory, "missing"))
        assert r.config_get("dir") == {"dir": os.path.realpath(directory)}
    finally:
        proc.stop()


def test_config_set_port_moves_the_listener() -> None:
    proc = start_damselfly()
    new_port = free_port()
    try:
        r = proc.client()
        assert r.config_set("port", new_port)
        moved = redis.Redis(port=new_port)
        assert moved.ping()
        assert moved.config_get("port") == {"port": str(new_port)}
        assert moved.info("server")["tcp_port"] == new_port
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", proc.port), timeout=1).close()
        moved.close()
    finally:
        proc.proc.terminate()
        proc.proc.wait(10)


def test_config_set_port_already_in_use_fails_and_keeps_the_old_port() -> None:
    proc = start_damselfly()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    try:
        r = proc.client()
        busy = blocker.getsockname()[1]
        with pytest.raises(redis.ResponseError) as info:
            r.config_set("port", busy)
        assert str(info.value) == failed("port", "Unable to listen on this port")
        assert r.config_get("port") == {"port": str(proc.port)}
        assert redis.Redis(port=proc.port).ping()
    finally:
        blocker.close()
        proc.stop()


# -- CONFIG RESETSTAT, HELP, REWRITE -------------------------------------------------------------


def test_config_resetstat_takes_no_arguments(r: redis.Redis) -> None:
    with error_has("wrong number of arguments for 'config|resetstat'"):
        r.execute_command("CONFIG", "RESETSTAT", "x")


def test_config_help_lists_the_subcommands(r: redis.Redis) -> None:
    lines = [line.decode() for line in r.execute_command("CONFIG", "HELP")]
    assert lines[0] == "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert [line for line in lines[1:] if not line.startswith(" ")] == [
        "GET <pattern>",
        "SET <directive> <value>",
        "RESETSTAT",
        "REWRITE",
        "HELP",
    ]


def test_unknown_config_subcommand(r: redis.Redis) -> None:
    with error_is("unknown subcommand 'foo'. Try CONFIG HELP."):
        r.execute_command("CONFIG", "foo")


def test_config_rewrite_without_a_config_file_is_an_error(r: redis.Redis) -> None:
    with error_is("The server is running without a config file"):
        r.execute_command("CONFIG", "REWRITE")


ORIGINAL_CONF = """# top comment
save 900 1
save 300 10
hz 15
slave-read-only yes
maxmemory 10mb

# trailing comment
"""


def start_with_file(text: str) -> tuple[ServerProcess, str]:
    directory = tempfile.mkdtemp(prefix="dfly-conf-")
    path = os.path.join(directory, "damselfly.conf")
    with open(path, "w") as f:
        f.write(text)
    return start_damselfly_with_file(path), path


def start_damselfly_with_file(path: str) -> ServerProcess:
    import sys

    port = free_port()
    argv = [sys.executable, "-m", "damselfly", path, "--port", str(port), "--bind", "127.0.0.1"]
    return ServerProcess("damselfly", argv, port)


def test_config_rewrite_updates_lines_in_place_and_appends_the_rest() -> None:
    proc, path = start_with_file(ORIGINAL_CONF)
    try:
        r = proc.client()
        assert r.info("server")["config_file"] == path
        assert r.config_get("save") == {"save": "900 1 300 10"}
        r.config_set("hz", 10)
        r.config_set("save", "3600 1")
        r.config_set("maxmemory", "2gb")
        r.config_set("notify-keyspace-events", "KEA")
        r.config_set("client-output-buffer-limit", "normal 1mb 0 0")
        r.config_set("maxmemory-clients", "5%")
        assert r.execute_command("CONFIG", "REWRITE") == b"OK"
    finally:
        proc.stop()
    with open(path) as f:
        text = f.read()
    assert text == (
        "# top comment\n"
        "save 3600 1\n"
        "\n"
        "hz 10\n"
        "replica-read-only yes\n"
        "maxmemory 2gb\n"
        "\n"
        "# trailing comment\n"
        "\n"
        "# Generated by CONFIG REWRITE\n"
        "port " + str(proc.port) + "\n"
        "bind 127.0.0.1\n"
        "client-output-buffer-limit normal 1mb 0 0\n"
        "maxmemory-clients 5%\n"
        'notify-keyspace-events "AKE"\n'
    )
    # The rewritten file starts a server with the same settings, and rewriting again is stable.
    again = start_damselfly_with_file(path)
    try:
        r = again.client()
        assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
        assert r.config_get("save") == {"save": "3600 1"}
        assert r.execute_command("CONFIG", "REWRITE") == b"OK"
    finally:
        again.stop()
    with open(path) as f:
        assert f.read().count("# Generated by CONFIG REWRITE") == 1


# -- the registry directly ---------------------------------------------------------------------


def test_memtoull_follows_redis_quirks() -> None:
    assert memtoull("") == 0
    assert memtoull("kb") == 0
    assert memtoull("18446744073709551616") == 2**64 - 1
    assert memtoull("1 k") is None
    assert memtoull("+5") is None
    assert memtoull("-1") is None


def test_set_many_rolls_back_when_a_hook_fails() -> None:
    config = default_config()
    calls: list[object] = []

    def refuse(value: object) -> None:
        calls.append(value)
        if value == 99:
            raise ConfigError("no thanks")

    config.params["hz"].on_change = refuse
    with pytest.raises(ConfigSetError) as info:
        config.set_many([("timeout", "5"), ("hz", "99")])
    assert (info.value.arg, info.value.reason) == ("hz", "no thanks")
    assert config["hz"] == 10 and config["timeout"] == 0
    assert calls == [99, 10]


def test_set_many_reports_unknown_names_first() -> None:
    config = default_config()
    with pytest.raises(UnknownOption):
        config.set_many([("hz", "abc"), ("nope", "1")])


def test_save_lines_in_a_file_accumulate() -> None:
    config = default_config()
    config.load_text("save 900 1\nsave 300 10\n")
    assert config.get_text("save") == "900 1 300 10"
    config = default_config()
    config.load_text('save 900 1\nsave ""\nsave 60 5\n')
    assert config.get_text("save") == "60 5"


def test_every_parameter_default_parses_back_to_itself() -> None:
    config = default_config()
    for param in config.order:
        if param.name in ("daemonize", "dir"):
            continue
        text = param.format(param.default)
        assert param.format(param.parse(text, param.default)) == text, param.name


def test_config_set_bind_keeps_addresses_it_still_wants_and_rejects_foreign_ones() -> None:
    proc = start_damselfly()
    try:
        r = proc.client()
        assert r.config_set("bind", "127.0.0.1 -::1")
        assert redis.Redis(port=proc.port).ping()
        with pytest.raises(redis.ResponseError) as info:
            r.config_set("bind", "192.0.2.1")  # TEST-NET-1: never a local address
        assert str(info.value) == failed("bind", "Failed to bind to specified addresses.")
        assert r.config_get("bind") == {"bind": "127.0.0.1 -::1"}
        fresh = redis.Redis(port=proc.port)
        assert fresh.ping()
        fresh.close()
    finally:
        proc.stop()
