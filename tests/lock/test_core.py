"""Unit tests of the sans-IO lock core: the generators are driven by hand with a fake clock and
scripted node replies, so every decision (quorum, validity, drift, fencing write-back, clean-up,
retry schedule, command choice per capability) is checked without a socket."""

from __future__ import annotations

import random
from typing import Any

import pytest

from damselfly.lock import core
from damselfly.lock.core import (
    ACQUIRE_FENCED,
    EXTEND,
    PROBE,
    RAISE_FENCE,
    RELEASE,
    Capabilities,
    Command,
    Failure,
    LockCore,
    Round,
    RoundResult,
    ScriptCall,
    Sleep,
)
from damselfly.lock.errors import LockError, LockUnsupported, NotOwned, QuorumLost

EVAL_ONLY = Capabilities(eval=True, delex=False, delifeq=False)
REDIS_84 = Capabilities(eval=True, delex=True, delifeq=False)
VALKEY_9 = Capabilities(eval=True, delex=False, delifeq=True)
NO_SCRIPTS = Capabilities(eval=False, delex=True, delifeq=True)
DOWN = Failure(False, "Connection refused")


def make(
    n: int = 1, ttl: float = 10.0, caps: Capabilities | None = EVAL_ONLY, **kw: Any
) -> LockCore:
    lock = LockCore("res", ttl, n, rng=random.Random(7), **kw)
    if caps is not None:
        lock.caps = [caps] * n
    return lock


def answer(started: float, finished: float, replies: list[Any]) -> RoundResult:
    return RoundResult(started, finished, replies)


def finish(op: Any, value: Any) -> Any:
    """Send the last reply; return what the operation returned."""
    with pytest.raises(StopIteration) as stop:
        op.send(value)
    return stop.value.value


def test_quorum_is_a_strict_majority() -> None:
    assert [core.quorum(n) for n in range(1, 8)] == [1, 2, 2, 3, 3, 4, 4]


def test_drift_is_one_percent_of_ttl_plus_two_ms() -> None:
    assert core.drift(10.0) == pytest.approx(0.102)
    assert core.drift(0.5) == pytest.approx(0.007)


def test_tokens_are_random_160_bit_hex_and_never_repeat() -> None:
    tokens = {core.new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) == 40 and int(t, 16) >= 0 for t in tokens)


def test_fence_key_shares_the_lock_keys_hash_slot() -> None:
    assert core.fence_key_for(b"job") == b"{job}:fence"
    assert core.fence_key_for(b"lock:{job}") == b"lock:{job}:fence"
    assert core.fence_key_for(b"odd{}key") == b"{odd{}key}:fence"


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        LockCore("x", 0.001, 1)
    with pytest.raises(ValueError):
        LockCore("x", 1.0, 0)


def test_first_operation_probes_capabilities_then_acquires_with_the_fencing_script() -> None:
    lock = make(caps=None)
    op = lock.acquire(now=100.0)
    probe = next(op)
    assert probe == Round([PROBE])
    step = op.send(answer(100.0, 100.001, [[None, None, [b"eval"]]]))
    assert lock.caps == [EVAL_ONLY]
    assert isinstance(step, Round)
    call = step.calls[0]
    assert isinstance(call, ScriptCall) and call.script == ACQUIRE_FENCED
    assert call.keys == (b"res", b"{res}:fence")
    token, ttl_ms = call.args
    assert ttl_ms == 10000 and len(token) == 40
    assert finish(op, answer(100.001, 100.003, [41])) is True
    assert lock.token == token and lock.fencing_token == 41
    assert lock.deadline == pytest.approx(100.001 + 10.0 - 0.102)
    assert lock.validity(105.0) == pytest.approx(5.001 - 0.102)
    assert lock.owned(109.8) and not lock.owned(109.9)


def test_probe_understands_redis_84_and_valkey_9() -> None:
    assert core.parse_probe([[b"delex"], None, [b"eval"]]) == REDIS_84
    assert core.parse_probe([None, ["delifeq"], ["eval"]]) == VALKEY_9
    # COMMAND refused (ACL, renamed): assume scripting; no answer at all: still unknown.
    assert core.parse_probe(Failure(True, "NOPERM no")) == EVAL_ONLY
    assert core.parse_probe(DOWN) is None


def test_without_fencing_acquire_is_a_plain_set_nx_px() -> None:
    lock = make(caps=NO_SCRIPTS, fencing=False, ttl=1.5)
    op = lock.acquire(now=0.0)
    step = next(op)
    assert isinstance(step, Round)
    call = step.calls[0]
    assert isinstance(call, Command)
    assert call.args == ("SET", b"res", call.args[2], "NX", "PX", 1500)
    assert finish(op, answer(0.0, 0.001, [True])) is True
    assert lock.fencing_token is None


