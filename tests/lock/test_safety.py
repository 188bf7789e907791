"""The safety checker: 50 worker threads take one Redlock (3 servers) and write to a shared
resource that rejects stale fencing tokens, including a phase where holders stall past their TTL
and then try to write anyway.

What is checked:
- no two *valid* leases overlap: each hold is the interval from acquire() returning to the
  earlier of its release and its proven deadline (a stalled holder's lease ends at its deadline,
  whatever it believes afterwards);
- fencing tokens strictly increase in the order leases were taken;
- the resource never accepts a token lower than one it already accepted, and every stalled
  holder's late write is rejected (others held and wrote meanwhile).
The numbers (holds, rejected stale writes, violations) are printed and recorded as test
properties; run with `-s` to see them.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import redis

from damselfly.lock import QuorumLost, Redlock
from tests.lock.conftest import BACKENDS, require_eval, start_group
from tests.servers import ServerProcess

WORKERS = 50
HOLDS_PER_WORKER = 4
STALLERS = 3  # workers that stall past the TTL in their second hold
TTL = 1.0
# Fifty threads and three servers share two cores: replies can take a while.
REQUEST_TIMEOUT = 0.3


@dataclass
class Resource:
    """Storage that accepts a write only with a fencing token at least as new as any seen."""

    guard: threading.Lock = field(default_factory=threading.Lock)
    highest: int = 0
    accepted: list[int] = field(default_factory=list)
    rejected: int = 0

    def write(self, fence: int) -> bool:
        with self.guard:
            if fence < self.highest:
                self.rejected += 1
                return False
            self.highest = fence
            self.accepted.append(fence)
            return True


@dataclass
class Hold:
    start: float
    end: float
    fence: int


@pytest.fixture(params=list(BACKENDS))
def nodes(request: pytest.FixtureRequest) -> Iterator[list[redis.Redis]]:
    group: list[ServerProcess] = start_group(request.param, 3)
    clients = [p.client(socket_timeout=2, max_connections=200) for p in group]
    try:
        require_eval(clients)
        yield clients
    finally:
        for c in clients:
            c.close()
        for p in group:
            p.stop()


def test_fifty_workers_never_overlap_and_stale_writes_are_rejected(
    nodes: list[redis.Redis], record_property: pytest.RecordProperty
) -> None:
    resource = Resource()
    holds: list[Hold] = []
    stale_attempts: list[bool] = []  # one per stalled write: accepted?
    errors: list[BaseException] = []
    unconfirmed: list[int] = []
    record = threading.Lock()

    def worker(n: int) -> None:
        try:
            for i in range(HOLDS_PER_WORKER):
                lock = Redlock(
                    nodes, "resource", ttl=TTL, retry_delay=0.1, request_timeout=REQUEST_TIMEOUT
                )
                assert lock.acquire(timeout=40)
                start = time.monotonic()
                fence = lock.fencing_token
                assert fence is not None
                deadline = lock.core.deadline
                resource.write(fence)
                if n < STALLERS and i == 1:
                    # A GC pause or a swapped-out process: the lease ends while we sleep.
                    time.sleep(TTL * 3)
                    ok = resource.write(fence)
                    with record:
                        stale_attempts.append(ok)
                        holds.append(Hold(start, min(time.monotonic(), deadline), fence))
                    continue  # never released: the TTL frees it
                time.sleep(0.002)
                end = min(time.monotonic(), deadline)
                try:
                    lock.release()
                except QuorumLost:
                    # No server answered in time (load): the lease ends by its TTL instead.
                    with record:
                        unconfirmed.append(n)
                with record:
                    holds.append(Hold(start, end, fence))
        except BaseException as exc:
            errors.append(exc)

    began = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    elapsed = time.monotonic() - began
    assert not errors, errors[:3]

    ordered = sorted(holds, key=lambda h: h.start)
    overlaps = sum(1 for a, b in itertools.pairwise(ordered) if b.start < a.end)
    fence_regressions = sum(1 for a, b in itertools.pairwise(ordered) if b.fence <= a.fence)
    accepted_regressions = sum(1 for a, b in itertools.pairwise(resource.accepted) if b < a)
    stale_accepted = sum(stale_attempts)
    violations = overlaps + fence_regressions + accepted_regressions + stale_accepted
    numbers = {
        "holds": len(holds),
        "writes_accepted": len(resource.accepted),
        "stale_writes_attempted": len(stale_attempts),
        "stale_writes_rejected": resource.rejected,
        "releases_unconfirmed": len(unconfirmed),
        "violations": violations,
        "seconds": round(elapsed, 1),
    }
    print(f"\nlock safety checker: {numbers}")
    for key, value in numbers.items():
        record_property(key, value)

    assert len(holds) == WORKERS * HOLDS_PER_WORKER
    assert len(stale_attempts) == STALLERS
    assert resource.rejected == STALLERS
    assert violations == 0, numbers
