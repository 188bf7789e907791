"""String commands through redis-py, in RESP2 and RESP3: behaviour, errors, expiry and encodings.

Expiry is tested by moving damselfly's clock (`advance_clock`), never by sleeping. The exact
bytes of every reply are checked against redis-server in tests/differential/test_strings_diff.py;
these tests state the behaviour in words, one rule per test.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import redis

from damselfly.commands.strings import FloatString, LcsTable, lcs_walk, string_encoding
from damselfly.keyspace.database import RawString

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "value is not an integer or out of range"
NOT_FLOAT = "value is not a valid float"


def error_of(call: Any) -> str:
    with pytest.raises(redis.ResponseError) as info:
        call()
    return str(info.value)


@pytest.fixture
def listkey(r: redis.Redis) -> str:
    """A key holding a list, for WRONGTYPE paths (skips while lists are not registered)."""
    try:
        r.rpush("list", "x")
    except redis.ResponseError as exc:
        if "unknown command" in str(exc):
            pytest.skip("the list family is not registered yet")
        raise
    return "list"


def stats(r: redis.Redis) -> dict[str, Any]:
    try:
        return r.info("stats")
    except redis.ResponseError as exc:
        if "unknown command" in str(exc):
            pytest.skip("INFO is not implemented yet")
        raise


# -- SET -----------------------------------------------------------------------------------------


def test_set_then_get_returns_the_value(rp: redis.Redis) -> None:
    assert rp.set("k", "v") is True
    assert rp.get("k") == b"v"


def test_get_of_a_missing_key_is_nil(rp: redis.Redis) -> None:
    assert rp.get("missing") is None


def test_set_stores_binary_values_unchanged(rp: redis.Redis) -> None:
    value = bytes(range(256)) + b"\r\n\x00"
    rp.set("k", value)
    assert rp.get("k") == value


def test_set_replaces_a_value_of_another_type(r: redis.Redis, listkey: str) -> None:
    assert r.set(listkey, "v") is True
    assert r.type(listkey) == b"string"


def test_set_nx_only_creates(rp: redis.Redis) -> None:
    assert rp.set("k", "1", nx=True) is True
    assert rp.set("k", "2", nx=True) is None
    assert rp.get("k") == b"1"


def test_set_xx_only_overwrites(rp: redis.Redis) -> None:
    assert rp.set("k", "1", xx=True) is None
    assert rp.exists("k") == 0
    rp.set("k", "1")
    assert rp.set("k", "2", xx=True) is True
    assert rp.get("k") == b"2"


def test_set_nx_and_xx_together_is_a_syntax_error(rp: redis.Redis) -> None:
    assert error_of(lambda: rp.execute_command("SET", "k", "v", "NX", "XX")) == "syntax error"


def test_set_get_returns_the_old_value(rp: redis.Redis) -> None:
    assert rp.set("k", "1", get=True) is None
    assert rp.set("k", "2", get=True) == b"1"
    assert rp.get("k") == b"2"


def test_set_nx_get_returns_the_old_value_and_keeps_it(rp: redis.Redis) -> None:
    rp.set("k", "old")
    assert rp.set("k", "new", nx=True, get=True) == b"old"
    assert rp.get("k") == b"old"


def test_set_get_on_another_type_is_wrongtype_and_changes_nothing(
    r: redis.Redis, listkey: str
) -> None:
    assert error_of(lambda: r.set(listkey, "v", get=True)) == WRONGTYPE
    assert r.type(listkey) == b"list"


def test_set_ex_expires_after_its_time(r: redis.Redis, advance_clock: Any) -> None:
    r.set("k", "v", ex=10)
    assert r.ttl("k") == 10
    advance_clock(9_000)
    assert r.get("k") == b"v"
    advance_clock(1_500)
    assert r.get("k") is None


def test_set_px_expires_after_its_time(r: redis.Redis, advance_clock: Any) -> None:
    r.set("k", "v", px=1500)
    assert 1400 <= r.pttl("k") <= 1500
    advance_clock(2_000)
    assert r.get("k") is None


def test_set_exat_and_pxat_use_absolute_times(rp: redis.Redis) -> None:
    far = 4_000_000_000  # year 2096
    rp.set("a", "v", exat=far)
    rp.set("b", "v", pxat=far * 1000)
    assert rp.ttl("a") > 2_000_000_000
    assert rp.pttl("b") > 2_000_000_000_000


def test_set_exat_in_the_past_leaves_no_visible_key(rp: redis.Redis) -> None:
    assert rp.set("k", "v", exat=1_000_000_000) is True
    assert rp.get("k") is None
    assert rp.exists("k") == 0


def test_set_repeated_expire_option_keeps_the_last(rp: redis.Redis) -> None:
    assert rp.execute_command("SET", "k", "v", "EX", "1", "EX", "300") in (True, b"OK", "OK")
    assert 299 <= rp.ttl("k") <= 300


def test_set_with_two_different_expire_options_is_a_syntax_error(rp: redis.Redis) -> None:
    for options in (["EX", "1", "PX", "2"], ["EXAT", "1", "PXAT", "2"], ["EX", "1", "KEEPTTL"]):
        assert error_of(lambda o=options: rp.execute_command("SET", "k", "v", *o)) == "syntax error"
    assert rp.exists("k") == 0


def test_set_checks_the_expire_value_before_anything_else(rp: redis.Redis) -> None:
    rp.set("k", "1")
    assert error_of(lambda: rp.execute_command("SET", "k", "v", "NX", "EX", "x")) == NOT_INTEGER
    assert (
        error_of(lambda: rp.execute_command("SET", "k", "v", "GET", "EX", "0"))
        == "invalid expire time in 'set' command"
    )
    assert rp.get("k") == b"1"


@pytest.mark.parametrize(
    "option, value",
    [("EX", "0"), ("EX", "-1"), ("PX", "0"), ("EXAT", "0"), ("PXAT", "-5"),
     ("EX", "9223372036854775"), ("PX", "9223372036854775807")],
)  # fmt: skip
def test_set_rejects_zero_negative_and_overflowing_expire_times(
    rp: redis.Redis, option: str, value: str
) -> None:
    error = error_of(lambda: rp.execute_command("SET", "k", "v", option, value))
    assert error == "invalid expire time in 'set' command"
    assert rp.exists("k") == 0


def test_set_keepttl_keeps_the_time_to_live(rp: redis.Redis) -> None:
    rp.set("k", "v", ex=100)
    rp.set("k", "w", keepttl=True)
    assert 99 <= rp.ttl("k") <= 100
    rp.set("k", "x")
    assert rp.ttl("k") == -1


def test_set_options_are_matched_up_to_a_nul_byte_like_redis(rp: redis.Redis) -> None:
    rp.set("k", "1")
    assert rp.execute_command("SET", "k", "2", b"NX\x00anything") is None
    assert rp.get("k") == b"1"


# -- SETNX, SETEX, PSETEX ------------------------------------------------------------------------


def test_setnx_sets_only_a_missing_key(rp: redis.Redis) -> None:
    assert rp.setnx("k", "1") is True
    assert rp.setnx("k", "2") is False
    assert rp.get("k") == b"1"


def test_setnx_against_an_expired_volatile_key_succeeds(r: redis.Redis, advance_clock: Any) -> None:
    r.set("k", "old", ex=5)
    advance_clock(6_000)
    assert r.setnx("k", "new") is True
    assert r.get("k") == b"new"
    assert r.ttl("k") == -1


def test_setnx_does_not_overwrite_another_type(r: redis.Redis, listkey: str) -> None:
    assert r.setnx(listkey, "v") is False
    assert r.type(listkey) == b"list"


def test_setex_sets_value_and_seconds_ttl(r: redis.Redis, advance_clock: Any) -> None:
    assert r.execute_command("SETEX", "k", 10, "v") is True
    assert r.ttl("k") == 10
    advance_clock(10_500)
    assert r.get("k") is None


def test_psetex_sets_value_and_milliseconds_ttl(r: redis.Redis, advance_clock: Any) -> None:
    assert r.psetex("k", 2_000, "v") is True
    assert 1_900 <= r.pttl("k") <= 2_000
    advance_clock(2_500)
    assert r.exists("k") == 0


def test_setex_errors_name_the_command(rp: redis.Redis) -> None:
    assert (
        error_of(lambda: rp.execute_command("SETEX", "k", 0, "v"))
        == "invalid expire time in 'setex' command"
    )
    assert error_of(lambda: rp.psetex("k", -1, "v")) == "invalid expire time in 'psetex' command"
    assert error_of(lambda: rp.execute_command("SETEX", "k", "x", "v")) == NOT_INTEGER


# -- GETSET, GETDEL, GETEX -----------------------------------------------------------------------


def test_getset_returns_the_old_value_and_drops_the_ttl(rp: redis.Redis) -> None:
    assert rp.getset("k", "1") is None
    rp.set("k", "1", ex=100)
    assert rp.getset("k", "2") == b"1"
    assert rp.get("k") == b"2"
    assert rp.ttl("k") == -1


def test_getdel_returns_the_value_and_removes_the_key(rp: redis.Redis) -> None:
    rp.set("k", "v")
    assert rp.getdel("k") == b"v"
    assert rp.exists("k") == 0
    assert rp.getdel("k") is None


def test_getdel_leaves_other_types_alone(r: redis.Redis, listkey: str) -> None:
    assert error_of(lambda: r.getdel(listkey)) == WRONGTYPE
    assert r.exists(listkey) == 1


def test_getex_without_options_is_get(rp: redis.Redis) -> None:
    rp.set("k", "v", ex=100)
    assert rp.getex("k") == b"v"
    assert 99 <= rp.ttl("k") <= 100


def test_getex_sets_a_relative_expiry(r: redis.Redis, advance_clock: Any) -> None:
    r.set("k", "v")
    assert r.getex("k", ex=5) == b"v"
    assert r.ttl("k") == 5
    assert r.getex("k", px=3_000) == b"v"
    advance_clock(3_500)
    assert r.get("k") is None


def test_getex_persist_removes_the_ttl(rp: redis.Redis) -> None:
    rp.set("k", "v", ex=100)
    assert rp.getex("k", persist=True) == b"v"
    assert rp.ttl("k") == -1


def test_getex_with_a_time_in_the_past_deletes_the_key(rp: redis.Redis) -> None:
    rp.set("k", "v")
    assert rp.getex("k", exat=1_000_000_000) == b"v"
    assert rp.exists("k") == 0


def test_getex_on_a_missing_key_ignores_a_bad_expire(rp: redis.Redis) -> None:
    assert rp.execute_command("GETEX", "missing", "EX", "nope") is None


def test_getex_rejects_persist_with_an_expiry(rp: redis.Redis) -> None:
    rp.set("k", "v")
    error = error_of(lambda: rp.execute_command("GETEX", "k", "EX", "10", "PERSIST"))
    assert error == "syntax error"
    assert error_of(lambda: rp.getex("k", ex=0)) == "invalid expire time in 'getex' command"


def test_getex_on_another_type_is_wrongtype(r: redis.Redis, listkey: str) -> None:
    assert error_of(lambda: r.getex(listkey, persist=True)) == WRONGTYPE


# -- MGET, MSET, MSETNX --------------------------------------------------------------------------


def test_mget_returns_nil_for_missing_keys(rp: redis.Redis) -> None:
    rp.set("a", "1")
    rp.set("b", "2")
    assert rp.mget("a", "missing", "b", "a") == [b"1", None, b"2", b"1"]


def test_mget_returns_nil_for_other_types(r: redis.Redis, listkey: str) -> None:
    r.set("a", "1")
    assert r.mget(listkey, "a") == [None, b"1"]


def test_mset_sets_every_pair_and_the_last_duplicate_wins(rp: redis.Redis) -> None:
    assert rp.execute_command("MSET", "a", "1", "b", "2", "a", "3") in (True, b"OK", "OK")
    assert rp.mget("a", "b") == [b"3", b"2"]


def test_mset_with_an_odd_argument_count_is_an_arity_error(rp: redis.Redis) -> None:
    error = error_of(lambda: rp.execute_command("MSET", "a", "1", "b"))
    assert error == "wrong number of arguments for 'mset' command"
    assert rp.exists("a") == 0


def test_msetnx_sets_all_or_nothing(rp: redis.Redis) -> None:
    assert rp.msetnx({"a": "1", "b": "2"}) is True
    assert rp.msetnx({"b": "x", "c": "3"}) is False
    assert rp.mget("a", "b", "c") == [b"1", b"2", None]


def test_msetnx_counts_an_expired_key_as_missing(r: redis.Redis, advance_clock: Any) -> None:
    r.set("a", "old", px=100)
    advance_clock(200)
    assert r.msetnx({"a": "1", "b": "2"}) is True


def test_msetnx_odd_arguments_name_the_command(rp: redis.Redis) -> None:
    error = error_of(lambda: rp.execute_command("MSETNX", "a", "1", "b"))
    assert error == "wrong number of arguments for 'msetnx' command"


# -- APPEND, STRLEN ------------------------------------------------------------------------------


def test_append_creates_and_extends(rp: redis.Redis) -> None:
    assert rp.append("k", "hello") == 5
    assert rp.append("k", " world") == 11
    assert rp.get("k") == b"hello world"


def test_append_of_nothing_creates_an_empty_string(rp: redis.Redis) -> None:
    assert rp.append("k", "") == 0
    assert rp.exists("k") == 1


def test_append_keeps_the_ttl(rp: redis.Redis) -> None:
    rp.set("k", "v", ex=100)
    rp.append("k", "w")
    assert 99 <= rp.ttl("k") <= 100


def test_append_to_another_type_is_wrongtype(r: redis.Redis, listkey: str) -> None:
    assert error_of(lambda: r.append(listkey, "x")) == WRONGTYPE


def test_strlen_counts_bytes(rp: redis.Redis) -> None:
    rp.set("k", "héllo")
    assert rp.strlen("k") == 6
    assert rp.strlen("missing") == 0


# -- GETRANGE, SUBSTR, SETRANGE ------------------------------------------------------------------


def test_getrange_takes_inclusive_offsets_from_either_end(rp: redis.Redis) -> None:
    rp.set("k", "This is a string")
    assert rp.getrange("k", 0, 3) == b"This"
    assert rp.getrange("k", -3, -1) == b"ing"
    assert rp.getrange("k", 0, -1) == b"This is a string"
    assert rp.getrange("k", 10, 100) == b"string"


def test_getrange_is_empty_for_backwards_or_outside_ranges(rp: redis.Redis) -> None:
    rp.set("k", "hello")
    assert rp.getrange("k", 3, 1) == b""
    assert rp.getrange("k", 10, 20) == b""
    assert rp.getrange("k", -1, -5) == b""
    assert rp.getrange("k", -100, -200) == b""
    assert rp.getrange("missing", 0, -1) == b""


def test_getrange_checks_offsets_before_the_type(r: redis.Redis, listkey: str) -> None:
    assert error_of(lambda: r.getrange(listkey, "a", 1)) == NOT_INTEGER
    assert error_of(lambda: r.getrange(listkey, 0, 1)) == WRONGTYPE


def test_substr_is_getrange(rp: redis.Redis) -> None:
    rp.set("k", "hello")
    assert rp.execute_command("SUBSTR", "k", 1, 3) == b"ell"


def test_setrange_overwrites_and_pads_with_zero_bytes(rp: redis.Redis) -> None:
    rp.set("k", "Hello World")
    assert rp.setrange("k", 6, "Redis") == 11
    assert rp.get("k") == b"Hello Redis"
    assert rp.setrange("k", 13, "!") == 14
    assert rp.get("k") == b"Hello Redis\x00\x00!"


def test_setrange_creates_a_missing_key(rp: redis.Redis) -> None:
    assert rp.setrange("k", 3, "ab") == 5
    assert rp.get("k") == b"\x00\x00\x00ab"


def test_setrange_with_an_empty_value_on_a_missing_key_creates_nothing(rp: redis.Redis) -> None:
    assert rp.setrange("k", 10, "") == 0
    assert rp.exists("k") == 0


def test_setrange_with_an_empty_value_returns_the_length(rp: redis.Redis) -> None:
    rp.set("k", "hello")
    assert rp.setrange("k", 1_000_000, "") == 5
    assert rp.get("k") == b"hello"


def test_setrange_rejects_a_negative_offset_before_the_type(r: redis.Redis, listkey: str) -> None:
    assert error_of(lambda: r.setrange(listkey, -1, "x")) == "offset is out of range"
    assert error_of(lambda: r.setrange(listkey, 0, "x")) == WRONGTYPE
    assert error_of(lambda: r.setrange("k", -1, "x")) == "offset is out of range"


def test_setrange_past_proto_max_bulk_len_is_refused(rp: redis.Redis) -> None:
    error = error_of(lambda: rp.setrange("k", 512 * 1024 * 1024, "x"))
    assert error == "string exceeds maximum allowed size (proto-max-bulk-len)"
    assert rp.exists("k") == 0


# -- INCR, DECR, INCRBY, DECRBY ------------------------------------------------------------------


def test_incr_and_decr_count_from_zero(rp: redis.Redis) -> None:
    assert rp.incr("k") == 1
    assert rp.incr("k") == 2
    assert rp.decr("k") == 1
    assert rp.decr("n") == -1
    assert rp.get("k") == b"1"


def test_incrby_and_decrby_add_any_64_bit_amount(rp: redis.Redis) -> None:
    assert rp.incrby("k", 10) == 10
    assert rp.decrby("k", 25) == -15
    assert rp.incrby("k", -5) == -20


def test_incr_of_a_non_integer_is_an_error(rp: redis.Redis) -> None:
    for value in ("1.5", " 1", "01", "-0", "+1", "", "abc", "99999999999999999999"):
        rp.set("k", value)
        assert error_of(lambda: rp.incr("k")) == NOT_INTEGER
        assert rp.get("k") == value.encode()


def test_incr_past_the_64_bit_range_is_an_overflow(rp: redis.Redis) -> None:
    rp.set("k", 2**63 - 1)
    assert error_of(lambda: rp.incr("k")) == "increment or decrement would overflow"
    rp.set("k", -(2**63))
    assert error_of(lambda: rp.decr("k")) == "increment or decrement would overflow"
    assert rp.get("k") == b"-9223372036854775808"


def test_decrby_of_the_smallest_integer_is_refused(rp: redis.Redis) -> None:
    error = error_of(lambda: rp.decrby("k", -(2**63)))
    assert error == "decrement would overflow"
    assert rp.exists("k") == 0


def test_incrby_checks_the_increment_before_the_type(r: redis.Redis, listkey: str) -> None:
    assert error_of(lambda: r.incrby(listkey, "x")) == NOT_INTEGER
    assert error_of(lambda: r.incrby(listkey, 1)) == WRONGTYPE


def test_incr_keeps_the_ttl(rp: redis.Redis) -> None:
    rp.set("k", "5", ex=100)
    assert rp.incr("k") == 6
    assert 99 <= rp.ttl("k") <= 100


def test_incr_of_an_expired_key_starts_from_zero(r: redis.Redis, advance_clock: Any) -> None:
    r.set("k", "41", ex=1)
    advance_clock(1_500)
    assert r.incr("k") == 1
    assert r.ttl("k") == -1


# -- INCRBYFLOAT ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, increment, result",
    [(None, "3.0e3", b"3000"), ("10.5", "0.1", b"10.6"), ("10.5", "0.5", b"11"),
     ("5.0e3", "1", b"5001"), (None, "0.000003814697265625", b"0.00000381469726562"),
     (None, "-1e-20", b"0"), ("1", "-1", b"0"), (None, "0x1.8p1", b"3"),
     ("3", "1.5e-17", b"3.00000000000000001")],
)  # fmt: skip
def test_incrbyfloat_formats_like_redis_long_doubles(
    rp: redis.Redis, start: str | None, increment: str, result: bytes
) -> None:
    if start is not None:
        rp.set("k", start)
    reply = rp.execute_command("INCRBYFLOAT", "k", increment)
    assert rp.get("k") == result
    assert reply in (result, float(result))


def test_incrbyfloat_goes_beyond_double_range_like_long_double(rp: redis.Redis) -> None:
    rp.set("k", "1e308")
    rp.execute_command("INCRBYFLOAT", "k", "9e308")
    value = rp.get("k")
    assert len(value) == 309  # 1e309, printed in full with its binary rounding
    assert value.startswith(b"99999999999999999998634942")


def test_incrbyfloat_to_infinity_is_refused(rp: redis.Redis) -> None:
    rp.set("k", "1")
    for increment in ("inf", "-inf", "Infinity"):
        error = error_of(lambda i=increment: rp.execute_command("INCRBYFLOAT", "k", i))
        assert error == "increment would produce NaN or Infinity"
    rp.set("big", "0x1p16383")
    error = error_of(lambda: rp.execute_command("INCRBYFLOAT", "big", "0x1p16383"))
    assert error == "increment would produce NaN or Infinity"
    assert rp.get("k") == b"1"


def test_incrbyfloat_rejects_text_that_is_not_a_number(rp: redis.Redis) -> None:
    for increment in ("abc", "", " 1", "1 ", "1e", "nan", "1_0", "0x"):
        assert error_of(lambda i=increment: rp.incrbyfloat("k", i)) == NOT_FLOAT
    rp.set("k", "abc")
    assert error_of(lambda: rp.incrbyfloat("k", 1)) == NOT_FLOAT


def test_incrbyfloat_keeps_the_ttl(rp: redis.Redis) -> None:
    rp.set("k", "1", ex=100)
    rp.incrbyfloat("k", 1.5)
    assert rp.get("k") == b"2.5"
    assert 99 <= rp.ttl("k") <= 100


def test_incrbyfloat_on_another_type_is_wrongtype(r: redis.Redis, listkey: str) -> None:
    assert error_of(lambda: r.incrbyfloat(listkey, "abc")) == WRONGTYPE


# -- LCS -----------------------------------------------------------------------------------------


def test_lcs_returns_the_longest_common_subsequence(rp: redis.Redis) -> None:
    rp.mset({"a": "ohmytext", "b": "mynewtext"})
    assert rp.execute_command("LCS", "a", "b") == b"mytext"
    assert rp.execute_command("LCS", "a", "b", "LEN") == 6


def test_lcs_idx_lists_matches_from_the_end(rp: redis.Redis) -> None:
    rp.mset({"a": "ohmytext", "b": "mynewtext"})
    reply = rp.execute_command("LCS", "a", "b", "IDX", "WITHMATCHLEN")
    matches = [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]]
    if isinstance(reply, dict):  # RESP3 map
        assert reply == {b"matches": matches, b"len": 6}
    else:
        assert reply == [b"matches", matches, b"len", 6]


def test_lcs_minmatchlen_drops_short_matches(rp: redis.Redis) -> None:
    rp.mset({"a": "ohmytext", "b": "mynewtext"})
    reply = rp.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", 4)
    matches = reply[b"matches"] if isinstance(reply, dict) else reply[1]
    assert matches == [[[4, 7], [5, 8]]]


def test_lcs_of_missing_keys_is_empty(rp: redis.Redis) -> None:
    rp.set("a", "hello")
    assert rp.execute_command("LCS", "a", "missing") == b""
    assert rp.execute_command("LCS", "missing", "a", "LEN") == 0


def test_lcs_errors(r: redis.Redis, listkey: str) -> None:
    r.mset({"a": "x", "b": "y"})
    assert (
        error_of(lambda: r.execute_command("LCS", "a", "b", "IDX", "LEN"))
        == "If you want both the length and indexes, please just use IDX."
    )
    assert error_of(lambda: r.execute_command("LCS", "a", "b", "MINMATCHLEN")) == "syntax error"
    assert (
        error_of(lambda: r.execute_command("LCS", "a", listkey))
        == "The specified keys must contain string values"
    )


def _reference_lcs(a: bytes, b: bytes) -> tuple[bytes, list[tuple[int, int, int, int]], int]:
    """Redis's algorithm written plainly: the full table, then the walk back from the end."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    out: list[int] = []
    ranges: list[tuple[int, int, int, int]] = []
    current: list[int] | None = None
    i, j = len(a), len(b)
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            out.append(a[i - 1])
            if current is None:
                current = [i - 1, i - 1, j - 1, j - 1]
            else:
                current[0] -= 1
                current[2] -= 1
            emit = current[0] == 0 or current[2] == 0
            i, j = i - 1, j - 1
        else:
            if table[i - 1][j] > table[i][j - 1]:
                i -= 1
            else:
                j -= 1
            emit = current is not None
        if emit and current is not None:
            ranges.append((current[0], current[1], current[2], current[3]))
            current = None
    return bytes(reversed(out)), ranges, table[len(a)][len(b)]


