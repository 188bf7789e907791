"""Server commands against the real redis-server: the same requests, replies compared exactly.

Cases are command lists sent to both servers over raw sockets in RESP2 and RESP3, replies
compared byte for byte (CONFIG's error texts, value spellings, DEBUG and SLOWLOG/LATENCY/SHUTDOWN
errors). What cannot be equal (INFO values, timestamps, addresses) is compared by shape: INFO
field names, MONITOR lines with the time and port masked, SLOWLOG entries without id, time and
duration. Startup errors (the FATAL CONFIG FILE ERROR block) and CONFIG REWRITE's output file are
compared by running both executables on the same input.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest

from damselfly import __version__
from tests.servers import (
    RawConnection,
    ServerProcess,
    dedicated_pair,
    encode_command,
    free_port,
    redis_server_path,
    start_damselfly,
    start_redis,
)

pytestmark = pytest.mark.skipif(
    redis_server_path() is None and os.environ.get("CI", "") == "",
    reason="redis-server not installed",
)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """(redis-server, damselfly) of this module's own."""
    for ours, oracle in dedicated_pair("--enable-debug-command", "yes"):
        yield oracle, ours


def run_case(proc: ServerProcess, commands: list[str], resp: int) -> list[bytes]:
    conn = proc.raw()
    try:
        if resp == 3:
            conn.request(encode_command("HELLO", "3"))
        conn.request(encode_command("FLUSHALL"))
        return [conn.request(encode_command(*shlex.split(c))) for c in commands]
    finally:
        conn.close()


