"""String commands against the real redis-server: the same sequences, reply bytes compared exactly.

Each case is a list of commands. `$name` in a command stands for a key unique to the case and
protocol (`<case>:<resp>:name`); both servers are flushed before every case and the replies are
compared byte for byte, in RESP2 and in RESP3. Replies that depend on the instant a command ran
(TTL and PTTL after a relative expiry) are compared within a small tolerance; everything else must
be equal. Random LCS, INCRBYFLOAT and option-list cases come from fixed seeds, so a failure always
reproduces.
"""

from __future__ import annotations

import random
import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers import RawConnection, ServerProcess, encode_command, start_damselfly, start_redis

Command = str | tuple[bytes | str, ...]

# Two servers run a relative expiry and read it back microseconds apart: allow rounding.
_TOLERANCE = {b"ttl": 1, b"pttl": 50}
_PAST_S = 1_000_000_000  # 2001: any EXAT/PXAT this far back is expired on both servers
_FUTURE_S = 4_000_000_000  # 2096

# fmt: off
CASES: dict[str, list[Command]] = {
    # -- SET and its options -------------------------------------------------------------------
    "set-get": ["SET $a hello", "GET $a", "GET $missing", "SET $a world", "GET $a", "STRLEN $a"],
    "set-empty-value": ["SET $a ''", "GET $a", "STRLEN $a", "EXISTS $a"],
    "set-binary-value": [("SET", "$a", b"\x00\xff\r\n"), "GET $a", "STRLEN $a"],
    "set-overwrites-other-type": ["RPUSH $l x", "SET $l v", "TYPE $l", "GET $l"],
    "set-arity": ["SET", "SET $a", "GET", "GET $a $b"],
    "set-nx": ["SET $a 1 NX", "SET $a 2 NX", "GET $a", "SET $a 3 nx", "GET $a"],
    "set-xx": ["SET $a 1 XX", "EXISTS $a", "SET $a 1", "SET $a 2 XX", "GET $a", "SET $a 3 xX"],
    "set-nx-xx-conflict": ["SET $a 1 NX XX", "SET $a 1 XX NX", "SET $a 1 NX NX", "SET $a 1 XX XX"],
    "set-get-option": [
        "SET $a 1 GET", "GET $a", "SET $a 2 GET", "SET $a 3 GET GET", "GET $a", "SET $a 4 get",
    ],
    "set-get-wrongtype": [
        "RPUSH $l x", "SET $l v GET", "SET $l v NX GET", "SET $l v XX GET", "TYPE $l",
        "SET $l v GET EX abc", "SET $l v GET EX 0",
    ],
    "set-nx-get": ["SET $a 1 NX GET", "SET $a 2 NX GET", "GET $a", "SET $b 1 GET NX"],
    "set-xx-get": ["SET $a 1 XX GET", "EXISTS $a", "SET $a 1", "SET $a 2 XX GET", "GET $a"],
    "set-ex": ["SET $a v EX 100", "TTL $a", "SET $a v", "TTL $a", "SET $a v ex 200", "TTL $a"],
    "set-px": ["SET $a v PX 100000", "PTTL $a", "SET $a v px 5000", "PTTL $a"],
    "set-exat-pxat": [
        f"SET $a v EXAT {_FUTURE_S}", "TTL $a", f"SET $b v PXAT {_FUTURE_S * 1000}", "PTTL $b",
        f"SET $c v exat {_FUTURE_S}", f"SET $d v pxat {_FUTURE_S}000", "EXISTS $c $d",
    ],
    "set-exat-in-past": [
        f"SET $a v EXAT {_PAST_S}", "GET $a", "EXISTS $a", f"SET $b v PXAT {_PAST_S * 1000}",
        "GET $b", "SET $c v EXAT 1", "SET $d v PXAT 1", "EXISTS $c $d",
    ],
    "set-repeated-expire": [
        "SET $a v EX 1 EX 200", "TTL $a", "SET $a v PX 1 PX 300000", "PTTL $a",
        "SET $a v EX 100 EX 0", "SET $a v EX 0 EX 100", "TTL $a", "SET $a v EX abc EX 100",
        "TTL $a",
    ],
    "set-expire-conflicts": [
        "SET $a v EX 1 PX 2", "SET $a v PX 1 EX 2", "SET $a v EX 1 EXAT 2", "SET $a v EXAT 1 PXAT 2",
        "SET $a v PXAT 1 EX 2", "SET $a v EX 10 KEEPTTL", "SET $a v KEEPTTL EX 10",
        "SET $a v KEEPTTL PX 10", "SET $a v PXAT 10 KEEPTTL", "SET $a v KEEPTTL KEEPTTL",
        "SET $a v PERSIST", "EXISTS $a",
    ],
    "set-expire-missing-value": [
        "SET $a v EX", "SET $a v PX", "SET $a v EXAT", "SET $a v PXAT", "SET $a v EX 10 EX",
        "SET $a v NX EX", "EXISTS $a",
    ],
    "set-expire-bad-values": [
        "SET $a v EX abc", "SET $a v EX 0", "SET $a v EX -1", "SET $a v PX 0", "SET $a v PX -100",
        "SET $a v EXAT 0", "SET $a v PXAT -1", "SET $a v EX ''", "SET $a v EX ' 1'",
        "SET $a v EX 1.5", "SET $a v EX +1", "SET $a v EX 01", "SET $a v EX 99999999999999999999",
        "SET $a v EX -9223372036854775808", "EXISTS $a",
    ],
    "set-expire-overflow": [
        "SET $a v EX 9223372036854775807", "SET $a v EX 9223372036854775",
        "SET $a v EX 9223372036854776", "SET $a v PX 9223372036854775807",
        "SET $a v PX 9223372036854775000", "SET $a v EXAT 9223372036854776",
        "SET $a v EXAT 9223372036854775", "EXISTS $a", "SET $b v PXAT 9223372036854775807",
        "EXISTS $b", "SETEX $c 9223372036854775807 v", "PSETEX $c 9223372036854775807 v",
        "EXISTS $c",
    ],
    "set-expire-error-before-get-and-nx": [
        "SET $a 1", "SET $a v EX abc NX", "SET $a v EX 0 GET", "SET $a v NX EX -5", "GET $a",
    ],
    "set-keepttl": [
        "SET $a v EX 100", "SET $a w KEEPTTL", "TTL $a", "GET $a", "SET $a x", "TTL $a",
        "SET $b v KEEPTTL", "TTL $b", "SET $a y keepttl", "TTL $a",
    ],
    "set-drops-ttl": ["SET $a v EX 100", "SET $a w", "TTL $a", "SET $a v PX 100000 XX", "TTL $a"],
    "set-xx-keeps-other-options": ["SET $a 1", "SET $a 2 XX EX 100", "TTL $a", "GET $a"],
    "set-unknown-option": ["SET $a v FOO", "SET $a v NX FOO", "SET $a v GETX", "EXISTS $a"],
    "set-options-cut-at-nul": [
        ("SET", "$a", "v", b"NX\x00junk"), ("SET", "$a", "w", b"nx\x00"), "GET $a",
        ("SET", "$a", "x", b"EX\x00y", "100"), "TTL $a", ("SET", "$a", "y", b"KEEPTTL\x00"),
        "TTL $a", ("SET", "$a", "z", b"\x00"), ("SET", "$a", "z", b"N\x00X"),
    ],
    "setnx": ["SETNX $a 1", "SETNX $a 2", "GET $a", "RPUSH $l x", "SETNX $l v", "TYPE $l"],
    "setnx-arity": ["SETNX $a", "SETNX $a b c"],
    "setnx-expired-volatile": [f"SET $a old PXAT {_PAST_S * 1000}", "SETNX $a new", "GET $a"],
    "setex": [
        "SETEX $a 100 v", "TTL $a", "GET $a", "SETEX $a 0 v", "SETEX $a -1 v", "SETEX $a abc v",
        "SETEX $a 1.5 v", "SETEX $a", "SETEX $a 10", "GET $a", "RPUSH $l x", "SETEX $l 10 v",
        "TYPE $l",
    ],
    "psetex": [
        "PSETEX $a 100000 v", "PTTL $a", "PSETEX $a 0 v", "PSETEX $a -5 v", "PSETEX $a x v",
        "PSETEX $a 9223372036854775807 v", "GET $a",
    ],
    # -- GET, GETSET, GETDEL, GETEX --------------------------------------------------------------
    "get-wrongtype": ["RPUSH $l x", "GET $l", "GET $missing"],
    "get-expired": [f"SET $a v PXAT {_PAST_S * 1000}", "GET $a", "EXISTS $a"],
    "getset": [
        "GETSET $a 1", "GETSET $a 2", "GET $a", "SET $b v EX 100", "GETSET $b w", "TTL $b",
        "RPUSH $l x", "GETSET $l v", "TYPE $l", "GETSET $a", "GETSET $a b c",
    ],
    "getdel": [
        "SET $a v", "GETDEL $a", "EXISTS $a", "GETDEL $a", "RPUSH $l x", "GETDEL $l", "TYPE $l",
        "GETDEL", "GETDEL $a $b",
    ],
    "getex-plain": ["SET $a v", "GETEX $a", "GETEX $missing", "GETEX", "TTL $a"],
    "getex-ex-px": [
        "SET $a v", "GETEX $a EX 100", "TTL $a", "GETEX $a PX 50000", "PTTL $a",
        "GETEX $a ex 200", "TTL $a",
    ],
    "getex-exat-pxat": [
        "SET $a v", f"GETEX $a EXAT {_FUTURE_S}", "TTL $a", f"GETEX $a PXAT {_FUTURE_S}000",
        "TTL $a",
    ],
    "getex-exat-past-deletes": [
        "SET $a v", f"GETEX $a EXAT {_PAST_S}", "EXISTS $a", "SET $b v", "GETEX $b PXAT 1",
        "EXISTS $b", "GETEX $b EXAT 1",
    ],
    "getex-persist": [
        "SET $a v EX 100", "GETEX $a PERSIST", "TTL $a", "GETEX $a PERSIST", "TTL $a",
        "GETEX $a persist PERSIST", "GETEX $missing PERSIST",
    ],
    "getex-syntax": [
        "SET $a v EX 100", "GETEX $a EX 10 PERSIST", "GETEX $a PERSIST EX 10", "GETEX $a KEEPTTL",
        "GETEX $a NX", "GETEX $a XX", "GETEX $a GET", "GETEX $a EX", "GETEX $a EX 1 PX 2",
        "GETEX $a FOO", "GETEX $a EX 1 EX 50", "TTL $a",
    ],
    "getex-bad-expire": [
        "SET $a v", "GETEX $a EX abc", "GETEX $a EX 0", "GETEX $a PX -1", "GETEX $a EXAT 0",
        "GETEX $a EX 9223372036854775807", "GETEX $a PX 9223372036854775807", "TTL $a",
    ],
    "getex-missing-key-ignores-bad-expire": [
        "GETEX $missing EX abc", "GETEX $missing EX 0", "GETEX $missing EXAT 1",
    ],
    "getex-wrongtype-before-expire-check": [
        "RPUSH $l x", "GETEX $l EX abc", "GETEX $l", "GETEX $l PERSIST", "GETEX $l FOO",
    ],
    # -- MGET, MSET, MSETNX ----------------------------------------------------------------------
    "mget": [
        "SET $a 1", "SET $b 2", "MGET $a $b $missing $a", "RPUSH $l x", "MGET $l $a", "MGET",
        "MGET $missing",
    ],
    "mset": [
        "MSET $a 1 $b 2", "MGET $a $b", "MSET $a 3 $a 4", "GET $a", "MSET", "MSET $a",
        "MSET $a 1 $b", "MSET $a 1 $b 2 $c", "RPUSH $l x", "MSET $l v", "TYPE $l",
    ],
    "mset-drops-ttl": ["SET $a v EX 100", "MSET $a w", "TTL $a"],
    "msetnx": [
        "MSETNX $a 1 $b 2", "MSETNX $b 3 $c 4", "MGET $a $b $c", "MSETNX $c 5 $d 6",
        "MGET $c $d", "MSETNX", "MSETNX $a", "MSETNX $a 1 $b", "RPUSH $l x", "MSETNX $l v $e 1",
        "EXISTS $e",
    ],
    "msetnx-same-key-twice": ["MSETNX $a 1 $a 2", "GET $a"],
    "msetnx-expired-key": [f"SET $a v PXAT {_PAST_S * 1000}", "MSETNX $a 1 $b 2", "MGET $a $b"],
    # -- APPEND, STRLEN --------------------------------------------------------------------------
    "append": [
        "APPEND $a hello", "APPEND $a ' world'", "GET $a", "STRLEN $a", "APPEND $a ''", "GET $a",
        "APPEND $e ''", "EXISTS $e", "STRLEN $e", "APPEND $a", "APPEND $a b c",
    ],
    "append-keeps-ttl": ["SET $a v EX 100", "APPEND $a w", "TTL $a", "GET $a"],
    "append-to-integer": ["SET $a 10", "APPEND $a 5", "GET $a", "INCR $a", "GET $a"],
    "append-wrongtype": ["RPUSH $l x", "APPEND $l y", "TYPE $l"],
    "strlen": [
        "SET $a hello", "STRLEN $a", "STRLEN $missing", "SET $n 12345", "STRLEN $n",
        "SET $m -123", "STRLEN $m", "RPUSH $l x", "STRLEN $l", "STRLEN", "STRLEN $a $b",
    ],
    # -- GETRANGE, SUBSTR ------------------------------------------------------------------------
    "getrange": [
        "SET $a 'This is a string'", "GETRANGE $a 0 3", "GETRANGE $a -3 -1", "GETRANGE $a 0 -1",
        "GETRANGE $a 10 100", "GETRANGE $a 100 200", "GETRANGE $a 5 3", "GETRANGE $a -100 -200",
        "GETRANGE $a -1 -5", "GETRANGE $a 0 -100", "GETRANGE $a -100 2", "GETRANGE $a -5 -5",
        "GETRANGE $a 15 15", "GETRANGE $a 16 16", "GETRANGE $a 0 0",
    ],
    "getrange-extremes": [
        "SET $a hello", "GETRANGE $a -9223372036854775808 9223372036854775807",
        "GETRANGE $a 9223372036854775807 -9223372036854775808",
        "GETRANGE $a -9223372036854775808 -9223372036854775808",
        "GETRANGE $a 0 9223372036854775808", "GETRANGE $a -9223372036854775809 0",
    ],
    "getrange-integer-value": ["SET $a 12345", "GETRANGE $a 1 2", "GETRANGE $a -2 -1"],
    "getrange-missing-and-empty": [
        "GETRANGE $missing 0 -1", "GETRANGE $missing 5 1", "SET $e ''", "GETRANGE $e 0 -1",
        "GETRANGE $e 0 0", "GETRANGE $e -1 -1",
    ],
    "getrange-errors": [
        "SET $a hello", "GETRANGE $a a 1", "GETRANGE $a 0 b", "GETRANGE $a 1.5 2",
        "RPUSH $l x", "GETRANGE $l 0 1", "GETRANGE $l a 1", "GETRANGE $missing a 1",
        "GETRANGE $a 0", "GETRANGE $a 0 1 2",
    ],
    "substr": [
        "SET $a hello", "SUBSTR $a 1 3", "SUBSTR $a -3 -1", "SUBSTR $missing 0 1", "SUBSTR $a x 1",
        "SUBSTR $a 0",
    ],
    # -- SETRANGE --------------------------------------------------------------------------------
    "setrange": [
        "SET $a 'Hello World'", "SETRANGE $a 6 Redis", "GET $a", "SETRANGE $a 0 J", "GET $a",
        "SETRANGE $a 20 '!'", "GET $a", "STRLEN $a",
    ],
    "setrange-missing-key": [
        "SETRANGE $a 5 ab", "GET $a", "SETRANGE $b 0 x", "GET $b", "SETRANGE $c 3 ''",
        "EXISTS $c", "SETRANGE $c 0 ''", "EXISTS $c",
    ],
    "setrange-empty-value-existing": [
        "SET $a hello", "SETRANGE $a 100 ''", "GET $a", "SETRANGE $a 9223372036854775807 ''",
        "SETRANGE $a 0 ''",
    ],
    "setrange-errors": [
        "SET $a hello", "SETRANGE $a -1 x", "SETRANGE $a abc x", "SETRANGE $a 1.5 x",
        "SETRANGE $a 9223372036854775808 x", "SETRANGE $missing -1 ''", "SETRANGE $missing x ''",
        "RPUSH $l x", "SETRANGE $l -1 x", "SETRANGE $l abc x", "SETRANGE $l 0 ''",
        "SETRANGE $l 0 x", "SETRANGE $a 0", "GET $a",
    ],
    "setrange-keeps-ttl": ["SET $a hello EX 100", "SETRANGE $a 0 j", "TTL $a", "GET $a"],
    "setrange-integer": ["SET $a 12345", "SETRANGE $a 1 9", "GET $a", "INCR $a", "GET $a"],
    # -- INCR, DECR, INCRBY, DECRBY --------------------------------------------------------------
    "incr-decr": [
        "INCR $a", "INCR $a", "DECR $a", "DECR $a", "DECR $a", "GET $a", "INCRBY $a 10",
        "DECRBY $a 3", "INCRBY $a -100", "DECRBY $a -50", "GET $a", "INCRBY $a 0",
    ],
    "incr-existing-value": [
        "SET $a 41", "INCR $a", "SET $b -1", "INCR $b", "GET $b", "SET $c 0", "DECR $c",
    ],
    "incr-non-integers": [
        "SET $a 1.5", "INCR $a", "SET $a ' 1'", "INCR $a", "SET $a '1 '", "INCR $a",
        "SET $a 01", "INCR $a", "SET $a -0", "INCR $a", "SET $a +1", "INCR $a", "SET $a ''",
        "INCR $a", "SET $a abc", "DECR $a", "SET $a 99999999999999999999", "INCR $a",
        "SET $a 1e3", "INCRBY $a 1", "GET $a",
    ],
    "incr-overflow": [
        "SET $a 9223372036854775807", "INCR $a", "INCRBY $a 1", "DECR $a", "GET $a",
        "SET $b -9223372036854775808", "DECR $b", "DECRBY $b 1", "INCRBY $b -1", "INCR $b",
        "INCRBY $c 9223372036854775807", "INCR $c", "INCRBY $d -9223372036854775808",
        "DECR $d", "DECRBY $d 9223372036854775807",
        "SET $e -1", "DECRBY $e 9223372036854775807", "DECRBY $e 1",
    ],
    "incrby-bad-increment": [
        "INCRBY $a abc", "INCRBY $a 1.0", "INCRBY $a 9223372036854775808", "INCRBY $a ''",
        "DECRBY $a x", "RPUSH $l x", "INCRBY $l abc", "DECRBY $l abc", "INCRBY $l 1",
        "EXISTS $a",
    ],
    "decrby-llong-min": [
        "DECRBY $a -9223372036854775808", "EXISTS $a", "RPUSH $l x",
        "DECRBY $l -9223372036854775808", "SET $b 5", "DECRBY $b -9223372036854775807",
        "DECRBY $b -9223372036854775808",
    ],
    "incr-wrongtype": ["RPUSH $l x", "INCR $l", "DECR $l", "INCRBY $l 1", "DECRBY $l 1"],
    "incr-keeps-ttl": ["SET $a 1 EX 100", "INCR $a", "TTL $a", "DECRBY $a 5", "TTL $a"],
    "incr-arity": ["INCR", "INCR $a $b", "INCRBY $a", "DECRBY $a 1 2", "DECR"],
    # -- INCRBYFLOAT -----------------------------------------------------------------------------
    "incrbyfloat-basics": [
        "SET $a 10.5", "INCRBYFLOAT $a 0.1", "INCRBYFLOAT $a -5", "SET $b 5.0e3",
        "INCRBYFLOAT $b 2.0e2", "INCRBYFLOAT $c 3.0e3", "INCRBYFLOAT $d 10.50", "GET $d",
        "INCRBYFLOAT $d 0.5", "INCRBYFLOAT $d -11", "INCRBYFLOAT $d -0.0", "INCRBYFLOAT $d 1",
    ],
    "incrbyfloat-precision": [
        "INCRBYFLOAT $a 0.1", "INCRBYFLOAT $a 0.2", "INCRBYFLOAT $a 0.3", "INCRBYFLOAT $a 1e-17",
        "INCRBYFLOAT $b 1.1", "INCRBYFLOAT $b 2.2", "INCRBYFLOAT $c 1e-20",
        "INCRBYFLOAT $c -1e-20", "INCRBYFLOAT $d 123456789012345678",
        "INCRBYFLOAT $d 0.125", "INCRBYFLOAT $e 3.14159265358979323846264338327950288",
        "INCRBYFLOAT $f 0.000003814697265625", "INCRBYFLOAT $g 0.000011444091796875",
        "INCRBYFLOAT $h -0.000000000000000005", "INCRBYFLOAT $i 1.5e-17",
    ],
    "incrbyfloat-huge": [
        "SET $a 1e308", "INCRBYFLOAT $a 9e308", "SET $b 1e4932", "INCRBYFLOAT $b 1e4932",
        "INCRBYFLOAT $c 1e4933", "INCRBYFLOAT $d 1.18e4932", "INCRBYFLOAT $d 0.01e4932",
        "INCRBYFLOAT $e -1e4932", "INCRBYFLOAT $e -1e4932", "GET $e", "INCRBYFLOAT $f 1e30",
        "INCRBYFLOAT $g 1e50",
    ],
    "incrbyfloat-inf-nan": [
        "INCRBYFLOAT $a inf", "INCRBYFLOAT $a -inf", "INCRBYFLOAT $a Infinity",
        "INCRBYFLOAT $a nan", "INCRBYFLOAT $a -NaN", "SET $b inf", "INCRBYFLOAT $b 1",
        "INCRBYFLOAT $b -inf", "SET $c nan", "INCRBYFLOAT $c 1", "EXISTS $a",
        "INCRBYFLOAT $a infinit", "INCRBYFLOAT $a INFINITY",
    ],
    "incrbyfloat-invalid": [
        "INCRBYFLOAT $a abc", "INCRBYFLOAT $a ''", "INCRBYFLOAT $a ' 1'", "INCRBYFLOAT $a '1 '",
        "INCRBYFLOAT $a 1e", "INCRBYFLOAT $a 1e+", "INCRBYFLOAT $a .", "INCRBYFLOAT $a +",
        "INCRBYFLOAT $a -", "INCRBYFLOAT $a 1_0", "INCRBYFLOAT $a 0x", "INCRBYFLOAT $a 0x1p",
        "INCRBYFLOAT $a 1.2.3", "INCRBYFLOAT $a --1", "INCRBYFLOAT $a 1e-99999",
        "INCRBYFLOAT $a 1e99999", "INCRBYFLOAT $a '\t1'", "EXISTS $a",
        ("INCRBYFLOAT", "$a", b"1\x00"), ("INCRBYFLOAT", "$a", b"\x00"),
    ],
    "incrbyfloat-accepted-spellings": [
        "INCRBYFLOAT $a .5", "INCRBYFLOAT $a 5.", "INCRBYFLOAT $a +.5e1", "INCRBYFLOAT $a -1E1",
        "INCRBYFLOAT $a 0x1.8p1", "INCRBYFLOAT $a 0X1P-1", "INCRBYFLOAT $a 0x.8",
        "INCRBYFLOAT $a 0x1.23", "INCRBYFLOAT $a 0e99999999999", "INCRBYFLOAT $a 000001",
        "INCRBYFLOAT $a 3e-4951", "INCRBYFLOAT $a 1e-4950", "INCRBYFLOAT $a 0x1p-16445",
        "INCRBYFLOAT $b 0x1p16383", "INCRBYFLOAT $b 0x1p16383", "INCRBYFLOAT $c -0x1p16383",
    ],
    "incrbyfloat-stored-value-checked-first": [
        "SET $a abc", "INCRBYFLOAT $a xyz", "INCRBYFLOAT $a 1", "RPUSH $l x", "INCRBYFLOAT $l x",
        "INCRBYFLOAT $l 1", "SET $b ' 1'", "INCRBYFLOAT $b 1",
    ],
    "incrbyfloat-keeps-ttl": ["SET $a 1 EX 100", "INCRBYFLOAT $a 1.5", "TTL $a", "GET $a"],
    "incrbyfloat-then-incr": [
        "INCRBYFLOAT $a 10.5", "INCRBYFLOAT $a 0.5", "INCR $a", "INCRBYFLOAT $a 1e2", "INCR $a",
        "INCRBYFLOAT $b 1.5", "INCR $b",
    ],
    "incrbyfloat-arity": ["INCRBYFLOAT $a", "INCRBYFLOAT $a 1 2", "INCRBYFLOAT"],
    # -- LCS -------------------------------------------------------------------------------------
    "lcs-docs-example": [
        "MSET $a ohmytext $b mynewtext", "LCS $a $b", "LCS $a $b LEN", "LCS $a $b IDX",
        "LCS $a $b IDX MINMATCHLEN 4", "LCS $a $b IDX MINMATCHLEN 4 WITHMATCHLEN",
        "LCS $a $b IDX WITHMATCHLEN", "LCS $a $b idx minmatchlen -5 withmatchlen",
        "LCS $b $a IDX WITHMATCHLEN", "LCS $a $b WITHMATCHLEN", "LCS $a $b LEN WITHMATCHLEN",
        "LCS $a $b LEN MINMATCHLEN 3", "LCS $a $b IDX MINMATCHLEN 1 MINMATCHLEN 5",
        "LCS $a $b IDX IDX", "LCS $a $b LEN LEN",
    ],
    "lcs-errors": [
        "MSET $a ohmytext $b mynewtext", "LCS $a $b IDX LEN", "LCS $a $b LEN IDX",
        "LCS $a $b MINMATCHLEN", "LCS $a $b MINMATCHLEN abc", "LCS $a $b MINMATCHLEN abc IDX LEN",
        "LCS $a $b FOO IDX LEN", "LCS $a $b IDX LEN FOO", "LCS $a", "LCS",
        "LCS $a $b MINMATCHLEN 99999999999999999999",
    ],
    "lcs-wrongtype": [
        "SET $a text", "RPUSH $l x", "LCS $l $a", "LCS $a $l", "LCS $l $l FOO", "LCS $l $missing",
        "LCS $missing $l IDX LEN",
    ],
    "lcs-missing-and-empty": [
        "SET $a hello", "LCS $missing $a", "LCS $a $missing", "LCS $missing $other",
        "LCS $missing $a IDX", "LCS $missing $a LEN", "SET $e ''", "LCS $e $a IDX WITHMATCHLEN",
    ],
    "lcs-same-key-and-identical": [
        "SET $a abcdef", "LCS $a $a", "LCS $a $a IDX WITHMATCHLEN", "SET $b abcdef",
        "LCS $a $b IDX", "SET $c xabcdefx", "LCS $a $c IDX WITHMATCHLEN",
        "LCS $c $a IDX WITHMATCHLEN",
    ],
    "lcs-no-common-bytes": ["SET $a abc", "SET $b xyz", "LCS $a $b", "LCS $a $b IDX", "LCS $a $b LEN"],
    "lcs-integer-values": ["SET $a 123456", "SET $b 2468", "LCS $a $b", "LCS $a $b IDX WITHMATCHLEN"],
    "lcs-binary": [
        ("SET", "$a", b"\x00\x01\x02\xff\x00"), ("SET", "$b", b"\xff\x00\x01\x00"), "LCS $a $b",
        "LCS $a $b IDX WITHMATCHLEN",
    ],
}

