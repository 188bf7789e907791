"""Reply value types that plain Python values cannot express.

Handlers return ordinary values where the mapping is obvious: `bytes` is a bulk string, `int`
an integer, `None` a null, `list` an array. The wrappers here carry the RESP3 shapes (maps, sets,
doubles, booleans, big numbers, verbatim strings, pushes) and are downgraded for RESP2 clients by
the encoder exactly as Redis 7.0 downgrades them (checked against DEBUG PROTOCOL in
tests/wire/test_resp3.py).
"""

from __future__ import annotations

from typing import Any


class Status(str):
    """A simple string reply (`+OK`)."""

    __slots__ = ()


class ErrorReply(str):
    """An error reply returned as a value (inside arrays, or from EXEC); text without '-'."""

    __slots__ = ()


class Map(list[tuple[Any, Any]]):
    """RESP3 map (`%`); a flat array of key, value, ... in RESP2."""

    __slots__ = ()


class SetReply(list[Any]):
    """RESP3 set (`~`); an array in RESP2."""

    __slots__ = ()


class Push(list[Any]):
    """RESP3 out-of-band push (`>`); an array in RESP2."""

    __slots__ = ()


class Double(float):
    """RESP3 double (`,`); a bulk string in RESP2."""

    __slots__ = ()


class Bool:
    """RESP3 boolean (`#t`/`#f`); the integer 1 or 0 in RESP2."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value


class BigNumber(str):
    """RESP3 big number (`(` followed by the decimal digits); a bulk string in RESP2."""

    __slots__ = ()


class Verbatim:
    """RESP3 verbatim string (`=`); a bulk string in RESP2 (INFO, CLIENT LIST ...)."""

    __slots__ = ("text", "fmt")

    def __init__(self, text: bytes, fmt: bytes = b"txt") -> None:
        self.text = text
        self.fmt = fmt


class NullArray:
    """A null reply that RESP2 spells `*-1` (timeouts of blocking pops, failed EXEC)."""

    __slots__ = ()


class Raw(bytes):
    """Bytes that are already encoded RESP and go to the socket untouched."""

    __slots__ = ()


class NoReply:
    """The handler answered by other means (blocked, reply suppressed); nothing is written."""

    __slots__ = ()


NULL_ARRAY = NullArray()
NO_REPLY = NoReply()
OK = Status("OK")
QUEUED = Status("QUEUED")
PONG = Status("PONG")
