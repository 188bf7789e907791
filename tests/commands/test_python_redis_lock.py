"""python-redis-lock (the `redis_lock` package) against damselfly: a third-party lock library
that waits for its lock by sleeping in BLPOP on a signal list instead of polling.

Acquiring (SET NX EX), waiting (BLPOP on `lock-signal:<name>`) and taking over an expired lock
work today. The library releases and extends through Lua scripts (EVALSHA/EVAL), which arrive
with the scripting issue (issue 3); until then a release through the library fails, and the
test for it is a strict xfail that will start failing, as a reminder, once EVAL exists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis
import redis_lock

from tests.servers import ServerProcess


@pytest.fixture
def clients(server: ServerProcess, r: redis.Redis) -> Iterator[list[redis.Redis]]:
    made = [server.client() for _ in range(2)]
    yield made
    for client in made:
        client.close()


def wait_until_blocked_in_blpop(r: redis.Redis, deadline_s: float = 5.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if any(c.get("cmd") == "blpop" and "b" in c.get("flags", "") for c in r.client_list()):
            return
        time.sleep(0.01)
    raise AssertionError("the waiter never blocked in BLPOP")


def test_a_second_lock_cannot_take_a_held_lock(r: redis.Redis, clients: list[redis.Redis]) -> None:
    first = redis_lock.Lock(clients[0], "job", expire=30)
    second = redis_lock.Lock(clients[1], "job", expire=30)
    assert first.acquire(blocking=False)
    assert not second.acquire(blocking=False)
    assert r.get("lock:job") == first.id.encode()
    assert 0 < r.ttl("lock:job") <= 30


def test_a_waiter_sleeps_in_blpop_and_wakes_when_the_lock_is_signalled(
    r: redis.Redis, clients: list[redis.Redis]
) -> None:
    holder = redis_lock.Lock(clients[0], "job", expire=30)
    waiter = redis_lock.Lock(clients[1], "job", expire=30)
    assert holder.acquire(blocking=False)
    result: dict[str, bool] = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("acquired", waiter.acquire(blocking=True, timeout=20))
    )
    thread.start()
    wait_until_blocked_in_blpop(r)
    started = time.monotonic()
    # What the library's unlock script does atomically (the script itself needs EVAL); done
    # step by step, the lock must go before the signal, or the woken waiter finds it still held.
    r.delete("lock:job")
    r.delete("lock-signal:job")
    r.lpush("lock-signal:job", 1)
    r.pexpire("lock-signal:job", 1000)
    thread.join(10)
    assert result == {"acquired": True}
    assert time.monotonic() - started < 2  # woken by the push, not by a timeout
    assert r.get("lock:job") == waiter.id.encode()


def test_a_waiter_takes_over_when_the_holder_dies_and_its_lock_expires(
    r: redis.Redis, clients: list[redis.Redis]
) -> None:
    # Real time is the point here: the library's BLPOP times out after `expire` seconds.
    dead_holder = redis_lock.Lock(clients[0], "job", expire=1)
    waiter = redis_lock.Lock(clients[1], "job", expire=1)
    assert dead_holder.acquire(blocking=False)
    started = time.monotonic()
    assert waiter.acquire(blocking=True)
    assert 0.5 < time.monotonic() - started < 5
    assert r.get("lock:job") == waiter.id.encode()


@pytest.mark.xfail(strict=True, raises=redis.ResponseError, reason="needs EVAL (issue 3)")
def test_release_through_the_library(r: redis.Redis, clients: list[redis.Redis]) -> None:
    lock = redis_lock.Lock(clients[0], "job", expire=30)
    assert lock.acquire(blocking=False)
    lock.release()
    assert r.exists("lock:job") == 0