# Values whose OBJECT ENCODING Redis derives from their content and history.
ENCODING_CASES: dict[str, list[Command]] = {
    "encoding-of-set-values": [
        "SET $a 123", "OBJECT ENCODING $a", "SET $b -9223372036854775808", "OBJECT ENCODING $b",
        "SET $c 9223372036854775808", "OBJECT ENCODING $c", "SET $d 0123", "OBJECT ENCODING $d",
        "SET $e -0", "OBJECT ENCODING $e", "SET $f +1", "OBJECT ENCODING $f", "SET $g hello",
        "OBJECT ENCODING $g", "SET $h " + "x" * 44, "OBJECT ENCODING $h", "SET $i " + "x" * 45,
        "OBJECT ENCODING $i", "SET $j ''", "OBJECT ENCODING $j", "SET $k 1.5",
        "OBJECT ENCODING $k", "SET $l ' 1'", "OBJECT ENCODING $l", "SET $m 0",
        "OBJECT ENCODING $m", "SET $n 12345678901234567890", "OBJECT ENCODING $n",
    ],
    "encoding-after-append": [
        "APPEND $a 123", "OBJECT ENCODING $a", "APPEND $a 4", "OBJECT ENCODING $a",
        "APPEND $b hello", "OBJECT ENCODING $b", "APPEND $b ''", "OBJECT ENCODING $b",
        "APPEND $c " + "y" * 50, "OBJECT ENCODING $c", "SET $d 7", "APPEND $d ''",
        "OBJECT ENCODING $d",
    ],
    "encoding-after-setrange": [
        "SET $a hello", "SETRANGE $a 0 j", "OBJECT ENCODING $a", "SETRANGE $b 0 12",
        "OBJECT ENCODING $b", "SET $c 12", "SETRANGE $c 0 ''", "OBJECT ENCODING $c",
        "SETRANGE $c 0 3", "OBJECT ENCODING $c",
    ],
    "encoding-of-counters": [
        "INCR $a", "OBJECT ENCODING $a", "SET $b 5", "APPEND $b 0", "INCR $b",
        "OBJECT ENCODING $b", "INCRBYFLOAT $c 1", "OBJECT ENCODING $c", "INCRBYFLOAT $d 1.5",
        "OBJECT ENCODING $d", "INCRBYFLOAT $e 1e50", "OBJECT ENCODING $e", "INCR $c",
        "OBJECT ENCODING $c",
    ],
    "encoding-of-other-writes": [
        "MSET $a 1 $b x", "OBJECT ENCODING $a", "OBJECT ENCODING $b", "GETSET $a 2",
        "OBJECT ENCODING $a", "SETNX $c 3", "OBJECT ENCODING $c", "SETEX $d 100 4",
        "OBJECT ENCODING $d", "MSETNX $e 5", "OBJECT ENCODING $e",
    ],
}
# fmt: on


