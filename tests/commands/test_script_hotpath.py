"""The script-call fast path (scripting/engine.py, prelude.py) keeps Redis's behaviour.

KEYS/ARGV are built in Lua from one varargs call, redis.call takes a shortcut for all-string
command lines and common replies, a run answers one value unless it failed, and the count hook
stays installed between runs. These tests pin what those shortcuts must not change: each case
runs on damselfly and on the real redis-server and the replies must be equal; the busy test
checks that the hook is back in its counting mode after a SCRIPT KILL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.servers import ServerProcess, encode_command, start_damselfly

SHAPE = "return {#KEYS, #ARGV, KEYS, ARGV}"


def _reply(client: redis.Redis, *args: Any) -> Any:
    try:
        return client.execute_command(*args)
    except redis.ResponseError as exc:
        return ("error", str(exc))


@pytest.fixture
def both(server: ServerProcess, redis_oracle: ServerProcess) -> Iterator[list[redis.Redis]]:
    clients = [server.client(protocol=2), redis_oracle.client(protocol=2)]
    for client in clients:
        client.flushall()
        client.script_flush()
    yield clients
    for client in clients:
        client.close()


def _same(clients: list[redis.Redis], *args: Any) -> Any:
    ours, theirs = (_reply(c, *args) for c in clients)
    assert ours == theirs, args
    return ours


@pytest.mark.parametrize(
    ("numkeys", "params"),
    [(0, []), (0, ["a", "b"]), (1, ["k", "a"]), (2, ["k1", "k2"]), (3, ["k1", "k2", "k3", "x"])],
)
def test_keys_and_argv_are_split_at_numkeys(
    both: list[redis.Redis], numkeys: int, params: list[str]
) -> None:
    reply = _same(both, "EVAL", SHAPE, numkeys, *params)
    assert reply[0] == numkeys and reply[1] == len(params) - numkeys
    sha = both[0].script_load(SHAPE)
    assert _same(both, "EVALSHA", sha, numkeys, *params) == reply


def test_a_script_changing_keys_does_not_leak_into_the_next_run(both: list[redis.Redis]) -> None:
    script = (
        "local before = tostring(KEYS[2]); KEYS[2] = 'changed'; ARGV[3] = 'x'; "
        "return {before, #ARGV}"
    )
    assert _same(both, "EVAL", script, 1, "k", "a") == [b"nil", 1]
    assert _same(both, "EVAL", script, 1, "k", "a") == [b"nil", 1]


def test_redis_call_converts_numbers_and_any_case_of_command_names(
    both: list[redis.Redis],
) -> None:
    _same(both, "EVAL", "return redis.call('SeT', KEYS[1], 12.5)", 1, "n")
    assert _same(both, "EVAL", "return redis.call('get', KEYS[1])", 1, "n") == b"12.5"
    assert _same(both, "EVAL", "return redis.call('INCRBY', KEYS[1], 3)", 1, "c") == 3
    assert _same(both, "EVAL", "return redis.call('get', 'missing')", 0) is None
    assert _same(both, "EVAL", "return redis.call('get', 'missing') == false", 0) == 1
    assert _same(both, "EVAL", "return redis.call('ping')", 0) == b"PONG"


@pytest.mark.parametrize(
    "script",
    [
        "return redis.call()",
        "return redis.call({})",
        "return redis.call('get', {})",
        "return redis.call('nosuchcommand')",
        "return redis.call('get')",
        "return redis.call('eval', 'return 1', 0)",
        "return redis.pcall('get')",
        "return redis.pcall('incr', KEYS[1])",
        "return {redis.pcall('incr', KEYS[1])['err']}",
        "return redis.call('incr', KEYS[1])",
        "return redis.error_reply('MY failure')",
        "error('plain')",
        "return 3.99",
        "return nil",
        "return false",
        "return true",
        "return {1, 'two', {3}}",
    ],
)
def test_replies_and_errors_match_redis(both: list[redis.Redis], script: str) -> None:
    for client in both:
        client.set("s", "not a number")
    _same(both, "EVAL", script, 1, "s")


def test_fcall_passes_keys_and_args_to_the_function(both: list[redis.Redis]) -> None:
    library = (
        "#!lua name=hot\n"
        "redis.register_function('shape', function(keys, args) "
        "return {#keys, #args, keys, args} end)"
    )
    for client in both:
        client.function_flush()
        client.function_load(library)
    assert _same(both, "FCALL", "shape", 2, "k1", "k2", "a") == [2, 1, [b"k1", b"k2"], [b"a"]]
    assert _same(both, "FCALL", "shape", 0) == [0, 0, [], []]
    for client in both:
        client.function_flush()


# -- the count hook after a kill -----------------------------------------------------------------

LOOP = "local i = 0 while true do i = i + 1 end"


def test_after_a_script_kill_the_next_long_script_is_busy_and_killable_again() -> None:
    proc = start_damselfly("--busy-reply-threshold", "100")
    try:
        caller, killer = proc.raw(), proc.raw()
        # Taken in by the event loop before any script runs (see test_script_busy.py).
        assert caller.request(encode_command("PING")) == b"+PONG\r\n"
        assert killer.request(encode_command("PING")) == b"+PONG\r\n"
        for _ in range(2):
            caller.send(encode_command("EVAL", LOOP, 0))
            time.sleep(0.3)  # past the 100 ms threshold: real time is the point here
            assert killer.request(encode_command("SCRIPT", "KILL")) == b"+OK\r\n"
            assert caller.read_reply().startswith(b"-ERR Script killed by user")
            # Short scripts in between run normally (no kill left pending in the hook).
            reply = caller.request(
                encode_command("EVAL", "local n = 0 for i = 1, 50000 do n = n + i end return n", 0)
            )
            assert reply == b":1250025000\r\n"
    finally:
        proc.stop()