# fmt: off
CASES: dict[str, list[str]] = {
    "config-arity": ["CONFIG", "CONFIG GET", "CONFIG SET hz", "CONFIG RESETSTAT x",
                     "CONFIG REWRITE x", "CONFIG HELP x", "CONFIG FOO"],
    "config-set-unknown": ["CONFIG SET foo bar", "CONFIG SET hz abc foo bar",
                           "CONFIG SET hz 1 hz"],
    "config-set-immutable": ["CONFIG SET databases 3", "CONFIG SET hz abc databases 3",
                             "CONFIG SET daemonize no", "CONFIG SET unixsocketperm 700",
                             "CONFIG SET tcp-backlog 5", "CONFIG SET cluster-enabled yes",
                             "CONFIG SET dir /tmp", "CONFIG SET dbfilename x.rdb"],
    "config-set-duplicate": ["CONFIG SET hz 1 HZ 2", "CONFIG GET hz",
                             "CONFIG SET busy-reply-threshold 5000 lua-time-limit 4000",
                             "CONFIG GET busy-reply-threshold",
                             "CONFIG SET busy-reply-threshold 5000"],
    "config-set-atomic": ["CONFIG SET hz 20 maxmemory abc", "CONFIG GET hz"],
    "config-int-values": ["CONFIG SET hz abc", "CONFIG SET hz 05", "CONFIG SET hz +5",
                          "CONFIG SET hz -1", "CONFIG SET hz 5.0", "CONFIG SET hz ''",
                          "CONFIG SET port 70000", "CONFIG SET timeout -1",
                          "CONFIG SET slowlog-log-slower-than -5", "CONFIG SET maxclients 0",
                          "CONFIG SET active-expire-effort 11", "CONFIG SET lfu-log-factor -1",
                          "CONFIG SET hz 15", "CONFIG GET hz", "CONFIG SET hz 10"],
    "config-memory-values": ["CONFIG SET maxmemory abc", "CONFIG SET maxmemory -1",
                             "CONFIG SET maxmemory 1.5gb", "CONFIG SET maxmemory +5",
                             "CONFIG SET maxmemory 0x10", "CONFIG SET maxmemory '1 '",
                             "CONFIG SET maxmemory 1k", "CONFIG GET maxmemory",
                             "CONFIG SET maxmemory 1KB", "CONFIG GET maxmemory",
                             "CONFIG SET maxmemory 3gB", "CONFIG GET maxmemory",
                             "CONFIG SET maxmemory 05", "CONFIG GET maxmemory",
                             "CONFIG SET maxmemory ''", "CONFIG GET maxmemory",
                             "CONFIG SET maxmemory 18446744073709551616", "CONFIG GET maxmemory",
                             "CONFIG SET maxmemory 99999999999gb", "CONFIG GET maxmemory",
                             "CONFIG SET proto-max-bulk-len 10",
                             "CONFIG SET proto-max-bulk-len 18446744073709551615",
                             "CONFIG SET client-query-buffer-limit 0",
                             "CONFIG SET maxmemory 0"],
    "config-percent": ["CONFIG SET maxmemory-clients 5%", "CONFIG GET maxmemory-clients",
                       "CONFIG SET maxmemory-clients 101%", "CONFIG SET maxmemory-clients -1%",
                       "CONFIG SET maxmemory-clients abc", "CONFIG SET maxmemory-clients 1mb",
                       "CONFIG GET maxmemory-clients", "CONFIG SET maxmemory-clients 0"],
    "config-bool-enum": ["CONFIG SET appendonly maybe", "CONFIG SET loglevel foo",
                         "CONFIG SET loglevel WARNING", "CONFIG GET loglevel",
                         "CONFIG SET loglevel notice", "CONFIG SET maxmemory-policy LRU",
                         "CONFIG SET maxmemory-policy ''", "CONFIG SET appendfsync NEVER",
                         "CONFIG SET repl-diskless-load x", "CONFIG SET sanitize-dump-payload x",
                         "CONFIG SET acl-pubsub-default x", "CONFIG SET replica-read-only NO",
                         "CONFIG GET slave-read-only", "CONFIG SET slave-read-only yes",
                         "CONFIG SET lazyfree-lazy-user-flush x"],
    "config-notify": ["CONFIG SET notify-keyspace-events Z", "CONFIG SET notify-keyspace-events KEA",
                      "CONFIG GET notify-keyspace-events",
                      "CONFIG SET notify-keyspace-events 'mndtexzhsl$gEK'",
                      "CONFIG GET notify-keyspace-events",
                      "CONFIG SET notify-keyspace-events ndtx", "CONFIG GET notify-keyspace-events",
                      "CONFIG SET notify-keyspace-events KEtn", "CONFIG GET notify-keyspace-events",
                      "CONFIG SET notify-keyspace-events mE", "CONFIG GET notify-keyspace-events",
                      "CONFIG SET notify-keyspace-events ''", "CONFIG GET notify-keyspace-events"],
    "config-save": ["CONFIG SET save abc", "CONFIG SET save '3600 1 300'",
                    "CONFIG SET save '0 0'", "CONFIG SET save '-1 1'", "CONFIG SET save '  '",
                    "CONFIG SET save '3600  1 300 100'", "CONFIG GET save",
                    "CONFIG SET save ''", "CONFIG GET save"],
    "config-output-buffer-limit": [
        "CONFIG SET client-output-buffer-limit abc",
        "CONFIG SET client-output-buffer-limit 'foo 1 2 3'",
        "CONFIG SET client-output-buffer-limit 'normal 1 2'",
        "CONFIG SET client-output-buffer-limit 'normal -1 0 0'",
        "CONFIG SET client-output-buffer-limit 'normal 1gb 1 -1'",
        "CONFIG SET client-output-buffer-limit 'master 1 2 3'",
        "CONFIG SET client-output-buffer-limit 'normal 1mb 2mb 3 Pubsub 1 2 3'",
        "CONFIG GET client-output-buffer-limit",
        "CONFIG SET client-output-buffer-limit 'replica 5 5 5'",
        "CONFIG GET client-output-buffer-limit",
        "CONFIG SET client-output-buffer-limit "
        "'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60'",
        "CONFIG GET client-output-buffer-limit",
    ],
    "config-shutdown-flags": [
        "CONFIG SET shutdown-on-sigint bad", "CONFIG SET shutdown-on-sigint ''",
        "CONFIG SET shutdown-on-sigint 'save nosave'",
        "CONFIG SET shutdown-on-sigint 'force now save'", "CONFIG GET shutdown-on-sigint",
        "CONFIG SET shutdown-on-sigint 'default now'", "CONFIG GET shutdown-on-sigint",
        "CONFIG SET shutdown-on-sigint default", "CONFIG GET shutdown-on-sigint",
    ],
    "config-percentiles": [
        "CONFIG SET latency-tracking-info-percentiles '50 200'",
        "CONFIG SET latency-tracking-info-percentiles a",
        "CONFIG SET latency-tracking-info-percentiles '50 99.5 12.3456789 0 100 1.0000001'",
        "CONFIG GET latency-tracking-info-percentiles",
        "CONFIG SET latency-tracking-info-percentiles '50 99 99.9'",
    ],
    "config-get-exact-names": ["CONFIG GET MAXMEMORY", "CONFIG GET slave-read-only",
                               "CONFIG GET lua-time-limit", "CONFIG GET no-such",
                               "CONFIG GET zzz*", "CONFIG GET 'hz' 'hz'"],
    "config-resetstat": ["CONFIG RESETSTAT"],
    "config-rewrite-no-file": ["CONFIG REWRITE"],
    "time-lastsave-monitor-arity": ["TIME x", "LASTSAVE x", "MONITOR x"],
    "info-unknown-section": ["INFO nosuchsection", "INFO nosuch other"],
    "slowlog-errors": ["SLOWLOG", "SLOWLOG FOO", "SLOWLOG GET abc", "SLOWLOG GET -2",
                       "SLOWLOG GET 1 2", "SLOWLOG LEN x", "SLOWLOG RESET x", "SLOWLOG HELP x",
                       "SLOWLOG RESET", "SLOWLOG GET 0"],
    "latency-errors": ["LATENCY", "LATENCY FOO", "LATENCY HISTORY", "LATENCY HISTORY nosuch",
                       "LATENCY GRAPH nosuch", "LATENCY RESET nosuch", "LATENCY LATEST x",
                       "LATENCY DOCTOR x", "LATENCY HELP x", "LATENCY RESET", "LATENCY LATEST"],
    "shutdown-errors": ["SHUTDOWN foo", "SHUTDOWN abort", "SHUTDOWN abort now",
                        "SHUTDOWN save nosave", "SHUTDOWN nosave nosave abort"],
    "debug-errors": ["DEBUG", "DEBUG nosuch", "DEBUG sleep", "DEBUG object",
                     "DEBUG object a b", "DEBUG set-active-expire", "DEBUG log",
                     "DEBUG change-repl-id x", "DEBUG quicklist-packed-threshold",
                     "DEBUG jmap", "DEBUG help x", "DEBUG error", "DEBUG protocol"],
    "debug-simple": ["DEBUG SLEEP 0", "DEBUG SLEEP abc", "DEBUG SET-ACTIVE-EXPIRE 1",
                     "DEBUG SET-ACTIVE-EXPIRE x", "DEBUG SET-ACTIVE-EXPIRE 1",
                     "DEBUG CHANGE-REPL-ID", "DEBUG LOG hello",
                     "DEBUG QUICKLIST-PACKED-THRESHOLD abc", "DEBUG QUICKLIST-PACKED-THRESHOLD 4gb",
                     "DEBUG QUICKLIST-PACKED-THRESHOLD 0", "DEBUG RELOAD bad",
                     "DEBUG OBJECT missing", "DEBUG ERROR foo", "DEBUG ERROR 'ERR bar'",
                     "DEBUG PAUSE-CRON 0"],
    "debug-populate": ["SET key:1 mine", "DEBUG POPULATE 3", "MGET key:0 key:1 key:2",
                       "DEBUG POPULATE 2 p 10", "GET p:1", "DEBUG POPULATE 1 q 2", "GET q:0",
                       "DEBUG POPULATE -1", "DEBUG POPULATE abc", "DBSIZE"],
    "debug-protocol": [f"DEBUG PROTOCOL {kind}" for kind in (
        "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib",
        "push", "verbatim", "true", "false", "foo")],
}
# fmt: on


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_same_replies_as_redis(
    servers: tuple[ServerProcess, ServerProcess], name: str, resp: int
) -> None:
    redis_proc, ours = servers
    commands = CASES[name]
    expected = run_case(redis_proc, commands, resp)
    got = run_case(ours, commands, resp)
    for command, want, have in zip(commands, expected, got, strict=True):
        assert have == want, f"{name}: {command}"


