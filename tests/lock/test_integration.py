"""The lock library against real servers: redis-server and damselfly, one node and three.

Every test runs on both backends (the `servers` fixture). Expiry is never waited for: a lost
lease is simulated by deleting or overwriting the key, as a server restart or a takeover would.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis
import redis.asyncio as aredis

from damselfly.lock import (
    AsyncLock,
    AsyncRedlock,
    Lock,
    LockError,
    NotAcquired,
    NotOwned,
    Redlock,
)
from tests.lock.conftest import has_command
from tests.servers import ServerProcess


def test_a_held_lock_cannot_be_taken_and_is_free_after_release(
    clients: list[redis.Redis],
) -> None:
    c = clients[0]
    first = Lock(c, "job", ttl=5, fencing=False)
    second = Lock(c, "job", ttl=5, fencing=False)
    assert first.acquire(blocking=False)
    assert not second.acquire(blocking=False)
    assert c.get("job") == first.token
    assert 4000 < c.pttl("job") <= 5000
    assert first.owned() and 4.5 < first.validity() <= 5
    first.release()
    assert c.exists("job") == 0 and not first.owned()
    assert second.acquire(blocking=False)
    second.release()


def test_fencing_tokens_increase_with_every_acquire(fenced: list[redis.Redis]) -> None:
    c = fenced[0]
    seen = []
    for _ in range(5):
        with Lock(c, "job", ttl=5) as lock:
            assert lock.fencing_token is not None
            seen.append(lock.fencing_token)
    assert seen == sorted(seen) and len(set(seen)) == 5
    assert int(c.get("{job}:fence") or 0) == seen[-1]
    # A failed attempt does not consume a number.
    holder = Lock(c, "job", ttl=5)
    assert holder.acquire()
    assert not Lock(c, "job", ttl=5).acquire(blocking=False)
    assert int(c.get("{job}:fence") or 0) == seen[-1] + 1 == holder.fencing_token
    holder.release()


def test_only_the_owner_can_release(clients: list[redis.Redis]) -> None:
    c = clients[0]
    owner = Lock(c, "job", ttl=5, fencing=False)
    owner.acquire()
    other = Lock(c, "job", ttl=5, fencing=False)
    with pytest.raises(NotOwned, match="lock 'job'"):
        other.release()
    assert c.get("job") == owner.token
    owner.release()


def test_release_after_a_takeover_raises_not_owned_and_leaves_the_new_value(
    clients: list[redis.Redis],
) -> None:
    c = clients[0]
    lock = Lock(c, "job", ttl=5, fencing=False)
    lock.acquire()
    c.set("job", "someone-else")  # our key expired and another client took it
    with pytest.raises(NotOwned, match="expired or been taken over"):
        lock.release()
    assert c.get("job") == b"someone-else"


def test_extend_replaces_or_adds_to_the_ttl(fenced: list[redis.Redis]) -> None:
    c = fenced[0]
    lock = Lock(c, "job", ttl=2)
    lock.acquire()
    left = lock.extend(10)
    assert 9 < left <= 10 and 9000 < c.pttl("job") <= 10000
    lock.extend(5, replace=False)
    assert 14000 < c.pttl("job") <= 15000
    assert 14 < lock.validity() <= 15
    c.set("job", "intruder")
    with pytest.raises(NotOwned):
        lock.extend(10)
    assert not lock.owned()


def test_extend_replace_works_without_scripting_where_set_ifeq_exists(
    clients: list[redis.Redis],
) -> None:
    c = clients[0]
    if not has_command(c, "delex") and not has_command(c, "delifeq"):
        pytest.skip("the server has no native compare-and-set (SET IFEQ)")
    lock = Lock(c, "job", ttl=2, fencing=False)
    lock.acquire()
    assert lock.core.caps[0] is not None and lock.core.caps[0].set_ifeq
    lock.extend(10)
    assert 9000 < c.pttl("job") <= 10000
    lock.release()
    assert c.exists("job") == 0


def test_context_manager_raises_not_acquired_naming_the_lock_at_the_timeout(
    clients: list[redis.Redis],
) -> None:
    c = clients[0]
    with Lock(c, "job", ttl=5, fencing=False):
        start = time.monotonic()
        with (
            pytest.raises(NotAcquired, match="lock 'job'"),
            Lock(c, "job", ttl=5, timeout=0.3, retry_delay=0.05, fencing=False),
        ):
            pass
        assert 0.25 < time.monotonic() - start < 2
    assert c.exists("job") == 0


def test_a_blocked_acquire_gets_the_lock_when_the_holder_releases(
    clients: list[redis.Redis],
) -> None:
    c = clients[0]
    holder = Lock(c, "job", ttl=5, fencing=False)
    holder.acquire()
    timer = threading.Timer(0.2, holder.release)
    timer.start()
    waiter = Lock(c, "job", ttl=5, retry_delay=0.05, fencing=False)
    assert waiter.acquire(timeout=5)
    assert c.get("job") == waiter.token
    timer.join()
    waiter.release()


def test_the_same_object_cannot_acquire_twice(clients: list[redis.Redis]) -> None:
    lock = Lock(clients[0], "job", ttl=5, fencing=False)
    lock.acquire()
    with pytest.raises(LockError, match="not reentrant"):
        lock.acquire()
    lock.release()
    assert lock.acquire(blocking=False)  # released: may be taken again, with a new token
    lock.release()


def test_locked_sees_other_holders(clients: list[redis.Redis]) -> None:
    lock = Lock(clients[0], "job", ttl=5, fencing=False)
    assert not lock.locked()
    clients[0].set("job", "x")
    assert lock.locked()


@pytest.mark.parametrize("protocol", [2, 3])
def test_resp3_and_decoded_clients_work_too(servers: list[ServerProcess], protocol: int) -> None:
    client = servers[0].client(protocol=protocol, decode_responses=True)
    try:
        client.flushall()
        lock = Lock(client, "job", ttl=5, fencing=has_command(client, "eval"))
        assert lock.acquire(blocking=False)
        assert client.get("job") == lock.token.decode()  # type: ignore[union-attr]
        lock.extend(7)
        lock.release()
        assert client.exists("job") == 0
    finally:
        client.close()


def test_redlock_writes_the_same_token_to_every_node(fenced: list[redis.Redis]) -> None:
    lock = Redlock(fenced, "job", ttl=5)
    assert lock.acquire(blocking=False)
    assert [c.get("job") for c in fenced] == [lock.token] * 3
    assert all(int(c.get("{job}:fence") or 0) == lock.fencing_token for c in fenced)
    lock.release()
    assert sum(c.exists("job") for c in fenced) == 0


def test_redlock_fencing_token_is_monotonic_even_when_counters_diverge(
    fenced: list[redis.Redis],
) -> None:
    fenced[2].set("{job}:fence", 100)  # node 2 handed out many tokens in failed attempts
    first = Redlock(fenced, "job", ttl=5)
    fenced[2].set("job", "busy")  # quorum from nodes 0 and 1 only... the max comes from them
    first.acquire(blocking=False)
    fenced[2].delete("job")
    assert first.fencing_token == 1
    first.release()
    # A quorum including node 2: token 101, written back to the others.
    second = Redlock(fenced, "job", ttl=5)
    fenced[0].set("job", "busy")
    second.acquire(blocking=False)
    fenced[0].delete("job")
    assert second.fencing_token == 101
    assert int(fenced[1].get("{job}:fence") or 0) == 101
    second.release()
    # Back to nodes 0 and 1: node 1's counter was raised, so the next token is still larger.
    third = Redlock(fenced, "job", ttl=5)
    fenced[2].set("job", "busy")
    third.acquire(blocking=False)
    assert third.fencing_token is not None and third.fencing_token > 101
    third.release()


def test_redlock_without_a_quorum_fails_and_releases_the_minority(
    clients: list[redis.Redis],
) -> None:
    for c in clients[:2]:
        c.set("job", "other-owner", px=5000)
    lock = Redlock(clients, "job", ttl=5, fencing=False)
    assert not lock.acquire(blocking=False)
    assert clients[2].exists("job") == 0  # our write on the free node was taken back
    assert [c.get("job") for c in clients[:2]] == [b"other-owner"] * 2


def test_redlock_survives_a_majority_of_holders(clients: list[redis.Redis]) -> None:
    clients[0].set("job", "other-owner", px=5000)
    lock = Redlock(clients, "job", ttl=5, fencing=False)
    assert lock.acquire(blocking=False)
    assert [c.get("job") for c in clients[1:]] == [lock.token] * 2
    lock.release()
    assert clients[0].get("job") == b"other-owner"  # never ours, left alone


def test_auto_renew_keeps_a_lease_past_its_ttl(clients: list[redis.Redis]) -> None:
    lost: list[Redlock] = []
    lock = Redlock(clients, "job", ttl=0.3, fencing=False, auto_renew=True, on_lost=lost.append)
    assert lock.acquire()
    time.sleep(0.8)  # > 2 TTLs: only renewal keeps the key alive
    assert lock.owned() and not lost
    assert all(c.get("job") == lock.token for c in clients)
    watchdog = lock._watchdog
    assert watchdog is not None and watchdog.is_alive()
    lock.release()
    assert not watchdog.is_alive()  # release stops the renewal before deleting
    assert sum(c.exists("job") for c in clients) == 0


def test_auto_renew_calls_on_lost_when_the_lease_is_taken_over(
    clients: list[redis.Redis],
) -> None:
    lost = threading.Event()
    lock = Redlock(
        clients, "job", ttl=0.3, fencing=False, auto_renew=True, on_lost=lambda _: lost.set()
    )
    assert lock.acquire()
    for c in clients:
        c.set("job", "thief")
    assert lost.wait(2.0)
    assert not lock.owned()
    with pytest.raises(NotOwned):
        lock.release()


def test_async_lock_and_redlock(servers: list[ServerProcess], clients: list[redis.Redis]) -> None:
    fencing = all(has_command(c, "eval") for c in clients)

    async def main() -> None:
        nodes = [aredis.Redis(host=s.host, port=s.port) for s in servers]
        try:
            async with AsyncLock(nodes[0], "job", ttl=5, fencing=fencing) as lock:
                assert lock.owned()
                assert not await AsyncLock(nodes[0], "job", 5, fencing=fencing).acquire(
                    blocking=False
                )
                assert await lock.locked()
                await lock.extend(8)
            assert await nodes[0].exists("job") == 0
            red = AsyncRedlock(nodes, "job", ttl=5, fencing=fencing)
            assert await red.acquire(blocking=False)
            assert [await n.get("job") for n in nodes] == [red.token] * 3
            await red.release()
            with pytest.raises(NotOwned):
                await red.release()
        finally:
            for n in nodes:
                await n.aclose()

    asyncio.run(main())


def test_async_contention_and_auto_renew(
    servers: list[ServerProcess], clients: list[redis.Redis]
) -> None:
    async def main() -> None:
        nodes = [aredis.Redis(host=s.host, port=s.port) for s in servers]
        lost: list[AsyncRedlock] = []
        try:
            holder = AsyncRedlock(
                nodes, "job", ttl=0.3, fencing=False, auto_renew=True, on_lost=lost.append
            )
            assert await holder.acquire()
            waiter = AsyncRedlock(nodes, "job", ttl=0.3, fencing=False, retry_delay=0.05)
            assert not await waiter.acquire(timeout=0.7)  # renewal outlives 2 TTLs
            assert holder.owned() and not lost
            asyncio.get_running_loop().call_later(
                0.1, lambda: asyncio.ensure_future(holder.release())
            )
            assert await waiter.acquire(timeout=3)
            await waiter.release()
        finally:
            for n in nodes:
                await n.aclose()

    asyncio.run(main())
