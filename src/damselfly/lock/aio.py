"""The asyncio shell: `AsyncRedlock` and `AsyncLock` over `redis.asyncio` clients.

Same core as the blocking shell (damselfly.lock.core); only the way a round is sent differs:
`asyncio.gather` over the nodes, each request bounded by `asyncio.wait_for`, and `asyncio.sleep`
between retries. Auto-renewal is a task, not a thread; an `asyncio.Lock` serialises one lock
object's operations. Nothing here is thread-local: the state lives on the object. A `Listen`
opens one Pub/Sub connection per node with a reader task each, which sets an event when a
release is announced; a waking `Sleep` waits for that event or its timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

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


async def run_call(client: Any, call: Call, timeout: float) -> Any:
    """Execute one call on one node within `timeout` seconds; errors become `Failure` values."""
    try:
        async with asyncio.timeout(timeout):
            if isinstance(call, Command):
                return await client.execute_command(*call.args)
            try:
                return await client.execute_command(*call.evalsha())
            except NoScriptError:
                return await client.execute_command(*call.eval())
    except ResponseError as exc:
        return Failure(True, str(exc))
    except TimeoutError:
        return Failure(False, "timed out")
    except (RedisError, OSError) as exc:
        return Failure(False, str(exc) or type(exc).__name__)


async def _subscribe(client: Any, channel: bytes, timeout: float) -> Any:
    """A Pub/Sub connection subscribed to `channel`, once the server confirmed it (so that the
    acquire attempt that follows cannot overtake the subscription); None if it cannot be had."""
    pubsub = client.pubsub()
    try:
        async with asyncio.timeout(timeout):
            await pubsub.subscribe(channel)
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is not None and message["type"] in ("subscribe", b"subscribe"):
                    return pubsub
    except (RedisError, OSError, TimeoutError):
        await _close(pubsub)
        return None


async def _close(pubsub: Any) -> None:
    with contextlib.suppress(RedisError, OSError):
        await pubsub.aclose()


class _Listeners:
    """The subscriptions of one blocking acquire to its lock's release channel: one reader
    task per node that confirmed in time, all setting `heard`."""

    def __init__(self) -> None:
        self.subs: list[Any] = []
        self.readers: list[asyncio.Task[None]] = []
        self.heard = asyncio.Event()

    async def open(self, clients: list[Any], channel: bytes, timeout: float) -> int:
        subs = await asyncio.gather(*(_subscribe(c, channel, timeout) for c in clients))
        self.subs = [pubsub for pubsub in subs if pubsub is not None]
        self.readers = [asyncio.create_task(self._read(pubsub)) for pubsub in self.subs]
        return len(self.subs)

    async def _read(self, pubsub: Any) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is not None and message["type"] in ("message", b"message"):
                    self.heard.set()
        except (RedisError, OSError):
            return  # this node no longer wakes us; its timer still does

    def take(self) -> None:
        """Forget announcements heard so far: the round about to be sent sees those releases."""
        self.heard.clear()

    async def wait(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                await self.heard.wait()
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        for task in self.readers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for pubsub in self.subs:
            await _close(pubsub)
        self.subs, self.readers = [], []


class AsyncRedlock(LockShell):
    """The asyncio twin of `damselfly.lock.Redlock` over redis.asyncio clients (same options,
    from LockShell; `on_lost` may be a coroutine function; the watchdog is a task)."""

    def __init__(
        self, clients: Sequence[Any], name: str | bytes, ttl: float = 10.0, **options: Any
    ):
        super().__init__(clients, name, ttl, **options)
        self._mutex = asyncio.Lock()
        self._watchdog: asyncio.Task[None] | None = None

    async def locked(self) -> bool:
        return bool(await self._drive(self.core.locked()))

    async def acquire(self, blocking: bool | None = None, timeout: float | None = None) -> bool:
        blocking = self.blocking if blocking is None else blocking
        timeout = self.timeout if timeout is None else timeout
        async with self._mutex:
            ok = bool(await self._drive(self.core.acquire(time.monotonic(), blocking, timeout)))
        if ok and self.auto_renew:
            await self._stop_renewal()
            self._watchdog = asyncio.create_task(self._renew_loop())
        return ok

    async def release(self) -> None:
        await self._stop_renewal()
        async with self._mutex:
            await self._drive(self.core.release())

    async def extend(self, ttl: float | None = None, replace: bool = True) -> float:
        async with self._mutex:
            return float(await self._drive(self.core.extend(time.monotonic(), ttl, replace)))

    async def __aenter__(self) -> AsyncRedlock:
        if not await self.acquire():
            raise NotAcquired(self.name, "still held by another owner at the timeout")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.release()
        except (NotOwned, QuorumLost):
            if exc_type is None:
                raise

    async def _drive(self, op: Operation) -> Any:
        reply: Any = None
        listeners: _Listeners | None = None
        try:
            while True:
                step = op.send(reply)
                if isinstance(step, Round):
                    if listeners is not None:
                        listeners.take()
                    reply = await self._round(step)
                elif isinstance(step, Listen):
                    if listeners is None:
                        listeners = _Listeners()
                        await listeners.open(self.clients, step.channel, self.request_timeout)
                    reply = len(listeners.subs)
                elif step.wake and listeners is not None and listeners.subs:
                    woke = await listeners.wait(step.seconds)
                    reply = Woken(time.monotonic()) if woke else time.monotonic()
                else:
                    await asyncio.sleep(step.seconds)
                    reply = time.monotonic()
        except StopIteration as stop:
            return stop.value
        finally:
            if listeners is not None:
                await listeners.close()

    async def _round(self, step: Round) -> RoundResult:
        started = time.monotonic()

        async def nothing() -> None:
            return None

        replies = await asyncio.gather(
            *(
                nothing() if call is None else run_call(client, call, self.request_timeout)
                for client, call in zip(self.clients, step.calls, strict=True)
            )
        )
        return RoundResult(started, time.monotonic(), list(replies))

    async def _stop_renewal(self) -> None:
        task, self._watchdog = self._watchdog, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _renew_loop(self) -> None:
        delay: float | None = self.core.renew_interval()
        while delay is not None:
            await asyncio.sleep(delay)
            try:
                await self.extend()
                outcome = "ok"
            except NotOwned:
                outcome = "lost"
            except Exception:  # QuorumLost, or anything unexpected: retry until the deadline
                outcome = "uncertain"
            delay = self.core.after_renewal(time.monotonic(), outcome)
        self._watchdog = None
        if self.on_lost is not None:
            result = self.on_lost(self)
            if inspect.isawaitable(result):
                await result


class AsyncLock(AsyncRedlock):
    """A lease on one server: `AsyncRedlock([client], ...)`."""

    def __init__(self, client: Any, name: str | bytes, ttl: float = 10.0, **options: Any):
        super().__init__([client], name, ttl, **options)
