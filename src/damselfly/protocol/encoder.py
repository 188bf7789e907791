"""Reply value -> RESP2 or RESP3 bytes, as redis-server 7.0 writes them.

`encode` appends to a list of byte chunks that the connection joins into one write, so a pipeline
of replies costs one `transport.write`. The common shapes (bulk strings, integers, OK) are tested
first; constant replies come from small caches instead of being formatted again. RESP3-only shapes
are downgraded for RESP2 the way Redis does: a map becomes a flat array, a set or push an array,
a double or big number a bulk string, a boolean the integer 1/0, a verbatim string a bulk string
of its text, and a null `$-1` (or `*-1` for NULL_ARRAY). Error and status lines must not contain
CR or LF, so (like Redis's addReplyErrorFormat) those become spaces. Text is encoded with
surrogateescape so that a request byte quoted in an error goes back out as that same byte.
"""

from __future__ import annotations

import math
from typing import Any

from damselfly.protocol.types import (
    BigNumber,
    Bool,
    Double,
    ErrorReply,
    Map,
    NoReply,
    NullArray,
    Push,
    Raw,
    SetReply,
    Status,
    Verbatim,
)

_SMALL_INTS = [b":%d\r\n" % i for i in range(-1, 1024)]
_STATUS_CACHE: dict[str, bytes] = {}


def format_double(value: float) -> bytes:
    """A double as Redis 7.0's addReplyDouble prints it: printf's "%.17g" (1.1 is
    1.1000000000000001, 1e20 is 1e+20, 1e-05 keeps two exponent digits), inf and -inf spelled out.
    Python's %-formatting of finite doubles is the same as C's, digit for digit."""
    if value != value:
        # glibc prints a NaN with its sign bit set as "-nan".
        return b"-nan" if math.copysign(1.0, value) < 0 else b"nan"
    return b"%.17g" % value


def _line(text: str) -> bytes:
    """A status or error text as one protocol line: CR and LF become spaces."""
    if "\r" in text or "\n" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return text.encode("utf-8", "surrogateescape")


def encode(value: Any, resp3: bool, out: list[bytes]) -> None:
    t = type(value)
    if t is bytes:
        out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif t is int:
        if -1 <= value < 1023:
            out.append(_SMALL_INTS[value + 1])
        else:
            out.append(b":%d\r\n" % value)
    elif t is Status:
        cached = _STATUS_CACHE.get(value)
        if cached is None:
            cached = b"+" + _line(value) + b"\r\n"
            if len(_STATUS_CACHE) < 1024:
                _STATUS_CACHE[value] = cached
        out.append(cached)
    elif value is None:
        out.append(b"_\r\n" if resp3 else b"$-1\r\n")
    elif t is list or t is tuple:
        out.append(b"*%d\r\n" % len(value))
        for item in value:
            encode(item, resp3, out)
    elif t is Raw:
        out.append(value)
    elif t is ErrorReply:
        out.append(b"-" + _line(value) + b"\r\n")
    elif t is Map:
        if resp3:
            out.append(b"%%%d\r\n" % len(value))
        else:
            out.append(b"*%d\r\n" % (2 * len(value)))
        for k, v in value:
            encode(k, resp3, out)
            encode(v, resp3, out)
    elif t is SetReply:
        out.append((b"~%d\r\n" if resp3 else b"*%d\r\n") % len(value))
        for item in value:
            encode(item, resp3, out)
    elif t is Push:
        out.append((b">%d\r\n" if resp3 else b"*%d\r\n") % len(value))
        for item in value:
            encode(item, resp3, out)
    elif t is Double:
        text = format_double(value)
        if resp3:
            out.append(b"," + text + b"\r\n")
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(text), text))
    elif t is NullArray:
        out.append(b"_\r\n" if resp3 else b"*-1\r\n")
    elif t is Bool:
        if resp3:
            out.append(b"#t\r\n" if value.value else b"#f\r\n")
        else:
            out.append(b":1\r\n" if value.value else b":0\r\n")
    elif t is Verbatim:
        if resp3:
            body = value.fmt + b":" + value.text
            out.append(b"=%d\r\n%s\r\n" % (len(body), body))
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(value.text), value.text))
    elif t is BigNumber:
        digits = value.encode()
        if resp3:
            out.append(b"(" + digits + b"\r\n")
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(digits), digits))
    elif t is str:
        data = value.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    elif t is bytearray or t is memoryview:
        data = bytes(value)
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    elif t is float:
        encode(Double(value), resp3, out)
    elif t is bool:
        encode(Bool(value), resp3, out)
    elif t is dict:
        encode(Map(value.items()), resp3, out)
    elif t is NoReply:
        pass
    elif isinstance(value, bytes):  # bytes subclasses (raw-encoded strings)
        out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif isinstance(value, int):
        out.append(b":%d\r\n" % value)
    else:
        raise TypeError(f"cannot encode reply of type {t.__name__}")


def encode_one(value: Any, resp3: bool) -> bytes:
    out: list[bytes] = []
    encode(value, resp3, out)
    return b"".join(out)
