"""Deciding whether two raw replies, one from redis-server and one from damselfly, agree.

Most replies must match byte for byte. A few are legitimately allowed to differ, and only in a
known way: KEYS lists keys in hash-table order (compared as sorted lists), TTL/PTTL/EXPIRETIME and
PEXPIRETIME of keys set with a relative expiry depend on the instant each server ran the command
(compared by a tolerance once both are non-negative; -1 and -2 must match exactly), RANDOMKEY
only has to agree on "nil or a key" (the state machine checks membership), and SCAN is iterated to
the end by the state machine and compared as a set. `TODO_KNOWN_DIFFERENCES` lists command shapes
that differ today for a reported reason; the state machine sends them to neither server, so the
rest of a run stays meaningful. Keep it as small as possible: every entry is a bug to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Two servers set a relative expiry a few microseconds apart and read TTLs a few microseconds
# apart, so their answers differ by rounding at most; a loaded CI machine can stall a process
# for much longer, hence a generous bound. Relative expiries in the tests are >= 100 s and
# distinct ones are >= 3 s apart, so a bound this size still catches a wrong unit or base.
TTL_TOLERANCE_S = 2
TTL_TOLERANCE_MS = 2000

_TOLERANT_SECONDS = {b"ttl", b"expiretime"}
_TOLERANT_MS = {b"pttl", b"pexpiretime"}


@dataclass(frozen=True)
class KnownDifference:
    """A command shape damselfly answers differently today; `matches` gets the full argv."""

    name: str
    reason: str
    matches: Callable[[list[bytes]], bool]


# TODO: every entry is a reported difference waiting for a fix; remove it when fixed.
TODO_KNOWN_DIFFERENCES: list[KnownDifference] = []


def known_difference(argv: list[bytes]) -> KnownDifference | None:
    for known in TODO_KNOWN_DIFFERENCES:
        if known.matches(argv):
            return known
    return None


class Simple(bytes):
    """A RESP simple string (+...)."""


class Error(bytes):
    """A RESP error line (-...)."""


class Tagged:
    """A RESP3 value without a plain Python equivalent: double, bool, big number, map, set..."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: bytes, value: Any) -> None:
        self.kind = kind
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tagged) and (self.kind, self.value) == (other.kind, other.value)

    def __hash__(self) -> int:
        return hash(self.kind)

    def __repr__(self) -> str:
        return f"Tagged({self.kind!r}, {self.value!r})"


def parse(data: bytes) -> Any:
    """One complete RESP2/RESP3 reply as Python values (bulk -> bytes, integer -> int, ...)."""
    value, end = _parse_at(data, 0)
    if end != len(data):
        raise ValueError(f"trailing bytes after reply: {data[end:]!r}")
    return value


def _parse_at(data: bytes, pos: int) -> tuple[Any, int]:
    nl = data.index(b"\r\n", pos)
    kind = data[pos : pos + 1]
    head = data[pos + 1 : nl]
    after = nl + 2
    if kind == b"+":
        return Simple(head), after
    if kind == b"-":
        return Error(head), after
    if kind == b":":
        return int(head), after
    if kind == b"_":
        return None, after
    if kind in (b",", b"#", b"("):
        return Tagged(kind, head), after
    if kind in (b"$", b"=", b"!"):
        n = int(head)
        if n < 0:
            return None, after
        body = data[after : after + n]
        if kind == b"$":
            return body, after + n + 2
        return Tagged(kind, body), after + n + 2
    if kind in (b"*", b"~", b">", b"%", b"|"):
        n = int(head)
        if n < 0:
            return None, after
        count = 2 * n if kind in (b"%", b"|") else n
        items = []
        p = after
        for _ in range(count):
            item, p = _parse_at(data, p)
            items.append(item)
        if kind == b"*":
            return items, p
        return Tagged(kind, tuple(items)), p
    raise ValueError(f"bad RESP type byte {kind!r} at {pos} in {data!r}")


def command_name(argv: list[bytes]) -> bytes:
    return argv[0].lower() if argv else b""


def difference(argv: list[bytes], expected: bytes, actual: bytes) -> str | None:
    """None when the replies agree for this command, else a one-line description of the diff."""
    if expected == actual:
        return None
    name = command_name(argv)
    if name in _TOLERANT_SECONDS or name in _TOLERANT_MS:
        tolerance = TTL_TOLERANCE_S if name in _TOLERANT_SECONDS else TTL_TOLERANCE_MS
        if _close_times(parse(expected), parse(actual), tolerance):
            return None
    elif name == b"keys":
        if _same_members(parse(expected), parse(actual)):
            return None
    elif name == b"randomkey":
        if _same_randomkey_class(parse(expected), parse(actual)):
            return None
    return describe(argv, expected, actual)


def describe(argv: list[bytes], expected: bytes, actual: bytes) -> str:
    return f"{format_argv(argv)}\n    redis:     {expected!r}\n    damselfly: {actual!r}"


def format_argv(argv: list[bytes]) -> str:
    return " ".join(_show(a) for a in argv)


def _show(arg: bytes) -> str:
    text = arg.decode("latin-1")
    if arg and text.isprintable() and " " not in text and '"' not in text and arg.isascii():
        return text
    return repr(arg)


def _close_times(expected: Any, actual: Any, tolerance: int) -> bool:
    if type(expected) is not int or type(actual) is not int:
        return False
    if expected < 0 or actual < 0:
        return expected == actual
    return abs(expected - actual) <= tolerance


def _same_members(expected: Any, actual: Any) -> bool:
    if not isinstance(expected, list) or not isinstance(actual, list):
        return False
    return sorted(expected) == sorted(actual)


def _same_randomkey_class(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is actual
    return type(expected) is bytes and type(actual) is bytes


def scan_page(reply: Any) -> tuple[bytes, list[bytes]] | None:
    """A parsed SCAN reply as (cursor, keys), or None when it is not shaped like one."""
    if not isinstance(reply, list) or len(reply) != 2:
        return None
    cursor, keys = reply
    if type(cursor) is not bytes or not isinstance(keys, list):
        return None
    if not all(type(k) is bytes for k in keys):
        return None
    return cursor, keys
