"""Keyspace commands through redis-py: DEL/EXISTS/TYPE/TOUCH, the EXPIRE family and TTLs,
KEYS and the glob rules, SCAN's cursor guarantee, RANDOMKEY, RENAME/COPY/MOVE, SWAPDB, the
flushes and OBJECT. Glob matching is also tested directly against a byte-by-byte model of
Redis's matcher."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from damselfly.keyspace.glob import compile_glob, glob_match, tokenize
from tests.helpers import error_is, error_starts
from tests.servers import ServerProcess, encode_command, start_damselfly

# -- helpers -------------------------------------------------------------------------------------


def full_scan(r: redis.Redis, **kwargs: object) -> list[bytes]:
    """Every key a complete SCAN iteration returns (duplicates kept)."""
    cursor = 0
    keys: list[bytes] = []
    while True:
        cursor, page = r.scan(cursor, **kwargs)  # type: ignore[arg-type]
        keys.extend(page)
        if cursor == 0:
            return keys


# -- DEL, UNLINK, EXISTS, TYPE, TOUCH, DBSIZE ----------------------------------------------------


def test_del_counts_only_keys_that_existed(r: redis.Redis) -> None:
    r.mset({"a": 1, "b": 2})
    assert r.delete("a", "b", "a", "missing") == 2
    assert r.dbsize() == 0
    assert r.delete("a") == 0


def test_unlink_removes_keys_at_once_even_large_values(r: redis.Redis) -> None:
    r.rpush("biglist", *range(5000))
    r.set("s", "v")
    assert r.unlink("biglist", "s", "missing") == 2
    assert r.exists("biglist", "s") == 0
    assert r.ping()


def test_exists_counts_a_key_each_time_it_is_named(r: redis.Redis) -> None:
    r.set("k", 1)
    assert r.exists("k", "k", "nope", "k") == 3
    assert r.exists("nope") == 0


def test_type_names_every_kind_and_none(r: redis.Redis) -> None:
    r.set("s", 1)
    r.rpush("l", 1)
    assert r.type("s") == b"string"
    assert r.type("l") == b"list"
    assert r.type("missing") == b"none"


def test_type_replies_with_a_simple_string(server: ServerProcess) -> None:
    conn = server.raw()
    try:
        conn.request(encode_command("FLUSHALL"))
        conn.request(encode_command("SET", "k", "v"))
        assert conn.request(encode_command("TYPE", "k")) == b"+string\r\n"
        assert conn.request(encode_command("TYPE", "zz")) == b"+none\r\n"
    finally:
        conn.close()


def test_touch_counts_existing_keys(r: redis.Redis) -> None:
    r.mset({"a": 1, "b": 2})
    assert r.touch("a", "b", "c", "a") == 3


def test_dbsize_counts_keys_of_the_selected_database(server: ServerProcess) -> None:
    r0 = server.client()
    r1 = server.client(db=1)
    try:
        r0.flushall()
        r0.mset({"a": 1, "b": 2})
        r1.set("c", 3)
        assert r0.dbsize() == 2
        assert r1.dbsize() == 1
    finally:
        r0.close()
        r1.close()


# -- EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT ----------------------------------------------------------


@pytest.mark.parametrize(
    "options, error",
    [
        (["NX", "XX"], "NX and XX, GT or LT options at the same time are not compatible"),
        (["nx", "gt"], "NX and XX, GT or LT options at the same time are not compatible"),
        (["LT", "NX"], "NX and XX, GT or LT options at the same time are not compatible"),
        (["gt", "lt", "nx"], "NX and XX, GT or LT options at the same time are not compatible"),
        (["GT", "LT"], "GT and LT options at the same time are not compatible"),
        (["nx", "xx", "Bogus"], "Unsupported option Bogus"),
    ],
)
def test_expire_option_conflicts_are_rejected(
    r: redis.Redis, options: list[str], error: str
) -> None:
    r.set("k", 1)
    for command in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
        with error_is(error):
            r.execute_command(command, "k", 100, *options)
    assert r.ttl("k") == -1


def test_expire_checks_options_before_the_number_and_the_number_before_the_key(
    r: redis.Redis,
) -> None:
    with error_is("Unsupported option foo"):
        r.execute_command("EXPIRE", "missing", "notanumber", "foo")
    with error_is("value is not an integer or out of range"):
        r.execute_command("EXPIRE", "missing", "notanumber")
    assert r.execute_command("EXPIRE", "missing", 10) == 0


@pytest.mark.parametrize(
    "command, value",
    [
        ("EXPIRE", 9223372036854775807),
        ("EXPIRE", 9223372036854775),
        ("EXPIRE", -9223372036854775808),
        ("PEXPIRE", 9223372036854775807),
        ("EXPIREAT", 9223372036854775807),
    ],
)
def test_expire_times_that_overflow_are_invalid(r: redis.Redis, command: str, value: int) -> None:
    r.set("k", 1)
    with error_is(f"invalid expire time in '{command.lower()}' command"):
        r.execute_command(command, "k", value)
    assert r.ttl("k") == -1


def test_expire_limits_at_the_edge_of_64_bits_are_accepted(r: redis.Redis) -> None:
    r.set("k", 1)
    assert r.execute_command("PEXPIREAT", "k", 9223372036854775807) == 1
    assert r.pexpiretime("k") == 9223372036854775807
    assert r.execute_command("EXPIREAT", "k", 9223372036854775) == 1
    assert r.expiretime("k") == 9223372036854775


@pytest.mark.parametrize(
    "command, value",
    [("EXPIRE", 0), ("EXPIRE", -10), ("PEXPIRE", -1), ("EXPIREAT", 1), ("PEXPIREAT", 1000)],
)
def test_expire_in_the_past_deletes_the_key_and_replies_one(
    r: redis.Redis, command: str, value: int
) -> None:
    r.set("k", 1)
    assert r.execute_command(command, "k", value) == 1
    assert r.exists("k") == 0


def test_pexpire_with_the_most_negative_number_deletes_the_key(r: redis.Redis) -> None:
    r.set("k", 1)
    assert r.execute_command("PEXPIRE", "k", -9223372036854775808) == 1
    assert r.exists("k") == 0


def test_expire_on_a_missing_key_replies_zero(r: redis.Redis) -> None:
    assert r.expire("missing", 100) == 0
    assert r.pexpireat("missing", 1) == 0
    assert r.exists("missing") == 0


def test_expire_nx_only_sets_a_first_ttl(r: redis.Redis) -> None:
    r.set("k", 1)
    assert r.expire("k", 100, nx=True) == 1
    assert r.expire("k", 200, nx=True) == 0
    assert 95 <= r.ttl("k") <= 100


def test_expire_xx_only_replaces_an_existing_ttl(r: redis.Redis) -> None:
    r.set("k", 1)
    assert r.expire("k", 100, xx=True) == 0
    assert r.ttl("k") == -1
    r.expire("k", 100)
    assert r.expire("k", 200, xx=True) == 1
    assert 195 <= r.ttl("k") <= 200


def test_expire_gt_treats_no_ttl_as_infinite(r: redis.Redis) -> None:
    r.set("k", 1)
    assert r.expire("k", 100, gt=True) == 0
    assert r.ttl("k") == -1
    r.expire("k", 100)
    assert r.expire("k", 50, gt=True) == 0
    assert r.expire("k", 200, gt=True) == 1
    assert 195 <= r.ttl("k") <= 200


def test_expire_lt_treats_no_ttl_as_infinite(r: redis.Redis) -> None:
    r.set("k", 1)
    assert r.expire("k", 100, lt=True) == 1
    assert r.expire("k", 200, lt=True) == 0
    assert r.expire("k", 50, lt=True) == 1
    assert 45 <= r.ttl("k") <= 50


def test_expire_lt_with_a_past_time_deletes_a_key_without_ttl(r: redis.Redis) -> None:
    r.set("k", 1)
    assert r.expire("k", -1, gt=True) == 0
    assert r.exists("k") == 1
    assert r.expire("k", -1, lt=True) == 1
    assert r.exists("k") == 0


def test_expire_gt_needs_a_strictly_later_time(r: redis.Redis) -> None:
    r.set("k", 1)
    r.pexpireat("k", 99999999999000)
    assert r.pexpireat("k", 99999999999000, gt=True) == 0
    assert r.pexpireat("k", 99999999999000, lt=True) == 0
    assert r.pexpireat("k", 99999999999001, gt=True) == 1
    assert r.pexpiretime("k") == 99999999999001


def test_setting_a_ttl_keeps_the_value(r: redis.Redis) -> None:
    r.set("k", "value")
    r.pexpire("k", 100000)
    assert r.get("k") == b"value"


# -- TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST --------------------------------------------------


def test_ttl_family_replies_minus_two_for_missing_and_minus_one_without_ttl(
    r: redis.Redis,
) -> None:
    r.set("k", 1)
    for command in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert r.execute_command(command, "missing") == -2
        assert r.execute_command(command, "k") == -1


def test_ttl_rounds_to_the_nearest_second(r: redis.Redis) -> None:
    r.set("k", 1)
    r.pexpire("k", 100400)
    assert r.ttl("k") == 100
    r.pexpire("k", 100900)
    assert r.ttl("k") == 101


def test_expiretime_rounds_milliseconds_to_the_nearest_second(r: redis.Redis) -> None:
    r.set("k", 1)
    r.pexpireat("k", 99999999999499)
    assert r.expiretime("k") == 99999999999
    assert r.pexpiretime("k") == 99999999999499
    r.pexpireat("k", 99999999999500)
    assert r.expiretime("k") == 100000000000


def test_pttl_counts_down_with_the_server_clock(r: redis.Redis, advance_clock) -> None:  # type: ignore[no-untyped-def]
    r.set("k", 1, px=10000)
    advance_clock(4000)
    assert 5000 <= r.pttl("k") <= 6000
    assert r.ttl("k") == 6


def test_persist_removes_the_ttl_once(r: redis.Redis) -> None:
    r.set("k", 1, ex=100)
    assert r.persist("k") == 1
    assert r.ttl("k") == -1
    assert r.persist("k") == 0
    assert r.persist("missing") == 0


# -- KEYS and glob patterns ----------------------------------------------------------------------


def test_keys_matches_glob_patterns(r: redis.Redis) -> None:
    r.mset({k: 1 for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "hillo", "h]llo"]})
    assert sorted(r.keys("h?llo")) == [b"h]llo", b"hallo", b"hello", b"hillo", b"hxllo"]
    assert sorted(r.keys("h*llo")) == sorted(r.keys("*"))
    assert sorted(r.keys("h[ae]llo")) == [b"hallo", b"hello"]
    assert sorted(r.keys("h[^e]llo")) == [b"h]llo", b"hallo", b"hillo", b"hxllo"]
    assert sorted(r.keys("h[a-e]llo")) == [b"hallo", b"hello"]
    assert sorted(r.keys("h[e-a]llo")) == [b"hallo", b"hello"]
    assert r.keys("hello") == [b"hello"]
    assert r.keys("nothing") == []


def test_keys_star_includes_the_empty_key_but_double_star_does_not(r: redis.Redis) -> None:
    r.set("", 1)
    r.set("a", 1)
    assert sorted(r.keys("*")) == [b"", b"a"]
    assert r.keys("**") == [b"a"]
    assert r.keys("") == [b""]


def test_keys_hides_expired_keys(r: redis.Redis, advance_clock) -> None:  # type: ignore[no-untyped-def]
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    r.set("gone", 1, px=100)
    r.set("stays", 1)
    advance_clock(1000)
    assert r.keys("*") == [b"stays"]
    assert r.keys("gone") == []


def test_keys_with_binary_names(r: redis.Redis) -> None:
    r.set(b"a\x00b", 1)
    r.set(b"a\nb", 1)
    r.set(b"\xff\xfe", 1)
    assert sorted(r.keys("a?b")) == [b"a\x00b", b"a\nb"]
    assert r.keys(b"[\xfe-\xff]*") == [b"\xff\xfe"]


def test_keys_survives_patterns_that_would_backtrack_forever(r: redis.Redis) -> None:
    r.set("a" * 200, 1)
    assert r.keys("*a" * 40 + "b") == []
    assert r.keys("*a" * 40) == [b"a" * 200]


def test_keys_gives_up_beyond_a_thousand_nested_stars_like_redis(r: redis.Redis) -> None:
    r.set("a" * 1500, 1)
    assert r.keys("*a" * 1000) == [b"a" * 1500]
    assert r.keys("*a" * 1001) == []
    assert r.keys("*a" * 1000 + "*") == [b"a" * 1500]


def redis_stringmatch(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """A byte-by-byte model of Redis's stringmatchlen, independent of glob.py's tokenizer."""

    def low(c: int) -> int:
        return c + 32 if nocase and 65 <= c <= 90 else c

    def signed(c: int) -> int:
        return c - 256 if c >= 128 else c

    def match(p: int, s: int, depth: int) -> bool:
        if depth > 1000:
            return False
        plen, slen = len(pattern), len(string)
        while p < plen and s < slen:
            c = pattern[p]
            if c == 0x2A:
                while p + 1 < plen and pattern[p + 1] == 0x2A:
                    p += 1
                if p + 1 == plen:
                    return True
                return any(match(p + 1, t, depth + 1) for t in range(s, slen))
            if c == 0x3F:
                s += 1
            elif c == 0x5B:
                p += 1
                negate = p < plen and pattern[p] == 0x5E
                if negate:
                    p += 1
                hit = False
                while True:
                    if p < plen and pattern[p] == 0x5C and plen - p >= 2:
                        p += 1
                        hit = hit or low(pattern[p]) == low(string[s])
                    elif p < plen and pattern[p] == 0x5D:
                        break
                    elif p >= plen:
                        p -= 1
                        break
                    elif plen - p >= 3 and pattern[p + 1] == 0x2D:
                        # C chars are signed: 0x80..0xff sort below 0x00.
                        lo, hi = sorted((signed(pattern[p]), signed(pattern[p + 2])))
                        hit = hit or low(lo) <= low(signed(string[s])) <= low(hi)
                        p += 2
                    else:
                        hit = hit or low(pattern[p]) == low(string[s])
                    p += 1
                if hit == negate:
                    return False
                s += 1
            else:
                if c == 0x5C and plen - p >= 2:
                    p += 1
                if low(pattern[p]) != low(string[s]):
                    return False
                s += 1
            p += 1
            if s == slen:
                while p < plen and pattern[p] == 0x2A:
                    p += 1
                break
        return p == plen and s == slen

    return match(0, 0, 0)


_GLOB_ALPHABET = b"ab-^]\\[*?Z\x00\xff\x80"


@settings(max_examples=1500, deadline=None)
@given(
    pattern=st.binary(max_size=9).map(
        lambda b: bytes(_GLOB_ALPHABET[x % len(_GLOB_ALPHABET)] for x in b)
    ),
    string=st.binary(max_size=6).map(
        lambda b: bytes(_GLOB_ALPHABET[x % len(_GLOB_ALPHABET)] for x in b)
    ),
    nocase=st.booleans(),
)
def test_compiled_glob_agrees_with_the_byte_by_byte_model(
    pattern: bytes, string: bytes, nocase: bool
) -> None:
    assert glob_match(pattern, string, nocase) == redis_stringmatch(pattern, string, nocase)


@pytest.mark.parametrize(
    "pattern, matches, rejects",
    [
        (b"[", [], [b"[", b"a", b""]),
        (b"[^", [b"a", b"["], [b"", b"ab"]),
        (b"[]", [], [b"]", b"a"]),
        (b"[^]", [b"]", b"x"], [b""]),
        (b"[a-]", [b"a", b"]", b"^", b"_"], [b"-", b"b"]),
        (b"[\\", [b"\\"], [b"a"]),
        (b"[\\]]", [b"]"], [b"\\"]),
        (b"\\", [b"\\"], [b""]),
        (b"a\\", [b"a\\"], [b"a"]),
        (b"\\*", [b"*"], [b"a"]),
        (b"[z-a]", [b"a", b"m", b"z"], [b"A"]),
        (b"[a-b-c]", [b"a", b"b", b"-", b"c"], [b"d"]),
        # `*` alone is special-cased by KEYS and SCAN, not by the matcher: it needs one byte.
        (b"*", [b"x"], [b""]),
        (b"**", [b"x"], [b""]),
        (b"a*", [b"a", b"abc"], [b"", b"ba"]),
        (b"*a*b*", [b"ab", b"xaybz"], [b"ba"]),
    ],
)
def test_glob_corner_cases(pattern: bytes, matches: list[bytes], rejects: list[bytes]) -> None:
    for s in matches:
        assert glob_match(pattern, s), (pattern, s)
    for s in rejects:
        assert not glob_match(pattern, s), (pattern, s)


def test_glob_case_insensitive_mode_folds_ascii_letters_only() -> None:
    assert glob_match(b"HeLLo*", b"hello world", nocase=True)
    assert glob_match(b"[A-C]x", b"bX", nocase=True)
    assert not glob_match(b"HeLLo", b"hello")
    assert not glob_match(b"\xc3", b"\xe3", nocase=True)


def test_glob_compilation_is_cached() -> None:
    assert compile_glob(b"user:*:name") is compile_glob(b"user:*:name")


def test_tokenize_collapses_star_runs() -> None:
    assert tokenize(b"a***b") == [frozenset(b"a"), None, frozenset(b"b")]


# -- SCAN ------------------------------------------------------------------------------------------


def test_scan_returns_every_key_exactly_once_when_nothing_changes(r: redis.Redis) -> None:
    r.mset({f"key:{i}": i for i in range(1000)})
    keys = full_scan(r, count=37)
    assert len(keys) == 1000
    assert set(keys) == {f"key:{i}".encode() for i in range(1000)}


def test_scan_small_database_fits_in_one_reply(r: redis.Redis) -> None:
    r.mset({"a": 1, "b": 2})
    cursor, keys = r.scan(0)
    assert cursor == 0
    assert sorted(keys) == [b"a", b"b"]


def test_scan_cursor_is_an_unsigned_64_bit_decimal_and_ends_at_zero(server: ServerProcess) -> None:
    conn = server.raw()
    try:
        conn.request(encode_command("FLUSHALL"))
        for i in range(50):
            conn.request(encode_command("SET", f"k{i}", i))
        cursor = b"0"
        seen = 0
        while True:
            reply = conn.request(encode_command("SCAN", cursor, "COUNT", 7))
            assert reply.startswith(b"*2\r\n$")
            head = reply.split(b"\r\n")
            cursor = head[2]
            assert cursor.isdigit() and int(cursor) < 2**63
            seen += 1
            if cursor == b"0":
                break
        assert seen >= 7
    finally:
        conn.close()


def test_scan_count_bounds_each_reply(r: redis.Redis) -> None:
    r.mset({f"k{i}": i for i in range(100)})
    cursor, keys = r.scan(0, count=10)
    assert cursor != 0
    assert len(keys) == 10


def test_scan_match_filters_after_counting(r: redis.Redis) -> None:
    r.mset({f"user:{i}": i for i in range(50)})
    r.mset({f"item:{i}": i for i in range(50)})
    keys = full_scan(r, match="user:*", count=5)
    assert sorted(keys) == sorted(f"user:{i}".encode() for i in range(50))
    cursor, page = r.scan(0, match="nothing*", count=5)
    assert cursor != 0 and page == []


def test_scan_type_filters_by_type_name_case_insensitively(r: redis.Redis) -> None:
    r.set("s", 1)
    r.rpush("l", 1)
    assert full_scan(r, _type="string") == [b"s"]
    assert r.execute_command("SCAN", 0, "TYPE", "LIST") == (0, [b"l"])
    assert full_scan(r, _type="hash") == []
    assert full_scan(r, _type="nonsense") == []


def test_scan_never_returns_expired_keys(r: redis.Redis, advance_clock) -> None:  # type: ignore[no-untyped-def]
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    for i in range(100):
        r.set(f"v{i}", 1, px=1000)
        r.set(f"p{i}", 1)
    advance_clock(2000)
    keys = full_scan(r, count=9)
    assert sorted(keys) == sorted(f"p{i}".encode() for i in range(100))
    assert r.dbsize() == 100  # the expired keys SCAN met were reclaimed


@pytest.mark.parametrize(
    "args, error",
    [
        (["abc"], "invalid cursor"),
        ([" 1"], "invalid cursor"),
        (["1.5"], "invalid cursor"),
        (["18446744073709551616"], "invalid cursor"),
        (["+"], "invalid cursor"),
        (["0", "COUNT", "0"], "syntax error"),
        (["0", "COUNT", "-1"], "syntax error"),
        (["0", "COUNT", "x"], "value is not an integer or out of range"),
        (["0", "MATCH"], "syntax error"),
        (["0", "FOO", "bar"], "syntax error"),
        (["0", "TYPE"], "syntax error"),
    ],
)
def test_scan_rejects_bad_arguments(r: redis.Redis, args: list[str], error: str) -> None:
    with error_is(error):
        r.execute_command("SCAN", *args)


@pytest.mark.parametrize("cursor", ["-1", "18446744073709551615", "", "-0", "+0", "007"])
def test_scan_accepts_what_strtoul_accepts(r: redis.Redis, cursor: str) -> None:
    r.set("k", 1)
    next_cursor, keys = r.execute_command("SCAN", cursor)
    assert next_cursor == 0
    assert keys == ([b"k"] if cursor in ("", "-0", "+0") else [])


def test_scan_cursor_with_thousands_of_digits(r: redis.Redis) -> None:
    r.set("k", 1)
    assert r.execute_command("SCAN", "0" * 5000) == (0, [b"k"])
    with error_is("invalid cursor"):
        r.execute_command("SCAN", "1" * 5000)


def test_scan_with_an_unknown_cursor_still_terminates(r: redis.Redis) -> None:
    r.mset({f"k{i}": i for i in range(100)})
    cursor, _ = r.scan((12345 << 40) | 20, count=10)
    steps = 0
    while cursor != 0:
        cursor, _ = r.scan(cursor, count=10)
        steps += 1
        assert steps < 20


def test_scan_iterations_in_flight_do_not_disturb_each_other(r: redis.Redis) -> None:
    r.mset({f"k{i}": i for i in range(300)})
    cursors = []
    for _ in range(5):
        cursor, page = r.scan(0, count=10)
        cursors.append((cursor, list(page)))
    results = []
    for cursor, seen in cursors:
        while cursor != 0:
            cursor, page = r.scan(cursor, count=50)
            seen.extend(page)
        results.append(seen)
    for seen in results:
        assert len(seen) == 300 and len(set(seen)) == 300


def test_scan_returns_every_stable_key_while_another_client_churns(server: ServerProcess) -> None:
    """Redis's guarantee: a key present for the whole iteration is returned at least once,
    however many keys are added and removed meanwhile (the dict resizes several times)."""
    scanner = server.client()
    writer = server.client()
    try:
        scanner.flushall()
        stable = {f"stable:{i}".encode() for i in range(3000)}
        # Interleaved, so that deleting churn keys shifts the position of stable keys.
        mixed: dict[str, int] = {}
        for i in range(3000):
            mixed[f"stable:{i}"] = 1
            mixed[f"churn:{i}"] = 1
        scanner.mset(mixed)
        stop = threading.Event()
        counter = [0]

        def churn() -> None:
            rng = random.Random(7)
            fresh = 0
            while not stop.is_set() and counter[0] < 40:
                pipe = writer.pipeline(transaction=False)
                for _ in range(200):
                    pipe.set(f"new:{fresh}", 1)
                    fresh += 1
                    pipe.delete(f"churn:{rng.randrange(3000)}")
                    pipe.delete(f"new:{rng.randrange(fresh)}")
                pipe.execute()
                counter[0] += 1

        thread = threading.Thread(target=churn)
        thread.start()
        seen: set[bytes] = set()
        cursor = 0
        try:
            while True:
                cursor, page = scanner.scan(cursor, count=25)
                seen.update(page)
                if cursor == 0:
                    break
        finally:
            stop.set()
            thread.join()
        assert counter[0] > 0
        assert stable <= seen
    finally:
        scanner.close()
        writer.close()


def test_scan_keys_deleted_before_their_turn_are_not_returned(r: redis.Redis) -> None:
    r.mset({f"k{i:04}": i for i in range(1000)})
    cursor, first = r.scan(0, count=10)
    doomed = [f"k{i:04}".encode() for i in range(1000)]
    doomed = [k for k in doomed if k not in set(first)]
    r.delete(*doomed)
    rest: list[bytes] = []
    while cursor != 0:
        cursor, page = r.scan(cursor, count=100)
        rest.extend(page)
    assert rest == []


# -- RANDOMKEY -------------------------------------------------------------------------------------


def test_randomkey_on_an_empty_database_is_nil(r: redis.Redis) -> None:
    assert r.randomkey() is None


def test_randomkey_returns_existing_keys_and_eventually_each_of_them(r: redis.Redis) -> None:
    r.mset({"a": 1, "b": 2, "c": 3})
    seen = {r.randomkey() for _ in range(200)}
    assert seen == {b"a", b"b", b"c"}


def test_randomkey_never_returns_an_expired_key(r: redis.Redis, advance_clock) -> None:  # type: ignore[no-untyped-def]
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    for i in range(300):
        r.set(f"dead{i}", 1, px=100)
    r.set("alive", 1)
    advance_clock(1000)
    assert {r.randomkey() for _ in range(20)} == {b"alive"}
    r.delete("alive")
    assert r.randomkey() is None
    assert r.dbsize() == 0


# -- RENAME, RENAMENX -----------------------------------------------------------------------------


def test_rename_moves_value_and_ttl(r: redis.Redis) -> None:
    r.set("a", "v")
    r.pexpireat("a", 99999999999000)
    assert r.rename("a", "b") is True
    assert r.exists("a") == 0
    assert r.get("b") == b"v"
    assert r.pexpiretime("b") == 99999999999000


def test_rename_overwrites_the_destination_and_its_ttl(r: redis.Redis) -> None:
    r.set("a", "new")
    r.set("b", "old", ex=100)
    r.rename("a", "b")
    assert r.get("b") == b"new"
    assert r.ttl("b") == -1


def test_rename_of_a_missing_key_is_an_error(r: redis.Redis) -> None:
    with error_is("no such key"):
        r.rename("missing", "b")
    with error_is("no such key"):
        r.renamenx("missing", "missing")


def test_rename_onto_itself_is_ok_and_renamenx_onto_itself_is_zero(r: redis.Redis) -> None:
    r.set("a", "v", ex=100)
    assert r.rename("a", "a") is True
    assert r.renamenx("a", "a") is False
    assert r.get("a") == b"v"
    assert r.ttl("a") > 0


def test_renamenx_refuses_an_existing_destination(r: redis.Redis) -> None:
    r.mset({"a": 1, "b": 2})
    assert r.renamenx("a", "b") is False
    assert r.mget("a", "b") == [b"1", b"2"]
    assert r.renamenx("a", "c") is True
    assert r.mget("a", "c") == [None, b"1"]


def test_rename_keeps_non_string_values(r: redis.Redis) -> None:
    r.rpush("l", 1, 2, 3)
    r.rename("l", "m")
    assert r.lrange("m", 0, -1) == [b"1", b"2", b"3"]


# -- COPY ------------------------------------------------------------------------------------------


def test_copy_duplicates_value_and_ttl(r: redis.Redis) -> None:
    r.set("a", "v")
    r.pexpireat("a", 99999999999000)
    assert r.copy("a", "b") is True
    assert r.get("b") == b"v"
    assert r.pexpiretime("b") == 99999999999000
    assert r.get("a") == b"v"


def test_copy_needs_replace_to_overwrite(r: redis.Redis) -> None:
    r.mset({"a": 1, "b": 2})
    assert r.copy("a", "b") is False
    assert r.get("b") == b"2"
    assert r.copy("a", "b", replace=True) is True
    assert r.get("b") == b"1"


def test_copy_of_a_list_is_independent(r: redis.Redis) -> None:
    r.rpush("l", 1, 2)
    r.copy("l", "m")
    r.rpush("m", 3)
    assert r.lrange("l", 0, -1) == [b"1", b"2"]
    assert r.lrange("m", 0, -1) == [b"1", b"2", b"3"]


def test_copy_into_another_database(server: ServerProcess) -> None:
    r0 = server.client()
    r1 = server.client(db=1)
    try:
        r0.flushall()
        r0.set("a", "v")
        assert r0.copy("a", "a", destination_db=1) is True
        assert r1.get("a") == b"v"
        assert r0.copy("a", "a", destination_db=1) is False
    finally:
        r0.close()
        r1.close()


@pytest.mark.parametrize(
    "args, error",
    [
        (["a", "a"], "source and destination objects are the same"),
        (["a", "a", "DB", "0"], "source and destination objects are the same"),
        (["missing", "missing"], "source and destination objects are the same"),
        (["a", "b", "DB", "16"], "DB index is out of range"),
        (["a", "b", "DB", "-1"], "DB index is out of range"),
        (["a", "b", "DB", "x"], "value is not an integer or out of range"),
        (
            ["a", "b", "DB", "2147483648"],
            "value is out of range, value must between -2147483648 and 2147483647",
        ),
        (["a", "b", "DB"], "syntax error"),
        (["a", "b", "REPLACE", "DB"], "syntax error"),
        (["a", "b", "BOGUS"], "syntax error"),
    ],
)
def test_copy_errors(r: redis.Redis, args: list[str], error: str) -> None:
    r.set("a", 1)
    with error_is(error):
        r.execute_command("COPY", *args)


def test_copy_of_a_missing_key_is_zero(r: redis.Redis) -> None:
    assert r.copy("missing", "b") is False
    assert r.exists("b") == 0


# -- MOVE ------------------------------------------------------------------------------------------


def test_move_carries_value_and_ttl_to_another_database(server: ServerProcess) -> None:
    r0 = server.client()
    r1 = server.client(db=1)
    try:
        r0.flushall()
        r0.set("k", "v")
        r0.pexpireat("k", 99999999999000)
        assert r0.move("k", 1) is True
        assert r0.exists("k") == 0
        assert r1.get("k") == b"v"
        assert r1.pexpiretime("k") == 99999999999000
    finally:
        r0.close()
        r1.close()


def test_move_refuses_when_the_target_has_the_key(server: ServerProcess) -> None:
    r0 = server.client()
    r1 = server.client(db=1)
    try:
        r0.flushall()
        r0.set("k", "here")
        r1.set("k", "there")
        assert r0.move("k", 1) is False
        assert r0.get("k") == b"here"
        assert r1.get("k") == b"there"
        assert r0.move("missing", 1) is False
    finally:
        r0.close()
        r1.close()


@pytest.mark.parametrize(
    "db, error",
    [
        ("0", "source and destination objects are the same"),
        ("16", "DB index is out of range"),
        ("-1", "DB index is out of range"),
        ("x", "value is not an integer or out of range"),
        ("4294967296", "value is out of range, value must between -2147483648 and 2147483647"),
    ],
)
def test_move_errors(r: redis.Redis, db: str, error: str) -> None:
    with error_is(error):
        r.execute_command("MOVE", "missing", db)


# -- SWAPDB ----------------------------------------------------------------------------------------


def test_swapdb_exchanges_contents_under_connected_clients(server: ServerProcess) -> None:
    r0 = server.client()
    r1 = server.client(db=1)
    try:
        r0.flushall()
        r0.set("zero", 0, ex=100)
        r1.mset({"one": 1, "uno": 1})
        assert r0.swapdb(0, 1) is True
        assert sorted(r0.keys()) == [b"one", b"uno"]
        assert r1.keys() == [b"zero"]
        assert r1.ttl("zero") > 0
        assert r0.swapdb(1, 1) is True
        assert r1.keys() == [b"zero"]
    finally:
        r0.close()
        r1.close()


def test_swapdb_swaps_scan_cursors_along_with_the_data(server: ServerProcess) -> None:
    r0 = server.client()
    try:
        r0.flushall()
        r0.mset({f"k{i}": i for i in range(100)})
        cursor, seen = r0.scan(0, count=10)
        r0.swapdb(0, 1)
        r0.swapdb(0, 1)
        keys = list(seen)
        while cursor != 0:
            cursor, page = r0.scan(cursor, count=10)
            keys.extend(page)
        assert len(keys) == 100 and len(set(keys)) == 100
    finally:
        r0.close()


@pytest.mark.parametrize(
    "a, b, error",
    [
        ("x", "0", "invalid first DB index"),
        ("4294967296", "0", "invalid first DB index"),
        ("0", "x", "invalid second DB index"),
        ("0", "2147483648", "invalid second DB index"),
        ("0", "16", "DB index is out of range"),
        ("-1", "0", "DB index is out of range"),
    ],
)
def test_swapdb_errors(r: redis.Redis, a: str, b: str, error: str) -> None:
    with error_is(error):
        r.execute_command("SWAPDB", a, b)


# -- FLUSHDB, FLUSHALL -----------------------------------------------------------------------------


def test_flushdb_empties_only_the_selected_database(server: ServerProcess) -> None:
    r0 = server.client()
    r1 = server.client(db=1)
    try:
        r0.flushall()
        r0.set("a", 1)
        r1.set("b", 1)
        assert r1.flushdb() is True
        assert r0.dbsize() == 1
        assert r1.dbsize() == 0
        assert r0.flushall() is True
        assert r0.dbsize() == 0
    finally:
        r0.close()
        r1.close()


@pytest.mark.parametrize("command", ["FLUSHDB", "FLUSHALL"])
def test_flush_modes(r: redis.Redis, command: str) -> None:
    for mode in ("ASYNC", "sync", "Async"):
        r.set("k", 1)
        assert r.execute_command(command, mode) is True
        assert r.dbsize() == 0
    for bad in (["foo"], ["SYNC", "ASYNC"]):
        with error_is("syntax error"):
            r.execute_command(command, *bad)


def test_flushall_async_of_a_big_database_answers_at_once(r: redis.Redis) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(0, 60000, 1000):
        pipe.mset({f"k{j}": j for j in range(i, i + 1000)})
    pipe.execute()
    assert r.dbsize() == 60000
    assert r.flushall(asynchronous=True) is True
    assert r.dbsize() == 0
    r.set("after", 1)
    assert r.keys() == [b"after"]


def test_flush_drops_scan_cursors(r: redis.Redis) -> None:
    r.mset({f"k{i}": i for i in range(100)})
    cursor, _ = r.scan(0, count=10)
    r.flushdb()
    r.mset({f"n{i}": i for i in range(5)})
    keys: list[bytes] = []
    while True:
        cursor, page = r.scan(cursor, count=10)
        keys.extend(page)
        if cursor == 0:
            break
    assert set(keys) <= {f"n{i}".encode() for i in range(5)}


# -- OBJECT ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, encoding",
    [
        (b"123", b"int"),
        (b"-9223372036854775808", b"int"),
        (b"9223372036854775808", b"embstr"),
        (b"01", b"embstr"),
        (b"hello", b"embstr"),
        (b"x" * 44, b"embstr"),
        (b"x" * 45, b"raw"),
    ],
)
def test_object_encoding_of_strings(r: redis.Redis, value: bytes, encoding: bytes) -> None:
    r.set("k", value)
    assert r.object("encoding", "k") == encoding


def test_object_encoding_after_append_is_raw(r: redis.Redis) -> None:
    r.set("k", "ab")
    r.append("k", "c")
    assert r.object("encoding", "k") == b"raw"


def test_object_encoding_of_a_list(r: redis.Redis) -> None:
    r.rpush("l", "a")
    assert r.object("encoding", "l") == b"quicklist"


def test_object_subcommands_on_a_missing_key_reply_nil(r: redis.Redis) -> None:
    for sub in ("ENCODING", "REFCOUNT", "IDLETIME", "FREQ"):
        assert r.execute_command("OBJECT", sub, "missing") is None


def test_object_refcount_reports_shared_small_integers(r: redis.Redis) -> None:
    r.mset({"zero": 0, "small": 9999, "big": 10000, "neg": -1, "text": "a"})
    assert r.object("refcount", "zero") == 2147483647
    assert r.object("refcount", "small") == 2147483647
    for key in ("big", "neg", "text"):
        assert r.object("refcount", key) == 1


def test_object_idletime_is_zero_and_freq_needs_an_lfu_policy(r: redis.Redis) -> None:
    r.set("k", 1)
    assert r.object("idletime", "k") == 0
    with error_starts("An LFU maxmemory policy is not selected"):
        r.object("freq", "k")


@pytest.fixture(scope="module")
def lfu_server() -> Iterator[ServerProcess]:
    proc = start_damselfly("--maxmemory-policy", "allkeys-lfu", "--maxmemory", "100mb")
    yield proc
    proc.stop()


def test_object_under_an_lfu_policy(lfu_server: ServerProcess) -> None:
    r = lfu_server.client()
    try:
        r.flushall()
        r.set("k", 5)
        assert r.object("freq", "k") == 5
        with error_starts("An LFU maxmemory policy is selected"):
            r.object("idletime", "k")
        assert r.object("refcount", "k") == 1  # no shared integers with an LFU memory limit
    finally:
        r.close()


def test_object_help_lists_every_subcommand(r: redis.Redis) -> None:
    lines = r.execute_command("OBJECT", "HELP")
    assert lines[0] == b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    for sub in (b"ENCODING <key>", b"FREQ <key>", b"IDLETIME <key>", b"REFCOUNT <key>", b"HELP"):
        assert sub in lines
    assert lines[-1] == b"    Prints this help."


def test_object_unknown_subcommand_and_arity(r: redis.Redis) -> None:
    with error_is("unknown subcommand 'foo'. Try OBJECT HELP."):
        r.execute_command("OBJECT", "foo")
    with error_is("wrong number of arguments for 'object|encoding' command"):
        r.execute_command("OBJECT", "ENCODING")


# -- keyspace statistics -----------------------------------------------------------------------------


def test_read_commands_count_keyspace_hits_and_misses(r: redis.Redis) -> None:
    info = r.execute_command("INFO", "stats") if _has_info(r) else None
    if info is None:
        pytest.skip("INFO is not implemented yet")
    r.set("k", 1)
    r.config_resetstat()
    r.exists("k", "missing")
    r.type("k")
    r.ttl("missing")
    r.touch("k")
    r.object("encoding", "missing")
    r.copy("k", "k2")
    stats = r.info("stats")
    assert stats["keyspace_hits"] == 4
    assert stats["keyspace_misses"] == 3


def _has_info(r: redis.Redis) -> bool:
    try:
        r.execute_command("INFO", "stats")
    except redis.ResponseError:
        return False
    return True
