"""Exact emulation of the x87 80-bit `long double` arithmetic behind INCRBYFLOAT.

Redis parses INCRBYFLOAT's operands with `strtold`, adds them as `long double` (64-bit
significand, 15-bit exponent on x86-64), and prints the sum with `"%.17Lf"` before stripping
trailing zeros. A Python float (53-bit double) gives different digits (10.5 + 0.1 is "10.6" in
Redis but 10.6 + 1 ulp in doubles) and overflows far sooner (1e308 * 10 is finite in long double),
so values are kept here as exact `Fraction`s, rounded to the nearest representable long double
after every parse and every addition (round half to even, like the FPU), and printed by exact
decimal rounding (glibc's printf is exact and also rounds half to even). Infinity is a float.
Hash fields (HINCRBYFLOAT) use the same routines.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

# x87 extended precision: 64 significand bits, normal exponents down to 2**-16382, subnormals
# down to 2**-16445, overflow at 2**16384.
_SIGNIFICAND_BITS = 64
_MIN_QUANTUM_EXP = -16445
_OVERFLOW_EXP = 16384
# Redis copies the text into a buffer of this many bytes (terminator included) before parsing.
MAX_CHARS = 5 * 1024

_DECIMAL = re.compile(rb"([0-9]*)(?:\.([0-9]*))?(?:e([+-]?[0-9]+))?")
_HEX = re.compile(rb"0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?[0-9]+))?")
_SPACES = frozenset(b" \t\n\v\f\r")
# Python refuses int <-> decimal text conversions beyond 4300 digits by default (a guard against
# quadratic work); long doubles reach 4933 digits, so longer numbers go through in chunks.
_CHUNK_DIGITS = 4000
_CHUNK: int = 10**_CHUNK_DIGITS

Value = Fraction | float  # a finite long double, or +-inf as a float


def round_to_long_double(x: Fraction) -> Value:
    """The long double nearest to `x` (ties to even); +-inf past the largest finite value."""
    if x == 0:
        return Fraction(0)
    negative = x < 0
    num, den = abs(x.numerator), x.denominator
    exp = num.bit_length() - den.bit_length()
    # Make 2**exp <= |x| < 2**(exp+1).
    if (num << max(0, -exp)) < (den << max(0, exp)):
        exp -= 1
    if exp >= _OVERFLOW_EXP:
        return -math.inf if negative else math.inf
    shift = max(exp - (_SIGNIFICAND_BITS - 1), _MIN_QUANTUM_EXP)
    if shift >= 0:
        den <<= shift
    else:
        num <<= -shift
    mantissa, rem = divmod(num, den)
    if 2 * rem > den or (2 * rem == den and mantissa & 1):
        mantissa += 1
    if mantissa.bit_length() + shift > _OVERFLOW_EXP:
        return -math.inf if negative else math.inf
    value = Fraction(mantissa << shift) if shift >= 0 else Fraction(mantissa, 1 << -shift)
    return -value if negative else value


def parse(data: bytes) -> Value | None:
    """strtold as Redis's string2ld uses it; None when Redis says "not a valid float".

    Rejected: empty or too long text, leading whitespace, any unparsed trailing byte, NaN, and
    results strtold reports with ERANGE as overflow (inf) or underflow to zero. Accepted besides
    plain decimals: hex floats ("0x1.8p1"), "inf"/"infinity" in any case, exponents of any size
    when the value is zero.
    """
    if not data or len(data) >= MAX_CHARS or data[0] in _SPACES:
        return None
    text = data.lower()
    negative = text[:1] == b"-"
    if text[:1] in (b"+", b"-"):
        text = text[1:]
    if text in (b"inf", b"infinity"):
        return -math.inf if negative else math.inf
    value = _parse_hex(text) if text[:2] == b"0x" else None
    if value is None:
        value = _parse_decimal(text)
    if value is None or (isinstance(value, float) and math.isinf(value)):
        return None  # unparsable, or ERANGE overflow
    return -value if negative else value


def _parse_decimal(text: bytes) -> Value | None:
    match = _DECIMAL.fullmatch(text)
    if match is None:
        return None
    whole, frac, exp_text = match.group(1), match.group(2) or b"", match.group(3)
    if not whole and not frac:
        return None
    digits = (whole + frac).lstrip(b"0")
    if not digits:
        return Fraction(0)
    exp10 = (int(exp_text) if exp_text else 0) - len(frac)
    top = len(digits) + exp10  # 10**(top-1) <= value < 10**top
    if top - 1 >= 4933:  # beyond 1.19e4932
        return math.inf
    if top < -4951:  # below half the smallest subnormal: ERANGE with a zero result
        return None
    whole_number = _int_from_digits(digits)
    exact = Fraction(whole_number * 10**exp10) if exp10 >= 0 else Fraction(whole_number, 10**-exp10)
    return _nonzero(round_to_long_double(exact))


def _parse_hex(text: bytes) -> Value | None:
    match = _HEX.fullmatch(text)
    if match is None:
        return None
    whole, frac, exp_text = match.group(1), match.group(2) or b"", match.group(3)
    if not whole and not frac:
        return None
    mantissa = int(whole + frac, 16)
    if mantissa == 0:
        return Fraction(0)
    exp2 = (int(exp_text) if exp_text else 0) - 4 * len(frac)
    bits = mantissa.bit_length()  # 2**(bits-1+exp2) <= value < 2**(bits+exp2)
    if bits - 1 + exp2 >= _OVERFLOW_EXP:
        return math.inf
    if bits + exp2 <= _MIN_QUANTUM_EXP - 1:
        return None
    exact = Fraction(mantissa << exp2) if exp2 >= 0 else Fraction(mantissa, 1 << -exp2)
    return _nonzero(round_to_long_double(exact))


def _nonzero(value: Value) -> Value | None:
    """A nonzero input that rounded to zero is strtold's ERANGE underflow: Redis rejects it."""
    return None if value == 0 else value


def add(x: Value, y: Value) -> Value:
    """x + y in long double; inf on overflow, nan for inf + -inf."""
    if isinstance(x, float) or isinstance(y, float):
        # Floats here are only inf/nan; a finite operand (maybe past double range, so it must
        # not be converted) cannot change the result.
        return (x if isinstance(x, float) else 0.0) + (y if isinstance(y, float) else 0.0)
    return round_to_long_double(x + y)


def format_human(value: Fraction) -> bytes:
    """`"%.17Lf"` with trailing zeros (and a bare '.') removed, and "-0" printed as "0"."""
    scaled = abs(value) * 10**17
    units, rem = divmod(scaled.numerator, scaled.denominator)
    if 2 * rem > scaled.denominator or (2 * rem == scaled.denominator and units & 1):
        units += 1
    whole, frac = divmod(units, 10**17)
    text = _digits_of(whole)
    frac_text = (b"%017d" % frac).rstrip(b"0")
    if frac_text:
        text += b"." + frac_text
    if value < 0 and text != b"0":
        text = b"-" + text
    return text


def _int_from_digits(digits: bytes) -> int:
    if len(digits) <= _CHUNK_DIGITS:
        return int(digits)
    return _int_from_digits(digits[:-_CHUNK_DIGITS]) * _CHUNK + int(digits[-_CHUNK_DIGITS:])


def _digits_of(number: int) -> bytes:
    if number < _CHUNK:
        return b"%d" % number
    high, low = divmod(number, _CHUNK)
    return _digits_of(high) + b"%0*d" % (_CHUNK_DIGITS, low)
