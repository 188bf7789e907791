"""The lock algorithm, once, with no I/O: the sans-IO core shared by the sync and asyncio shells.

A lock is a lease on N independent servers (N = 1 for a plain `Lock`): it is held when a quorum
(N//2+1) of them stored our random token under the lock's key, and it is *known* held only until
`deadline`, a `time.monotonic()` instant computed conservatively from when the request was sent:
validity = ttl - elapsed - drift, drift = 1% of ttl + 2 ms (the Redlock rule).

Every operation (acquire, release, extend, locked) is a generator. It yields `Round`s — one
request per node, which the shell sends to all nodes in parallel — and `Sleep`s, and it receives
what happened: a `RoundResult` (when the round was sent, when it finished, one reply per node,
failures as `Failure` values) or, after a sleep, the current monotonic time. The generator makes
every decision (which command or script each node gets from its detected capabilities, quorum,
validity, fencing, retry with jitter, what to clean up); the shells only move bytes and sleep.
Unit tests drive the generators by hand with a fake clock.

Fencing: the acquire script INCRs a counter key next to the lock (`{name}:fence`) in the same
atomic step as `SET NX PX`, so a single node hands out strictly increasing tokens. With several
nodes the token is the maximum over the quorum, and a second round writes it back to the
quorum's counters while we still hold their keys; docs/locks.md explains why that makes the
maximum monotonic, and what it assumes.

Waiting: a release announces itself with a PUBLISH on a channel derived from the lock's name
(`{name}:released`), in the same script as the delete or right after a native DELEX / DELIFEQ
that deleted. A blocking acquire whose first attempt failed yields `Listen`: the shell
subscribes on every node, and the core retries at once (a release between that failed attempt
and the subscription would otherwise go unheard). From then on each `Sleep` may be cut short by
an announcement; the retry delay stays as the fallback, since a holder that crashed announces
nothing and its key simply expires. The contract with the shells: a sleep wakes early only for
an announcement received after the previous `Round` was sent (older ones describe releases that
the next attempt will see anyway), and the shell answers an early wake-up with `Woken(now)`.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from damselfly.lock.errors import LockError, LockUnsupported, NotOwned, QuorumLost

DRIFT_FACTOR = 0.01
DRIFT_FLOOR = 0.002  # seconds: timer granularity and the time to send the request
DEFAULT_RETRY_DELAY = 0.1  # seconds; each wait is drawn from [0.5, 1.5] x this
MIN_TTL = 0.01  # seconds: below this the drift margin leaves no usable validity
# After a release wakes a Redlock waiter, it waits a random moment in [0, window) before trying:
# waiters that all woke on the same announcement would otherwise reach the nodes in different
# orders and split the votes (then nobody wins and everyone sleeps the full retry delay), and
# the other nodes' announcements of the same release arrive meanwhile and are not counted twice.
# The window starts at WAKE_SPREAD and doubles with every wake-up the waiter lost (binary
# exponential backoff, capped at retry_delay): a lone waiter wakes within milliseconds, a crowd
# spreads itself out as wide as it needs.
WAKE_SPREAD = 0.01  # seconds


def quorum(n: int) -> int:
    return n // 2 + 1


def drift(ttl: float) -> float:
    """How much of a lease we refuse to count on: the nodes' clocks may run a little fast."""
    return ttl * DRIFT_FACTOR + DRIFT_FLOOR


def new_token() -> bytes:
    """160 random bits: unguessable, and unique across every client that will ever ask."""
    return secrets.token_hex(20).encode()


def to_key(name: str | bytes) -> bytes:
    return name.encode() if isinstance(name, str) else bytes(name)


def _companion(key: bytes, suffix: bytes) -> bytes:
    """A name next to the lock's, in the same cluster slot: a key that already has a hash tag
    keeps it (`lock:{a}` -> `lock:{a}:fence`), any other is made the tag (`a` -> `{a}:fence`)."""
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            return key + suffix
    return b"{" + key + b"}" + suffix


