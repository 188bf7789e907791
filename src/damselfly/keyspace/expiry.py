"""Active expiry: reclaim keys nobody touches, in bounded slices of time.

Redis samples random volatile keys and repeats while many of the sample were stale. We keep a
timeline of expiry times per database (see database.py), so instead of sampling we take exactly
the keys that are due, which gives the same bound with no guessing.

Parameters and when it stops:
- the cron (`hz` times a second) starts a cycle when some key is due;
- a cycle runs slices of at most SLICE_S (2 ms): that bounds how long any client waits behind
  active expiry (Redis's slow cycle may take 25% of a cron period, 25 ms at hz 10, in one go;
  measured here, one long slice pushed the p99 of concurrent GETs to 27 ms);
- between slices the event loop serves clients; the gap keeps expiry at DUTY of the CPU while a
  backlog lasts (50%, up to 80% with `active-expire-effort` 10, like Redis's effort knob);
- the cycle stops as soon as nothing is due; a slice deletes keys in batches of 64 and checks
  the clock between batches.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from damselfly.server.server import Server

BATCH = 64
SLICE_S = 0.002


class ActiveExpiry:
    __slots__ = ("server", "enabled", "scheduled", "next_db")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.enabled = True
        self.scheduled = False
        self.next_db = 0

    def slow_cycle(self) -> None:
        """From the cron: start slicing if a cycle is not already under way."""
        if self.enabled and not self.scheduled:
            self.slice()

    def slice(self) -> None:
        self.scheduled = False
        if not self.enabled:
            return
        if self.run(SLICE_S) and self.server.loop is not None:
            effort = self.server.config["active-expire-effort"]
            duty = 0.5 + (effort - 1) * 0.3 / 9
            self.scheduled = True
            self.server.loop.call_later(SLICE_S * (1 - duty) / duty, self.slice)

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
            while db.timeline.times:
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
