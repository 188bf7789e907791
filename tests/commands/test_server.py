"""Server commands through redis-py and raw sockets: INFO, TIME, LASTSAVE, DEBUG, MONITOR,
SLOWLOG, LATENCY and SHUTDOWN (SIGTERM/SIGINT too), plus `redis-cli --stat` against damselfly.

Tests that change the shared server's configuration put it back (the `restore_config` fixture);
tests that stop a server or need startup options get a dedicated one from start_damselfly().
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from damselfly import REDIS_VERSION, __version__
from tests.helpers import error_has, error_is, error_starts
from tests.servers import RawConnection, ServerProcess, encode_command, start_damselfly

# -- helpers -------------------------------------------------------------------------------------


def info_raw(r: redis.Redis, *sections: str) -> str:
    conn = r.connection_pool.get_connection()
    try:
        conn.send_command("INFO", *sections)
        reply = conn.read_response(disable_decoding=True)
    finally:
        r.connection_pool.release(conn)
    assert isinstance(reply, bytes)
    return reply.decode()


def headers(text: str) -> list[str]:
    return [line[2:] for line in text.split("\r\n") if line.startswith("# ")]


def fields(text: str) -> dict[str, str]:
    out = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#"):
            name, _, value = line.partition(":")
            out[name] = value
    return out


def wait_until(check: Callable[[], bool], timeout: float = 3.0) -> bool:
    """Poll `check` (the server's cron or another thread must act), True once it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def read_lines(conn: RawConnection, count: int, timeout: float = 3.0) -> list[bytes]:
    """The next `count` lines a MONITOR connection receives, skipping the handshake commands
    redis-py sends on connecting (HELLO, CLIENT SETINFO)."""
    lines: list[bytes] = []
    while len(lines) < count:
        line = conn.read_reply(timeout)
        if b'] "HELLO"' in line or b'] "CLIENT" "SETINFO"' in line:
            continue
        lines.append(line)
    return lines


# -- INFO ----------------------------------------------------------------------------------------

DEFAULT_HEADERS = [
    "Server",
    "Clients",
    "Memory",
    "Persistence",
    "Stats",
    "Replication",
    "CPU",
    "Modules",
    "Errorstats",
    "Cluster",
    "Keyspace",
]
ALL_HEADERS = [
    "Server",
    "Clients",
    "Memory",
    "Persistence",
    "Stats",
    "Replication",
    "CPU",
    "Modules",
    "Commandstats",
    "Errorstats",
    "Latencystats",
    "Cluster",
    "Keyspace",
]


def test_info_without_arguments_gives_the_default_sections_in_redis_order(r: redis.Redis) -> None:
    assert headers(info_raw(r)) == DEFAULT_HEADERS
    assert headers(info_raw(r, "default")) == DEFAULT_HEADERS


@pytest.mark.parametrize("word", ["all", "everything", "ALL"])
def test_info_all_and_everything_add_commandstats_and_latencystats(
    r: redis.Redis, word: str
) -> None:
    assert headers(info_raw(r, word)) == ALL_HEADERS


def test_info_sections_are_case_insensitive_and_come_out_in_fixed_order(r: redis.Redis) -> None:
    assert headers(info_raw(r, "KEYSPACE", "server")) == ["Server", "Keyspace"]
    assert headers(info_raw(r, "cpu", "default")) == DEFAULT_HEADERS


def test_info_of_an_unknown_section_is_an_empty_bulk_string(r: redis.Redis) -> None:
    assert info_raw(r, "nosuchsection") == ""


def test_info_lines_end_in_crlf_and_a_blank_line_separates_sections(server: ServerProcess) -> None:
    conn = server.raw()
    try:
        reply = conn.request(encode_command("INFO", "cluster", "modules"))
    finally:
        conn.close()
    body = b"# Modules\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n"
    assert reply == b"$%d\r\n%s\r\n" % (len(body), body)


def test_info_is_a_verbatim_string_in_resp3(server: ServerProcess) -> None:
    conn = server.raw()
    try:
        conn.request(encode_command("HELLO", "3"))
        reply = conn.request(encode_command("INFO", "cluster"))
    finally:
        conn.close()
    body = b"txt:# Cluster\r\ncluster_enabled:0\r\n"
    assert reply == b"=%d\r\n%s\r\n" % (len(body), body)


def test_info_server_reports_versions_port_and_process(
    r: redis.Redis, server: ServerProcess
) -> None:
    info = fields(info_raw(r, "server"))
    assert info["redis_version"] == REDIS_VERSION
    assert info["damselfly_version"] == __version__
    assert info["redis_mode"] == "standalone"
    assert info["tcp_port"] == str(server.port)
    assert info["process_id"] == str(server.proc.pid)
    assert re.fullmatch(r"[0-9a-f]{40}", info["run_id"])
    assert info["config_file"] == ""
    assert info["arch_bits"] == "64"
    assert int(info["uptime_in_seconds"]) >= 0
    assert info["uptime_in_days"] == str(int(info["uptime_in_seconds"]) // 86400)
    assert info["hz"] == info["configured_hz"] == "10"
    assert abs(int(info["server_time_usec"]) / 1e6 - time.time()) < 5


def test_info_hz_is_clamped_while_configured_hz_shows_the_setting(
    r: redis.Redis, restore_config: None
) -> None:
    r.config_set("hz", 1000)
    info = fields(info_raw(r, "server"))
    assert (info["hz"], info["configured_hz"]) == ("500", "1000")


def test_info_keyspace_lists_non_empty_databases_with_keys_expires_and_avg_ttl(
    r: redis.Redis,
) -> None:
    r.set("a", 1)
    r.set("b", 1, ex=100)
    r.execute_command("SELECT", 3)
    r.set("c", 1)
    r.execute_command("SELECT", 0)
    info = fields(info_raw(r, "keyspace"))
    assert set(info) == {"db0", "db3"}
    match = re.fullmatch(r"keys=2,expires=1,avg_ttl=(\d+)", info["db0"])
    assert match and 90_000 < int(match.group(1)) <= 100_000
    assert info["db3"] == "keys=1,expires=0,avg_ttl=0"


def test_info_keyspace_is_only_its_header_when_every_database_is_empty(r: redis.Redis) -> None:
    assert info_raw(r, "keyspace") == "# Keyspace\r\n"


def test_info_stats_counts_commands_connections_hits_and_misses(server: ServerProcess) -> None:
    r = server.client()
    r.config_resetstat()
    r.set("k", "v")
    r.get("k")
    r.get("missing")
    other = server.client()
    other.ping()
    other.close()
    stats = r.info("stats")
    # SET, GET, GET, the other client's PING (and its connection), then INFO itself not yet.
    assert stats["total_commands_processed"] >= 4
    assert stats["total_connections_received"] >= 1
    assert stats["keyspace_hits"] == 1
    assert stats["keyspace_misses"] == 1
    r.close()


def test_info_counts_error_replies_by_prefix(r: redis.Redis) -> None:
    r.set("s", "x")
    for _ in range(2):
        with pytest.raises(redis.ResponseError):
            r.incr("s")
    with pytest.raises(redis.ResponseError):
        r.lpush("s", 1)
    errors = r.info("errorstats")
    assert errors["errorstat_ERR"] == {"count": 2}
    assert errors["errorstat_WRONGTYPE"] == {"count": 1}
    assert r.info("stats")["total_error_replies"] == 3


def test_errorstats_are_sorted_by_prefix(r: redis.Redis) -> None:
    r.set("s", "x")
    with pytest.raises(redis.ResponseError):
        r.lpush("s", 1)
    with pytest.raises(redis.ResponseError):
        r.incr("s")
    lines = info_raw(r, "errorstats").split("\r\n")
    assert lines[:3] == ["# Errorstats", "errorstat_ERR:count=1", "errorstat_WRONGTYPE:count=1"]


def test_commandstats_count_calls_failures_rejections_and_subcommands(r: redis.Redis) -> None:
    r.set("s", "x")
    with pytest.raises(redis.ResponseError):
        r.execute_command("INCR", "s")
    with pytest.raises(redis.ResponseError):
        r.execute_command("GET")
    r.config_get("hz")
    text = info_raw(r, "commandstats")
    stats = fields(text)
    assert re.fullmatch(
        r"calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0",
        stats["cmdstat_set"],
    )
    assert re.fullmatch(r"calls=1,.*,rejected_calls=0,failed_calls=1", stats["cmdstat_incr"])
    assert re.fullmatch(r"calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0",
                        stats["cmdstat_get"])  # fmt: skip
    assert stats["cmdstat_config|get"].startswith("calls=1,")
    assert "cmdstat_ping" not in stats


def test_config_resetstat_zeroes_counters_but_keeps_the_slowlog(
    r: redis.Redis, restore_config: None
) -> None:
    r.config_set("slowlog-log-slower-than", 0)
    r.get("missing")
    r.set("s", "x")
    with pytest.raises(redis.ResponseError):
        r.incr("s")
    assert r.slowlog_len() > 0
    r.config_resetstat()
    # The RESETSTAT itself is counted once it has run, as in Redis.
    lines = info_raw(r, "commandstats").split("\r\n")
    assert lines[1].startswith("cmdstat_config|resetstat:calls=1,")
    assert len(lines) == 3
    assert info_raw(r, "errorstats") == "# Errorstats\r\n"
    stats = r.info("stats")
    assert stats["keyspace_misses"] == stats["total_error_replies"] == 0
    assert stats["total_commands_processed"] <= 3  # RESETSTAT and the INFOs after it
    assert r.slowlog_len() > 0


def test_info_memory_reports_sizes_in_bytes_and_human_units(
    r: redis.Redis, restore_config: None
) -> None:
    r.config_set("maxmemory", "1gb")
    r.config_set("maxmemory-policy", "allkeys-lru")
    info = fields(info_raw(r, "memory"))
    assert int(info["used_memory"]) > 1024 * 1024
    assert re.fullmatch(r"\d+\.\d\d[KMG]", info["used_memory_human"])
    assert int(info["used_memory_peak"]) >= int(info["used_memory"])
    assert info["maxmemory"] == "1073741824"
    assert info["maxmemory_human"] == "1.00G"
    assert info["maxmemory_policy"] == "allkeys-lru"
    assert float(info["mem_fragmentation_ratio"]) > 0


def test_info_persistence_counts_changes_since_the_last_save(r: redis.Redis) -> None:
    before = int(fields(info_raw(r, "persistence"))["rdb_changes_since_last_save"])
    r.set("a", 1)
    r.set("b", 2)
    info = fields(info_raw(r, "persistence"))
    assert int(info["rdb_changes_since_last_save"]) == before + 2
    assert info["loading"] == "0"
    assert info["aof_enabled"] == "0"
    assert info["rdb_last_save_time"] == str(r.lastsave().timestamp().__int__())


def test_info_replication_reports_a_master_without_replicas(r: redis.Redis) -> None:
    info = fields(info_raw(r, "replication"))
    assert info["role"] == "master"
    assert info["connected_slaves"] == "0"
    assert re.fullmatch(r"[0-9a-f]{40}", info["master_replid"])
    assert info["master_replid2"] == "0" * 40


def test_debug_change_repl_id_draws_a_new_master_replid(r: redis.Redis) -> None:
    before = fields(info_raw(r, "replication"))["master_replid"]
    assert r.execute_command("DEBUG", "CHANGE-REPL-ID") == b"OK"
    assert fields(info_raw(r, "replication"))["master_replid"] != before


def test_info_cpu_reports_seconds_with_six_decimals(r: redis.Redis) -> None:
    info = fields(info_raw(r, "cpu"))
    assert set(info) == {
        "used_cpu_sys",
        "used_cpu_user",
        "used_cpu_sys_children",
        "used_cpu_user_children",
        "used_cpu_sys_main_thread",
        "used_cpu_user_main_thread",
    }
    assert all(re.fullmatch(r"\d+\.\d{6}", v) for v in info.values())
    assert float(info["used_cpu_user"]) > 0


def test_info_clients_counts_connected_clients(server: ServerProcess) -> None:
    r = server.client()
    base = r.info("clients")["connected_clients"]
    other = server.client()
    other.ping()
    assert r.info("clients")["connected_clients"] == base + 1
    other.close()
    assert wait_until(lambda: r.info("clients")["connected_clients"] == base)
    assert r.info("clients")["maxclients"] == 10000
    r.close()


def test_info_counts_clients_held_by_client_pause_as_blocked(server: ServerProcess) -> None:
    r = server.client()
    writer = server.raw()
    r.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
    try:
        writer.send(encode_command("SET", "server-test:paused", "1"))
        assert wait_until(lambda: r.info("clients")["blocked_clients"] == 1)
    finally:
        r.execute_command("CLIENT", "UNPAUSE")
    assert writer.read_reply() == b"+OK\r\n"
    assert wait_until(lambda: r.info("clients")["blocked_clients"] == 0)
    writer.close()
    r.delete("server-test:paused")
    r.close()


def test_instantaneous_ops_per_sec_follows_the_command_rate(server: ServerProcess) -> None:
    r = server.client()
    pipe = r.pipeline(transaction=False)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        for _ in range(200):
            pipe.ping()
        pipe.execute()
    assert r.info("stats")["instantaneous_ops_per_sec"] > 100
    r.close()


def test_server_info_fields_can_be_supplied_by_other_families() -> None:
    from damselfly.commands.server import info_text
    from damselfly.config import default_config
    from damselfly.server.server import Server

    srv = Server(default_config())
    srv.info_fields["pubsub_channels"] = lambda: 42

    class FakeClient:
        server = srv

    text = info_text(FakeClient(), [b"stats"]).decode()  # type: ignore[arg-type]
    assert "\r\npubsub_channels:42\r\n" in text


def test_redis_cli_stat_prints_data_rows(server: ServerProcess, r: redis.Redis) -> None:
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli not installed")
    r.set("k1", 1)
    r.set("k2", 2)
    # redis-cli only flushes per line on a terminal: give it a pseudo-terminal.
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [cli, "-p", str(server.port), "--stat", "-i", "0.1"],
        stdout=slave,
        stderr=slave,
        stdin=subprocess.DEVNULL,
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 1.5
    try:
        while time.monotonic() < deadline and output.count(b"\n") < 6:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    output += os.read(master, 65536)
                except OSError:
                    break
    finally:
        proc.terminate()
        proc.wait(5)
        os.close(master)
    text = output.decode(errors="replace")
    assert "keys" in text and "mem" in text and "clients" in text
    rows = [line.split() for line in text.splitlines() if re.match(r"^\d+\s", line)]
    assert rows, text
    keys, mem, clients, blocked = rows[0][:4]
    assert keys == "2"
    assert re.fullmatch(r"[\d.]+[BKMG]", mem)
    assert int(clients) >= 2
    assert blocked == "0"


# -- TIME, LASTSAVE ------------------------------------------------------------------------------


def test_time_returns_seconds_and_microseconds_as_bulk_strings(server: ServerProcess) -> None:
    conn = server.raw()
    try:
        reply = conn.request(encode_command("TIME"))
    finally:
        conn.close()
    match = re.fullmatch(rb"\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n", reply)
    assert match
    assert abs(int(match.group(1)) - time.time()) < 5
    assert 0 <= int(match.group(2)) < 1_000_000


def test_time_follows_the_clock_offset(r: redis.Redis, advance_clock: Any) -> None:
    advance_clock(3_600_000)
    seconds, _ = r.time()
    assert 3590 < seconds - time.time() < 3610


def test_time_takes_no_arguments(r: redis.Redis) -> None:
    with error_has("wrong number of arguments for 'time'"):
        r.execute_command("TIME", "x")


def test_lastsave_is_an_integer_unix_time_no_later_than_now(server: ServerProcess) -> None:
    conn = server.raw()
    try:
        reply = conn.request(encode_command("LASTSAVE"))
    finally:
        conn.close()
    assert re.fullmatch(rb":\d+\r\n", reply)
    assert int(reply[1:-2]) <= time.time() + 1


# -- DEBUG ---------------------------------------------------------------------------------------


def test_debug_clock_offset_can_be_set_read_and_made_negative(r: redis.Redis) -> None:
    assert r.execute_command("DEBUG", "SET-CLOCK-OFFSET", -1500) == b"OK"
    assert r.execute_command("DEBUG", "GET-CLOCK-OFFSET") == -1500
    assert r.execute_command("DEBUG", "SET-CLOCK-OFFSET", 0) == b"OK"
    assert r.execute_command("DEBUG", "GET-CLOCK-OFFSET") == 0


def test_debug_clock_offset_rejects_non_integers(r: redis.Redis) -> None:
    with error_is("value is not an integer or out of range"):
        r.execute_command("DEBUG", "SET-CLOCK-OFFSET", "1.5")


def test_clock_offset_expires_keys_lazily(r: redis.Redis, advance_clock: Any) -> None:
    r.set("k", "v", px=10_000)
    advance_clock(10_001)
    assert r.get("k") is None


def test_set_active_expire_zero_leaves_expired_keys_until_touched(
    r: redis.Redis, advance_clock: Any
) -> None:
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0) == b"OK"
    r.set("k", "v", px=1000)
    advance_clock(5000)
    # The cron runs 10 times a second: several ticks pass without removing the key.
    assert not wait_until(lambda: r.dbsize() == 0, timeout=0.4)
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1) == b"OK"
    assert wait_until(lambda: r.dbsize() == 0)
    assert r.info("stats")["expired_keys"] >= 1


