"""A script running past busy-reply-threshold: -BUSY for others, SCRIPT/FUNCTION KILL, UNKILLABLE,
SHUTDOWN NOSAVE. Real time is the point here, so this file sleeps (briefly).

Each test uses its own damselfly started with `--busy-reply-threshold 100`: a script that loops
forever makes the server serve the network from the Lua hook, and that server is stopped (or
shut down by the test) at the end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from tests.servers import RawConnection, ServerProcess, encode_command, start_damselfly

BUSY_EVAL = (
    b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
)
BUSY_FUNCTION = (
    b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
)
LOOP = "local i = 0 while true do i = i + 1 end"
LOOP_SHA = "3fcf51a9b854b8f66cb8685600b0d7df968f4398"  # sha1(LOOP)
# Past the 100 ms threshold with a margin for a loaded machine.
BUSY_AFTER_S = 0.3


@pytest.fixture
def busy_server() -> Iterator[ServerProcess]:
    proc = start_damselfly("--busy-reply-threshold", "100")
    yield proc
    proc.stop()


def _connected(server: ServerProcess) -> RawConnection:
    """A connection the server has taken in: one accepted in the same event-loop turn as a
    script starts is only set up (and served) once the script ends."""
    conn = server.raw()
    assert _request(conn, "PING") == b"+PONG\r\n"
    return conn


def _send(conn: RawConnection, *args: str | int) -> None:
    conn.send(encode_command(*args))


def _request(conn: RawConnection, *args: str | int) -> bytes:
    return conn.request(encode_command(*args))


def test_script_kill_from_a_new_connection_ends_a_busy_script(busy_server: ServerProcess) -> None:
    caller, other = _connected(busy_server), _connected(busy_server)
    assert _request(other, "SET", "k", "v") == b"+OK\r\n"
    _send(caller, "EVAL", LOOP, 0)
    time.sleep(BUSY_AFTER_S)
    assert _request(other, "GET", "k") == BUSY_EVAL
    assert _request(other, "PING") == BUSY_EVAL
    assert _request(other, "FUNCTION", "KILL") == BUSY_EVAL
    assert _request(other, "FUNCTION", "STATS") == BUSY_EVAL
    # A brand-new connection (what redis-cli does) is accepted and served while busy.
    fresh = busy_server.raw()
    assert _request(fresh, "GET", "k") == BUSY_EVAL
    assert _request(fresh, "SCRIPT", "KILL") == b"+OK\r\n"
    assert caller.read_reply() == (
        b"-ERR Script killed by user with SCRIPT KILL... script: " + LOOP_SHA.encode()
        + b", on @user_script:1.\r\n"
    )  # fmt: skip
    # Everyone is served normally afterwards, the new connection through the event loop.
    assert _request(other, "GET", "k") == b"$1\r\nv\r\n"
    assert _request(fresh, "GET", "k") == b"$1\r\nv\r\n"
    assert _request(caller, "GET", "k") == b"$1\r\nv\r\n"
    assert _request(fresh, "SCRIPT", "KILL") == b"-NOTBUSY No scripts in execution right now.\r\n"


def test_pipelined_commands_of_the_caller_wait_for_the_script(busy_server: ServerProcess) -> None:
    caller, killer = _connected(busy_server), _connected(busy_server)
    caller.send(encode_command("EVAL", LOOP, 0) + encode_command("PING"))
    time.sleep(BUSY_AFTER_S)
    assert _request(killer, "SCRIPT", "KILL") == b"+OK\r\n"
    assert caller.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL...")
    assert caller.read_reply() == b"+PONG\r\n"


def test_pcall_cannot_swallow_script_kill(busy_server: ServerProcess) -> None:
    caller, killer = _connected(busy_server), _connected(busy_server)
    _send(caller, "EVAL", "while true do pcall(function() local x = 1 end) end", 0)
    time.sleep(BUSY_AFTER_S)
    assert _request(killer, "SCRIPT", "KILL") == b"+OK\r\n"
    assert caller.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL...")


def test_connections_made_while_busy_keep_their_state(busy_server: ServerProcess) -> None:
    caller = _connected(busy_server)
    _send(caller, "EVAL", LOOP, 0)
    time.sleep(BUSY_AFTER_S)
    client = busy_server.client(protocol=3)  # HELLO 3 is allowed while busy
    with pytest.raises(redis.ResponseError, match="BUSY Redis is busy running a script"):
        client.get("k")
    client.script_kill()
    assert caller.read_reply().startswith(b"-ERR Script killed")
    client.set("k", "v")
    assert client.get("k") == b"v"
    assert client.execute_command("HELLO")[b"proto"] == 3
    client.close()


def test_function_kill_ends_a_busy_function(busy_server: ServerProcess) -> None:
    admin = busy_server.client()
    admin.function_load(f"#!lua name=slow\nredis.register_function('spin', function() {LOOP} end)")
    caller, other = _connected(busy_server), _connected(busy_server)
    _send(caller, "FCALL", "spin", 0)
    time.sleep(BUSY_AFTER_S)
    assert _request(other, "GET", "k") == BUSY_FUNCTION
    assert _request(other, "SCRIPT", "KILL") == BUSY_FUNCTION
    stats = _request(other, "FUNCTION", "STATS")
    assert b"running_script" in stats and b"spin" in stats and b"FCALL" in stats
    assert _request(other, "FUNCTION", "KILL") == b"+OK\r\n"
    assert caller.read_reply() == (
        b"-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n"
    )
    admin.close()


def test_script_that_wrote_is_unkillable_and_shutdown_nosave_exits(
    busy_server: ServerProcess,
) -> None:
    caller, other = _connected(busy_server), _connected(busy_server)
    _send(caller, "EVAL", f"redis.call('set', 'w', '1') {LOOP}", 0)
    time.sleep(BUSY_AFTER_S)
    assert _request(other, "SCRIPT", "KILL") == (
        b"-UNKILLABLE Sorry the script already executed write commands against the dataset. "
        b"You can either wait the script termination or kill the server in a hard way using "
        b"the SHUTDOWN NOSAVE command.\r\n"
    )
    assert _request(other, "SHUTDOWN") == BUSY_EVAL
    assert _request(other, "SHUTDOWN", "bogus") == b"-ERR syntax error\r\n"
    _send(other, "SHUTDOWN", "NOSAVE")
    assert busy_server.proc.wait(timeout=10) == 0
