"""The `damselfly` command line: --help/--version, config files in redis.conf syntax, options,
standard input, `include`, the FATAL CONFIG FILE ERROR block and its exit code, and serving on a
unix socket only. Everything runs the real entry point in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import pytest
import redis

from damselfly import REDIS_VERSION, __version__
from damselfly.cli import options_text
from tests.servers import ServerProcess, free_port

DAMSELFLY = [sys.executable, "-m", "damselfly"]


def run(*args: str, stdin: str = "", timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DAMSELFLY, *args], input=stdin, capture_output=True, text=True, timeout=timeout
    )


def write_conf(text: str) -> str:
    directory = tempfile.mkdtemp(prefix="dfly-cli-")
    path = os.path.join(directory, "damselfly.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def fatal(line_number: int, line: str, reason: str) -> str:
    return (
        f"\n*** FATAL CONFIG FILE ERROR (damselfly {__version__}) ***\n"
        f"Reading the configuration file, at line {line_number}\n"
        f">>> '{line}'\n{reason}\n"
    )


# -- --version, --help ---------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-v"])
def test_version_prints_both_versions_and_exits_zero(flag: str) -> None:
    result = run(flag)
    assert result.returncode == 0
    assert result.stdout == f"damselfly v={__version__} redis_version={REDIS_VERSION} bits=64\n"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_and_exits_zero(flag: str) -> None:
    result = run(flag)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: damselfly [/path/to/damselfly.conf] [options] [-]")
    assert "--port 7777" in result.stdout


# -- bad configuration ---------------------------------------------------------------------------


def test_unknown_option_is_a_fatal_config_error() -> None:
    result = run("--port", "0", "--no-such-option", "x")
    assert result.returncode == 1
    assert result.stderr == fatal(
        3, 'no-such-option "x"', "Bad directive or wrong number of arguments"
    )


def test_invalid_value_names_the_option_line() -> None:
    result = run("--hz", "abc")
    assert result.returncode == 1
    assert result.stderr == fatal(2, 'hz "abc"', "argument couldn't be parsed into an integer")


def test_option_without_a_value_is_a_wrong_number_of_arguments() -> None:
    result = run("--port", "0", "--hz", "1", "--hz")
    assert result.returncode == 1
    assert result.stderr == fatal(4, "hz", "wrong number of arguments")


def test_extra_word_after_a_value_is_a_wrong_number_of_arguments() -> None:
    result = run("--port", "7000", "extra")
    assert result.returncode == 1
    assert result.stderr == fatal(2, 'port "7000" "extra"', "wrong number of arguments")


def test_bad_line_in_a_config_file_is_reported_with_its_line_number() -> None:
    path = write_conf("# a comment\n\nport 0\nmaxmemory lots\n")
    result = run(path)
    assert result.returncode == 1
    assert result.stderr == fatal(4, "maxmemory lots", "argument must be a memory value")


def test_unbalanced_quotes_in_a_config_file() -> None:
    path = write_conf('requirepass "unbalanced\n')
    result = run(path)
    assert result.returncode == 1
    assert result.stderr == fatal(
        1, 'requirepass "unbalanced', "Unbalanced quotes in configuration line"
    )


def test_missing_config_file_is_fatal() -> None:
    result = run("/nonexistent/damselfly.conf")
    assert result.returncode == 1
    assert result.stderr == (
        "Fatal error, can't open config file '/nonexistent/damselfly.conf': "
        "No such file or directory\n"
    )


def test_daemonize_yes_is_refused() -> None:
    result = run("--daemonize", "yes")
    assert result.returncode == 1
    assert "damselfly does not daemonize" in result.stderr


def test_save_alone_on_the_command_line_means_no_snapshots() -> None:
    assert options_text(["--save"]) == 'save ""'
    assert options_text(["--save", "--port", "1"]) == 'save ""\nport "1" '
    assert options_text(["--requirepass", "--tricky"]) == 'requirepass "--tricky" '
    assert options_text(["--bind", "a b", "c"]) == 'bind "a b" "c" '


# -- config sources that start a server ----------------------------------------------------------


def start(*args: str, port: int) -> ServerProcess:
    return ServerProcess("damselfly", [*DAMSELFLY, *args], port)


def test_config_file_values_apply_and_command_line_overrides_them() -> None:
    port = free_port()
    path = write_conf(
        f'port {port}\nbind 127.0.0.1\nhz 20\nmaxmemory 10mb\nrequirepass "s3cret pass"\n'
        "notify-keyspace-events KEA\nsave 900 1\nsave 300 10\n"
    )
    proc = start(path, "--hz", "30", port=port)
    try:
        r = proc.client(password="s3cret pass")
        assert r.config_get("hz") == {"hz": "30"}
        assert r.config_get("maxmemory") == {"maxmemory": "10485760"}
        assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
        assert r.config_get("save") == {"save": "900 1 300 10"}
        assert r.info("server")["config_file"] == path
    finally:
        proc.stop()


def test_config_can_come_from_standard_input_and_include_other_files() -> None:
    port = free_port()
    included = write_conf("hz 25\n")
    proc_args = [*DAMSELFLY, "-"]
    popen = subprocess.Popen(
        proc_args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert popen.stdin is not None
    popen.stdin.write(f"port {port}\nbind 127.0.0.1\ninclude {included}\n".encode())
    popen.stdin.close()
    try:
        deadline = time.monotonic() + 15
        client = redis.Redis(port=port)
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert popen.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        assert client.config_get("hz") == {"hz": "25"}
        client.close()
    finally:
        popen.terminate()
        assert popen.wait(10) == 0


def listening_tcp_sockets(pid: int) -> int:
    """How many TCP sockets in LISTEN state process `pid` holds (Linux /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if cols[3] == "0A" and cols[9] in inodes:
                count += 1
    return count


def test_port_zero_with_a_unix_socket_serves_only_the_socket() -> None:
    directory = tempfile.mkdtemp(prefix="dfly-cli-")
    sock = os.path.join(directory, "damselfly.sock")
    popen = subprocess.Popen(
        [*DAMSELFLY, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while not os.path.exists(sock):
            assert popen.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        client = redis.Redis(unix_socket_path=sock)
        assert client.set("k", "v")
        assert client.get("k") == b"v"
        assert client.config_get("port") == {"port": "0"}
        assert client.info("server")["tcp_port"] == 0
        assert oct(os.stat(sock).st_mode & 0o777) == "0o700"
        if sys.platform.startswith("linux"):
            assert listening_tcp_sockets(popen.pid) == 0
        client.close()
    finally:
        popen.terminate()
        assert popen.wait(10) == 0
    assert not os.path.exists(sock)


def test_without_any_listener_the_server_exits_with_an_error() -> None:
    result = run("--port", "0")
    assert result.returncode == 1
    assert "Configured to not listen anywhere, exiting." in result.stdout