def test_set_active_expire_reads_its_argument_like_atoi(r: redis.Redis) -> None:
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "junk") == b"OK"
    r.set("k", "v", px=1)
    r.execute_command("DEBUG", "SET-CLOCK-OFFSET", 1000)
    assert not wait_until(lambda: r.dbsize() == 0, timeout=0.3)
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1") == b"OK"


def test_debug_sleep_stalls_every_client(server: ServerProcess) -> None:
    sleeper = server.client()
    other = server.client()
    other.ping()
    thread = threading.Thread(target=sleeper.execute_command, args=("DEBUG", "SLEEP", "0.3"))
    start = time.monotonic()
    thread.start()
    time.sleep(0.05)
    other.ping()
    waited = time.monotonic() - start
    thread.join(5)
    assert waited >= 0.25
    sleeper.close()
    other.close()


def test_debug_sleep_with_a_non_number_sleeps_zero_seconds(r: redis.Redis) -> None:
    start = time.monotonic()
    assert r.execute_command("DEBUG", "SLEEP", "abc") == b"OK"
    assert time.monotonic() - start < 0.2


def test_debug_object_describes_the_value_encoding(r: redis.Redis) -> None:
    r.set("int", 12345)
    r.set("short", "hello")
    r.set("long", "x" * 100)
    pattern = r"Value at:0x[0-9a-f]+ refcount:\d+ encoding:{} serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+"
    assert re.fullmatch(pattern.format("int"), r.execute_command("DEBUG", "OBJECT", "int").decode())
    assert re.fullmatch(
        pattern.format("embstr"), r.execute_command("DEBUG", "OBJECT", "short").decode()
    )
    assert re.fullmatch(
        pattern.format("raw"), r.execute_command("DEBUG", "OBJECT", "long").decode()
    )


