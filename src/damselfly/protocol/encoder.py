"""Reply value -> RESP2 or RESP3 bytes.

`encode` appends to a list of byte chunks that the connection joins into one write, so a pipeline
of replies costs one `transport.write`. The common shapes (bulk strings, integers, OK) are tested
first; constant replies come from small caches instead of being formatted again.
"""

from __future__ import annotations

import math
from typing import Any

from damselfly.protocol.types import (
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
    """A double as Redis prints it in replies: shortest round-trip form, inf/-inf/nan spelled out."""
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    if math.isnan(value):
        return b"nan"
    if value == int(value) and abs(value) < 1e17:
        return b"%d" % int(value)
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = exp[0] if exp[0] in "+-" else "+"
        digits = exp.lstrip("+-").lstrip("0") or "0"
        text = f"{mantissa}e{sign}{digits.zfill(2)}"
    return text.encode()


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
            cached = _STATUS_CACHE[value] = b"+" + value.encode() + b"\r\n"
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
        out.append(b"-" + value.encode() + b"\r\n")
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