# -- the parameter list --------------------------------------------------------------------------

# Parameters damselfly does not have: TLS, cluster mode, replication sources and process
# plumbing it has no equivalent for (see docs/configuration.md).
EXPECTED_MISSING = {
    "aof_rewrite_cpulist", "bgsave_cpulist", "bio_cpulist", "server_cpulist", "bind-source-addr",
    "disable-thp", "ignore-warnings", "io-threads", "io-threads-do-reads", "jemalloc-bg-thread",
    "oom-score-adj", "oom-score-adj-values", "proc-title-template", "set-proc-title",
    "replicaof", "slaveof", "socket-mark-id", "supervised", "syslog-enabled", "syslog-facility",
    "syslog-ident",
    "cluster-allow-pubsubshard-when-down", "cluster-allow-reads-when-down",
    "cluster-allow-replica-migration", "cluster-announce-bus-port", "cluster-announce-hostname",
    "cluster-announce-ip", "cluster-announce-port", "cluster-announce-tls-port",
    "cluster-config-file", "cluster-link-sendbuf-limit", "cluster-migration-barrier",
    "cluster-node-timeout", "cluster-port", "cluster-preferred-endpoint-type",
    "cluster-replica-no-failover", "cluster-replica-validity-factor",
    "cluster-require-full-coverage", "cluster-slave-no-failover", "cluster-slave-validity-factor",
    "tls-auth-clients", "tls-ca-cert-dir", "tls-ca-cert-file", "tls-cert-file", "tls-ciphers",
    "tls-ciphersuites", "tls-client-cert-file", "tls-client-key-file",
    "tls-client-key-file-pass", "tls-cluster", "tls-dh-params-file", "tls-key-file",
    "tls-key-file-pass", "tls-port", "tls-prefer-server-ciphers", "tls-protocols",
    "tls-replication", "tls-session-cache-size", "tls-session-cache-timeout",
    "tls-session-caching",
}  # fmt: skip