def test_debug_object_of_a_missing_key_is_an_error(r: redis.Redis) -> None:
    with error_is("no such key"):
        r.execute_command("DEBUG", "OBJECT", "missing")


def test_debug_populate_creates_keys_and_skips_existing_ones(r: redis.Redis) -> None:
    r.set("key:1", "mine")
    assert r.execute_command("DEBUG", "POPULATE", 3) == b"OK"
    assert r.mget("key:0", "key:1", "key:2") == [b"value:0", b"mine", b"value:2"]
    r.execute_command("DEBUG", "POPULATE", 2, "p", 10)
    assert r.get("p:1") == b"value:1\x00\x00\x00"
    r.execute_command("DEBUG", "POPULATE", 1, "q", 2)
    assert r.get("q:0") == b"va"
    with error_is("value is out of range, must be positive"):
        r.execute_command("DEBUG", "POPULATE", -1)


def test_debug_protocol_resp2_shapes(server: ServerProcess) -> None:
    conn = server.raw()
    try:
        got = {
            kind: conn.request(encode_command("DEBUG", "PROTOCOL", kind))
            for kind in ("string", "integer", "double", "null", "map", "true", "push", "bignum")
        }
    finally:
        conn.close()
    assert got["string"] == b"$11\r\nHello World\r\n"
    assert got["integer"] == b":12345\r\n"
    assert got["double"] == b"$5\r\n3.141\r\n"
    assert got["null"] == b"$-1\r\n"
    assert got["map"] == b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"
    assert got["true"] == b":1\r\n"
    assert got["push"] == b"-ERR RESP2 is not supported by this command\r\n"
    assert got["bignum"] == b"$37\r\n1234567999999999999999999999999999999\r\n"


