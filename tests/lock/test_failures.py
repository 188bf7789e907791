"""Redlock with servers failing mid-run: paused with SIGSTOP (a GC pause or a partition: the
socket stays open, nothing answers) or killed. A quorum keeps working; losing a majority makes
acquire fail, extend raise QuorumLost and the watchdog call on_lost. Each test starts its own
servers, since it breaks them."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from damselfly.lock import QuorumLost, Redlock
from tests.lock.conftest import BACKENDS, has_command, start_group
from tests.servers import ServerProcess


@pytest.fixture(params=list(BACKENDS))
def start(request: pytest.FixtureRequest) -> Iterator[Callable[[int], list[ServerProcess]]]:
    """start(n): n servers of the backend, resumed and stopped after the test."""
    made: list[ServerProcess] = []

    def start_n(n: int) -> list[ServerProcess]:
        group = start_group(request.param, n)
        made.extend(group)
        return group

    yield start_n
    for proc in made:
        if proc.alive():
            os.kill(proc.proc.pid, signal.SIGCONT)
        proc.stop()


def connect(group: list[ServerProcess]) -> list[redis.Redis]:
    # A short socket timeout frees the pool thread stuck on a paused server soon after the
    # lock's own per-round limit gave up on it.
    return [p.client(socket_timeout=0.5, socket_connect_timeout=0.5) for p in group]


def pause(proc: ServerProcess) -> None:
    os.kill(proc.proc.pid, signal.SIGSTOP)


def resume(proc: ServerProcess) -> None:
    os.kill(proc.proc.pid, signal.SIGCONT)


def test_a_minority_paused_mid_hold_does_not_stop_renewal_release_or_reacquire(
    start: Callable[[int], list[ServerProcess]],
) -> None:
    five = start(5)
    clients = connect(five)
    fencing = all(has_command(c, "eval") for c in clients)
    lost: list[Redlock] = []
    holder = Redlock(clients, "job", ttl=0.6, fencing=fencing, auto_renew=True, on_lost=lost.append)
    assert holder.acquire(timeout=2)
    first_fence = holder.fencing_token
    pause(five[0])
    pause(five[1])
    time.sleep(1.5)  # > 2 TTLs: renewals go through the three live servers
    assert holder.owned() and not lost
    other = Redlock(clients, "job", ttl=0.6, fencing=fencing, request_timeout=0.1)
    assert not other.acquire(blocking=False)
    holder.release()
    assert other.acquire(timeout=2)
    assert sum(c.get("job") == other.token for c in clients[2:]) >= 3
    if fencing:
        assert other.fencing_token is not None and first_fence is not None
        assert other.fencing_token > first_fence
    other.release()
    resume(five[0])
    resume(five[1])


def test_losing_a_majority_triggers_on_lost_and_blocks_acquire(
    start: Callable[[int], list[ServerProcess]],
) -> None:
    group = start(3)
    clients = connect(group)
    fencing = all(has_command(c, "eval") for c in clients)
    lost = threading.Event()
    holder = Redlock(
        clients,
        "job",
        ttl=0.6,
        fencing=fencing,
        auto_renew=True,
        on_lost=lambda _: lost.set(),
    )
    assert holder.acquire(timeout=2)
    pause(group[0])
    pause(group[1])
    assert lost.wait(3.0), "the watchdog did not report the lost quorum"
    assert not holder.owned()
    with pytest.raises(QuorumLost, match=r"lock 'job'.*1 of 3"):
        holder.extend()
    other = Redlock(clients, "job", ttl=0.6, fencing=fencing, request_timeout=0.1)
    assert not other.acquire(timeout=0.3)
    resume(group[0])
    resume(group[1])


def test_a_killed_node_is_tolerated_and_fencing_keeps_increasing(
    start: Callable[[int], list[ServerProcess]],
) -> None:
    group = start(3)
    clients = connect(group)
    fencing = all(has_command(c, "eval") for c in clients)
    tokens = []
    for i in range(4):
        if i == 2:
            group[1].stop()  # killed between two holds
        with Redlock(clients, "job", ttl=2, fencing=fencing) as lock:
            assert lock.owned()
            tokens.append(lock.fencing_token)
    if fencing:
        assert tokens == sorted(tokens) and len(set(tokens)) == 4


def test_a_waiter_is_woken_by_the_live_nodes_while_one_is_paused(
    start: Callable[[int], list[ServerProcess]],
) -> None:
    group = start(3)
    clients = connect(group)
    holder = Redlock(clients, "job", ttl=5, fencing=False, request_timeout=0.2)
    assert holder.acquire(timeout=2)
    pause(group[0])  # subscribing there cannot complete: the waiter must not wait for it
    released = 0.0

    def release() -> None:
        nonlocal released
        released = time.monotonic()
        holder.release()

    timer = threading.Timer(0.5, release)
    timer.start()
    waiter = Redlock(clients, "job", ttl=5, fencing=False, retry_delay=2, request_timeout=0.2)
    assert waiter.acquire(timeout=5)
    latency = time.monotonic() - released
    timer.join()
    assert latency < 1.0
    assert [c.get("job") for c in clients[1:]] == [waiter.token] * 2
    resume(group[0])
    waiter.release()