def test_fencing_on_a_server_without_eval_is_refused_with_the_lock_named() -> None:
    lock = make(caps=NO_SCRIPTS)
    with pytest.raises(LockUnsupported, match=r"lock 'res'.*EVAL"):
        next(lock.acquire(now=0.0))


def test_locks_are_not_reentrant() -> None:
    lock = make()
    op = lock.acquire(now=0.0)
    next(op)
    finish(op, answer(0.0, 0.0, [1]))
    with pytest.raises(LockError, match="already acquired"):
        next(lock.acquire(now=1.0))


def test_quorum_of_three_takes_the_max_fence_and_writes_it_back() -> None:
    lock = make(n=3)
    op = lock.acquire(now=0.0)
    first = next(op)
    assert isinstance(first, Round) and len(first.calls) == 3
    back = op.send(answer(0.0, 0.01, [5, None, 9]))
    assert isinstance(back, Round)
    assert back.calls[1] is None
    for i in (0, 2):
        call = back.calls[i]
        assert isinstance(call, ScriptCall) and call.script == RAISE_FENCE
        assert call.args[1] == 9
    assert finish(op, answer(0.01, 0.02, [1, None, 1])) is True
    assert lock.fencing_token == 9


def test_write_back_confirmed_by_a_minority_fails_and_cleans_up() -> None:
    lock = make(n=3)
    op = lock.acquire(now=0.0, blocking=False)
    next(op)
    op.send(answer(0.0, 0.01, [5, None, 9]))
    cleanup = op.send(answer(0.01, 0.02, [1, None, 0]))
    assert isinstance(cleanup, Round)
    assert [c is not None for c in cleanup.calls] == [True, False, True]
    assert finish(op, answer(0.02, 0.03, [1, None, 0])) is False
    assert lock.token is None


def test_minority_acquire_releases_where_it_won_or_did_not_hear_back() -> None:
    lock = make(n=5)
    op = lock.acquire(now=0.0, blocking=False)
    next(op)
    cleanup = op.send(answer(0.0, 0.01, [3, None, DOWN, 4, None]))
    assert isinstance(cleanup, Round)
    sent = [c is not None for c in cleanup.calls]
    # Node 2 did not answer: our SET may have landed there, so it is released too.
    assert sent == [True, False, True, True, False]
    call = cleanup.calls[0]
    assert isinstance(call, ScriptCall) and call.script == RELEASE
    assert finish(op, answer(0.01, 0.02, [1, None, DOWN, 1, None])) is False


def test_no_clean_up_round_when_every_node_said_held() -> None:
    lock = make(n=3)
    op = lock.acquire(now=0.0, blocking=False)
    next(op)
    assert finish(op, answer(0.0, 0.01, [None, None, None])) is False


def test_a_quorum_that_took_longer_than_the_ttl_is_not_a_lease() -> None:
    lock = make(n=3, ttl=1.0)
    op = lock.acquire(now=0.0, blocking=False)
    next(op)
    # Validity ends at 0 + 1.0 - 0.012 = 0.988; the last reply came at 0.99.
    cleanup = op.send(answer(0.0, 0.99, [1, 2, 3]))
    assert isinstance(cleanup, Round)
    assert finish(op, answer(0.99, 1.0, [1, 1, 1])) is False


def test_blocking_acquire_retries_with_jitter_until_the_timeout() -> None:
    lock = make(retry_delay=0.2, wake_on_release=False)
    op = lock.acquire(now=0.0, blocking=True, timeout=1.0)
    next(op)
    now, waits = 0.0, []
    step = op.send(answer(now, now + 0.01, [None]))
    try:
        while True:
            if isinstance(step, Sleep):
                waits.append(step.seconds)
                now += step.seconds
                step = op.send(now)
            else:
                step = op.send(answer(now, now + 0.01, [None]))
                now += 0.01
    except StopIteration as stop:
        assert stop.value is False
    assert all(0.0 < w <= 0.3 for w in waits)
    assert min(waits) < 0.2 < max(waits) or len(set(waits)) > 1  # drawn, not fixed
    assert now == pytest.approx(1.0, abs=0.02)  # the last wait was cut to the timeout


