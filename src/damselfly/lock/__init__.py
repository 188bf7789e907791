"""damselfly.lock: leases on one or several Redis-compatible servers, with fencing tokens.

`Lock` (one server) and `Redlock` (a quorum of N servers) over redis-py, `AsyncLock` and
`AsyncRedlock` over redis.asyncio; all four drive the one sans-IO algorithm in `core`. They work
against damselfly, Redis and Valkey: owner-only release and extend use DELEX / DELIFEQ / SET IFEQ
where a server has them and Lua scripts elsewhere. docs/locks.md is the guide.
"""

from damselfly.lock.aio import AsyncLock, AsyncRedlock
from damselfly.lock.errors import LockError, LockUnsupported, NotAcquired, NotOwned, QuorumLost
from damselfly.lock.sync import Lock, Redlock

__all__ = [
    "AsyncLock",
    "AsyncRedlock",
    "Lock",
    "LockError",
    "LockUnsupported",
    "NotAcquired",
    "NotOwned",
    "QuorumLost",
    "Redlock",
]
