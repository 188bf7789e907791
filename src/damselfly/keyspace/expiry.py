"""Active expiry: reclaim keys nobody touches, in bounded slices of time.

Redis samples random volatile keys and repeats while many of the sample were stale. We keep a
min-heap of expiry times per database (see database.py), so instead of sampling we pop exactly the
keys that are due, which gives the same bound with no guessing. The budget adapts like Redis's:
- slow cycle, from the cron `hz` times a second: at most 25% of the cron period (scaled up by
  `active-expire-effort`, 1..10, like Redis's ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC);
- fast cycle: if the slow cycle ran out of time with keys still due, a 1 ms slice runs again as
  soon as the event loop is idle (and no more often than every 2 ms), until nothing is due.
A slice deletes keys in batches of 64 and checks the clock between batches, so a million keys
expiring at once cost many short pauses instead of one long one.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from damselfly.server.server import Server

BATCH = 64
FAST_CYCLE_S = 0.001
FAST_CYCLE_MIN_GAP_S = 0.002


class ActiveExpiry:
    __slots__ = ("server", "enabled", "fast_scheduled", "last_fast", "next_db")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.enabled = True
        self.fast_scheduled = False
        self.last_fast = 0.0
        self.next_db = 0

    def slow_cycle(self) -> None:
        if not self.enabled:
            return
        hz = max(1, self.server.config["hz"])
        effort = self.server.config["active-expire-effort"]
        budget = (1.0 / hz) * (0.25 + 0.02 * (effort - 1))
        if self.run(budget):
            self.schedule_fast()

    def fast_cycle(self) -> None:
        self.fast_scheduled = False
        if not self.enabled:
            return
        self.last_fast = time.monotonic()
        if self.run(FAST_CYCLE_S):
            self.schedule_fast()

    def schedule_fast(self) -> None:
        if self.fast_scheduled or self.server.loop is None:
            return
        self.fast_scheduled = True
        delay = max(0.0, self.last_fast + FAST_CYCLE_MIN_GAP_S - time.monotonic())
        self.server.loop.call_later(delay, self.fast_cycle)

    def run(self, budget_s: float) -> bool:
        """Expire due keys for at most `budget_s`; True if some are still due afterwards."""
        server = self.server
        deadline = time.monotonic() + budget_s
        dbs = server.dbs
        count = len(dbs)
        server.now_ms = now = server.clock.now_ms()
        pending = False
        for step in range(count):
            db = dbs[(self.next_db + step) % count]
            while db.heap:
                _, more = db.expire_due(now, BATCH)
                if not more:
                    break
                if time.monotonic() >= deadline:
                    self.next_db = (self.next_db + step) % count
                    return True
            if time.monotonic() >= deadline:
                pending = True
                self.next_db = (self.next_db + step + 1) % count
                break
        return pending
