"""Glob-style pattern matching with Redis's rules (KEYS, SCAN MATCH, PUBSUB, CONFIG GET).

Redis matches with `stringmatchlen`, which reads the pattern as it goes; its reading is exact in
some odd corners that clients rely on without knowing: `[a-]` is the range from `a` down to `]`,
an unclosed `[abc` is still a class, `[]` matches nothing and `[^]` any byte, a backslash escapes
the next byte (a lone trailing backslash is a literal), a range may be written backwards
(`[z-a]`) and compares bytes as signed C chars (a range from byte 0x00 to byte 0xff holds only
those two bytes), a pattern made only of stars does not match the empty string, and a match
that needs more than 1000 nested star expansions fails (Redis's guard against deep recursion).

Here a pattern is read once into tokens, each either a run of stars or the set of bytes one
position accepts (computed by asking, for each of the 256 bytes, what Redis's class test would
answer, so ranges, negation and case folding cannot drift from Redis). The tokens are compiled
to a Python regular expression that runs in C, and compiled patterns are cached. Backtracking is
kept linear: every piece between two stars has a fixed length, so placing it at its leftmost
position is always safe, and each such piece sits in an atomic group `(?>.*?piece)` that the
regex engine never re-enters; only the final piece, anchored at the end, scans back once. This
keeps patterns like `*a*a*a*a*b` (Redis's own CVE-2022-36021 case) from blowing up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

Matcher = Callable[[bytes], bool]

# Redis gives up on a match that recurses through more star expansions than this.
MAX_STAR_NESTING = 1000

_STAR = None  # a token that is a run of one or more stars
_ALL_BYTES = frozenset(range(256))
_SPECIAL = frozenset(b"*?[\\")

Token = frozenset[int] | None


def _lower(c: int) -> int:
    return c + 32 if 0x41 <= c <= 0x5A else c


def _signed(c: int) -> int:
    return c - 256 if c >= 0x80 else c


def tokenize(pattern: bytes, nocase: bool = False) -> list[Token]:
    """Read a pattern the way stringmatchlen does: runs of stars, or one accepted byte set each."""
    tokens: list[Token] = []
    n = len(pattern)
    i = 0
    while i < n:
        c = pattern[i]
        if c == 0x2A:  # '*'
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            tokens.append(_STAR)
        elif c == 0x3F:  # '?'
            tokens.append(_ALL_BYTES)
        elif c == 0x5B:  # '['
            i, accepted = _read_class(pattern, i + 1, nocase)
            tokens.append(accepted)
        else:
            if c == 0x5C and n - i >= 2:  # '\' escapes the next byte
                i += 1
                c = pattern[i]
            tokens.append(_literal(c, nocase))
        i += 1
    return tokens


def _literal(c: int, nocase: bool) -> frozenset[int]:
    if nocase:
        return frozenset(x for x in range(256) if _lower(x) == _lower(c))
    return frozenset((c,))


def _read_class(pattern: bytes, i: int, nocase: bool) -> tuple[int, frozenset[int]]:
    """Read a class whose body starts at `i`; returns (index of its last byte, accepted bytes)."""
    n = len(pattern)
    negate = i < n and pattern[i] == 0x5E  # '^'
    if negate:
        i += 1
    singles: list[int] = []
    ranges: list[tuple[int, int]] = []
    while True:
        if i < n and pattern[i] == 0x5C and n - i >= 2:
            i += 1
            singles.append(pattern[i])
        elif i < n and pattern[i] == 0x5D:  # ']' closes the class
            break
        elif i >= n:
            # Unclosed: the class simply ends with the pattern.
            i = n - 1
            break
        elif n - i >= 3 and pattern[i + 1] == 0x2D:  # 'x-y'
            # Redis compares C chars, which are signed: bytes >= 0x80 sort below 0x00.
            lo, hi = _signed(pattern[i]), _signed(pattern[i + 2])
            if lo > hi:
                lo, hi = hi, lo
            ranges.append((lo, hi))
            i += 2
        else:
            singles.append(pattern[i])
        i += 1
    accepted = []
    for c in range(256):
        sc = _signed(c)
        if nocase:
            hit = any(_lower(s) == _lower(c) for s in singles) or any(
                _lower(lo) <= _lower(sc) <= _lower(hi) for lo, hi in ranges
            )
        else:
            hit = c in singles or any(lo <= sc <= hi for lo, hi in ranges)
        if hit != negate:
            accepted.append(c)
    return i, frozenset(accepted)


def _byte_set_regex(accepted: frozenset[int]) -> bytes:
    if not accepted:
        return b"(?!)"
    if len(accepted) == 256:
        return b"."
    if len(accepted) == 1:
        return re.escape(bytes(accepted))
    negate = len(accepted) > 128
    members = sorted(_ALL_BYTES - accepted if negate else accepted)
    parts = []
    start = prev = members[0]
    for c in [*members[1:], -2]:
        if c != prev + 1:
            parts.append(
                b"\\x%02x" % start if start == prev else b"\\x%02x-\\x%02x" % (start, prev)
            )
            start = c
        prev = c
    return b"[" + (b"^" if negate else b"") + b"".join(parts) + b"]"


def _never(_: bytes) -> bool:
    return False


def _nonempty(s: bytes) -> bool:
    return len(s) > 0


@lru_cache(maxsize=512)
def compile_glob(pattern: bytes, nocase: bool = False) -> Matcher:
    """A function telling whether a whole string matches `pattern` (cached by pattern)."""
    if not nocase and not _SPECIAL.intersection(pattern):
        return pattern.__eq__
    tokens = tokenize(pattern, nocase)
    segments: list[list[frozenset[int]]] = [[]]
    for tok in tokens:
        if tok is None:
            segments.append([])
        else:
            segments[-1].append(tok)
    stars = len(segments) - 1
    trailing_star = stars > 0 and not segments[-1]
    if stars - (1 if trailing_star else 0) > MAX_STAR_NESTING:
        return _never
    if stars and all(not seg for seg in segments):
        return _nonempty  # only stars: any string but the empty one
    if stars == 1 and trailing_star and all(len(t) == 1 for t in segments[0]) and not nocase:
        prefix = bytes(next(iter(t)) for t in segments[0])
        return lambda s: s.startswith(prefix)

    def piece(seg: list[frozenset[int]]) -> bytes:
        return b"".join(_byte_set_regex(t) for t in seg)

    if not stars:
        regex = piece(segments[0])
    else:
        middle = b"".join(b"(?>.*?" + piece(seg) + b")" for seg in segments[1:-1] if seg)
        last = b".*" if trailing_star else b".*" + piece(segments[-1])
        regex = piece(segments[0]) + middle + last
    fullmatch = re.compile(regex, re.DOTALL).fullmatch
    # Like Redis, the empty string matches only the empty pattern (no stars to stretch).
    if stars:
        return lambda s: bool(s) and fullmatch(s) is not None
    return lambda s: fullmatch(s) is not None


def glob_match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    return compile_glob(pattern, nocase)(string)


def is_literal(pattern: bytes) -> bool:
    """True if the pattern matches exactly one string, itself (no special bytes)."""
    return not _SPECIAL.intersection(pattern)
