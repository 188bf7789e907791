"""EVAL, EVALSHA, their _RO forms and SCRIPT through redis-py, in RESP2 and RESP3.

Exact reply bytes and error texts are compared with redis-server in
tests/differential/test_scripting_diff.py; here the behaviour clients rely on is checked:
redis-py's Script objects and Lock, conversions as Python values, errors as exceptions, the
sandbox, the script cache, frozen time, blocking commands from scripts, SELECT inside a script.
"""

from __future__ import annotations

import hashlib
import threading

import pytest
import redis

from tests.servers import ServerProcess

SHA_RETURN_1 = hashlib.sha1(b"return 1").hexdigest()


def test_register_script_runs_by_sha_after_loading_on_first_use(rp: redis.Redis) -> None:
    incr_by = rp.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by(keys=["counter"], args=[5]) == 5
    assert incr_by(keys=["counter"], args=[2]) == 7
    assert rp.script_exists(incr_by.sha) == [True]


def test_redis_py_lock_acquires_and_releases_through_its_scripts(rp: redis.Redis) -> None:
    lock = rp.lock("resource", timeout=10)
    assert lock.acquire(blocking=False)
    assert rp.get("resource") is not None
    assert lock.extend(5)
    lock.release()
    assert rp.get("resource") is None
    with pytest.raises(redis.exceptions.LockError):
        lock.release()


def test_lua_values_become_replies(rp: redis.Redis) -> None:
    assert rp.eval("return 3.99", 0) == 3
    assert rp.eval("return -3.99", 0) == -3
    assert rp.eval("return 'abc'", 0) == b"abc"
    assert rp.eval("return true", 0) == 1
    assert rp.eval("return false", 0) is None
    assert rp.eval("return {1, 'x', {2}, nil, 5}", 0) == [1, b"x", [2]]
    assert rp.eval("return {ok='fine'}", 0) in (b"fine", "fine")
    assert rp.eval("return {1e20, 0/0}", 0) == [-(2**63), -(2**63)]


def test_keys_and_argv_are_binary_safe(rp: redis.Redis) -> None:
    key, arg = b"k\x00\xff", b"\r\n\x00v"
    assert rp.eval("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", 1, key, arg) == [key, arg, 1, 1]
    assert rp.eval("redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])",
                   1, key, arg) == arg  # fmt: skip
    assert rp.get(key) == arg


def test_command_replies_become_lua_values(rp: redis.Redis) -> None:
    rp.set("k", "v")
    rp.rpush("l", "a", "b")
    script = (
        "local s = redis.call('set', 'k', 'v') local n = redis.call('get', 'nokey') "
        "local l = redis.call('lrange', 'l', 0, -1) "
        "return {s.ok, type(n), tostring(n), l[2], redis.call('incr', 'n')}"
    )
    assert rp.eval(script, 0) == [b"OK", b"boolean", b"false", b"b", 1]


def test_setresp_3_gives_nil_for_missing_values_and_booleans_back(rp: redis.Redis) -> None:
    assert rp.eval("redis.setresp(3) return type(redis.call('get', 'nokey'))", 0) == b"nil"
    reply = rp.eval("redis.setresp(3) return {true, false}", 0)
    assert reply in ([1, 0], [True, False])


def test_redis_call_error_ends_the_script_with_its_text(rp: redis.Redis) -> None:
    rp.set("k", "a")
    with pytest.raises(redis.ResponseError) as err:
        rp.eval("redis.call('incr', 'k') return 'not reached'", 0)
    assert str(err.value).startswith("value is not an integer or out of range script: ")
    assert str(err.value).endswith(", on @user_script:1.")


def test_pcall_returns_the_error_and_the_script_goes_on(rp: redis.Redis) -> None:
    rp.set("k", "a")
    script = (
        "local e = redis.pcall('incr', 'k') local ok, m = pcall(redis.call, 'incr', 'k') "
        "return {e.err, tostring(ok), m}"
    )
    err = b"ERR value is not an integer or out of range"
    assert rp.eval(script, 0) == [err, b"false", err]


def test_commands_scripts_may_not_run_are_refused(rp: redis.Redis) -> None:
    for call in ("redis.call('eval', 'return 1', 0)", "redis.call('subscribe', 'c')",
                 "redis.call('multi')"):  # fmt: skip
        with pytest.raises(redis.ResponseError, match="not allowed from script"):
            rp.eval(call, 0)
    with pytest.raises(redis.ResponseError, match="Unknown Redis command called from script"):
        rp.eval("return redis.call('nosuch')", 0)
    with pytest.raises(redis.ResponseError, match="must be strings or integers"):
        rp.eval("return redis.call('get', {})", 0)


