"""The lock library's exceptions. Each names the lock it is about, so a log line is enough to tell
which lease was lost; they all derive from `LockError`, which callers can catch as a whole."""

from __future__ import annotations


class LockError(Exception):
    """Base class: something went wrong with the lock `name`."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"lock {name!r}: {message}")
        self.name = name


class NotAcquired(LockError):
    """The lock could not be taken (held by someone else until the timeout, or no quorum)."""


class NotOwned(LockError):
    """A release or extend by an object that does not hold the lease: never acquired, already
    released, or the servers say the key expired or now belongs to someone else."""


class QuorumLost(LockError):
    """Too few servers answered to prove anything about the lease (down, paused, partitioned).
    The lease may or may not still be held; it ends by itself when its TTL runs out."""


class LockUnsupported(LockError):
    """A server lacks what an operation needs (for example EVAL for fencing tokens)."""