def test_blocking_acquire_succeeds_once_the_holder_is_gone() -> None:
    lock = make(wake_on_release=False)
    op = lock.acquire(now=0.0, blocking=True)
    next(op)
    step = op.send(answer(0.0, 0.01, [None]))
    assert isinstance(step, Sleep)
    step = op.send(0.2)
    assert isinstance(step, Round)
    assert finish(op, answer(0.2, 0.21, [12])) is True
    assert lock.deadline == pytest.approx(0.2 + 10 - 0.102)


def test_a_server_error_reply_is_raised_naming_the_lock() -> None:
    lock = make()
    op = lock.acquire(now=0.0)
    next(op)
    wrongtype = Failure(True, "WRONGTYPE Operation against a key holding the wrong kind of value")
    with pytest.raises(LockError, match=r"lock 'res'.*WRONGTYPE"):
        op.send(answer(0.0, 0.01, [wrongtype]))


def test_unknown_command_forgets_capabilities_so_the_next_operation_probes_again() -> None:
    lock = make(n=1, caps=REDIS_84, fencing=False, wake_on_release=False)
    lock.token, lock.deadline = b"t" * 40, 50.0
    op = lock.release()
    step = next(op)
    assert isinstance(step, Round)
    call = step.calls[0]
    assert isinstance(call, Command) and call.args == ("DELEX", b"res", "IFEQ", b"t" * 40)
    with pytest.raises(QuorumLost):
        op.send(answer(0.0, 0.01, [Failure(True, "unknown command 'DELEX', with args")]))
    assert lock.caps == [None]
    assert next(lock.acquire(now=1.0)) == Round([PROBE])


@pytest.mark.parametrize(
    ("caps", "expected"),
    [
        (REDIS_84, ("DELEX", b"res", "IFEQ", b"tok")),
        (VALKEY_9, ("DELIFEQ", b"res", b"tok")),
    ],
)
def test_release_without_announcing_uses_the_native_compare_and_delete(
    caps: Capabilities, expected: tuple[Any, ...]
) -> None:
    lock = make(caps=caps, wake_on_release=False)
    lock.token, lock.deadline = b"tok", 10.0
    op = lock.release()
    step = next(op)
    assert isinstance(step, Round)
    assert step.calls == [Command(expected)]
    assert finish(op, answer(0.0, 0.01, [1])) is None
    assert lock.token is None


@pytest.mark.parametrize("caps", [REDIS_84, VALKEY_9])
def test_announced_release_prefers_the_script_for_one_round_trip(caps: Capabilities) -> None:
    lock = make(caps=caps)
    lock.token, lock.deadline = b"tok", 10.0
    op = lock.release()
    step = next(op)
    assert isinstance(step, Round)
    assert step.calls == [ScriptCall(RELEASE, (b"res",), (b"tok", b"{res}:released"))]
    assert finish(op, answer(0.0, 0.01, [1])) is None


@pytest.mark.parametrize(
    ("caps", "expected"),
    [
        (Capabilities(eval=False, delex=True, delifeq=False), ("DELEX", b"res", "IFEQ", b"tok")),
        (Capabilities(eval=False, delex=False, delifeq=True), ("DELIFEQ", b"res", b"tok")),
    ],
)
def test_native_release_without_scripts_is_announced_by_a_second_round(
    caps: Capabilities, expected: tuple[Any, ...]
) -> None:
    lock = make(caps=caps, fencing=False)
    lock.token, lock.deadline = b"tok", 10.0
    op = lock.release()
    step = next(op)
    assert isinstance(step, Round)
    assert step.calls == [Command(expected)]
    announce = op.send(answer(0.0, 0.01, [1]))
    assert announce == Round([Command(("PUBLISH", b"{res}:released", ""))])
    assert finish(op, answer(0.01, 0.02, [1])) is None
    assert lock.token is None


def test_release_falls_back_to_the_script() -> None:
    lock = make(caps=EVAL_ONLY)
    lock.token, lock.deadline = b"tok", 10.0
    op = lock.release()
    step = next(op)
    assert isinstance(step, Round)
    # The channel rides along: the script announces the release itself.
    assert step.calls == [ScriptCall(RELEASE, (b"res",), (b"tok", b"{res}:released"))]
    assert finish(op, answer(0.0, 0.01, [1])) is None


def test_release_when_a_majority_says_not_ours_raises_not_owned() -> None:
    lock = make(n=3)
    lock.token, lock.deadline = b"tok", 10.0
    op = lock.release()
    next(op)
    with pytest.raises(NotOwned, match=r"lock 'res'.*expired"):
        op.send(answer(0.0, 0.01, [1, 0, 0]))
    assert lock.token is None


