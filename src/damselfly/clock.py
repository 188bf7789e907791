"""Time for the server: absolute integer milliseconds, with an offset tests can move.

Expiry is decided on integer milliseconds since the epoch, never float seconds. Tests do not
sleep for expiry: `DEBUG SET-CLOCK-OFFSET ms` (a damselfly extension) shifts the server's notion
of now, which moves lazy and active expiry alike.
"""

from __future__ import annotations

import time


class Clock:
    __slots__ = ("offset_ms",)

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms

    def now_us(self) -> int:
        return time.time_ns() // 1_000 + self.offset_ms * 1000

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()