def _lcs_cases() -> dict[str, list[Command]]:
    """LCS on seeded random strings: small alphabets make many short, tied matches."""
    rnd = random.Random(7001)
    cases: dict[str, list[Command]] = {}
    for n in range(60):
        alphabet = rnd.choice([b"ab", b"abc", b"acgt", b"abcdefghij", bytes(range(256))])
        size_a, size_b = rnd.randint(0, 40), rnd.randint(0, 40)
        if n >= 50:
            size_a, size_b = rnd.randint(100, 400), rnd.randint(100, 400)
        a = bytes(rnd.choice(alphabet) for _ in range(size_a))
        b = bytes(rnd.choice(alphabet) for _ in range(size_b))
        minlen = str(rnd.randint(0, 4))
        cases[f"lcs-random-{n}"] = [
            ("SET", "$a", a),
            ("SET", "$b", b),
            "LCS $a $b",
            "LCS $a $b LEN",
            "LCS $a $b IDX",
            "LCS $a $b IDX WITHMATCHLEN",
            f"LCS $a $b IDX MINMATCHLEN {minlen}",
            f"LCS $b $a IDX MINMATCHLEN {minlen} WITHMATCHLEN",
        ]
    return cases


def _random_float_text(rnd: random.Random) -> str:
    kind = rnd.randrange(6)
    sign = rnd.choice(["", "", "-", "+"])
    if kind == 0:
        return f"{sign}{rnd.randint(0, 10 ** rnd.randint(1, 25))}"
    if kind == 1:
        return f"{sign}{rnd.randint(0, 10**6)}.{rnd.randint(0, 10 ** rnd.randint(1, 22)):0{rnd.randint(1, 22)}d}"
    if kind == 2:
        return f"{sign}{rnd.randint(1, 999)}e{rnd.randint(-60, 60)}"
    if kind == 3:
        return f"{sign}{rnd.random() * 10 ** rnd.randint(-20, 20)!r}"
    if kind == 4:
        return f"{sign}0x{rnd.getrandbits(rnd.randint(1, 70)):x}p{rnd.randint(-80, 20)}"
    return f"{sign}{rnd.randint(1, 9)}.{rnd.randint(0, 99)}e{rnd.choice([-4900, -300, 300, 4900])}"