def test_release_with_one_node_down_is_fine() -> None:
    lock = make(n=3)
    lock.token, lock.deadline = b"tok", 10.0
    op = lock.release()
    next(op)
    assert finish(op, answer(0.0, 0.01, [1, DOWN, 1])) is None


def test_release_of_a_lock_not_held_raises_not_owned() -> None:
    with pytest.raises(NotOwned, match=r"lock 'res'"):
        next(make().release())


def test_extend_replace_uses_set_ifeq_when_available_and_moves_the_deadline() -> None:
    lock = make(caps=REDIS_84)
    lock.token, lock.deadline = b"tok", 5.0
    op = lock.extend(now=3.0, ttl=20.0)
    step = next(op)
    assert isinstance(step, Round)
    assert step.calls == [Command(("SET", b"res", b"tok", "IFEQ", b"tok", "PX", 20000))]
    left = finish(op, answer(3.0, 3.01, [True]))
    assert lock.deadline == pytest.approx(3.0 + 20 - core.drift(20))
    assert left == pytest.approx(lock.deadline - 3.01)


def test_extend_add_uses_the_script_and_adds_to_the_old_deadline() -> None:
    lock = make(caps=REDIS_84)
    lock.token, lock.deadline = b"tok", 5.0
    op = lock.extend(now=3.0, ttl=2.0, replace=False)
    step = next(op)
    assert isinstance(step, Round)
    assert step.calls == [ScriptCall(EXTEND, (b"res",), (b"tok", 2000, "add"))]
    finish(op, answer(3.0, 3.01, [1]))
    assert lock.deadline == pytest.approx(5.0 + 2.0 - core.drift(2.0))


def test_extend_refused_by_a_majority_forgets_the_lease() -> None:
    lock = make(n=3)
    lock.token, lock.deadline = b"tok", 5.0
    op = lock.extend(now=3.0)
    next(op)
    cleanup = op.send(answer(3.0, 3.01, [1, 0, 0]))
    assert isinstance(cleanup, Round)  # the one node that still had it is released
    assert [c is not None for c in cleanup.calls] == [True, False, False]
    with pytest.raises(NotOwned, match=r"lock 'res'"):
        op.send(answer(3.01, 3.02, [1, None, None]))
    assert lock.token is None


def test_extend_without_enough_answers_keeps_the_old_deadline() -> None:
    lock = make(n=3)
    lock.token, lock.deadline = b"tok", 5.0
    op = lock.extend(now=3.0)
    next(op)
    with pytest.raises(QuorumLost, match="1 of 3"):
        op.send(answer(3.0, 3.01, [1, DOWN, DOWN]))
    assert lock.token == b"tok" and lock.deadline == 5.0


def test_watchdog_schedule_renews_every_third_of_the_ttl_and_reports_loss() -> None:
    lock = make(ttl=9.0)
    lock.token, lock.deadline = b"tok", 9.0
    assert lock.after_renewal(3.0, "ok") == pytest.approx(3.0)
    retry = lock.after_renewal(6.0, "uncertain")
    assert retry is not None and 0 < retry <= 1.0
    assert lock.after_renewal(9.5, "uncertain") is None  # past the deadline
    assert lock.after_renewal(1.0, "lost") is None


def test_locked_counts_nodes_with_the_key() -> None:
    lock = make(n=3)
    op = lock.locked()
    step = next(op)
    assert step == Round([Command(("EXISTS", b"res"))] * 3)
    assert finish(op, answer(0, 0, [1, 1, DOWN])) is True
    op = lock.locked()
    next(op)
    assert finish(op, answer(0, 0, [1, 0, DOWN])) is False


# --- waiting for a release ----------------------------------------------------------------------


def failed_attempt(op: Any, now: float, n: int = 1) -> Any:
    """Answer the pending acquire round with 'held by someone else' on every node."""
    return op.send(answer(now, now + 0.01, [None] * n))


def test_release_channel_shares_the_lock_keys_hash_slot() -> None:
    assert core.release_channel_for(b"job") == b"{job}:released"
    assert core.release_channel_for(b"lock:{job}") == b"lock:{job}:released"
    assert make().channel == b"{res}:released"


def test_a_blocked_acquire_listens_after_its_first_failure_then_retries_at_once() -> None:
    lock = make(retry_delay=2.0)
    op = lock.acquire(now=0.0, timeout=5.0)
    next(op)
    assert failed_attempt(op, 0.0) == core.Listen(b"{res}:released")
    retry = op.send(1)  # subscribed on the one node
    assert isinstance(retry, Round)  # no sleep: a release may have slipped in before subscribing
    sleep = failed_attempt(op, 0.02)
    assert isinstance(sleep, Sleep) and sleep.wake and 1.0 <= sleep.seconds <= 3.0
    again = op.send(core.Woken(0.3))  # the holder released 0.28 s later
    assert isinstance(again, Round)
    assert finish(op, answer(0.3, 0.31, [7])) is True
    assert lock.fencing_token == 7