def test_debug_protocol_resp3_shapes(server: ServerProcess) -> None:
    conn = server.raw()
    try:
        conn.request(encode_command("HELLO", "3"))
        double = conn.request(encode_command("DEBUG", "PROTOCOL", "double"))
        boolean = conn.request(encode_command("DEBUG", "PROTOCOL", "false"))
        verbatim = conn.request(encode_command("DEBUG", "PROTOCOL", "verbatim"))
        conn.send(encode_command("DEBUG", "PROTOCOL", "push"))
        push = conn.read_reply()
        after_push = conn.read_reply()
    finally:
        conn.close()
    assert double == b",3.141\r\n"
    assert boolean == b"#f\r\n"
    assert verbatim == b"=29\r\ntxt:This is a verbatim\nstring\r\n"
    assert push == b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"
    assert after_push == b"$40\r\nSome real reply following the push reply\r\n"


def test_debug_error_replies_with_the_given_error(r: redis.Redis) -> None:
    with error_is("boom"):
        r.execute_command("DEBUG", "ERROR", "ERR boom")


def test_debug_quicklist_threshold_and_reload_check_their_arguments(r: redis.Redis) -> None:
    assert r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100") == b"OK"
    assert r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0") == b"OK"
    for bad in ("abc", "4gb"):
        with error_has("bigger than 1 and smaller than 4gb"):
            r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", bad)
    r.set("k", "v")
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert r.execute_command("DEBUG", "RELOAD", "NOSAVE", "merge") == b"OK"
    assert r.get("k") == b"v"
    with error_has("only supports the MERGE, NOFLUSH and NOSAVE"):
        r.execute_command("DEBUG", "RELOAD", "bad")