def _incrbyfloat_cases() -> dict[str, list[Command]]:
    """Sums of seeded random decimals, exponents and hex floats, read back after each step."""
    rnd = random.Random(7002)
    cases: dict[str, list[Command]] = {}
    for n in range(40):
        commands: list[Command] = []
        if rnd.random() < 0.5:
            commands.append(("SET", "$a", _random_float_text(rnd)))
        for _ in range(6):
            commands.append(("INCRBYFLOAT", "$a", _random_float_text(rnd)))
        commands.append("GET $a")
        cases[f"incrbyfloat-random-{n}"] = commands
    return cases


_SET_WORDS = ["NX", "XX", "GET", "KEEPTTL", "PERSIST", "nx", "get", "keepttl", "FOO"]
_EXPIRE_WORDS = ["EX", "PX", "EXAT", "PXAT", "ex", "pxat"]
_EXPIRE_VALUES = [
    "100", "200000", "0", "-1", "abc", "", str(_PAST_S), str(_FUTURE_S), str(_FUTURE_S * 1000),
    "9223372036854775807",
]  # fmt: skip


def _option_cases() -> dict[str, list[Command]]:
    """SET and GETEX with seeded random option lists: parsing, conflicts and error order."""
    rnd = random.Random(7003)
    cases: dict[str, list[Command]] = {}
    for n in range(80):
        commands: list[Command] = []
        if rnd.random() < 0.5:
            commands.append(f"SET $a old EX {rnd.choice([100, 5000])}")
        for _ in range(4):
            words: list[str] = []
            for _ in range(rnd.randint(0, 4)):
                if rnd.random() < 0.5:
                    words.append(rnd.choice(_SET_WORDS))
                else:
                    words.append(rnd.choice(_EXPIRE_WORDS))
                    if rnd.random() < 0.9:
                        words.append(rnd.choice(_EXPIRE_VALUES))
            name = rnd.choice(["SET", "SET", "GETEX"])
            head = ["SET", "$a", f"v{n}"] if name == "SET" else ["GETEX", "$a"]
            commands += [(*head, *words), "GET $a", "TTL $a"]
        cases[f"options-random-{n}"] = commands
    return cases