def fence_key_for(key: bytes) -> bytes:
    """The fencing counter's key."""
    return _companion(key, b":fence")


def release_channel_for(key: bytes) -> bytes:
    """The Pub/Sub channel on which releases of the lock are announced."""
    return _companion(key, b":released")


# --- what the shells execute ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Script:
    """A Lua script; shells send EVALSHA and fall back to EVAL when the server answers NOSCRIPT."""

    body: str
    sha: str

    @classmethod
    def of(cls, body: str) -> Script:
        return cls(body, hashlib.sha1(body.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class Command:
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class ScriptCall:
    script: Script
    keys: tuple[bytes, ...]
    args: tuple[Any, ...]

    def evalsha(self) -> tuple[Any, ...]:
        return ("EVALSHA", self.script.sha, len(self.keys), *self.keys, *self.args)

    def eval(self) -> tuple[Any, ...]:
        return ("EVAL", self.script.body, len(self.keys), *self.keys, *self.args)


Call = Command | ScriptCall


@dataclass(frozen=True, slots=True)
class Failure:
    """A node's request that did not produce a reply value. `reply` is True when the server
    answered with an error (it is up, the request was wrong), False for timeouts and dropped
    connections (the request may or may not have run)."""

    reply: bool
    message: str


@dataclass(frozen=True, slots=True)
class Round:
    """One request per node (None: nothing for that node), sent to all nodes in parallel."""

    calls: list[Call | None]


@dataclass(frozen=True, slots=True)
class RoundResult:
    started: float  # monotonic time just before the first request was sent
    finished: float  # monotonic time when the last reply (or timeout) came in
    replies: list[Any]  # per node: the reply, a Failure, or None where no call was sent


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait this long before retrying. With `wake`, the shell returns early, answering
    `Woken(now)`, when a release is announced (module docstring); otherwise it answers `now`."""

    seconds: float
    wake: bool = False


@dataclass(frozen=True, slots=True)
class Listen:
    """Subscribe to `channel` on every node that can be reached, for the rest of the operation
    (the shell unsubscribes when the operation ends, however it ends). The shell answers with
    the number of nodes subscribed: 0 means there is nothing to wake up for."""

    channel: bytes


@dataclass(frozen=True, slots=True)
class Woken:
    """A shell's answer to a `Sleep` that a release announcement cut short."""

    now: float


Step = Round | Sleep | Listen
Operation = Generator[Step, Any, Any]


# --- the scripts ------------------------------------------------------------------------------

# KEYS[1] lock, KEYS[2] fencing counter; ARGV[1] token, ARGV[2] ttl in ms.
# Returns the new fencing token, or false (nil) when the lock is held by someone else.
ACQUIRE_FENCED = Script.of(
    "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
    "  return redis.call('incr', KEYS[2])\n"
    "end\n"
    "return false\n"
)

# KEYS[1] lock, KEYS[2] fencing counter; ARGV[1] token, ARGV[2] the quorum's fencing token.
# Raises the counter to at least ARGV[2], only while we still hold the lock here. Returns 1 if we
# hold it, 0 otherwise.
RAISE_FENCE = Script.of(
    "if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "local seen = tonumber(redis.call('get', KEYS[2]) or '0') or 0\n"
    "if seen < tonumber(ARGV[2]) then redis.call('set', KEYS[2], ARGV[2]) end\n"
    "return 1\n"
)

# KEYS[1] lock; ARGV[1] token, ARGV[2] (optional) channel. Deletes the key only if it holds our
# token, then announces the release on the channel: 1 deleted, 0 not ours. pcall, because a
# PUBLISH refused (an ACL without it) must not undo or fail the release that matters.
RELEASE = Script.of(
    "if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "redis.call('del', KEYS[1])\n"
    "if ARGV[2] then redis.pcall('publish', ARGV[2], '') end\n"
    "return 1\n"
)

# KEYS[1] lock; ARGV[1] token, ARGV[2] ms, ARGV[3] 'replace' (TTL becomes ms) or 'add' (TTL grows
# by ms). Returns 1 if the key holds our token and was extended, 0 otherwise.
EXTEND = Script.of(
    "if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "local ms = tonumber(ARGV[2])\n"
    "if ARGV[3] == 'add' then\n"
    "  local left = redis.call('pttl', KEYS[1])\n"
    "  if left > 0 then ms = ms + left end\n"
    "end\n"
    "redis.call('pexpire', KEYS[1], ms)\n"
    "return 1\n"
)


# --- capabilities -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a node offers for owner-only writes, detected once per node (client)."""

    eval: bool  # Lua scripting (fencing, and the fallback for everything else)
    delex: bool  # Redis 8.4: DELEX key IFEQ token (and SET ... IFEQ)
    delifeq: bool  # Valkey 9: DELIFEQ key token (and SET ... IFEQ since Valkey 8.1)

    @property
    def set_ifeq(self) -> bool:
        return self.delex or self.delifeq


# `COMMAND INFO` spelled as one word so redis-py hands back the raw reply: one entry per name,
# nil for a command the server does not have.
PROBE = Command(("COMMAND INFO", "delex", "delifeq", "eval"))

# A server that refuses COMMAND (renamed, ACL) is assumed to script, like every Redis since 2.6.
SCRIPTING_ONLY = Capabilities(eval=True, delex=False, delifeq=False)


def parse_probe(reply: Any) -> Capabilities | None:
    if isinstance(reply, Failure):
        return SCRIPTING_ONLY if reply.reply else None
    if not isinstance(reply, list) or len(reply) != 3:
        return SCRIPTING_ONLY
    have = [bool(entry) for entry in reply]
    return Capabilities(delex=have[0], delifeq=have[1], eval=have[2])


def is_unknown_command(failure: Failure) -> bool:
    return failure.reply and failure.message.lower().startswith("unknown command")


def _int_reply(reply: Any) -> int | None:
    """An integer reply (scripts, DELEX, DELIFEQ); SET's OK (True from redis-py) counts as 1."""
    if reply is None or isinstance(reply, Failure):
        return None
    if reply is True or reply in (b"OK", "OK"):
        return 1
    try:
        return int(reply)
    except (TypeError, ValueError):
        return None


# --- the lock ---------------------------------------------------------------------------------


class LockCore:
    """The state of one lock object over N nodes, and its operations as generators.

    State: `token` is set while we believe we hold the lease; `deadline` (monotonic seconds) is
    how long the quorum's answers prove it; `fencing_token` is the acquire's fencing number.
    `caps[i]` is node i's capabilities, None until probed (and again after an "unknown command",
    which means the server behind the client changed). With `wake_on_release`, releases are
    announced on `channel` and blocking acquires listen there instead of only sleeping.
    """

    def __init__(
        self,
        name: str | bytes,
        ttl: float,
        nodes: int,
        *,
        fencing: bool = True,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        fence_key: str | bytes | None = None,
        wake_on_release: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        if nodes < 1:
            raise ValueError("a lock needs at least one server")
        if ttl < MIN_TTL:
            raise ValueError(f"ttl must be at least {MIN_TTL} s, got {ttl!r}")
        if retry_delay <= 0:
            raise ValueError("retry_delay must be positive")
        self.key = to_key(name)
        self.name = self.key.decode(errors="replace")
        self.fence_key = to_key(fence_key) if fence_key is not None else fence_key_for(self.key)
        self.ttl = float(ttl)
        self.n = nodes
        self.quorum = quorum(nodes)
        self.fencing = fencing
        self.retry_delay = retry_delay
        self.wake_on_release = wake_on_release
        self.channel = release_channel_for(self.key)
        self.rng = rng or random.SystemRandom()
        self.caps: list[Capabilities | None] = [None] * nodes
        self.token: bytes | None = None
        self.deadline = 0.0
        self.fencing_token: int | None = None

    # -- local state, no I/O --

    @property
    def held(self) -> bool:
        """True from a successful acquire until release or a proven loss (deadline not checked)."""
        return self.token is not None

    def validity(self, now: float) -> float:
        """Seconds the lease is still proven held (0.0 when not held or expired)."""
        if self.token is None:
            return 0.0
        return max(0.0, self.deadline - now)

    def owned(self, now: float) -> bool:
        return self.token is not None and now < self.deadline

    def wake_spread(self, lost: int) -> float:
        """Random pause after a wake-up before trying, `lost` wake-ups having been lost already
        (WAKE_SPREAD); none on one node, where contenders cannot split a vote."""
        if self.n == 1:
            return 0.0
        window: float = min(WAKE_SPREAD * 2.0 ** min(lost, 16), self.retry_delay)
        return window * self.rng.random()

    def retry_wait(self) -> float:
        """Random delay before the next attempt, so that contenders that failed together do not
        retry together (the Redlock advice); uniform in [0.5, 1.5] x retry_delay."""
        return self.retry_delay * (0.5 + self.rng.random())

    def renew_interval(self) -> float:
        """The watchdog renews after a third of the TTL: two more tries fit before expiry."""
        return self.ttl / 3

    def after_renewal(self, now: float, outcome: str) -> float | None:
        """The watchdog's schedule. `outcome` is "ok", "uncertain" (QuorumLost) or "lost"
        (NotOwned). Returns seconds until the next renewal, or None when the lease is gone and
        `on_lost` must be called."""
        if outcome == "lost" or not self.owned(now):
            return None
        if outcome == "ok":
            return self.renew_interval()
        # Uncertain: retry sooner, but always leave a try before the deadline.
        return max(0.0, min(self.renew_interval() / 3, (self.deadline - now) / 2))

    def _forget(self) -> None:
        self.token = None
        self.deadline = 0.0

    # -- per-node calls --

    def _probe(self) -> Operation:
        """A probe round for the nodes whose capabilities are unknown (none if all known)."""
        if all(c is not None for c in self.caps):
            return
        calls: list[Call | None] = [PROBE if c is None else None for c in self.caps]
        result: RoundResult = yield Round(calls)
        for i, call in enumerate(calls):
            if call is not None:
                self.caps[i] = parse_probe(result.replies[i])

    def _note_failure(self, i: int, reply: Any) -> None:
        if isinstance(reply, Failure) and is_unknown_command(reply):
            self.caps[i] = None

    def _acquire_call(self, caps: Capabilities, token: bytes) -> Call:
        ttl_ms = max(1, int(self.ttl * 1000))
        if not self.fencing:
            return Command(("SET", self.key, token, "NX", "PX", ttl_ms))
        if not caps.eval:
            raise LockUnsupported(
                self.name, "fencing tokens need EVAL, which a server lacks (use fencing=False)"
            )
        return ScriptCall(ACQUIRE_FENCED, (self.key, self.fence_key), (token, ttl_ms))

    def _release_call(self, caps: Capabilities | None, token: bytes, announce: bool) -> Call:
        """Owner-only delete; with `announce`, the script also publishes the release (a native
        delete is announced by a PUBLISH round after it, see `release`).

        With `announce` the script wins over DELEX/DELIFEQ when the server has both: it deletes
        and publishes in one round trip and only when the delete happened, where the native
        command needs a second round for the PUBLISH (measured with bench/run.py on one
        damselfly: release p50 0.44 ms native + PUBLISH, about half with the script). Without
        `announce`, or on a server without EVAL, the native command is used."""
        if caps is None:  # never probed (it was down): a script is the one thing every server has
            caps = SCRIPTING_ONLY
        if announce and caps.eval:
            return ScriptCall(RELEASE, (self.key,), (token, self.channel))
        if caps.delex:
            return Command(("DELEX", self.key, "IFEQ", token))
        if caps.delifeq:
            return Command(("DELIFEQ", self.key, token))
        if caps.eval:
            args = (token, self.channel) if announce else (token,)
            return ScriptCall(RELEASE, (self.key,), args)
        raise LockUnsupported(self.name, "a server has neither DELEX, DELIFEQ nor EVAL")

    def _extend_call(self, caps: Capabilities, token: bytes, ms: int, replace: bool) -> Call:
        if replace and caps.set_ifeq:
            return Command(("SET", self.key, token, "IFEQ", token, "PX", ms))
        if caps.eval:
            return ScriptCall(EXTEND, (self.key,), (token, ms, "replace" if replace else "add"))
        if not replace:
            raise LockUnsupported(
                self.name, "adding to the TTL needs EVAL (extend with replace=True uses SET IFEQ)"
            )
        raise LockUnsupported(self.name, "extending needs SET IFEQ or EVAL, which a server lacks")

    def _cleanup(self, token: bytes, nodes: list[int]) -> Operation:
        """Owner-only delete on `nodes` (best effort: the TTL ends what this cannot reach).
        Never announced: it frees no lease, and contenders that failed together would wake each
        other up in lockstep, which is what the random retry delay is there to prevent."""
        if not nodes:
            return
        calls: list[Call | None] = [None] * self.n
        for i in nodes:
            calls[i] = self._release_call(self.caps[i], token, announce=False)
        yield Round(calls)

    # -- operations --

    def acquire(self, now: float, blocking: bool = True, timeout: float | None = None) -> Operation:
        """Take the lease; returns True, or False when it stayed held by others (non-blocking, or
        until `timeout` seconds). Raises LockError for a lock this object already holds, a server
        error reply (wrong type under the key, ...) or a missing capability."""
        if self.token is not None:
            raise LockError(self.name, "already acquired by this object (locks are not reentrant)")
        give_up = None if timeout is None or not blocking else now + max(0.0, timeout)
        token = new_token()
        asked = listening = False  # asked the shell to Listen; some node is subscribed
        lost = 0  # wake-ups after which another waiter won (or nobody did)
        while True:
            yield from self._probe()
            calls: list[Call | None] = [
                None if caps is None else self._acquire_call(caps, token) for caps in self.caps
            ]
            result: RoundResult = yield Round(calls)
            got: list[int] = []  # nodes where our token is now stored
            unsure: list[int] = []  # nodes where it may be (no reply)
            fences: list[int] = []
            error: str | None = None
            for i, reply in enumerate(result.replies):
                if calls[i] is None:
                    continue
                if isinstance(reply, Failure):
                    self._note_failure(i, reply)
                    if reply.reply and not is_unknown_command(reply):
                        error = reply.message
                    else:
                        unsure.append(i)
                    continue
                value = _int_reply(reply)
                if value is not None:
                    got.append(i)
                    fences.append(value)
            deadline = result.started + self.ttl - drift(self.ttl)
            finished = result.finished
            fence = max(fences) if self.fencing and fences else None
            if error is None and len(got) >= self.quorum and finished < deadline:
                if fence is not None and self.n > 1:
                    # Write the quorum's maximum back before anyone may use it (module docstring).
                    back: list[Call | None] = [None] * self.n
                    for i in got:
                        back[i] = ScriptCall(
                            RAISE_FENCE, (self.key, self.fence_key), (token, fence)
                        )
                    confirm: RoundResult = yield Round(back)
                    confirmed = sum(1 for i in got if _int_reply(confirm.replies[i]) == 1)
                    finished = confirm.finished
                    ok = confirmed >= self.quorum and finished < deadline
                else:
                    ok = True
                if ok:
                    self.token = token
                    self.deadline = deadline
                    self.fencing_token = fence
                    return True
            # Failed: take back what we may have written, then give up or wait and retry.
            yield from self._cleanup(token, got + unsure)
            if error is not None:
                raise LockError(self.name, f"server replied with an error: {error}")
            if not blocking:
                return False
            if give_up is not None and give_up - finished <= 0:
                return False
            if self.wake_on_release and not asked:
                # Subscribe only now, so an uncontended acquire costs nothing extra; then try
                # again at once, for a release that came before the subscription took effect.
                asked = True
                listening = bool((yield Listen(self.channel)))
                if listening:
                    continue
            wait = self.retry_wait()
            if give_up is not None:
                wait = min(wait, give_up - finished)
            slept = yield Sleep(wait, wake=listening)
            now = slept.now if isinstance(slept, Woken) else slept
            if give_up is not None and now >= give_up:
                return False
            if isinstance(slept, Woken):
                spread = self.wake_spread(lost)
                lost += 1  # until this attempt wins, and then it no longer matters
                if spread > 0:
                    yield Sleep(spread)

    def release(self) -> Operation:
        """Give the lease back on every node. Raises NotOwned when this object does not hold it,
        or when the nodes' answers show it had already expired or been taken over (the lease is
        forgotten locally either way); QuorumLost when no node answered at all."""
        token = self.token
        if token is None:
            raise NotOwned(self.name, "release of a lock this object does not hold")
        self._forget()
        yield from self._probe()
        announce = self.wake_on_release
        calls: list[Call | None] = [self._release_call(c, token, announce) for c in self.caps]
        result: RoundResult = yield Round(calls)
        denied = answered = 0
        publish: list[Call | None] = [None] * self.n
        for i, reply in enumerate(result.replies):
            if isinstance(reply, Failure):
                self._note_failure(i, reply)
                continue
            answered += 1
            deleted = _int_reply(reply)
            if deleted == 0:
                denied += 1
            elif announce and deleted == 1 and isinstance(calls[i], Command):
                publish[i] = Command(("PUBLISH", self.channel, ""))
        if any(call is not None for call in publish):
            # Native deletes cannot publish: announce them now, where they deleted. Best effort
            # (a lost announcement costs a waiter its retry delay, nothing more).
            yield Round(publish)
        if self.n - denied < self.quorum:
            raise NotOwned(self.name, "the lease had expired or been taken over before release")
        if answered == 0:
            raise QuorumLost(self.name, "no server answered the release; the TTL will end it")

    def extend(self, now: float, ttl: float | None = None, replace: bool = True) -> Operation:
        """Renew the lease: with replace, its TTL becomes `ttl` (default: the lock's ttl);
        without, `ttl` is added to what is left. Returns the new validity in seconds. Raises
        NotOwned when the lease is gone (and forgets it), QuorumLost when too few nodes answered
        to prove anything (the old deadline still stands)."""
        token = self.token
        if token is None:
            raise NotOwned(self.name, "extend of a lock this object does not hold")
        amount = self.ttl if ttl is None else float(ttl)
        if amount <= 0:
            raise ValueError("extend needs a positive ttl")
        ms = max(1, int(amount * 1000))
        yield from self._probe()
        calls: list[Call | None] = [
            None if caps is None else self._extend_call(caps, token, ms, replace)
            for caps in self.caps
        ]
        result: RoundResult = yield Round(calls)
        ok: list[int] = []
        denied = 0
        for i, reply in enumerate(result.replies):
            if calls[i] is None:
                continue
            if isinstance(reply, Failure):
                self._note_failure(i, reply)
                continue
            if _int_reply(reply) == 1:
                ok.append(i)
            else:
                denied += 1
        if self.token != token:  # released meanwhile (another thread): not ours to update
            raise NotOwned(self.name, "released while being extended")
        if len(ok) >= self.quorum:
            if replace:
                deadline = result.started + amount - drift(amount)
            else:
                deadline = max(self.deadline, result.started) + amount - drift(amount)
            if result.finished < deadline:
                self.deadline = max(self.deadline, deadline) if not replace else deadline
                return self.deadline - result.finished
        if self.n - denied < self.quorum:
            self._forget()
            yield from self._cleanup(token, ok)
            raise NotOwned(self.name, "the lease expired or was taken over; extend refused")
        raise QuorumLost(
            self.name, f"extend confirmed by {len(ok)} of {self.n} servers, {self.quorum} needed"
        )

    def locked(self) -> Operation:
        """Is the lock held by anyone? True when a quorum of nodes has the key."""
        result: RoundResult = yield Round([Command(("EXISTS", self.key))] * self.n)
        held = sum(1 for reply in result.replies if _int_reply(reply) == 1)
        return held >= self.quorum
