"""What the blocking and the asyncio shells share: their options, the core, and the queries
that need no I/O.

`LockShell` keeps the constructor and the state properties in one place so that `Redlock`
(sync.py) and `AsyncRedlock` (aio.py) differ only where they must: how a round is sent, how
they sleep, and how their watchdog runs. The algorithm itself is in core.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from damselfly.lock.core import DEFAULT_RETRY_DELAY, LockCore


class LockShell:
    """A lease on a quorum of independent servers (`clients`: one client per server).

    `ttl` (seconds) is how long the servers keep the lease if we vanish. `blocking` and
    `timeout` are the defaults for `acquire()` and `with`. `auto_renew` starts a watchdog after
    each acquire that extends the lease every ttl/3; if it cannot (the lease is lost or can no
    longer be proven before its deadline) it calls `on_lost(lock)` once and stops.
    `request_timeout` bounds one round of requests (default: a tenth of the TTL, at least 50 ms).
    `fencing=False` skips the fencing counter (then plain SET NX PX, no EVAL needed).
    `wake_on_release` (default True) makes every release announce itself on a Pub/Sub channel
    and lets a blocking acquire that had to wait listen there (one extra connection per node
    while it waits) and retry as soon as the holder releases instead of after its retry delay.
    """

    def __init__(
        self,
        clients: Sequence[Any],
        name: str | bytes,
        ttl: float = 10.0,
        *,
        blocking: bool = True,
        timeout: float | None = None,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        fencing: bool = True,
        fence_key: str | bytes | None = None,
        auto_renew: bool = False,
        on_lost: Callable[[Any], Any] | None = None,
        request_timeout: float | None = None,
        wake_on_release: bool = True,
    ) -> None:
        self.clients = list(clients)
        self.core = LockCore(
            name,
            ttl,
            len(self.clients),
            fencing=fencing,
            retry_delay=retry_delay,
            fence_key=fence_key,
            wake_on_release=wake_on_release,
        )
        self.blocking = blocking
        self.timeout = timeout
        self.auto_renew = auto_renew
        self.on_lost = on_lost
        self.request_timeout = request_timeout or max(0.05, ttl / 10)

    @property
    def name(self) -> str:
        return self.core.name

    @property
    def fencing_token(self) -> int | None:
        """The fencing token of the current (or last) acquire: strictly increasing per name."""
        return self.core.fencing_token

    @property
    def token(self) -> bytes | None:
        return self.core.token

    def owned(self) -> bool:
        """Held by this object and still within its proven validity (no I/O)."""
        return self.core.owned(time.monotonic())

    def validity(self) -> float:
        """Seconds the lease is still proven held (0.0 when not held)."""
        return self.core.validity(time.monotonic())
