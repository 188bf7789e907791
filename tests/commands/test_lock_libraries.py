"""Third-party lock libraries run unchanged against damselfly, and against redis-server as the
reference: redis-py's `Lock` and pottery's `Redlock` (one master, then a quorum of three).

Both libraries take a lock with SET NX PX and check, extend and release it with Lua scripts
(EVALSHA, falling back to SCRIPT LOAD), so everything but acquiring needs the scripting family.
Every test runs once per backend; a test that passes on redis-server and fails on damselfly is
a compatibility bug. Lock expiry is never waited for: an expired lock is made by giving the key
an absolute expiry time in the past (PEXPIREAT 1), which both servers honour at once, and time
passing is made by shortening the TTL (PEXPIRE).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
import redis
from pottery import ExtendUnlockedLock, Redlock, ReleaseUnlockedLock, TooManyExtensions
from redis.exceptions import LockError, LockNotOwnedError
from redis.lock import Lock

from tests.servers import ServerProcess, start_damselfly, start_redis

BACKENDS = ["redis", "damselfly"]
T = TypeVar("T")


def expire_now(client: redis.Redis, key: str) -> None:
    """Make `key` expire as if its time had run out (an absolute time long past)."""
    assert client.pexpireat(key, 1)
    assert client.exists(key) == 0


@pytest.fixture(params=BACKENDS)
def single(request: pytest.FixtureRequest) -> Iterator[redis.Redis]:
    """A client on a flushed server: redis-server (the reference) or damselfly."""
    proc: ServerProcess = request.getfixturevalue(
        "redis_oracle" if request.param == "redis" else "server"
    )
    client = proc.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def other(single: redis.Redis) -> Iterator[redis.Redis]:
    """A second connection to the same server as `single`, for a competing lock holder."""
    kwargs = single.connection_pool.connection_kwargs
    client = redis.Redis(host=kwargs["host"], port=kwargs["port"])
    yield client
    client.close()


@pytest.fixture(scope="module")
def trios() -> Iterator[dict[str, list[ServerProcess]]]:
    """Three independent servers of each kind, started on first use, for quorum tests."""
    started: dict[str, list[ServerProcess]] = {}
    yield started
    for procs in started.values():
        for proc in procs:
            proc.stop()


def trio_clients(
    request: pytest.FixtureRequest, trios: dict[str, list[ServerProcess]], kind: str
) -> list[redis.Redis]:
    if kind == "redis":
        request.getfixturevalue("redis_oracle")  # skips when redis-server is not installed
    if kind not in trios:
        start = start_redis if kind == "redis" else start_damselfly
        trios[kind] = [start() for _ in range(3)]
    clients = [proc.client() for proc in trios[kind]]
    for client in clients:
        client.flushall()
        request.addfinalizer(client.close)
    return clients


@pytest.fixture(
    params=[(kind, count) for kind in BACKENDS for count in (1, 3)],
    ids=lambda param: f"{param[0]}-{param[1]}-master{'s' if param[1] > 1 else ''}",
)
def masters(
    request: pytest.FixtureRequest, trios: dict[str, list[ServerProcess]]
) -> list[redis.Redis]:
    """The masters of a Redlock: one server, or a quorum of three, of either kind."""
    kind, count = request.param
    return trio_clients(request, trios, kind)[:count]


@pytest.fixture(params=BACKENDS)
def three(
    request: pytest.FixtureRequest, trios: dict[str, list[ServerProcess]]
) -> list[redis.Redis]:
    """Exactly three masters, for the tests about majorities."""
    return trio_clients(request, trios, request.param)


# -- redis-py's Lock -----------------------------------------------------------------------------


def test_redis_py_lock_acquires_with_a_token_and_a_ttl(single: redis.Redis) -> None:
    lock = single.lock("job", timeout=10)
    assert lock.acquire(blocking=False)
    token = single.get("job")
    assert token is not None and len(token) == 32  # a uuid4 hex
    assert 9_000 < single.pttl("job") <= 10_000
    assert lock.locked() and lock.owned()


def test_redis_py_lock_cannot_take_a_held_lock(single: redis.Redis, other: redis.Redis) -> None:
    holder = single.lock("job", timeout=10)
    assert holder.acquire(blocking=False)
    rival = other.lock("job", timeout=10)
    assert not rival.acquire(blocking=False)
    assert rival.locked() and not rival.owned()


def test_redis_py_lock_blocking_acquire_gives_up_after_its_timeout(
    single: redis.Redis, other: redis.Redis
) -> None:
    assert single.lock("job", timeout=10).acquire(blocking=False)
    started = time.monotonic()
    assert not other.lock("job", sleep=0.02).acquire(blocking_timeout=0.3)
    assert 0.25 < time.monotonic() - started < 2


def test_redis_py_lock_blocking_acquire_gets_the_lock_once_it_expires(
    single: redis.Redis, other: redis.Redis
) -> None:
    holder = single.lock("job", timeout=10)
    assert holder.acquire(blocking=False)
    # Not thread-local: the waiter acquires in a thread, and the test checks from this one.
    waiter = other.lock("job", timeout=10, sleep=0.02, thread_local=False)
    result: dict[str, bool] = {}
    thread = threading.Thread(target=lambda: result.update(got=waiter.acquire(blocking_timeout=5)))
    thread.start()
    time.sleep(0.1)  # let the waiter poll at least once while the lock is held
    expire_now(single, "job")
    thread.join(5)
    assert result == {"got": True}
    assert waiter.owned() and not holder.owned()


def test_redis_py_lock_release_deletes_only_its_own_lock(single: redis.Redis) -> None:
    lock = single.lock("job", timeout=10)
    assert lock.acquire(blocking=False)
    lock.release()
    assert single.exists("job") == 0
    with pytest.raises(LockError, match="not owned or is already unlocked"):
        lock.release()


def test_redis_py_lock_release_of_a_lock_someone_else_took_raises_not_owned(
    single: redis.Redis, other: redis.Redis
) -> None:
    first = single.lock("job", timeout=10)
    assert first.acquire(blocking=False)
    expire_now(single, "job")
    second = other.lock("job", timeout=10)
    assert second.acquire(blocking=False)
    with pytest.raises(LockNotOwnedError):
        first.release()
    assert second.owned()  # the other holder's lock survived
    second.release()
    assert single.exists("job") == 0


def test_redis_py_lock_extend_adds_to_the_remaining_time(single: redis.Redis) -> None:
    lock = single.lock("job", timeout=10)
    assert lock.acquire(blocking=False)
    single.pexpire("job", 2_000)  # as if 8 s had passed
    assert lock.extend(5)
    assert 6_000 < single.pttl("job") <= 7_000


def test_redis_py_lock_extend_with_replace_ttl_sets_the_remaining_time(
    single: redis.Redis,
) -> None:
    lock = single.lock("job", timeout=10)
    assert lock.acquire(blocking=False)
    assert lock.extend(30, replace_ttl=True)
    assert 29_000 < single.pttl("job") <= 30_000
    assert lock.extend(3, replace_ttl=True)
    assert 2_000 < single.pttl("job") <= 3_000


def test_redis_py_lock_extend_refuses_locks_it_does_not_hold(
    single: redis.Redis, other: redis.Redis
) -> None:
    unlocked = single.lock("job", timeout=10)
    with pytest.raises(LockError, match="Cannot extend an unlocked lock"):
        unlocked.extend(5)
    forever = single.lock("forever")
    assert forever.acquire(blocking=False)
    with pytest.raises(LockError, match="Cannot extend a lock with no timeout"):
        forever.extend(5)
    lost = single.lock("lost", timeout=10)
    assert lost.acquire(blocking=False)
    expire_now(single, "lost")
    assert other.lock("lost", timeout=10).acquire(blocking=False)
    with pytest.raises(LockNotOwnedError):
        lost.extend(5)


def test_redis_py_lock_reacquire_resets_the_ttl_to_the_timeout(single: redis.Redis) -> None:
    lock = single.lock("job", timeout=10)
    assert lock.acquire(blocking=False)
    single.pexpire("job", 1_000)
    assert lock.reacquire()
    assert 9_000 < single.pttl("job") <= 10_000


def test_redis_py_lock_reacquire_of_a_lock_someone_else_took_raises_not_owned(
    single: redis.Redis, other: redis.Redis
) -> None:
    lock = single.lock("job", timeout=10)
    assert lock.acquire(blocking=False)
    expire_now(single, "job")
    assert other.lock("job", timeout=10).acquire(blocking=False)
    with pytest.raises(LockNotOwnedError):
        lock.reacquire()


def test_redis_py_lock_as_a_context_manager_releases_on_exit(single: redis.Redis) -> None:
    with Lock(single, "job", timeout=10) as lock:
        assert lock.owned()
        assert single.exists("job") == 1
    assert single.exists("job") == 0


# -- pottery's Redlock -----------------------------------------------------------------------------

# pottery prefixes every key it uses.
KEY = "redlock:printer"


def settle(read: Callable[[], T], expected: T, timeout: float = 3.0) -> None:
    """Wait until `read()` gives `expected`. pottery returns as soon as a majority of masters
    answered and lets the other commands finish in background threads, so the last master may
    lag the call by a moment; this waits for those in-flight commands, never for an expiry."""
    deadline = time.monotonic() + timeout
    while read() != expected and time.monotonic() < deadline:
        time.sleep(0.005)
    assert read() == expected


def held_everywhere(masters: list[redis.Redis]) -> None:
    settle(lambda: [m.exists(KEY) for m in masters], [1] * len(masters))


def released_everywhere(masters: list[redis.Redis]) -> None:
    settle(lambda: [m.exists(KEY) for m in masters], [0] * len(masters))


def test_redlock_acquire_takes_the_key_on_every_master(masters: list[redis.Redis]) -> None:
    lock = Redlock(key="printer", masters=masters, auto_release_time=10)
    assert lock.acquire(blocking=False)
    held_everywhere(masters)
    assert len({m.get(KEY) for m in masters}) == 1  # one token everywhere
    assert all(9_000 < m.pttl(KEY) <= 10_000 for m in masters)
    assert 9 < lock.locked() <= 10


def test_redlock_release_deletes_the_key_everywhere_once(masters: list[redis.Redis]) -> None:
    lock = Redlock(key="printer", masters=masters, auto_release_time=10)
    assert lock.acquire(blocking=False)
    held_everywhere(masters)
    lock.release()
    released_everywhere(masters)
    assert lock.locked() == 0
    with pytest.raises(ReleaseUnlockedLock):
        lock.release()


def test_redlock_a_second_lock_cannot_take_a_held_lock(masters: list[redis.Redis]) -> None:
    holder = Redlock(key="printer", masters=masters, auto_release_time=10)
    assert holder.acquire(blocking=False)
    held_everywhere(masters)
    tokens = [m.get(KEY) for m in masters]
    rival = Redlock(key="printer", masters=masters, auto_release_time=10)
    assert not rival.acquire(blocking=False)
    assert rival.locked() == 0
    assert holder.locked() > 0
    # The rival's clean-up after failing (a release everywhere) took nothing of the holder's.
    assert [m.get(KEY) for m in masters] == tokens


def test_redlock_blocking_acquire_gives_up_after_its_timeout(masters: list[redis.Redis]) -> None:
    assert Redlock(key="printer", masters=masters, auto_release_time=10).acquire(blocking=False)
    held_everywhere(masters)
    rival = Redlock(key="printer", masters=masters, auto_release_time=10)
    started = time.monotonic()
    assert not rival.acquire(timeout=0.5)
    assert 0.45 < time.monotonic() - started < 3


def test_redlock_acquires_with_a_majority_of_masters(three: list[redis.Redis]) -> None:
    three[0].set(KEY, "someone-else", px=10_000)
    lock = Redlock(key="printer", masters=three, auto_release_time=10)
    assert lock.acquire(blocking=False)
    held_everywhere(three)
    assert three[0].get(KEY) == b"someone-else"
    assert three[1].get(KEY) == three[2].get(KEY) != b"someone-else"
    assert lock.locked() > 0
    lock.release()
    # Only its own keys go: the first master keeps the other owner's lock.
    settle(lambda: [m.exists(KEY) for m in three], [1, 0, 0])
    assert three[0].get(KEY) == b"someone-else"


def test_redlock_without_a_majority_fails_and_gives_back_what_it_took(
    three: list[redis.Redis],
) -> None:
    for m in three[:2]:
        m.set(KEY, "someone-else", px=10_000)
    lock = Redlock(key="printer", masters=three, auto_release_time=10)
    assert not lock.acquire(blocking=False)
    # The one master it did get is released again, by its release script.
    settle(lambda: [m.get(KEY) for m in three], [b"someone-else", b"someone-else", None])


def test_redlock_extend_renews_the_lease_up_to_its_limit(masters: list[redis.Redis]) -> None:
    lock = Redlock(key="printer", masters=masters, auto_release_time=10, num_extensions=2)
    assert lock.acquire(blocking=False)
    held_everywhere(masters)
    for m in masters:
        m.pexpire(KEY, 2_000)  # as if 8 s had passed
    assert 0 < lock.locked() <= 2
    lock.extend()
    settle(lambda: all(9_000 < m.pttl(KEY) <= 10_000 for m in masters), True)
    assert lock.locked() > 9
    lock.extend()
    with pytest.raises(TooManyExtensions):
        lock.extend()


def test_redlock_extend_of_an_expired_lock_raises(masters: list[redis.Redis]) -> None:
    lock = Redlock(key="printer", masters=masters, auto_release_time=10)
    assert lock.acquire(blocking=False)
    held_everywhere(masters)
    for m in masters:
        expire_now(m, KEY)
    with pytest.raises(ExtendUnlockedLock):
        lock.extend()
    assert [m.exists(KEY) for m in masters] == [0] * len(masters)


def test_redlock_release_leaves_a_lock_someone_else_took(masters: list[redis.Redis]) -> None:
    lock = Redlock(key="printer", masters=masters, auto_release_time=10)
    assert lock.acquire(blocking=False)
    held_everywhere(masters)
    for m in masters:
        expire_now(m, KEY)
    rival = Redlock(key="printer", masters=masters, auto_release_time=10)
    assert rival.acquire(blocking=False)
    held_everywhere(masters)
    with pytest.raises(ReleaseUnlockedLock):
        lock.release()
    assert rival.locked() > 0
    rival.release()
    released_everywhere(masters)


def test_redlock_as_a_context_manager_holds_the_lock_inside_only(
    masters: list[redis.Redis],
) -> None:
    lock = Redlock(key="printer", masters=masters, auto_release_time=10)
    with lock:
        assert lock.locked() > 0
        held_everywhere(masters)
        assert not Redlock(key="printer", masters=masters).acquire(blocking=False)
    released_everywhere(masters)
    assert lock.locked() == 0