def test_debug_pause_cron_stops_active_expiry(r: redis.Redis, advance_clock: Any) -> None:
    r.set("k", "v", px=100)
    assert r.execute_command("DEBUG", "PAUSE-CRON", 1) == b"OK"
    try:
        advance_clock(1000)
        assert not wait_until(lambda: r.dbsize() == 0, timeout=0.3)
    finally:
        r.execute_command("DEBUG", "PAUSE-CRON", 0)
    assert wait_until(lambda: r.dbsize() == 0)


def test_debug_help_lists_the_subcommands(r: redis.Redis) -> None:
    lines = [line.decode() for line in r.execute_command("DEBUG", "HELP")]
    assert lines[0] == "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    names = {line.split()[0] for line in lines[1:] if not line.startswith(" ")}
    assert {"SET-CLOCK-OFFSET", "GET-CLOCK-OFFSET", "SLEEP", "SET-ACTIVE-EXPIRE", "HELP"} <= names


@pytest.mark.parametrize(
    "args",
    [("nosuch",), ("sleep",), ("object",), ("set-active-expire",), ("help", "x"), ("jmap",)],
)
def test_debug_unknown_subcommand_or_wrong_arity(r: redis.Redis, args: tuple[str, ...]) -> None:
    expected = f"unknown subcommand or wrong number of arguments for '{args[0]}'. Try DEBUG HELP."
    with pytest.raises(redis.ResponseError) as info:
        r.execute_command("DEBUG", *args)
    assert str(info.value) == expected


