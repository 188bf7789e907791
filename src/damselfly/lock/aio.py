"""The asyncio shell: `AsyncRedlock` and `AsyncLock` over `redis.asyncio` clients.

Same core as the blocking shell (damselfly.lock.core); only the way a round is sent differs:
`asyncio.gather` over the nodes, each request bounded by `asyncio.wait_for`, and `asyncio.sleep`
between retries. Auto-renewal is a task, not a thread; an `asyncio.Lock` serialises one lock
object's operations. Nothing here is thread-local: the state lives on the object.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from redis.exceptions import NoScriptError, RedisError, ResponseError

from damselfly.lock.core import (
    DEFAULT_RETRY_DELAY,
    Call,
    Command,
    Failure,
    LockCore,
    Operation,
    Round,
    RoundResult,
)
from damselfly.lock.errors import NotAcquired, NotOwned, QuorumLost


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


class AsyncRedlock:
    """The asyncio twin of `damselfly.lock.Redlock` (same options; `on_lost` may be a
    coroutine function)."""

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
        on_lost: Callable[[AsyncRedlock], Any] | None = None,
        request_timeout: float | None = None,
    ) -> None:
        self.clients = list(clients)
        self.core = LockCore(
            name,
            ttl,
            len(self.clients),
            fencing=fencing,
            retry_delay=retry_delay,
            fence_key=fence_key,
        )
        self.blocking = blocking
        self.timeout = timeout
        self.auto_renew = auto_renew
        self.on_lost = on_lost
        self.request_timeout = request_timeout or max(0.05, ttl / 10)
        self._mutex = asyncio.Lock()
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.core.name

    @property
    def fencing_token(self) -> int | None:
        return self.core.fencing_token

    @property
    def token(self) -> bytes | None:
        return self.core.token

    def owned(self) -> bool:
        return self.core.owned(time.monotonic())

    def validity(self) -> float:
        return self.core.validity(time.monotonic())

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
        try:
            while True:
                step = op.send(reply)
                if isinstance(step, Round):
                    reply = await self._round(step)
                else:
                    await asyncio.sleep(step.seconds)
                    reply = time.monotonic()
        except StopIteration as stop:
            return stop.value

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
