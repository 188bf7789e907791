"""List commands through redis-py, in RESP2 and RESP3: one rule per test.

The exact reply bytes (nils, error texts, which error wins) are compared with redis-server in
tests/differential/test_lists_diff.py, and waiting clients are in test_blocking.py; here each
command's behaviour is stated in words. Replies are normalised with `list()` where redis-py
returns tuples in one protocol and lists in the other.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis

from damselfly.commands.args import LLONG_MIN
from damselfly.commands.lists import clamp_range

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "value is not an integer or out of range"
SYNTAX = "syntax error"


def error_of(call: Any) -> str:
    with pytest.raises(redis.ResponseError) as info:
        call()
    return str(info.value)


def items(r: redis.Redis, key: str) -> list[bytes]:
    return list(r.lrange(key, 0, -1))


# -- pushes ---------------------------------------------------------------------------------------


def test_lpush_prepends_each_element_in_turn_and_returns_the_new_length(rp: redis.Redis) -> None:
    assert rp.lpush("l", "a", "b", "c") == 3
    assert items(rp, "l") == [b"c", b"b", b"a"]
    assert rp.lpush("l", "d") == 4
    assert items(rp, "l") == [b"d", b"c", b"b", b"a"]


def test_rpush_appends_in_argument_order(rp: redis.Redis) -> None:
    assert rp.rpush("l", "a", "b") == 2
    assert rp.rpush("l", "c") == 3
    assert items(rp, "l") == [b"a", b"b", b"c"]


def test_pushx_only_touches_an_existing_list(rp: redis.Redis) -> None:
    assert rp.lpushx("l", "a") == 0
    assert rp.rpushx("l", "a") == 0
    assert rp.exists("l") == 0
    rp.rpush("l", "m")
    assert rp.lpushx("l", "a", "b") == 3
    assert rp.rpushx("l", "y", "z") == 5
    assert items(rp, "l") == [b"b", b"a", b"m", b"y", b"z"]


def test_elements_are_binary_safe(rp: redis.Redis) -> None:
    values = [b"", b"\x00", b"\r\n", b"\xff" * 3, b"x" * 70_000]
    rp.rpush("bin", *values)
    assert items(rp, "bin") == values
    assert rp.lpos("bin", b"\x00") == 1


def test_every_list_command_rejects_a_key_of_another_type(rp: redis.Redis) -> None:
    rp.set("s", "v")
    calls = [
        lambda: rp.lpush("s", "a"),
        lambda: rp.rpushx("s", "a"),
        lambda: rp.lpop("s"),
        lambda: rp.rpop("s", 2),
        lambda: rp.llen("s"),
        lambda: rp.lindex("s", 0),
        lambda: rp.lrange("s", 0, -1),
        lambda: rp.lset("s", 0, "x"),
        lambda: rp.linsert("s", "BEFORE", "a", "b"),
        lambda: rp.lrem("s", 0, "a"),
        lambda: rp.ltrim("s", 0, 1),
        lambda: rp.lpos("s", "a"),
        lambda: rp.lmove("s", "d"),
        lambda: rp.rpoplpush("s", "d"),
        lambda: rp.lmpop(1, "s", direction="LEFT"),
        lambda: rp.blpop(["s"], timeout=0),
        lambda: rp.blmove("s", "d", 0),
        lambda: rp.blmpop(0, 1, "s", direction="LEFT"),
    ]
    for call in calls:
        assert error_of(call) == WRONGTYPE
    assert rp.get("s") == b"v"


# -- pops -----------------------------------------------------------------------------------------


def test_pops_take_from_their_end_and_delete_the_emptied_list(rp: redis.Redis) -> None:
    rp.rpush("l", "a", "b", "c")
    assert rp.lpop("l") == b"a"
    assert rp.rpop("l") == b"c"
    assert rp.lpop("l") == b"b"
    assert rp.exists("l") == 0
    assert rp.lpop("l") is None
    assert rp.rpop("l") is None


def test_pop_with_count_returns_up_to_count_elements_in_pop_order(rp: redis.Redis) -> None:
    rp.rpush("l", "1", "2", "3", "4", "5")
    assert rp.lpop("l", 2) == [b"1", b"2"]
    assert rp.rpop("l", 2) == [b"5", b"4"]
    assert rp.rpop("l", 10) == [b"3"]
    assert rp.exists("l") == 0


def test_pop_with_count_zero_is_empty_on_a_list_and_nil_on_a_missing_key(rp: redis.Redis) -> None:
    rp.rpush("l", "a")
    assert rp.lpop("l", 0) == []
    assert rp.lpop("missing", 0) is None
    assert rp.rpop("missing", 3) is None
    assert items(rp, "l") == [b"a"]


def test_pop_count_must_be_a_non_negative_integer(rp: redis.Redis) -> None:
    rp.rpush("l", "a")
    for bad in ("-1", "x", "1.5", "99999999999999999999"):
        assert error_of(lambda b=bad: rp.lpop("l", b)) == "value is out of range, must be positive"
    assert error_of(lambda: rp.execute_command("LPOP", "l", 1, 2)) == (
        "wrong number of arguments for 'lpop' command"
    )


# -- reads ----------------------------------------------------------------------------------------


def test_llen_counts_elements_and_is_zero_for_a_missing_key(rp: redis.Redis) -> None:
    rp.rpush("l", "a", "b")
    assert rp.llen("l") == 2
    assert rp.llen("missing") == 0


def test_lindex_counts_negative_indexes_from_the_end(rp: redis.Redis) -> None:
    rp.rpush("l", "a", "b", "c")
    assert [rp.lindex("l", i) for i in (0, 2, -1, -3)] == [b"a", b"c", b"c", b"a"]
    assert rp.lindex("l", 3) is None
    assert rp.lindex("l", -4) is None


def test_lindex_of_a_missing_key_is_nil_before_the_index_is_parsed(rp: redis.Redis) -> None:
    assert rp.lindex("missing", "not-a-number") is None
    rp.rpush("l", "a")
    assert error_of(lambda: rp.lindex("l", "x")) == NOT_INTEGER


@pytest.mark.parametrize(
    ("start", "stop", "expected"),
    [
        (0, -1, "abcde"),
        (1, 3, "bcd"),
        (-2, -1, "de"),
        (-100, 1, "ab"),
        (3, 100, "de"),
        (3, 1, ""),
        (5, 10, ""),
        (-1, -2, ""),
        (LLONG_MIN, 2**63 - 1, "abcde"),
    ],
)
def test_lrange_clamps_its_bounds_like_redis(
    rp: redis.Redis, start: int, stop: int, expected: str
) -> None:
    rp.rpush("l", *"abcde")
    assert list(rp.lrange("l", start, stop)) == [c.encode() for c in expected]


def test_lrange_from_the_tail_side_of_a_long_list(rp: redis.Redis) -> None:
    rp.rpush("l", *range(1000))
    assert rp.lrange("l", 995, 998) == [b"995", b"996", b"997", b"998"]
    assert rp.lrange("l", 2, 4) == [b"2", b"3", b"4"]


def test_lrange_parses_its_indexes_before_looking_at_the_key(rp: redis.Redis) -> None:
    assert rp.lrange("missing", 0, -1) == []
    assert error_of(lambda: rp.lrange("missing", "x", 1)) == NOT_INTEGER


def test_clamp_range_maps_redis_index_rules() -> None:
    assert clamp_range(0, -1, 5) == (0, 4)
    assert clamp_range(-10, 2, 5) == (0, 2)
    assert clamp_range(2, 1, 5) is None
    assert clamp_range(5, 9, 5) is None
    assert clamp_range(0, 0, 0) is None


# -- LSET, LINSERT, LREM, LTRIM -------------------------------------------------------------------


def test_lset_replaces_by_index_and_rejects_out_of_range(rp: redis.Redis) -> None:
    rp.rpush("l", "a", "b", "c")
    assert rp.lset("l", 1, "B") is True
    assert rp.lset("l", -1, "C") is True
    assert items(rp, "l") == [b"a", b"B", b"C"]
    assert error_of(lambda: rp.lset("l", 3, "x")) == "index out of range"
    assert error_of(lambda: rp.lset("l", -4, "x")) == "index out of range"


def test_lset_on_a_missing_key_says_no_such_key_even_with_a_bad_index(rp: redis.Redis) -> None:
    assert error_of(lambda: rp.lset("missing", 0, "x")) == "no such key"
    assert error_of(lambda: rp.lset("missing", "x", "y")) == "no such key"


def test_linsert_goes_next_to_the_first_pivot_from_the_head(rp: redis.Redis) -> None:
    rp.rpush("l", "p", "x", "p")
    assert rp.linsert("l", "BEFORE", "p", "1") == 4
    assert rp.linsert("l", "after", "p", "2") == 5
    assert items(rp, "l") == [b"1", b"p", b"2", b"x", b"p"]


def test_linsert_reports_a_missing_pivot_or_key(rp: redis.Redis) -> None:
    assert rp.linsert("missing", "BEFORE", "a", "b") == 0
    rp.rpush("l", "a")
    assert rp.linsert("l", "BEFORE", "zz", "b") == -1
    assert error_of(lambda: rp.execute_command("LINSERT", "l", "MIDDLE", "a", "b")) == SYNTAX


@pytest.mark.parametrize(
    ("count", "removed", "left"),
    [
        (2, 2, "bcxa"),
        (-2, 2, "abcx"),
        (0, 3, "bcx"),
        (10, 3, "bcx"),
        (-10, 3, "bcx"),
        (LLONG_MIN, 3, "bcx"),
    ],
)
def test_lrem_removes_from_the_head_the_tail_or_everywhere(
    rp: redis.Redis, count: int, removed: int, left: str
) -> None:
    rp.rpush("l", *"abacxa")
    assert rp.lrem("l", count, "a") == removed
    assert items(rp, "l") == [c.encode() for c in left]


def test_lrem_of_every_element_deletes_the_list(rp: redis.Redis) -> None:
    rp.rpush("l", "a", "a")
    assert rp.lrem("l", 0, "a") == 2
    assert rp.exists("l") == 0
    assert rp.lrem("l", 0, "a") == 0


def test_ltrim_keeps_a_range_and_deletes_an_emptied_list(rp: redis.Redis) -> None:
    rp.rpush("l", *"abcdef")
    assert rp.ltrim("l", 1, -2) is True
    assert items(rp, "l") == [b"b", b"c", b"d", b"e"]
    assert rp.ltrim("l", -2, 100) is True
    assert items(rp, "l") == [b"d", b"e"]
    assert rp.ltrim("l", 5, 10) is True
    assert rp.exists("l") == 0
    assert rp.ltrim("missing", 0, 1) is True


# -- LPOS -----------------------------------------------------------------------------------------


def test_lpos_finds_the_first_match_or_nil(rp: redis.Redis) -> None:
    rp.rpush("l", *"abcabca")
    assert rp.lpos("l", "b") == 1
    assert rp.lpos("l", "z") is None
    assert rp.lpos("missing", "a") is None
    assert rp.lpos("missing", "a", count=0) == []


def test_lpos_rank_skips_matches_and_negative_rank_searches_from_the_tail(
    rp: redis.Redis,
) -> None:
    rp.rpush("l", *"abcabca")
    assert rp.lpos("l", "a", rank=2) == 3
    assert rp.lpos("l", "a", rank=-1) == 6
    assert rp.lpos("l", "a", rank=-3) == 0
    assert rp.lpos("l", "a", rank=4) is None


def test_lpos_count_returns_positions_and_zero_means_all(rp: redis.Redis) -> None:
    rp.rpush("l", *"abcabca")
    assert rp.lpos("l", "a", count=2) == [0, 3]
    assert rp.lpos("l", "a", count=0) == [0, 3, 6]
    assert rp.lpos("l", "a", count=0, rank=-1) == [6, 3, 0]
    assert rp.lpos("l", "a", count=1, rank=2) == [3]
    assert rp.lpos("l", "z", count=3) == []


def test_lpos_maxlen_bounds_the_elements_compared(rp: redis.Redis) -> None:
    rp.rpush("l", *"abcabca")
    assert rp.lpos("l", "a", count=0, maxlen=4) == [0, 3]
    assert rp.lpos("l", "a", count=0, maxlen=1, rank=-1) == [6]
    assert rp.lpos("l", "c", maxlen=2) is None


def test_lpos_option_errors_name_the_option(rp: redis.Redis) -> None:
    rp.rpush("l", "a")
    assert error_of(lambda: rp.lpos("l", "a", rank=0)).startswith("RANK can't be zero")
    assert error_of(lambda: rp.lpos("l", "a", count=-1)) == "COUNT can't be negative"
    assert error_of(lambda: rp.lpos("l", "a", count="x")) == "COUNT can't be negative"
    assert error_of(lambda: rp.lpos("l", "a", maxlen="x")) == "MAXLEN can't be negative"
    assert error_of(lambda: rp.execute_command("LPOS", "l", "a", "RANK")) == SYNTAX
    assert error_of(lambda: rp.execute_command("LPOS", "l", "a", "FOO", 1)) == SYNTAX


def test_lpos_rank_of_llong_min_reports_every_match_from_the_tail(rp: redis.Redis) -> None:
    # Redis negates the rank in 64 bits, which leaves LLONG_MIN as it is.
    rp.rpush("l", *"abaca")
    assert rp.lpos("l", "a", rank=LLONG_MIN) == 4
    assert rp.lpos("l", "a", rank=LLONG_MIN, count=1) == [4, 2, 0]


# -- moves ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src_end", "dst_end", "src_left", "dst_left"),
    [
        ("LEFT", "LEFT", "bc", "axy"),
        ("LEFT", "RIGHT", "bc", "xya"),
        ("RIGHT", "LEFT", "ab", "cxy"),
        ("RIGHT", "RIGHT", "ab", "xyc"),
    ],
)
def test_lmove_pops_one_end_and_pushes_the_other_list_end(
    rp: redis.Redis, src_end: str, dst_end: str, src_left: str, dst_left: str
) -> None:
    rp.rpush("src", *"abc")
    rp.rpush("dst", *"xy")
    assert rp.lmove("src", "dst", src_end, dst_end) == (b"a" if src_end == "LEFT" else b"c")
    assert items(rp, "src") == [c.encode() for c in src_left]
    assert items(rp, "dst") == [c.encode() for c in dst_left]


def test_lmove_onto_the_same_list_rotates_it(rp: redis.Redis) -> None:
    rp.rpush("l", *"abc")
    assert rp.lmove("l", "l", "LEFT", "RIGHT") == b"a"
    assert items(rp, "l") == [b"b", b"c", b"a"]
    assert rp.rpoplpush("l", "l") == b"a"
    assert items(rp, "l") == [b"a", b"b", b"c"]
    rp.delete("l")
    rp.rpush("one", "x")
    assert rp.lmove("one", "one") == b"x"
    assert items(rp, "one") == [b"x"]


def test_lmove_of_the_last_element_deletes_the_source_and_creates_the_destination(
    rp: redis.Redis,
) -> None:
    rp.rpush("src", "only")
    assert rp.rpoplpush("src", "new") == b"only"
    assert rp.exists("src") == 0
    assert items(rp, "new") == [b"only"]
    assert rp.lmove("src", "new") is None


def test_lmove_checks_the_destination_type_before_popping(rp: redis.Redis) -> None:
    rp.rpush("src", "a")
    rp.set("str", "v")
    assert error_of(lambda: rp.lmove("src", "str")) == WRONGTYPE
    assert items(rp, "src") == [b"a"]
    # A missing source answers nil before the destination is looked at.
    assert rp.lmove("missing", "str") is None


# -- LMPOP ----------------------------------------------------------------------------------------


def test_lmpop_pops_from_the_first_non_empty_list(rp: redis.Redis) -> None:
    rp.rpush("b", "1", "2", "3")
    rp.rpush("c", "9")
    assert rp.lmpop(3, "a", "b", "c", direction="LEFT") == [b"b", [b"1"]]
    assert rp.lmpop(2, "b", "c", direction="RIGHT", count=5) == [b"b", [b"3", b"2"]]
    assert rp.exists("b") == 0
    assert rp.lmpop(2, "a", "b", direction="LEFT") is None


def test_lmpop_argument_errors(rp: redis.Redis) -> None:
    rp.rpush("a", "1")
    cases = {
        ("LMPOP", 0, "a", "LEFT"): "numkeys should be greater than 0",
        ("LMPOP", "x", "a", "LEFT"): "numkeys should be greater than 0",
        ("LMPOP", 3, "a", "LEFT"): SYNTAX,
        ("LMPOP", 1, "a", "UP"): SYNTAX,
        ("LMPOP", 1, "a", "LEFT", "COUNT", 0): "count should be greater than 0",
        ("LMPOP", 1, "a", "LEFT", "COUNT", 1, "COUNT", 1): SYNTAX,
        ("LMPOP", 1, "a", "LEFT", "COUNT"): SYNTAX,
    }
    for argv, error in cases.items():
        assert error_of(lambda a=argv: rp.execute_command(*a)) == error
    assert items(rp, "a") == [b"1"]


# -- blocking forms answering at once -------------------------------------------------------------


def test_blocking_pops_answer_at_once_when_a_list_has_data(rp: redis.Redis) -> None:
    rp.rpush("b", "1", "2", "3", "4", "5")
    assert list(rp.blpop(["a", "b"], timeout=0)) == [b"b", b"1"]
    assert list(rp.brpop(["b"], timeout=1)) == [b"b", b"5"]
    assert rp.blmove("b", "c", 0, "LEFT", "RIGHT") == b"2"
    assert rp.brpoplpush("b", "c", 0) == b"4"
    assert rp.blmpop(0, 2, "a", "b", direction="LEFT", count=9) == [b"b", [b"3"]]
    assert items(rp, "c") == [b"4", b"2"]


def test_blocking_pops_time_out_with_nil(rp: redis.Redis) -> None:
    assert rp.blpop(["none"], timeout=0.01) is None
    assert rp.brpop(["none"], timeout=0.01) is None
    assert rp.blmove("none", "d", 0.01) is None
    assert rp.brpoplpush("none", "d", 0.01) is None
    assert rp.blmpop(0.01, 1, "none", direction="LEFT") is None
    assert rp.exists("d") == 0


def test_blmpop_checks_its_keys_before_its_timeout(rp: redis.Redis) -> None:
    assert error_of(lambda: rp.execute_command("BLMPOP", "x", 0, "k", "LEFT")) == (
        "numkeys should be greater than 0"
    )
    assert error_of(lambda: rp.execute_command("BLMPOP", "x", 1, "k", "LEFT")) == (
        "timeout is not a float or out of range"
    )


# -- types and encodings --------------------------------------------------------------------------


def test_a_list_reports_type_list_and_encoding_quicklist(rp: redis.Redis) -> None:
    rp.rpush("small", "a")
    rp.rpush("large", *range(1000))
    assert rp.type("small") in (b"list", "list")
    for key in ("small", "large"):
        assert rp.object("encoding", key) in (b"quicklist", "quicklist")


def test_list_size_settings_are_accepted_under_both_names(rp: redis.Redis) -> None:
    try:
        assert rp.config_set("list-max-ziplist-size", 5) is True
        assert rp.config_get("list-max-listpack-size") == {"list-max-listpack-size": "5"}
        assert rp.config_set("list-max-listpack-size", -3) is True
        assert rp.config_get("list-max-ziplist-size") == {"list-max-ziplist-size": "-3"}
    finally:
        rp.config_set("list-max-listpack-size", -2)


def test_copy_of_a_list_is_independent(rp: redis.Redis) -> None:
    rp.rpush("orig", "a", "b")
    assert rp.copy("orig", "copy") is True
    rp.rpush("copy", "c")
    assert items(rp, "orig") == [b"a", b"b"]
    assert items(rp, "copy") == [b"a", b"b", b"c"]
    assert rp.object("encoding", "copy") in (b"quicklist", "quicklist")