ALL_CASES = {**CASES, **_lcs_cases(), **_incrbyfloat_cases(), **_option_cases()}

# Small proto-max-bulk-len so the size limits of APPEND, SETRANGE and LCS are cheap to reach.
_SMALL_LIMIT = 1024 * 1024

# fmt: off
LIMIT_CASES: dict[str, list[Command]] = {
    "setrange-size-limit": [
        f"SETRANGE $a {_SMALL_LIMIT - 1} x", "STRLEN $a", f"SETRANGE $a {_SMALL_LIMIT} x",
        f"SETRANGE $a {_SMALL_LIMIT} ''", f"SETRANGE $b {_SMALL_LIMIT} x", "EXISTS $b",
        f"SETRANGE $b {_SMALL_LIMIT - 2} xyz", f"SETRANGE $b {_SMALL_LIMIT} ''",
        "SETRANGE $b 9223372036854775807 x", "SETRANGE $b 9223372036854775806 xy", "EXISTS $b",
        "RPUSH $l x", f"SETRANGE $l {_SMALL_LIMIT} x",
    ],
    "append-size-limit": [
        f"SETRANGE $a {_SMALL_LIMIT - 3} x", "APPEND $a yy", "APPEND $a z", "STRLEN $a",
        "APPEND $a ''", "STRLEN $a",
    ],
    "bulk-sized-values": [
        ("SET", "$a", b"x" * _SMALL_LIMIT), "STRLEN $a", "APPEND $a y", "APPEND $a ''",
        "SETRANGE $a 0 z", f"SETRANGE $a {_SMALL_LIMIT - 1} z", f"SETRANGE $a {_SMALL_LIMIT} z",
        "GETRANGE $a -3 -1", "STRLEN $a",
    ],
    "lcs-table-limit": [
        # (511+1) * (511+1) * 4 = 1 MiB is allowed; one more byte is not.
        "SETRANGE $a 510 x", "SETRANGE $b 510 y", "LCS $a $b LEN", "SETRANGE $c 511 z",
        "LCS $a $c LEN", "LCS $c $a", "LCS $a $missing LEN", "LCS $c $c IDX LEN",
    ],
}
# fmt: on