def test_debug_log_writes_to_the_server_log() -> None:
    proc = start_damselfly()
    try:
        assert proc.client().execute_command("DEBUG", "LOG", "hello from a test") == b"OK"
    finally:
        log = proc.stop()
    assert "DEBUG LOG: hello from a test" in log


def test_debug_is_refused_when_enable_debug_command_is_no() -> None:
    proc = start_damselfly("--enable-debug-command", "no")
    try:
        with error_starts("DEBUG command not allowed"):
            proc.client().execute_command("DEBUG", "GET-CLOCK-OFFSET")
    finally:
        proc.stop()


# -- MONITOR -------------------------------------------------------------------------------------

MONITOR_LINE = re.compile(rb"\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)\r\n")


def start_monitor(server: ServerProcess) -> RawConnection:
    conn = server.raw()
    assert conn.request(encode_command("MONITOR")) == b"+OK\r\n"
    return conn


def test_monitor_streams_each_command_in_redis_format(
    server: ServerProcess, r: redis.Redis
) -> None:
    conn = start_monitor(server)
    try:
        r.set("k", "v")
        r.execute_command("SELECT", 2)
        r.get("k")
        lines = read_lines(conn, 3)
    finally:
        conn.close()
    addr = r.client_info()["addr"]
    first = MONITOR_LINE.fullmatch(lines[0])
    assert first is not None
    assert abs(int(first.group(1)) - time.time()) < 5
    assert first.group(3) == b"0" and first.group(4) == addr.encode()
    assert first.group(5) == b'"SET" "k" "v"'
    assert MONITOR_LINE.fullmatch(lines[2]).group(3) == b"2"  # type: ignore[union-attr]
    assert lines[2].endswith(b'"GET" "k"\r\n')


def test_monitor_escapes_arguments_like_redis(server: ServerProcess, r: redis.Redis) -> None:
    conn = start_monitor(server)
    try:
        r.set("k", b'a "q" \\ \n\r\t\x07\x08\x01\xff')
        (line,) = read_lines(conn, 1)
    finally:
        conn.close()
    assert line.endswith(b'"SET" "k" "a \\"q\\" \\\\ \\n\\r\\t\\a\\b\\x01\\xff"\r\n')


def test_monitor_hides_admin_commands_and_redacts_passwords(
    server: ServerProcess, r: redis.Redis
) -> None:
    conn = start_monitor(server)
    other = server.raw()
    try:
        r.config_get("hz")
        r.slowlog_len()
        assert other.request(encode_command("AUTH", "someone", "secret")).startswith(b"-WRONGPASS")
        r.ping()
        lines = read_lines(conn, 2)
    finally:
        conn.close()
        other.close()
    assert lines[0].endswith(b'"AUTH" "(redacted)" "(redacted)"\r\n')
    assert lines[1].endswith(b'"PING"\r\n')


def test_a_second_monitor_gets_no_reply(server: ServerProcess) -> None:
    conn = start_monitor(server)
    try:
        conn.send(encode_command("MONITOR") + encode_command("PING"))
        assert conn.read_reply() == b"+PONG\r\n"
    finally:
        conn.close()


def test_reset_leaves_monitor_mode(server: ServerProcess, r: redis.Redis) -> None:
    conn = start_monitor(server)
    try:
        assert conn.request(encode_command("RESET")) == b"+RESET\r\n"
        r.set("k", "v")
        assert conn.request(encode_command("PING")) == b"+PONG\r\n"
    finally:
        conn.close()