def test_an_uncontended_or_non_blocking_acquire_never_listens() -> None:
    lock = make()
    op = lock.acquire(now=0.0)
    next(op)
    assert finish(op, answer(0.0, 0.01, [1])) is True
    other = make()
    op = other.acquire(now=0.0, blocking=False)
    next(op)
    assert finish(op, answer(0.0, 0.01, [None])) is False


def test_without_wake_on_release_waiting_is_the_timer_alone() -> None:
    lock = make(wake_on_release=False)
    op = lock.acquire(now=0.0)
    next(op)
    sleep = failed_attempt(op, 0.0)
    assert isinstance(sleep, Sleep) and not sleep.wake


def test_when_no_node_could_subscribe_the_waiter_sleeps_without_an_extra_retry() -> None:
    lock = make()
    op = lock.acquire(now=0.0)
    next(op)
    assert isinstance(failed_attempt(op, 0.0), core.Listen)
    sleep = op.send(0)
    assert isinstance(sleep, Sleep) and not sleep.wake


def test_a_woken_redlock_waiter_spreads_its_retry_by_a_few_ms() -> None:
    lock = make(n=3, retry_delay=2.0)
    op = lock.acquire(now=0.0)
    next(op)
    failed_attempt(op, 0.0, n=3)
    op.send(3)
    sleep = failed_attempt(op, 0.02, n=3)
    assert isinstance(sleep, Sleep) and sleep.wake
    spread = op.send(core.Woken(0.5))
    assert isinstance(spread, Sleep) and not spread.wake
    assert 0.0 <= spread.seconds < core.WAKE_SPREAD
    assert isinstance(op.send(0.505), Round)


def test_a_wake_up_after_the_timeout_gives_up() -> None:
    lock = make()
    op = lock.acquire(now=0.0, timeout=0.5)
    next(op)
    failed_attempt(op, 0.0)
    op.send(1)
    sleep = failed_attempt(op, 0.02)
    assert isinstance(sleep, Sleep) and sleep.seconds <= 0.5
    assert finish(op, core.Woken(0.51)) is False


def test_native_release_is_announced_only_where_the_delete_happened() -> None:
    lock = make(n=3, caps=NO_SCRIPTS, fencing=False)
    lock.token, lock.deadline = b"tok", 10.0
    op = lock.release()
    next(op)
    announce = op.send(answer(0.0, 0.01, [1, 0, DOWN]))
    assert isinstance(announce, Round)
    assert announce.calls == [Command(("PUBLISH", b"{res}:released", "")), None, None]
    assert finish(op, answer(0.01, 0.02, [1, None, None])) is None


def test_without_wake_on_release_nothing_is_announced() -> None:
    native = make(caps=VALKEY_9, wake_on_release=False)
    native.token, native.deadline = b"tok", 10.0
    op = native.release()
    next(op)
    assert finish(op, answer(0.0, 0.01, [1])) is None  # no PUBLISH round
    scripted = make(wake_on_release=False)
    scripted.token, scripted.deadline = b"tok", 10.0
    step = next(scripted.release())
    assert isinstance(step, Round)
    assert step.calls == [ScriptCall(RELEASE, (b"res",), (b"tok",))]


def test_the_clean_up_after_a_failed_attempt_is_never_announced() -> None:
    lock = make(n=3)
    op = lock.acquire(now=0.0, blocking=False)
    next(op)
    cleanup = op.send(answer(0.0, 0.01, [3, None, None]))
    assert isinstance(cleanup, Round)
    call = cleanup.calls[0]
    assert isinstance(call, ScriptCall) and call.args == (call.args[0],)


def test_the_wake_spread_window_doubles_with_each_lost_wake_up_up_to_the_retry_delay() -> None:
    lock = make(n=3, retry_delay=0.1)
    for lost, window in [(0, 0.01), (1, 0.02), (3, 0.08), (4, 0.1), (40, 0.1)]:
        draws = [lock.wake_spread(lost) for _ in range(200)]
        assert all(0.0 <= d < window for d in draws)
        assert max(draws) > window / 2  # the whole window is used, not just its start
    assert make(n=1).wake_spread(5) == 0.0
