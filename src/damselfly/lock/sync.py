"""The blocking shell: `Redlock` and `Lock` over redis-py clients, driving the sans-IO core.

The shell only executes what the core yields: a `Round` goes to every node at once (a thread per
node from a shared pool when there are several, the caller's thread when there is one), with a
per-round time limit so a paused server costs one timeout, not a hang; a `Sleep` is a sleep.
Replies come back as values or `Failure`s, never as exceptions. A mutex serialises the
operations of one lock object, because the watchdog thread renews while the owner works.
A `Listen` opens one Pub/Sub connection per node (`_Listeners`) for the rest of the operation;
a waking `Sleep` then waits on those sockets (one `select`, no polling) instead of sleeping.

`Lock(client, ...)` is `Redlock([client], ...)`: one node, quorum 1. A single code path means the
single-server lock gets the same validity tracking, fencing and renewal as the distributed one,
and is tested by the same tests.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import select
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import redis
from redis.client import PubSub
from redis.exceptions import NoScriptError, RedisError, ResponseError

from damselfly.lock.core import (
    Call,
    Command,
    Failure,
    Listen,
    Operation,
    Round,
    RoundResult,
    Woken,
)
from damselfly.lock.errors import NotAcquired, NotOwned, QuorumLost
from damselfly.lock.shell import LockShell

_POOL: concurrent.futures.ThreadPoolExecutor | None = None
_POOL_GUARD = threading.Lock()


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _POOL
    with _POOL_GUARD:
        if _POOL is None:
            _POOL = concurrent.futures.ThreadPoolExecutor(
                max_workers=128, thread_name_prefix="damselfly-lock"
            )
        return _POOL


def run_call(client: Any, call: Call) -> Any:
    """Execute one call on one node; errors become `Failure` values."""
    try:
        if isinstance(call, Command):
            return client.execute_command(*call.args)
        try:
            return client.execute_command(*call.evalsha())
        except NoScriptError:
            return client.execute_command(*call.eval())
    except ResponseError as exc:
        return Failure(True, str(exc))
    except (RedisError, OSError) as exc:
        return Failure(False, str(exc) or type(exc).__name__)


def _subscribe(client: Any, channel: bytes, timeout: float) -> PubSub | None:
    """A Pub/Sub connection subscribed to `channel`, once the server confirmed it (so that the
    acquire attempt that follows cannot overtake the subscription); None if it cannot be had."""
    pubsub: PubSub | None = None
    try:
        pubsub = client.pubsub()
        pubsub.subscribe(channel)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = pubsub.get_message(timeout=left)
            if message is not None and message["type"] in ("subscribe", b"subscribe"):
                return pubsub
    except (RedisError, OSError):
        pass
    if pubsub is not None:
        _close(pubsub)
    return None


def _close(pubsub: PubSub) -> None:
    with contextlib.suppress(RedisError, OSError):
        pubsub.close()


def _close_when_done(future: concurrent.futures.Future[PubSub | None]) -> None:
    if (pubsub := future.result()) is not None:
        _close(pubsub)


def _socket_of(pubsub: PubSub) -> Any:
    """The socket under a Pub/Sub connection, for `select` (None if redis-py hides it)."""
    conn: Any = pubsub.connection
    sock = getattr(conn, "_sock", None)
    if sock is None:  # a caching client wraps the real connection
        sock = getattr(getattr(conn, "_conn", None), "_sock", None)
    return sock


class _Listeners:
    """The subscriptions of one blocking acquire to its lock's release channel, one per node
    that confirmed in time; a node that did not just never wakes us (its timer still does)."""

    def __init__(self, clients: list[Any], channel: bytes, timeout: float) -> None:
        self.subs: list[PubSub] = []
        if len(clients) == 1:
            one = _subscribe(clients[0], channel, timeout)
            self.subs = [] if one is None else [one]
            return
        pool = _pool()
        futures = [pool.submit(_subscribe, client, channel, timeout) for client in clients]
        concurrent.futures.wait(futures, timeout=timeout)
        for future in futures:
            if future.done():
                if (pubsub := future.result()) is not None:
                    self.subs.append(pubsub)
            elif not future.cancel():
                # Still connecting to a slow node: close whatever it ends up with.
                future.add_done_callback(_close_when_done)

    def take(self) -> bool:
        """Read every message already received (without waiting); True if one announced a
        release. A connection that fails is dropped."""
        heard = False
        for pubsub in list(self.subs):
            try:
                while (message := pubsub.get_message(timeout=0)) is not None:
                    heard = heard or message["type"] in ("message", b"message")
            except (RedisError, OSError):
                self.subs.remove(pubsub)
                _close(pubsub)
        return heard

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True as soon as a release is announced."""
        deadline = time.monotonic() + seconds
        while True:
            if self.take():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            socks = [_socket_of(p) for p in self.subs]
            if not self.subs or None in socks:
                time.sleep(left)  # nothing to wait on: the timer alone
                continue
            if len(self.subs) == 1:
                try:
                    message = self.subs[0].get_message(timeout=left)
                except (RedisError, OSError):
                    continue  # take() drops it
                if message is not None and message["type"] in ("message", b"message"):
                    return True
                continue
            select.select(socks, [], [], left)

    def close(self) -> None:
        for pubsub in self.subs:
            _close(pubsub)
        self.subs = []