def expand(command: Command, prefix: str) -> list[bytes]:
    """The argv of one command, with `$name` keys made unique: `<prefix>:name`."""
    parts = shlex.split(command) if isinstance(command, str) else list(command)
    argv = []
    for part in parts:
        arg = part if isinstance(part, bytes) else part.encode("latin-1")
        argv.append(re.sub(rb"^\$(\w+)$", lambda m: prefix.encode() + b":" + m.group(1), arg))
    return argv


def run_case(conn: RawConnection, prefix: str, commands: list[Command]) -> list[bytes]:
    assert conn.request(encode_command("FLUSHALL")) == b"+OK\r\n"
    return [conn.request(encode_command(*expand(cmd, prefix))) for cmd in commands]


def _integer(reply: bytes) -> int | None:
    return int(reply[1:-2]) if reply[:1] == b":" else None


def diff_lines(
    prefix: str, commands: list[Command], ours: list[bytes], theirs: list[bytes]
) -> list[str]:
    lines = []
    for command, mine, real in zip(commands, ours, theirs, strict=True):
        if mine == real:
            continue
        argv = expand(command, prefix)
        tolerance = _TOLERANCE.get(argv[0].lower())
        a, b = _integer(mine), _integer(real)
        if tolerance is not None and a is not None and b is not None and a >= 0 and b >= 0:
            if abs(a - b) <= tolerance:
                continue
        shown = b" ".join(argv)[:200]
        lines.append(f"{shown!r}\n    redis:     {real[:300]!r}\n    damselfly: {mine[:300]!r}")
    return lines


