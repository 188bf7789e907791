"""FUNCTION and FCALL through redis-py, in RESP2 and RESP3.

Exact bytes and error texts against redis-server are in tests/differential/test_scripting_diff.py;
here: loading and calling libraries, flags, LIST/DELETE/FLUSH, DUMP/RESTORE round trips and their
policies, STATS, and the load-time sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

LIB = """#!lua name=counters
local function incr(keys, args)
  return redis.call('incrby', keys[1], args[1] or 1)
end
local function peek(keys, args)
  return redis.call('get', keys[1])
end
redis.register_function('incr', incr)
redis.register_function{function_name='peek', callback=peek, flags={'no-writes'},
                        description='reads a counter'}
"""


@pytest.fixture
def fr(rp: redis.Redis) -> Iterator[redis.Redis]:
    """rp with no libraries before and after."""
    rp.function_flush()
    yield rp
    rp.function_flush()


def _list(client: redis.Redis, **kw: object) -> list[dict[str, object]]:
    """FUNCTION LIST entries as dicts with str keys, in RESP2 and RESP3 alike."""
    entries = []
    for entry in client.function_list(**kw):  # type: ignore[arg-type]
        if not isinstance(entry, dict):
            entry = dict(zip(entry[::2], entry[1::2], strict=True))
        entries.append({(k.decode() if isinstance(k, bytes) else k): v for k, v in entry.items()})
    return entries


def test_load_then_call_functions(fr: redis.Redis) -> None:
    assert fr.function_load(LIB) in (b"counters", "counters")
    assert fr.fcall("incr", 1, "c", 5) == 5
    assert fr.fcall("INCR", 1, "c") == 6  # function names ignore case
    assert fr.fcall_ro("peek", 1, "c") == b"6"


def test_fcall_ro_refuses_functions_without_no_writes(fr: redis.Redis) -> None:
    fr.function_load(LIB)
    with pytest.raises(redis.ResponseError, match=r"write flag using \*_ro command"):
        fr.fcall_ro("incr", 1, "c")
    with pytest.raises(redis.ResponseError, match="Function not found"):
        fr.fcall("nosuch", 0)


def test_no_writes_function_cannot_write(fr: redis.Redis) -> None:
    fr.function_load(
        "#!lua name=ro\nredis.register_function{function_name='w', "
        "callback=function(keys) return redis.call('set', keys[1], 'x') end, "
        "flags={'no-writes'}}"
    )
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed"):
        fr.fcall("w", 1, "k")
    assert fr.exists("k") == 0


def test_load_refuses_an_existing_library_unless_replace(fr: redis.Redis) -> None:
    fr.function_load(LIB)
    with pytest.raises(redis.ResponseError, match="Library 'counters' already exists"):
        fr.function_load(LIB)
    replacement = "#!lua name=counters\nredis.register_function('only', function() return 7 end)"
    fr.function_load(replacement, replace=True)
    assert fr.fcall("only", 0) == 7
    with pytest.raises(redis.ResponseError, match="Function not found"):
        fr.fcall("incr", 1, "c")


def test_function_names_are_unique_across_libraries(fr: redis.Redis) -> None:
    fr.function_load(LIB)
    with pytest.raises(redis.ResponseError, match="Function Incr already exists"):
        fr.function_load("#!lua name=other\nredis.register_function('Incr', function() end)")
    assert [e["library_name"] for e in _list(fr)] == [b"counters"]


def test_list_describes_libraries_and_filters_by_name(fr: redis.Redis) -> None:
    fr.function_load(LIB)
    fr.function_load("#!lua name=misc\nredis.register_function('m', function() return 1 end)")
    entries = {e["library_name"]: e for e in _list(fr, withcode=True)}
    assert set(entries) == {b"counters", b"misc"}
    assert entries[b"counters"]["library_code"] == LIB.encode()
    assert entries[b"counters"]["engine"] == b"LUA"
    assert [e["library_name"] for e in _list(fr, library="coun*")] == [b"counters"]
    assert _list(fr, library="coun") == []


def test_delete_and_flush(fr: redis.Redis) -> None:
    fr.function_load(LIB)
    with pytest.raises(redis.ResponseError, match="Library not found"):
        fr.function_delete("nosuch")
    assert fr.function_delete("counters") in (True, b"OK")
    with pytest.raises(redis.ResponseError, match="Function not found"):
        fr.fcall("incr", 1, "c")
    fr.function_load(LIB)
    assert fr.function_flush("SYNC") in (True, b"OK")
    assert _list(fr) == []


def test_dump_restores_after_flush_and_policies_decide_collisions(fr: redis.Redis) -> None:
    fr.function_load(LIB)
    payload = fr.function_dump()
    fr.function_flush()
    fr.function_restore(payload)
    assert fr.fcall("incr", 1, "c") == 1
    with pytest.raises(redis.ResponseError, match="already exists"):
        fr.function_restore(payload)  # APPEND by default: a collision aborts
    fr.function_restore(payload, "REPLACE")
    fr.function_load("#!lua name=extra\nredis.register_function('x', function() return 1 end)")
    fr.function_restore(payload, "FLUSH")
    assert [e["library_name"] for e in _list(fr)] == [b"counters"]


def test_restore_of_garbage_is_refused_with_redis_text(fr: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        fr.function_restore(b"garbage")
    payload = bytearray(fr.function_dump())
    payload[-1] ^= 0xFF
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        fr.function_restore(bytes(payload))
    with pytest.raises(redis.ResponseError, match="Wrong restore policy"):
        fr.function_restore(b"garbage", "MERGE")


def test_stats_count_libraries_and_functions(fr: redis.Redis) -> None:
    fr.function_load(LIB)
    stats = fr.function_stats()
    if isinstance(stats, list):  # RESP2: flat key/value arrays
        stats = dict(zip(stats[::2], stats[1::2], strict=True))
        engines = dict(zip(stats[b"engines"][::2], stats[b"engines"][1::2], strict=True))
        lua = dict(zip(engines[b"LUA"][::2], engines[b"LUA"][1::2], strict=True))
    else:
        engines = stats[b"engines"]
        lua = engines[b"LUA"]
    assert stats[b"running_script"] is None
    assert lua[b"libraries_count"] == 1
    assert lua[b"functions_count"] == 2


def test_library_code_runs_in_a_restricted_environment(fr: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'call'"):
        fr.function_load("#!lua name=bad\nredis.call('ping')")
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'pairs'"):
        fr.function_load("#!lua name=bad\nfor k in pairs({}) do end")
    with pytest.raises(redis.ResponseError, match="No functions registered"):
        fr.function_load("#!lua name=empty\nlocal x = 1")
    # The callbacks themselves run with the full API.
    fr.function_load(
        "#!lua name=full\nredis.register_function('f', function() "
        "return {type(pairs), redis.sha1hex('')} end)"
    )
    assert fr.fcall("f", 0) == [b"function", b"da39a3ee5e6b4b0d3255bfef95601890afd80709"]


def test_library_load_that_never_ends_times_out(r: redis.Redis) -> None:
    r.function_flush()
    with pytest.raises(redis.ResponseError, match="FUNCTION LOAD timeout"):  # after 500 ms
        r.function_load("#!lua name=slow\nwhile true do end")
    assert _list(r) == []


def test_function_errors_name_the_function_and_line(fr: redis.Redis) -> None:
    fr.function_load("#!lua name=e\n\nredis.register_function('boom', function() error('x') end)")
    with pytest.raises(redis.ResponseError, match=r"user_function:3: x script: boom, on "
                       r"@user_function:3\."):  # fmt: skip
        fr.fcall("boom", 0)


def test_function_kill_without_a_running_function_is_notbusy(fr: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="NOTBUSY"):
        fr.function_kill()


def test_info_counts_functions_and_libraries(fr: redis.Redis) -> None:
    fr.function_load(LIB)
    memory = fr.info("memory")
    assert (memory["number_of_libraries"], memory["number_of_functions"]) == (1, 2)
