"""Request parsing: RESP multibulk and inline commands, with Redis's limits and error texts.

Why not hiredis here: hiredis parses *replies*; it neither enforces `proto-max-bulk-len` nor the
stricter limits before authentication, and its error texts are not Redis's. A request parser has
to reject `$99999999999` when the header arrives, before a byte of the body is buffered, and say
exactly what Redis says. So requests are parsed here with `bytes.find` and slicing (one copy per
argument); replies to the lock client are parsed by redis-py, which uses hiredis.

Limits (all from Redis 7's networking.c):
- a header line (`*N` or `$N`) or an inline command longer than 64 KiB without a newline is an error;
- a multibulk count must parse and be <= 2**31-1; <= 0 means an empty request that is skipped;
  before authentication it must be <= 10;
- a bulk length must parse, be >= 0 and <= proto-max-bulk-len; before authentication <= 16384;
- after a bulk's bytes Redis skips two bytes without looking at them, and so do we.
Nothing is allocated for a length that has not arrived: a partial bulk is only waited for, and the
connection enforces `client-query-buffer-limit` on what is buffered.
"""

from __future__ import annotations

from damselfly.errors import ProtocolError

INLINE_MAX = 64 * 1024
INT_MAX = 2**31 - 1
UNAUTH_MULTIBULK_MAX = 10
UNAUTH_BULK_MAX = 16384


def split_inline(line: bytes) -> list[bytes]:
    """Split an inline command like Redis's sdssplitargs: quotes, escapes, \\xHH in double quotes.

    Raises ProtocolError("unbalanced quotes in request") as Redis does.
    """
    args: list[bytes] = []
    i = 0
    n = len(line)
    while True:
        while i < n and line[i] in b" \n\r\t\x0b\x0c\x00":
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_dq = False
        in_sq = False
        while True:
            if in_dq:
                if i >= n:
                    raise ProtocolError("unbalanced quotes in request")
                c = line[i]
                if (
                    c == 0x5C
                    and i + 3 < n
                    and line[i + 1] == 0x78
                    and _is_hex(line[i + 2])
                    and _is_hex(line[i + 3])
                ):
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    current.append(_ESCAPES.get(line[i], line[i]))
                elif c == 0x22:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\x0b\x0c\x00":
                        raise ProtocolError("unbalanced quotes in request")
                    in_dq = False
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_sq:
                if i >= n:
                    raise ProtocolError("unbalanced quotes in request")
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    current.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\x0b\x0c\x00":
                        raise ProtocolError("unbalanced quotes in request")
                    in_sq = False
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in b" \n\r\t\x0b\x0c\x00":
                    break
                if c == 0x22:
                    in_dq = True
                elif c == 0x27:
                    in_sq = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def _is_hex(c: int) -> bool:
    return c in b"0123456789abcdefABCDEF"


def _parse_len(text: bytes) -> int | None:
    """Parse a length like Redis's string2ll: optional '-', digits, no spaces or '+'."""
    if not text or len(text) > 20:
        return None
    if text[0] == 0x2D:
        digits = text[1:]
        sign = -1
    else:
        digits = text
        sign = 1
    if not digits or not digits.isdigit() or (digits[0] == 0x30 and len(digits) > 1):
        return None
    value = sign * int(digits)
    if not -(2**63) <= value < 2**63:
        return None
    return value


class RequestParser:
    """Incremental parser for one connection.

    `feed(data, authenticated)` returns the complete commands in the buffer and, if the bytes
    after them are malformed, the ProtocolError to send before closing the connection.
    """

    __slots__ = ("buf", "need", "max_bulk", "inline_allowed")

    def __init__(self, max_bulk: int = 512 * 1024 * 1024) -> None:
        self.buf = bytearray()
        # Bytes the buffer must hold before parsing can make progress (a pending bulk body).
        self.need = 0
        self.max_bulk = max_bulk

    def pending(self) -> int:
        return len(self.buf)

    def feed(
        self, data: bytes, authenticated: bool
    ) -> tuple[list[list[bytes]], ProtocolError | None]:
        if self.buf:
            self.buf += data
            if len(self.buf) < self.need:
                return [], None
            data = bytes(self.buf)
        commands: list[list[bytes]] = []
        pos = 0
        end = len(data)
        error: ProtocolError | None = None
        max_bulk = self.max_bulk
        need = 0
        find = data.find
        while pos < end:
            if data[pos] == 0x2A:  # '*'
                nl = find(b"\r\n", pos)
                if nl < 0:
                    if end - pos > INLINE_MAX:
                        error = ProtocolError("too big mbulk count string")
                    break
                count = _parse_len(data[pos + 1 : nl])
                if count is None or count > INT_MAX:
                    error = ProtocolError("invalid multibulk length")
                    break
                if count > UNAUTH_MULTIBULK_MAX and not authenticated:
                    error = ProtocolError("unauthenticated multibulk length")
                    break
                if count <= 0:
                    pos = nl + 2
                    continue
                p = nl + 2
                argv: list[bytes] = []
                complete = True
                for _ in range(count):
                    if p >= end:
                        complete = False
                        break
                    nl = find(b"\r\n", p)
                    if nl < 0:
                        if end - p > INLINE_MAX:
                            error = ProtocolError("too big bulk count string")
                        complete = False
                        break
                    if data[p] != 0x24:  # '$'
                        error = ProtocolError(
                            "expected '$', got '%s'" % chr(data[p])  # noqa: UP031
                        )
                        complete = False
                        break
                    size = _parse_len(data[p + 1 : nl])
                    if size is None or size < 0 or size > max_bulk:
                        error = ProtocolError("invalid bulk length")
                        complete = False
                        break
                    if size > UNAUTH_BULK_MAX and not authenticated:
                        error = ProtocolError("unauthenticated bulk length")
                        complete = False
                        break
                    start = nl + 2
                    stop = start + size
                    if stop + 2 > end:
                        need = stop + 2 - pos
                        complete = False
                        break
                    argv.append(data[start:stop])
                    p = stop + 2
                if not complete:
                    break
                commands.append(argv)
                pos = p
            else:
                nl = find(b"\n", pos)
                if nl < 0:
                    if end - pos > INLINE_MAX:
                        error = ProtocolError("too big inline request")
                    break
                line = data[pos:nl]
                if line.endswith(b"\r"):
                    line = line[:-1]
                try:
                    argv = split_inline(line)
                except ProtocolError as exc:
                    error = exc
                    break
                pos = nl + 1
                if argv:
                    commands.append(argv)
        if error is not None:
            self.buf = bytearray()
            self.need = 0
        elif pos < end:
            self.buf = bytearray(data[pos:]) if pos else (self.buf or bytearray(data))
            self.need = need
        else:
            if self.buf:
                self.buf = bytearray()
            self.need = 0
        return commands, error