def test_monitor_names_unix_socket_clients_by_the_socket_path() -> None:
    path = os.path.join(tempfile.mkdtemp(prefix="dfly-"), "mon.sock")
    proc = start_damselfly("--unixsocket", path)
    try:
        conn = start_monitor(proc)
        unix = redis.Redis(unix_socket_path=path)
        unix.set("k", "v")
        (line,) = read_lines(conn, 1)
        conn.close()
        unix.close()
    finally:
        proc.stop()
    assert f"[0 unix:{path}] ".encode() in line
    assert line.endswith(b'"SET" "k" "v"\r\n')


# -- SLOWLOG -------------------------------------------------------------------------------------


@pytest.fixture
def slowlog_all(r: redis.Redis, restore_config: None) -> redis.Redis:
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    return r


def test_slowlog_entries_have_id_time_duration_args_address_and_name(
    slowlog_all: redis.Redis,
) -> None:
    r = slowlog_all
    r.client_setname("tester")
    r.set("k", "v")
    conn = r.connection_pool.get_connection()
    try:
        conn.send_command("SLOWLOG", "GET", "1")
        (entry,) = conn.read_response()
    finally:
        r.connection_pool.release(conn)
    entry_id, ts, duration, args, addr, name = entry
    assert isinstance(entry_id, int) and entry_id >= 1
    assert abs(ts - time.time()) < 5
    assert isinstance(duration, int) and duration >= 0
    assert args == [b"set", b"k", b"v"] or args == [b"SET", b"k", b"v"]
    assert addr == r.client_info()["addr"].encode()
    assert name == b"tester"


def test_slowlog_get_defaults_to_ten_newest_first(slowlog_all: redis.Redis) -> None:
    r = slowlog_all
    for i in range(15):
        r.set(f"k{i}", i)
    entries = r.slowlog_get()
    assert len(entries) == 10
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True)
    assert len(r.slowlog_get(-1)) >= 15
    assert r.slowlog_get(0) == []


@pytest.mark.parametrize("count", ["-2", "abc"])
def test_slowlog_get_rejects_counts_below_minus_one(r: redis.Redis, count: str) -> None:
    with error_is("count should be greater than or equal to -1"):
        r.execute_command("SLOWLOG", "GET", count)


def test_slowlog_reset_empties_it(slowlog_all: redis.Redis) -> None:
    r = slowlog_all
    r.set("a", 1)
    assert r.slowlog_len() >= 1
    assert r.slowlog_reset()
    # The RESET itself is slow enough for a zero threshold, as in Redis.
    assert r.slowlog_len() <= 1


def test_slowlog_truncates_long_argument_lists_and_values(slowlog_all: redis.Redis) -> None:
    r = slowlog_all
    r.rpush("l", *range(40))
    r.set("big", "x" * 200)
    big, rpush = r.execute_command("SLOWLOG", "GET", 2)
    assert big[3] == [b"SET", b"big", b"x" * 128 + b"... (72 more bytes)"]
    assert len(rpush[3]) == 32
    assert rpush[3][:3] == [b"RPUSH", b"l", b"0"]
    assert rpush[3][-1] == b"... (11 more arguments)"


def test_slowlog_redacts_sensitive_config_values(slowlog_all: redis.Redis) -> None:
    r = slowlog_all
    r.config_set("masterauth", "secret")
    entry = r.slowlog_get(1)[0]
    assert entry["command"] == b"CONFIG SET masterauth (redacted)" or entry["command"].endswith(
        b"masterauth (redacted)"
    )
    r.config_set("masterauth", "")


def test_slowlog_threshold_minus_one_disables_it(r: redis.Redis, restore_config: None) -> None:
    r.config_set("slowlog-log-slower-than", -1)
    r.slowlog_reset()
    r.execute_command("DEBUG", "SLEEP", "0.02")
    assert r.slowlog_len() == 0


def test_slowlog_max_len_keeps_only_the_newest(slowlog_all: redis.Redis) -> None:
    r = slowlog_all
    r.config_set("slowlog-max-len", 3)
    for i in range(6):
        r.set(f"k{i}", i)
    assert r.slowlog_len() == 3


def test_slowlog_help_lists_its_subcommands(r: redis.Redis) -> None:
    lines = [line.decode() for line in r.execute_command("SLOWLOG", "HELP")]
    assert lines[0] == "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert [line for line in lines[1:] if not line.startswith(" ")] == [
        "GET [<count>]",
        "LEN",
        "RESET",
        "HELP",
    ]


# -- LATENCY -------------------------------------------------------------------------------------


@pytest.fixture
def latency_on(r: redis.Redis, restore_config: None) -> Iterator[redis.Redis]:
    r.execute_command("LATENCY", "RESET")
    r.config_set("latency-monitor-threshold", 5)
    yield r
    r.execute_command("LATENCY", "RESET")