def test_read_only_scripts_refuse_writes(rp: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed"):
        rp.eval_ro("return redis.call('set', 'a', 'b')", 0)
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed"):
        rp.eval("#!lua flags=no-writes\nreturn redis.call('set', 'a', 'b')", 0)
    assert rp.exists("a") == 0
    rp.set("a", "v")
    assert rp.eval_ro("return redis.call('get', KEYS[1])", 1, "a") == b"v"
    sha = rp.script_load("return redis.call('get', KEYS[1])")
    assert rp.evalsha_ro(sha, 1, "a") == b"v"


def test_sandbox_protects_globals_and_hides_unsafe_libraries(rp: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="Attempt to modify a readonly table"):
        rp.eval("x = 1", 0)
    with pytest.raises(redis.ResponseError, match="Attempt to modify a readonly table"):
        rp.eval("string.upper = nil", 0)
    for name in ("os", "io", "require", "dofile", "loadfile", "print", "debug", "python"):
        with pytest.raises(redis.ResponseError, match=f"nonexistent global variable '{name}'"):
            rp.eval(f"return type({name})", 0)
    assert rp.eval("return loadstring(string.dump(function() return 1 end))", 0) is None


def test_globals_a_script_changes_do_not_reach_the_next_script(rp: redis.Redis) -> None:
    rp.eval("KEYS[1] = 'changed'", 1, "k")
    assert rp.eval("return KEYS[1]", 1, "original") == b"original"


def test_script_cache_by_sha(rp: redis.Redis) -> None:
    assert rp.script_load("return 1") == SHA_RETURN_1
    assert rp.evalsha(SHA_RETURN_1, 0) == 1
    assert rp.evalsha(SHA_RETURN_1.upper(), 0) == 1
    assert rp.script_exists(SHA_RETURN_1, "0" * 40) == [True, False]
    assert rp.script_flush() is True
    assert rp.script_exists(SHA_RETURN_1) == [False]
    with pytest.raises(redis.exceptions.NoScriptError):
        rp.evalsha(SHA_RETURN_1, 0)
    rp.eval("return 1", 0)  # EVAL caches what it runs
    assert rp.script_exists(SHA_RETURN_1) == [True]
    assert rp.script_flush("ASYNC") is True


def test_numkeys_errors(r: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="can't be greater than number of args"):
        r.eval("return 1", 2, "a")
    with pytest.raises(redis.ResponseError, match="can't be negative"):
        r.eval("return 1", -1)
    with pytest.raises(redis.ResponseError, match="value is not an integer"):
        r.execute_command("EVAL", "return 1", "x")


def test_compile_errors_name_the_line(r: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match=r"Error compiling script \(new function\): "
                       r"user_script:2: '=' expected near 'error'"):  # fmt: skip
        r.script_load("local a = 1\nsyntax error")


def test_time_is_frozen_while_a_script_runs(r: redis.Redis) -> None:
    # The loop takes well over 1 ms; with the time frozen the key cannot expire meanwhile.
    script = (
        "redis.call('set', KEYS[1], 'v', 'px', 1) local n = 0 "
        "for i = 1, 3000000 do n = n + i end return redis.call('get', KEYS[1])"
    )
    assert r.eval(script, 1, "short-lived") == b"v"


def test_blocking_commands_answer_at_once_inside_scripts(rp: redis.Redis) -> None:
    # BLMPOP is allowed in scripts (BLPOP and BRPOP are noscript in Redis 7.0): with timeout 0
    # it would wait forever; from a script it answers nil at once.
    assert rp.eval("return redis.call('blmpop', 0, 1, KEYS[1], 'left')", 1, "nolist") is None
    rp.rpush("list", "x")
    assert rp.eval("return redis.call('blmpop', 0, 1, KEYS[1], 'left')", 1, "list") == [
        b"list",
        [b"x"],
    ]
    with pytest.raises(redis.ResponseError, match="not allowed from script"):
        rp.eval("return redis.call('blpop', KEYS[1], 0)", 1, "nolist")


def test_select_inside_a_script_changes_only_the_script_database(r: redis.Redis) -> None:
    script = "redis.call('select', 9) redis.call('set', 'k', 'in-9') return redis.call('get', 'k')"
    assert r.eval(script, 0) == b"in-9"
    assert r.get("k") is None
    r.execute_command("SELECT", 9)
    assert r.get("k") == b"in-9"
    r.execute_command("SELECT", 0)


def test_script_runs_in_the_callers_database(r: redis.Redis) -> None:
    r.execute_command("SELECT", 3)
    r.set("k", "three")
    assert r.eval("return redis.call('get', 'k')", 0) == b"three"
    r.execute_command("SELECT", 0)


def test_script_writes_wake_blocked_clients_after_the_script(
    server: ServerProcess, r: redis.Redis
) -> None:
    waiter = server.client()
    try:
        result: list[object] = []
        thread = threading.Thread(target=lambda: result.append(waiter.blpop(["q"], timeout=5)))
        thread.start()
        for _ in range(500):  # until the waiter is blocked (not an expiry wait)
            if any(c.get("cmd") == "blpop" for c in r.client_list()):
                break
            threading.Event().wait(0.01)
        assert r.eval("redis.call('rpush', 'q', 'x') return redis.call('llen', 'q')", 0) == 1
        thread.join(5)
        assert result == [(b"q", b"x")]
    finally:
        waiter.close()


def test_info_counts_cached_scripts_and_commandstats_count_eval(r: redis.Redis) -> None:
    r.script_flush()
    r.eval("return 1", 0)
    r.eval("return 2", 0)
    r.eval("return 2", 0)
    assert r.info("memory")["number_of_cached_scripts"] == 2
    assert r.info("memory")["used_memory_lua"] > 0
    assert r.info("commandstats")["cmdstat_eval"]["calls"] == 3


def test_script_kill_without_a_running_script_is_notbusy(r: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match=r"NOTBUSY No scripts in execution right now\."):
        r.script_kill()


def test_script_debug_accepts_no_and_refuses_the_debugger(r: redis.Redis) -> None:
    assert r.execute_command("SCRIPT", "DEBUG", "NO") == b"OK"
    with pytest.raises(redis.ResponseError, match="not supported"):
        r.execute_command("SCRIPT", "DEBUG", "YES")
    with pytest.raises(redis.ResponseError, match="Use SCRIPT DEBUG YES/SYNC/NO"):
        r.execute_command("SCRIPT", "DEBUG", "MAYBE")


def test_redis_helpers(rp: redis.Redis) -> None:
    assert rp.eval("return redis.sha1hex('')", 0) == b"da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert rp.eval("return redis.REDIS_VERSION", 0) == b"7.0.15"
    assert rp.eval("return redis.REDIS_VERSION_NUM", 0) == 0x07000F
    assert rp.eval("redis.log(redis.LOG_DEBUG, 'quiet') return 1", 0) == 1
    with pytest.raises(redis.ResponseError, match="MY text"):
        rp.eval("return redis.error_reply('MY text')", 0)
    assert rp.eval("return redis.status_reply('FINE')", 0) in (b"FINE", "FINE")


def test_monitor_shows_the_script_command_then_what_the_script_runs(
    server: ServerProcess, r: redis.Redis
) -> None:
    monitor = server.raw()
    try:
        assert monitor.request(b"*1\r\n$7\r\nMONITOR\r\n") == b"+OK\r\n"
        r.eval("redis.call('set', 'k', 'v') return 1", 0)
        first, second = monitor.read_reply(), monitor.read_reply()
        assert first.endswith(b"\"EVAL\" \"redis.call('set', 'k', 'v') return 1\" \"0\"\r\n")
        assert second.endswith(b' [0 lua] "set" "k" "v"\r\n')
    finally:
        monitor.close()


def test_resp3_reply_shapes_convert_like_redis_both_ways() -> None:
    """In-process: no command of damselfly returns every RESP3 shape yet, so the conversion
    functions are checked directly (maps, sets, doubles, booleans, big numbers, verbatim)."""
    from damselfly.config import default_config
    from damselfly.protocol.types import BigNumber, Bool, Double, Map, SetReply, Status, Verbatim
    from damselfly.scripting.engine import scripting_of
    from damselfly.server.server import Server

    engine = scripting_of(Server(default_config())).eval
    to_lua = engine.to_lua
    m = to_lua(Map([(b"f", b"v")]), True)
    assert m[b"map"][b"f"] == b"v"
    assert list(to_lua(Map([(b"f", b"v")]), False).values()) == [b"f", b"v"]
    assert to_lua(SetReply([b"m"]), True)[b"set"][b"m"] is True
    assert to_lua(Double(1.5), True)[b"double"] == 1.5
    assert to_lua(Double(0.1), False) == b"0.10000000000000001"
    assert to_lua(Bool(True), True) is True and to_lua(Bool(False), False) == 0
    assert to_lua(BigNumber("123"), True)[b"big_number"] == b"123"
    verbatim = to_lua(Verbatim(b"text", b"txt"), True)[b"verbatim_string"]
    assert (verbatim[b"format"], verbatim[b"string"]) == (b"txt", b"text")
    assert to_lua(None, True) is None and to_lua(None, False) is False
    assert to_lua(Status("OK"), False)[b"ok"] == b"OK"
    back = engine.lua.eval(
        "{ {map={a=1}}, {set={x=true}}, {double=2.5}, {big_number='9'}, "
        "{verbatim_string={format='txt', string='s'}}, {ok='fine'} }"
    )
    replies = engine.to_reply(back, True)
    assert replies[0] == Map([(b"a", 1)]) and type(replies[0]) is Map
    assert replies[1] == SetReply([b"x"]) and type(replies[1]) is SetReply
    assert replies[2] == 2.5 and type(replies[2]) is Double
    assert replies[3] == "9" and type(replies[3]) is BigNumber
    assert (replies[4].text, replies[4].fmt) == (b"s", b"txt")
    assert replies[5] == "fine" and type(replies[5]) is Status