class Pair:
    """One raw connection to each server, speaking the same protocol version."""

    def __init__(self, ours: ServerProcess, theirs: ServerProcess, resp: int) -> None:
        self.resp = resp
        self.ours = ours.raw()
        self.theirs = theirs.raw()
        if resp == 3:
            for conn in (self.ours, self.theirs):
                assert conn.request(encode_command("HELLO", "3")).startswith(b"%")

    def check(self, case: str, commands: list[Command]) -> None:
        prefix = f"{case}:{self.resp}"
        theirs = run_case(self.theirs, prefix, commands)
        ours = run_case(self.ours, prefix, commands)
        if any(reply.startswith(b"-ERR unknown command 'RPUSH'") for reply in ours):
            pytest.skip("the list family is not registered: WRONGTYPE cases need RPUSH")
        problems = diff_lines(prefix, commands, ours, theirs)
        assert not problems, f"{case}: replies differ from redis-server:\n" + "\n".join(problems)

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()


@pytest.fixture(scope="module", params=[2, 3], ids=["resp2", "resp3"])
def pair(
    request: pytest.FixtureRequest, server: ServerProcess, redis_oracle: ServerProcess
) -> Iterator[Pair]:
    conns = Pair(server, redis_oracle, request.param)
    yield conns
    conns.close()


@pytest.fixture(scope="module")
def small_limit_pair(redis_oracle: ServerProcess) -> Iterator[Pair]:
    """Servers of their own with a 1 MiB proto-max-bulk-len, so limits take little memory."""
    limit = str(_SMALL_LIMIT)
    ours = start_damselfly("--proto-max-bulk-len", limit)
    theirs = start_redis("--proto-max-bulk-len", limit)
    conns = Pair(ours, theirs, 2)
    yield conns
    conns.close()
    ours.stop()
    theirs.stop()


def _ids(cases: dict[str, Any]) -> list[str]:
    return list(cases)