def test_latency_monitor_records_slow_commands(latency_on: redis.Redis) -> None:
    r = latency_on
    r.execute_command("DEBUG", "SLEEP", "0.03")
    latest = r.execute_command("LATENCY", "LATEST")
    assert len(latest) == 1
    event, ts, last, highest = latest[0]
    assert event == b"command"
    assert abs(ts - time.time()) < 5
    assert 30 <= last <= highest < 1000
    history = r.execute_command("LATENCY", "HISTORY", "command")
    assert history == [[ts, last]]


def test_latency_samples_in_one_second_keep_the_largest(latency_on: redis.Redis) -> None:
    r = latency_on
    r.execute_command("DEBUG", "SLEEP", "0.03")
    r.execute_command("DEBUG", "SLEEP", "0.01")
    history = r.execute_command("LATENCY", "HISTORY", "command")
    assert 1 <= len(history) <= 2
    assert max(ms for _, ms in history) >= 30


def test_latency_below_the_threshold_is_not_recorded(latency_on: redis.Redis) -> None:
    latency_on.ping()
    assert latency_on.execute_command("LATENCY", "LATEST") == []


def test_latency_reset_counts_the_events_it_cleared(latency_on: redis.Redis) -> None:
    r = latency_on
    r.execute_command("DEBUG", "SLEEP", "0.01")
    assert r.execute_command("LATENCY", "RESET", "nosuch") == 0
    assert r.execute_command("LATENCY", "RESET", "command", "nosuch") == 1
    assert r.execute_command("LATENCY", "LATEST") == []
    assert r.execute_command("LATENCY", "HISTORY", "command") == []


def test_latency_graph_and_doctor_describe_the_events(latency_on: redis.Redis) -> None:
    r = latency_on
    with error_is("No samples available for event 'command'"):
        r.execute_command("LATENCY", "GRAPH", "command")
    r.execute_command("DEBUG", "SLEEP", "0.01")
    graph = r.execute_command("LATENCY", "GRAPH", "command").decode()
    assert graph.startswith("command - high ")
    doctor = r.execute_command("LATENCY", "DOCTOR").decode()
    assert "command" in doctor and "latency spike" in doctor


def test_latency_doctor_explains_how_to_enable_monitoring(r: redis.Redis) -> None:
    r.execute_command("LATENCY", "RESET")
    assert "latency-monitor-threshold" in r.execute_command("LATENCY", "DOCTOR").decode()


def test_latency_histogram_reports_call_counts(r: redis.Redis) -> None:
    r.set("a", 1)
    r.set("b", 1)
    reply = r.execute_command("LATENCY", "HISTOGRAM", "set")
    assert reply[0] == b"set" and reply[1][:2] == [b"calls", 2]


# -- SHUTDOWN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("foo",), ("save", "nosave"), ("abort", "now"), ("nosave", "nosave", "abort")],
)
def test_shutdown_rejects_bad_options_with_a_syntax_error(
    r: redis.Redis, args: tuple[str, ...]
) -> None:
    with error_is("syntax error"):
        r.execute_command("SHUTDOWN", *args)
    assert r.ping()


def test_shutdown_abort_without_a_shutdown_in_progress_is_an_error(r: redis.Redis) -> None:
    with error_is("No shutdown in progress."):
        r.execute_command("SHUTDOWN", "ABORT")


@pytest.mark.parametrize("args", [(), ("NOSAVE",), ("SAVE", "NOW", "FORCE")])
def test_shutdown_closes_without_a_reply_and_exits_zero(args: tuple[str, ...]) -> None:
    proc = start_damselfly()
    conn = proc.raw()
    conn.send(encode_command("SHUTDOWN", *args) + encode_command("PING"))
    assert conn.read_all_until_close() == b""
    conn.close()
    assert proc.proc.wait(10) == 0
    log = proc.stop()
    assert "User requested shutdown..." in log
    assert "ready to exit, bye bye" in log


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signals_shut_the_server_down_cleanly(signum: int) -> None:
    directory = tempfile.mkdtemp(prefix="dfly-")
    sock = os.path.join(directory, "s.sock")
    pidfile = os.path.join(directory, "d.pid")
    proc = start_damselfly("--unixsocket", sock, "--pidfile", pidfile)
    assert wait_until(lambda: os.path.exists(pidfile))
    with open(pidfile) as f:
        assert int(f.read()) == proc.proc.pid
    proc.proc.send_signal(signum)
    assert proc.proc.wait(10) == 0
    log = proc.stop()
    name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT"
    assert f"Received {name} scheduling shutdown..." in log
    assert not os.path.exists(sock)
    assert not os.path.exists(pidfile)