class Redlock(LockShell):
    """A lease on a quorum of independent servers over redis-py clients, one per server.

    The options are LockShell's (shell.py); the watchdog of `auto_renew` is a thread.
    """

    def __init__(
        self, clients: Sequence[redis.Redis], name: str | bytes, ttl: float = 10.0, **options: Any
    ):
        super().__init__(clients, name, ttl, **options)
        self._mutex = threading.RLock()
        self._stop_watchdog: threading.Event | None = None
        self._watchdog: threading.Thread | None = None

    def locked(self) -> bool:
        """Whether anyone holds the lock (a quorum of servers has the key)."""
        return bool(self._drive(self.core.locked()))

    # -- operations --

    def acquire(self, blocking: bool | None = None, timeout: float | None = None) -> bool:
        blocking = self.blocking if blocking is None else blocking
        timeout = self.timeout if timeout is None else timeout
        with self._mutex:
            ok = bool(self._drive(self.core.acquire(time.monotonic(), blocking, timeout)))
        if ok and self.auto_renew:
            self._start_watchdog()
        return ok

    def release(self) -> None:
        self._stop_renewal()
        with self._mutex:
            self._drive(self.core.release())

    def extend(self, ttl: float | None = None, replace: bool = True) -> float:
        """Renew the lease (see LockCore.extend); returns the new validity in seconds."""
        with self._mutex:
            return float(self._drive(self.core.extend(time.monotonic(), ttl, replace)))

    def __enter__(self) -> Redlock:
        if not self.acquire():
            raise NotAcquired(self.name, "still held by another owner at the timeout")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.release()
        except (NotOwned, QuorumLost):
            # Losing the lease mid-block is worth an exception, unless one is already on its way.
            if exc_type is None:
                raise

    # -- the driver --

    def _drive(self, op: Operation) -> Any:
        reply: Any = None
        listeners: _Listeners | None = None
        try:
            while True:
                step = op.send(reply)
                if isinstance(step, Round):
                    if listeners is not None:
                        listeners.take()  # heard before this round: it will see that release
                    reply = self._round(step)
                elif isinstance(step, Listen):
                    if listeners is None:
                        listeners = _Listeners(self.clients, step.channel, self.request_timeout)
                    reply = len(listeners.subs)
                elif step.wake and listeners is not None and listeners.wait(step.seconds):
                    reply = Woken(time.monotonic())
                else:
                    time.sleep(step.seconds)
                    reply = time.monotonic()
        except StopIteration as stop:
            return stop.value
        finally:
            if listeners is not None:
                listeners.close()

    def _round(self, step: Round) -> RoundResult:
        started = time.monotonic()
        if len(self.clients) == 1:
            call = step.calls[0]
            only = None if call is None else run_call(self.clients[0], call)
            return RoundResult(started, time.monotonic(), [only])
        pool = _pool()
        futures: list[concurrent.futures.Future[Any] | None] = [
            None if call is None else pool.submit(run_call, client, call)
            for client, call in zip(self.clients, step.calls, strict=True)
        ]
        concurrent.futures.wait([f for f in futures if f is not None], timeout=self.request_timeout)
        replies: list[Any] = []
        for future in futures:
            if future is None:
                replies.append(None)
            elif future.done():
                replies.append(future.result())
            else:
                # Not started yet: cancel it, so a late SET cannot land after our clean-up.
                future.cancel()
                replies.append(Failure(False, "timed out"))
        return RoundResult(started, time.monotonic(), replies)

    # -- auto-renewal --

    def _start_watchdog(self) -> None:
        self._stop_renewal()
        stop = threading.Event()
        thread = threading.Thread(
            target=self._renew_loop, args=(stop,), name=f"lock-watchdog:{self.name}", daemon=True
        )
        self._stop_watchdog, self._watchdog = stop, thread
        thread.start()

    def _stop_renewal(self) -> None:
        stop, thread = self._stop_watchdog, self._watchdog
        self._stop_watchdog = self._watchdog = None
        if stop is not None:
            stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _renew_loop(self, stop: threading.Event) -> None:
        delay: float | None = self.core.renew_interval()
        while delay is not None and not stop.wait(delay):
            try:
                self.extend()
                outcome = "ok"
            except NotOwned:
                outcome = "lost"
            except Exception:  # QuorumLost, or anything unexpected: retry until the deadline
                outcome = "uncertain"
            if stop.is_set():
                return
            delay = self.core.after_renewal(time.monotonic(), outcome)
        if delay is None and self.on_lost is not None:
            self.on_lost(self)


class Lock(Redlock):
    """A lease on one server: `Redlock([client], ...)`."""

    def __init__(self, client: redis.Redis, name: str | bytes, ttl: float = 10.0, **options: Any):
        super().__init__([client], name, ttl, **options)