# Defaults damselfly changes on purpose (bind: loopback only; enable-debug-command: the test
# hooks need DEBUG on loopback), or that depend on the process (port, dir; start_redis names
# the oracle's dump file).
DELIBERATELY_DIFFERENT = {"bind", "enable-debug-command", "port", "dir", "dbfilename"}


def config_everything(proc: ServerProcess) -> dict[str, str]:
    client = proc.client(decode_responses=True)
    try:
        return dict(client.config_get("*"))
    finally:
        client.close()


def test_parameters_are_those_of_redis_minus_a_known_list() -> None:
    redis_proc = start_redis()
    ours = start_damselfly()
    try:
        theirs = config_everything(redis_proc)
        mine = config_everything(ours)
    finally:
        redis_proc.stop()
        ours.stop()
    assert set(mine) - set(theirs) == set()
    assert set(theirs) - set(mine) == EXPECTED_MISSING
    different = {
        name: (mine[name], theirs[name])
        for name in mine
        if mine[name] != theirs[name] and name not in DELIBERATELY_DIFFERENT
    }
    assert different == {}


# -- INFO ----------------------------------------------------------------------------------------


def info_field_names(proc: ServerProcess, section: str) -> list[str]:
    conn = proc.raw()
    try:
        reply = conn.request(encode_command("INFO", section))
    finally:
        conn.close()
    body = reply.split(b"\r\n", 1)[1].decode()
    return [line.split(":", 1)[0] for line in body.split("\r\n") if line and ":" in line]


@pytest.mark.parametrize(
    "section",
    ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster"],
)
def test_info_sections_have_every_redis_field_in_redis_order(
    servers: tuple[ServerProcess, ServerProcess], section: str
) -> None:
    redis_proc, ours = servers
    theirs = info_field_names(redis_proc, section)
    mine = info_field_names(ours, section)
    # damselfly adds damselfly_version and python_version; everything else is Redis's, in order.
    assert [name for name in mine if name in theirs] == theirs


