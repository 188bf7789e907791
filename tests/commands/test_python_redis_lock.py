"""python-redis-lock (the `redis_lock` package) against damselfly: a third-party lock library
that waits for its lock by sleeping in BLPOP on a signal list instead of polling.

Acquiring is SET NX EX; releasing, extending and resetting are Lua scripts (EVALSHA, loaded on
first use) that delete the lock and push to `lock-signal:<name>` in one step, which is what
wakes a waiter blocked in BLPOP. Every test goes through the library itself.
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


def test_release_deletes_the_lock_and_signals_waiters(
    r: redis.Redis, clients: list[redis.Redis]
) -> None:
    lock = redis_lock.Lock(clients[0], "job", expire=30, signal_expire=5000)
    assert lock.acquire(blocking=False)
    lock.release()
    assert r.exists("lock:job") == 0
    assert r.lrange("lock-signal:job", 0, -1) == [b"1"]
    assert 0 < r.pttl("lock-signal:job") <= 5000
    with pytest.raises(redis_lock.NotAcquired):
        lock.release()


def test_a_waiter_sleeps_in_blpop_and_wakes_when_the_holder_releases(
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
    holder.release()
    thread.join(10)
    assert result == {"acquired": True}
    assert time.monotonic() - started < 2  # woken by the release's push, not by a timeout
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


def test_release_of_a_lock_taken_over_by_another_owner_leaves_it_alone(
    r: redis.Redis, clients: list[redis.Redis]
) -> None:
    first = redis_lock.Lock(clients[0], "job", expire=30)
    assert first.acquire(blocking=False)
    assert r.pexpireat("lock:job", 1)  # first's lock runs out
    second = redis_lock.Lock(clients[1], "job", expire=30)
    assert second.acquire(blocking=False)
    with pytest.raises(redis_lock.NotAcquired):
        first.release()
    assert r.get("lock:job") == second.id.encode()


def test_extend_renews_the_expiry_of_a_held_lock_only(
    r: redis.Redis, clients: list[redis.Redis]
) -> None:
    lock = redis_lock.Lock(clients[0], "job", expire=30)
    assert lock.acquire(blocking=False)
    r.expire("lock:job", 5)  # as if 25 s had passed
    lock.extend()
    assert 25 < r.ttl("lock:job") <= 30
    lock.extend(expire=100)
    assert 95 < r.ttl("lock:job") <= 100
    r.persist("lock:job")
    with pytest.raises(redis_lock.NotExpirable):
        lock.extend()
    r.delete("lock:job")
    with pytest.raises(redis_lock.NotAcquired):
        lock.extend()


def test_reset_all_breaks_every_lock_and_signals_it(
    r: redis.Redis, clients: list[redis.Redis]
) -> None:
    for name in ("a", "b"):
        assert redis_lock.Lock(clients[0], name, expire=30).acquire(blocking=False)
    r.set("unrelated", "v")
    redis_lock.reset_all(clients[1])
    assert sorted(r.keys("*")) == [b"lock-signal:a", b"lock-signal:b", b"unrelated"]
