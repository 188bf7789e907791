"""Typed reads of command arguments, with Redis's parsing rules and error texts.

Redis parses integers with `string2ll` (no '+', no spaces, no leading zeros, at most 20 chars)
and floats with `strtold` (rejecting spaces, trailing garbage and NaN). Python's `int()` and
`float()` are far more lenient ("1_000", " 7 ", "nan"), so they are only called after the text
has been checked against the same grammar Redis accepts.
"""

from __future__ import annotations

import math
import re

from damselfly import errors
from damselfly.errors import CommandError

LLONG_MIN = -(2**63)
LLONG_MAX = 2**63 - 1

_FLOAT_RE = re.compile(
    rb"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?)\Z", re.IGNORECASE
)


def to_int(data: bytes) -> int | None:
    """string2ll: the integer `data` spells exactly, or None."""
    n = len(data)
    if n == 0 or n > 20:
        return None
    if data[0] == 0x2D:  # '-'
        if n == 1:
            return None
        body = data[1:]
    else:
        body = data
    if not body.isdigit() or (body[0] == 0x30 and len(body) > 1):
        return None
    if body[0] == 0x30 and body is not data:  # "-0"
        return None
    value = int(data)
    if value < LLONG_MIN or value > LLONG_MAX:
        return None
    return value


def parse_int(data: bytes, error: str = errors.NOT_INTEGER) -> int:
    value = to_int(data)
    if value is None:
        raise CommandError(error)
    return value


def to_float(data: bytes) -> float | None:
    """strtold as Redis uses it: no spaces, no trailing bytes, no NaN; None when invalid."""
    if not _FLOAT_RE.match(data):
        return None
    value = float(data)
    if math.isnan(value):
        return None
    return value