@pytest.mark.parametrize(
    "args", [(), ("all",), ("everything",), ("default",), ("keyspace", "server")]
)
def test_info_section_headers_match_redis(
    servers: tuple[ServerProcess, ServerProcess], args: tuple[str, ...]
) -> None:
    def heads(proc: ServerProcess) -> list[bytes]:
        conn = proc.raw()
        try:
            reply = conn.request(encode_command("INFO", *args))
        finally:
            conn.close()
        return [line for line in reply.split(b"\r\n") if line.startswith(b"# ")]

    redis_proc, ours = servers
    assert heads(ours) == heads(redis_proc)


# -- MONITOR and SLOWLOG shapes ------------------------------------------------------------------


def monitor_lines(proc: ServerProcess, commands: list[tuple[str, ...]]) -> list[bytes]:
    monitor = proc.raw()
    client = proc.raw()
    try:
        assert monitor.request(encode_command("MONITOR")) == b"+OK\r\n"
        for command in commands:
            client.request(encode_command(*command))
        client.request(encode_command("PING", "end"))
        lines = []
        while True:
            line = monitor.read_reply()
            lines.append(
                re.sub(rb"^\+\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\]", rb"+T [\1 ADDR]", line)
            )
            if line.endswith(b'"PING" "end"\r\n'):
                return lines
    finally:
        monitor.close()
        client.close()


def test_monitor_lines_match_redis(servers: tuple[ServerProcess, ServerProcess]) -> None:
    commands = [
        ("SET", "k", 'a "q" \\ \n\r\t\x07\x08\x01'),
        ("GET", "k"),
        ("CONFIG", "GET", "hz"),
        ("SLOWLOG", "LEN"),
        ("AUTH", "someone", "secret"),
        ("HELLO", "2", "AUTH", "someone", "secret"),
        ("NOSUCHCOMMAND", "x"),
        ("GET",),
        ("INCR", "k"),
        ("ECHO", "\xe9"),
    ]
    redis_proc, ours = servers
    assert monitor_lines(ours, commands) == monitor_lines(redis_proc, commands)


def slowlog_shape(proc: ServerProcess) -> list[object]:
    conn = proc.raw()
    try:
        conn.request(encode_command("CONFIG", "SET", "slowlog-log-slower-than", "0"))
        conn.request(encode_command("SLOWLOG", "RESET"))
        conn.request(encode_command("CLIENT", "SETNAME", "diff"))
        conn.request(encode_command("RPUSH", "slowdiff", *[str(i) for i in range(40)]))
        conn.request(encode_command("SET", "slowdiff2", "x" * 200))
        conn.request(encode_command("CONFIG", "SET", "masterauth", "secret"))
        conn.request(encode_command("CONFIG", "SET", "masterauth", ""))
        conn.request(encode_command("CONFIG", "SET", "slowlog-log-slower-than", "10000"))
        reply = conn.request(encode_command("SLOWLOG", "GET", "-1"))
        conn.request(encode_command("DEL", "slowdiff", "slowdiff2"))
        conn.request(encode_command("SLOWLOG", "RESET"))
    finally:
        conn.close()
    # Mask id, time, duration and the client port; keep arguments and names.
    return [re.sub(rb":\d+\r\n", b":N\r\n", re.sub(rb"127\.0\.0\.1:\d+", b"ADDR", reply))]


def test_slowlog_entries_match_redis(servers: tuple[ServerProcess, ServerProcess]) -> None:
    redis_proc, ours = servers
    assert slowlog_shape(ours) == slowlog_shape(redis_proc)


# -- the command line and the config file --------------------------------------------------------


def startup_error(argv: list[str]) -> tuple[int, str]:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - the server started: a test bug
        pytest.fail(f"{argv} started instead of failing")
    text = result.stderr.replace(f"(damselfly {__version__})", "(VERSION)")
    text = re.sub(r"\(Redis [\d.]+\)", "(VERSION)", text)
    return result.returncode, text