@pytest.mark.parametrize("case", _ids(ALL_CASES))
def test_string_commands_reply_like_redis(pair: Pair, case: str) -> None:
    pair.check(case, ALL_CASES[case])


@pytest.mark.parametrize("case", _ids(ENCODING_CASES))
def test_object_encoding_of_strings_matches_redis(pair: Pair, case: str) -> None:
    pair.check(case, ENCODING_CASES[case])


@pytest.mark.parametrize("case", _ids(LIMIT_CASES))
def test_size_limits_match_redis(small_limit_pair: Pair, case: str) -> None:
    small_limit_pair.check(case, LIMIT_CASES[case])


STRING_COMMANDS = [
    "set", "setnx", "setex", "psetex", "get", "getset", "getdel", "getex", "mget", "mset",
    "msetnx", "append", "strlen", "getrange", "substr", "setrange", "incr", "decr", "incrby",
    "decrby", "incrbyfloat", "lcs",
]  # fmt: skip


def test_command_getkeysandflags_matches_redis(pair: Pair) -> None:
    """SET's key flags depend on GET (RW access update with it, OW update without)."""
    pair.check(
        "getkeys",
        [
            "COMMAND GETKEYSANDFLAGS SET k v",
            "COMMAND GETKEYSANDFLAGS SET k v get",
            "COMMAND GETKEYSANDFLAGS SET k v EX 10 GET NX",
            "COMMAND GETKEYSANDFLAGS MSET a 1 b 2",
            "COMMAND GETKEYSANDFLAGS MSETNX a 1 b 2",
            "COMMAND GETKEYSANDFLAGS LCS a b IDX",
            "COMMAND GETKEYSANDFLAGS MGET a b c",
            "COMMAND GETKEYSANDFLAGS GETDEL a",
            "COMMAND GETKEYSANDFLAGS APPEND a b",
            "COMMAND GETKEYS INCRBYFLOAT a 1",
        ],
    )


@pytest.mark.parametrize("name", STRING_COMMANDS)
def test_command_info_matches_redis(pair: Pair, name: str) -> None:
    """Arity, flags, key positions, ACL categories, tips and key specs, byte for byte."""
    pair.check(f"info-{name}", [f"COMMAND INFO {name}"])


def _docs(server: ServerProcess, name: str) -> dict[str, Any]:
    """COMMAND DOCS <name> as a dict, read without redis-py's COMMAND reply callback."""
    client = server.client(protocol=3)
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command("COMMAND", "DOCS", name)
        reply = conn.read_response()
    finally:
        client.connection_pool.release(conn)
        client.close()
    docs = reply[name.encode()]
    return {k.decode(): v for k, v in docs.items()}


def _without_since(arguments: Any) -> Any:
    """Argument trees without per-argument `since` (damselfly's notation has no place for it)."""
    if isinstance(arguments, list):
        return [_without_since(a) for a in arguments]
    if isinstance(arguments, dict):
        return {k: _without_since(v) for k, v in arguments.items() if k != b"since"}
    return arguments


def _without_8_4_conditions(arguments: Any) -> Any:
    """SET's argument tree without Redis 8.4's IFEQ/IFNE/IFDEQ/IFDNE (the 7.0 oracle lacks them)."""
    if isinstance(arguments, list):
        return [
            _without_8_4_conditions(a)
            for a in arguments
            if not (isinstance(a, dict) and a.get(b"token", b"").startswith(b"IF"))
        ]
    if isinstance(arguments, dict):
        return {k: _without_8_4_conditions(v) for k, v in arguments.items()}
    return arguments


@pytest.mark.parametrize("name", STRING_COMMANDS)
def test_command_docs_match_redis_except_wording(
    server: ServerProcess, redis_oracle: ServerProcess, name: str
) -> None:
    """Group, since, doc flags, deprecation and the argument tree match; the summary and the
    complexity text are our own words, and SET's history is not kept."""
    ours, theirs = _docs(server, name), _docs(redis_oracle, name)
    for field in ("group", "since", "doc_flags", "deprecated_since", "replaced_by"):
        assert ours.get(field) == theirs.get(field), field
    ours_args = _without_since(ours["arguments"])
    if name == "set":
        ours_args = _without_8_4_conditions(ours_args)
    assert ours_args == _without_since(theirs["arguments"])
    assert ours["summary"] and ours["complexity"]


# fmt: off
HITS_AND_MISSES: list[Command] = [
    "SET $a 1", "GET $a", "GET $missing", "MGET $a $missing $a", "STRLEN $a", "STRLEN $missing",
    "GETRANGE $a 0 1", "GETRANGE $missing 0 1", "GETEX $a", "GETEX $missing", "GETDEL $missing",
    "GETSET $a 2", "GETSET $new 1", "SET $a 3 GET", "SET $b 3 GET", "LCS $a $missing",
    "APPEND $a x", "INCR $c", "SETRANGE $a 0 y", "INCRBYFLOAT $c 1", "MSETNX $a 1",
    "SETNX $a 1", "GETDEL $a", f"SET $e v PXAT {_PAST_S * 1000}", "GET $e",
]
# fmt: on


def _stats(conn: RawConnection) -> dict[str, int]:
    reply = conn.request(encode_command("INFO", "stats"))
    if reply.startswith(b"-ERR unknown command"):
        pytest.skip("INFO is not implemented yet")
    fields = {}
    for line in reply.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name in (b"keyspace_hits", b"keyspace_misses", b"expired_keys"):
            fields[name.decode()] = int(value)
    return fields


def test_keyspace_hits_and_misses_are_counted_like_redis(pair: Pair) -> None:
    counts = []
    for conn in (pair.theirs, pair.ours):
        assert conn.request(encode_command("CONFIG", "RESETSTAT")) == b"+OK\r\n"
        run_case(conn, f"hits:{pair.resp}", HITS_AND_MISSES)
        counts.append(_stats(conn))
    assert counts[1] == counts[0]