def test_bit_parallel_lcs_walk_matches_the_plain_table() -> None:
    rnd = random.Random(42)
    for _ in range(3000):
        alphabet = rnd.choice([b"ab", b"abc", b"acgt", bytes(range(256))])
        a = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 25)))
        b = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 25)))
        table = LcsTable(a, b)
        common, ranges = lcs_walk(a, b, table)
        assert (common, ranges, table.length()) == _reference_lcs(a, b), (a, b)


def test_lcs_of_long_strings_is_fast(r: redis.Redis) -> None:
    rnd = random.Random(5)
    a = bytes(rnd.choice(b"acgt") for _ in range(5000))
    b = bytes(rnd.choice(b"acgt") for _ in range(5000))
    r.mset({"a": a, "b": b})
    length = r.execute_command("LCS", "a", "b", "LEN")
    common = r.execute_command("LCS", "a", "b")
    assert len(common) == length > 3000


# -- encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, encoding",
    [(b"123", b"int"), (b"-9223372036854775808", b"int"), (b"9223372036854775808", b"embstr"),
     (b"0123", b"embstr"), (b"-0", b"embstr"), (b"+1", b"embstr"), (b"", b"embstr"),
     (b"x" * 44, b"embstr"), (b"x" * 45, b"raw"), (RawString(b"1"), b"raw"),
     (FloatString(b"11"), b"embstr"), (FloatString(b"1" * 45), b"raw")],
)  # fmt: skip
def test_string_encoding_follows_redis_rules(value: bytes, encoding: bytes) -> None:
    assert string_encoding(value) == encoding


def test_object_encoding_tracks_how_a_string_was_written(rp: redis.Redis) -> None:
    rp.set("int", "12")
    rp.set("short", "hello")
    rp.set("long", "x" * 45)
    rp.set("appended", "12")
    rp.append("appended", "3")
    rp.setrange("created", 0, "ab")
    rp.incrbyfloat("float", "11")
    rp.incr("counter")
    assert [rp.object("encoding", k) for k in
            ("int", "short", "long", "appended", "created", "float", "counter")] == [
        b"int", b"embstr", b"raw", b"raw", b"raw", b"embstr", b"int"]  # fmt: skip


# -- statistics ----------------------------------------------------------------------------------


def test_reads_count_keyspace_hits_and_misses(r: redis.Redis) -> None:
    before = stats(r)
    r.set("a", "1")
    r.get("a")
    r.get("missing")
    r.mget("a", "missing", "missing2")
    r.strlen("a")
    r.getrange("missing", 0, 1)
    r.incr("a")  # writes do not count
    after = stats(r)
    assert after["keyspace_hits"] - before["keyspace_hits"] == 3
    assert after["keyspace_misses"] - before["keyspace_misses"] == 4