@pytest.mark.parametrize(
    "args",
    [
        ["--hz", "abc"],
        ["--port", "7000", "--no-such-option", "x"],
        ["--port", "7000", "--hz", "1", "--hz"],
        ["--port", "7000", "extra"],
        ["--daemonize", "maybe"],
        ["--save", "10"],
        ["--maxmemory", "lots"],
        ["--notify-keyspace-events", "Z"],
        ["--client-output-buffer-limit", "normal", "1"],
        ["--save", "--hz", "5", "--hz", "abc"],
        ["FILE:# comment\n\nport 0\nmaxmemory lots\n"],
        ['FILE:requirepass "unbalanced\n'],
        ["FILE:hz 5\n", "--foo", "1", "2"],
    ],
)
def test_fatal_config_errors_match_redis(args: list[str]) -> None:
    path = redis_server_path()
    assert path is not None
    argv = list(args)
    if argv[0].startswith("FILE:"):
        conf = os.path.join(tempfile.mkdtemp(prefix="dfly-diff-"), "x.conf")
        with open(conf, "w") as f:
            f.write(argv[0][5:])
        argv[0] = conf
    theirs = startup_error([path, *argv])
    mine = startup_error([sys.executable, "-m", "damselfly", *argv])
    assert theirs[0] == 1
    assert mine == theirs


REWRITE_CONF = """# top comment
save 900 1
save 300 10
hz 15
slave-read-only yes
maxmemory 10mb
loglevel notice

# trailing comment
"""

REWRITE_SETS = [
    ("hz", "10"),
    ("save", "3600 1"),
    ("maxmemory", "2gb"),
    ("notify-keyspace-events", "KEA"),
    ("client-output-buffer-limit", "normal 1mb 0 0"),
    ("maxmemory-clients", "5%"),
    ("slowlog-max-len", "1000"),
    ("busy-reply-threshold", "6000"),
    ("proto-max-bulk-len", "1000000000"),
    ("shutdown-on-sigint", "nosave now"),
    ("latency-tracking-info-percentiles", "50 99.5"),
    ("requirepass", 'a b"c'),
]


def rewritten(executable: list[str]) -> list[str]:
    directory = tempfile.mkdtemp(prefix="dfly-rewrite-")
    conf = os.path.join(directory, "r.conf")
    with open(conf, "w") as f:
        f.write(REWRITE_CONF)
    port = free_port()
    proc = ServerProcess("x", [*executable, conf, "--port", str(port)], port)
    try:
        conn = RawConnection("127.0.0.1", port)
        for name, value in REWRITE_SETS:
            assert conn.request(encode_command("CONFIG", "SET", name, value)) == b"+OK\r\n"
        conn.request(encode_command("AUTH", 'a b"c'))
        assert conn.request(encode_command("CONFIG", "REWRITE")) == b"+OK\r\n"
        conn.send(encode_command("SHUTDOWN", "NOSAVE"))
        conn.read_all_until_close()
        conn.close()
    finally:
        proc.stop()
    with open(conf) as f:
        lines = f.read().splitlines()
    shutil.rmtree(directory, ignore_errors=True)
    # Redis always writes its working directory and the ACL default user; damselfly writes a
    # directory only when it was configured and has no ACL file format yet.
    kept = [line for line in lines if not line.startswith(("dir ", "user "))]
    return ["port PORT" if line == f"port {port}" else line for line in kept]


def test_config_rewrite_writes_the_same_file_as_redis() -> None:
    path = redis_server_path()
    assert path is not None
    theirs = rewritten([path])
    mine = rewritten([sys.executable, "-m", "damselfly"])
    marker = "# Generated by CONFIG REWRITE"
    head_theirs, tail_theirs = theirs[: theirs.index(marker)], theirs[theirs.index(marker) :]
    head_mine, tail_mine = mine[: mine.index(marker)], mine[mine.index(marker) :]
    assert head_mine == head_theirs
    # Redis appends new lines in its hash-table order; compare them as a set.
    assert sorted(tail_mine) == sorted(tail_theirs)
