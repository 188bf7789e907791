"""EVAL, EVALSHA, SCRIPT, FCALL and FUNCTION against the real redis-server, reply bytes compared.

Each case is a list of commands (tuples, since Lua code does not survive shell-style splitting).
Both servers get FLUSHALL, SCRIPT FLUSH and FUNCTION FLUSH before every case, then the same
commands, in RESP2 and in RESP3; every reply must be byte-for-byte equal. The corpus covers the
conversions both ways (Lua -> RESP and RESP -> Lua, with and without redis.setresp(3)), the
shapes and texts of errors (redis.call, pcall, error(), compile errors, the sandbox), the redis.*
helpers, numkeys checks, shebang flags, the SCRIPT subcommands, and FUNCTION/FCALL. The Lua
libraries (cjson, cmsgpack, bit, struct) have their own file.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import RawConnection, ServerProcess, encode_command

Command = tuple[bytes | str | int, ...]


def _ev(script: str, *args: str | int) -> Command:
    """EVAL of `script` with no keys unless the arguments say otherwise."""
    return ("EVAL", script, *(args or (0,)))


SHA_RETURN_1 = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"  # sha1("return 1")

# fmt: off
CASES: dict[str, list[Command]] = {
    # -- Lua -> RESP -------------------------------------------------------------------------
    "returns-scalars": [
        _ev("return 1"), _ev("return 3.99"), _ev("return -3.99"), _ev("return 'abc'"),
        _ev("return ''"), _ev("return true"), _ev("return false"), _ev("return nil"),
        _ev("return"), _ev("return 1e20"), _ev("return 0/0"), _ev("return -(2^63)"),
        _ev("return 2^53"), _ev("return 'a\\0b'"),
    ],
    "returns-tables": [
        _ev("return {1,2,nil,3}"), _ev("return {1,'x',{2,{3}}, true, false}"),
        _ev("return {}"), _ev("return {{}, {{}}}"), _ev("return {1e20, 2^53, -0.5, 1/0}"),
        _ev("return {a=1, b=2}"), _ev("return {1, 2, a=3}"),
    ],
    "returns-status-and-error-tables": [
        _ev("return {ok='fine'}"), _ev("return {err='boom'}"), _ev("return {err='NOPE boom'}"),
        _ev("return {ok='x', err='y'}"), _ev("return {err='y', 1}"), _ev("return {err=1}"),
        _ev("return {ok=1}"), _ev("return {1, {err='inner'}, {ok='fine'}}"),
        _ev("return redis.error_reply('x y')"), _ev("return redis.error_reply('-x y')"),
        _ev("return redis.error_reply('boom')"), _ev("return redis.error_reply('')"),
        _ev("return redis.status_reply('x y')"), _ev("return redis.status_reply('x\\r\\ny')"),
        _ev("return redis.error_reply()"), _ev("return redis.error_reply(1)"),
        _ev("return redis.status_reply({})"),
    ],
    "returns-resp3-shapes": [
        _ev("return {double=1.5}"), _ev("return {double='1.5'}"), _ev("return {double=0.1}"),
        _ev("return {double=1/0}"), _ev("return {map={a=1}}"), _ev("return {map={a={1,2}}}"),
        _ev("return {set={a=true}}"), _ev("return {big_number='123'}"),
        _ev("return {big_number=1}"), _ev("return {verbatim_string={format='txt', string='abc'}}"),
        _ev("return {verbatim_string='x'}"), _ev("return {ok='x', double=1}"),
        _ev("return {double=1.5, map={a=1}}"), _ev("return {map={a=1}, set={b=true}}"),
    ],
    "setresp-3-returns": [
        _ev("redis.setresp(3) return true"), _ev("redis.setresp(3) return false"),
        _ev("redis.setresp(3) return nil"), _ev("redis.setresp(3) return {true, false}"),
        _ev("return redis.setresp(3)"), _ev("return redis.setresp('3')"),
        _ev("return redis.setresp(2)"), _ev("return redis.setresp(4)"),
        _ev("return redis.setresp()"), _ev("return redis.setresp('x')"),
    ],
    # -- RESP -> Lua -------------------------------------------------------------------------
    "call-reply-types": [
        ("SET", "k", "v"), ("RPUSH", "l", "a", "b"),
        _ev("local r = redis.call('set','k','v') return {type(r), r.ok}"),
        _ev("local r = redis.call('get', 'nokey') return {type(r), tostring(r)}"),
        _ev("return redis.call('get', 'k')"), _ev("return redis.call('lrange', 'l', 0, -1)"),
        _ev("return redis.call('incr', 'n')"),
        _ev("local r = redis.call('incr', 'n') return type(r)"),
        _ev("return redis.call('set','k','v')"), _ev("return redis.call('GET', 'k')"),
        _ev("return redis.call('exists', 'k', 'nokey')"),
        _ev("return redis.call('lpop', 'nolist', 2)"),
        _ev("return type(redis.call('lpop', 'nolist', 2))"),
    ],
    "call-reply-maps-and-sets": [
        ("HSET", "h", "f", "v"), ("SADD", "s", "m"), _ev("return redis.call('hgetall', 'h')"),
        _ev("redis.setresp(3) local r = redis.call('hgetall', 'h') "
            "return {type(r), type(r.map), r.map.f}"),
        _ev("redis.setresp(3) return redis.call('hgetall', 'h')"),
        _ev("redis.setresp(3) local r = redis.call('smembers', 's') "
            "return {type(r), type(r.set), tostring(r.set.m)}"),
        _ev("redis.setresp(3) return redis.call('smembers', 's')"),
        ("ZADD", "z", "1.5", "m"), _ev("redis.setresp(3) return redis.call('zscore', 'z', 'm')"),
        _ev("redis.setresp(3) local r = redis.call('zscore', 'z', 'm') return {type(r), r.double}"),
        _ev("return redis.call('zscore', 'z', 'm')"),
    ],
    "call-reply-types-setresp-3": [
        ("SET", "k", "v"),
        _ev("redis.setresp(3) local r = redis.call('get', 'nokey') return {type(r)}"),
        _ev("redis.setresp(3) return redis.call('get', 'k')"),
        _ev("redis.setresp(3) return redis.call('lpop', 'nolist', 2)"),
        _ev("redis.setresp(3) return type(redis.call('lpop', 'nolist', 2))"),
        _ev("redis.setresp(3) local r = redis.call('set', 'k', 'v') return r.ok"),
    ],
    "call-argument-conversion": [
        _ev("return redis.call('echo', 1.5)"), _ev("return redis.call('echo', 3.0)"),
        _ev("return redis.call('echo', 2^53)"), _ev("return redis.call('echo', 1e20)"),
        _ev("return redis.call('echo', 0.1)"), _ev("return redis.call('echo', 1e15)"),
        _ev("return redis.call('echo', 1e17)"), _ev("return redis.call('echo', -1.25e-10)"),
        _ev("return redis.call('echo', 1/0)"), _ev("return redis.call('echo', -1/0)"),
        _ev("return redis.call('echo', 123456789012345678)"),
        _ev("return redis.call('set', 'n', true)"), _ev("return redis.call('set', 'n', nil)"),
        _ev("return redis.call('get', 'k', nil)"), _ev("return redis.call(nil)"),
        _ev("return redis.call(1)"), _ev("return redis.call({})"), _ev("return redis.call()"),
        _ev("return redis.call('get', {})"), _ev("return redis.pcall('get', {})"),
        _ev("return redis.pcall()"),
    ],
    # -- redis.call errors -------------------------------------------------------------------
    "call-errors": [
        ("SET", "k", "a"), _ev("return redis.call('incr','k')"),
        _ev("return redis.pcall('incr','k')"),
        _ev("local e = redis.pcall('incr','k') return {type(e), e.err}"),
        _ev("return redis.call('nosuch','k')"), _ev("return redis.pcall('nosuch','k')"),
        _ev("return redis.call('get')"), _ev("return redis.call('config')"),
        _ev("return redis.call('client', 'nosuch')"), _ev("return redis.call('subscribe', 'x')"),
        _ev("return redis.call('eval', 'return 1', 0)"), _ev("return redis.call('multi')"),
        _ev("return redis.call('fcall', 'f', 0)"), ("RPUSH", "l", "x"),
        _ev("return redis.call('get', 'l')"),
        _ev("redis.call('set', 'k', 'x') return redis.call('incr', 'k')"),
    ],
    "pcall-converts-error-tables": [
        ("SET", "k", "a"),
        _ev("local ok,e = pcall(redis.call,'incr','k') return {tostring(ok), type(e), e}"),
        _ev("local ok,e = pcall(redis.call,'nosuch') return {tostring(ok), e}"),
        _ev("local ok,e = pcall(error, {err='x'}) return {tostring(ok), type(e), e}"),
        _ev("local ok,e = pcall(error, {err=5}) return {tostring(ok), type(e)}"),
        _ev("local ok,e = pcall(error, {1}) return {tostring(ok), type(e)}"),
        _ev("return {pcall(function() return 1, 2 end)}"), _ev("return {pcall(error, 'x')}"),
        _ev("local ok, e = pcall(function() local x = nil + 1 end) return e"),
        _ev("return {xpcall(function() error({err='x'}) end, function(e) return type(e) end)}"),
    ],
    "script-errors": [
        _ev("error('boom')"), _ev("error('boom', 0)"), _ev("error(42)"), _ev("error(nil)"),
        _ev("error({err='My Error'})"), _ev("error({err='MYERR My Error'})"),
        _ev("local x = nil + 1"), _ev("return nosuchfunction()"),
        _ev("local t = {} return t.x.y"), _ev("\nerror('x')"), _ev("return 1 .. {}"),
        _ev("return redis.call('incr', 'k'), 1"),
    ],
    "compile-errors": [
        _ev("syntax error here"), _ev("return 1 +"), _ev("x ="), _ev("'unclosed"),
        ("SCRIPT", "LOAD", "syntax error"),
    ],
    # -- sandbox -----------------------------------------------------------------------------
    "sandbox-globals": [
        _ev("x = 5"), _ev("return x"), _ev("_G.x = 1"), _ev("rawset(_G, 'x', 1) return 1"),
        _ev("return rawget(_G, 'nosuch')"), _ev("return type(getmetatable(_G))"),
        _ev("setmetatable(_G, nil) return 1"), _ev("KEYS = {} return 1"),
        _ev("local t = setmetatable({}, {}) return 1"), _ev("return _G == _G._G"),
        _ev("return tostring(next(_G) ~= nil)"),
        _ev("local n=0 for k,v in pairs(_G) do n=n+1 end return n"),
        _ev("local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t"),
        _ev("return getmetatable('').__index == string"),
    ],
    "sandbox-removed-globals": [
        _ev(f"return type({name})")
        for name in ("os", "io", "require", "loadfile", "dofile", "print", "debug", "package",
                     "getfenv", "setfenv", "newproxy", "module", "python", "gcinfo", "load",
                     "loadstring", "coroutine", "unpack", "collectgarbage")
    ],
    "sandbox-readonly-libraries": [
        _ev("string.foo = 1 return 1"), _ev("redis.call = nil return 1"),
        _ev("math.pi = 3 return 1"), _ev("table.insert = nil return 1"),
        _ev("KEYS[1] = 'x' return KEYS[1]"), _ev("ARGV[5] = 'y' return #ARGV"),
        _ev("return string.rep('x', 3):upper()"),
        _ev("local t = {} for k in pairs(string) do t[#t+1] = k end table.sort(t) return t"),
        _ev("local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t"),
    ],
    "sandbox-loadstring": [
        _ev("return loadstring('return 1')()"), _ev("return loadstring('x=1')()"),
        _ev("local f = loadstring('return y') return f()"),
        _ev("return loadstring(string.dump(function() return 1 end))"),
        _ev("return {load(string.dump(function() return 1 end))}"),
        _ev("return coroutine.wrap(function() coroutine.yield(5) end)()"),
    ],
    # -- KEYS, ARGV, numkeys -----------------------------------------------------------------
    "keys-and-argv": [
        _ev("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", 1, "k1", "a1"),
        _ev("return {#KEYS, #ARGV}", 0, "a", "b"), _ev("return KEYS", 3, "a", "b", "c"),
        _ev("return ARGV", 0, "", "x"), _ev("return redis.call('get', KEYS[1])"),
    ],
    "numkeys-errors": [
        ("EVAL", "return 1", -1), ("EVAL", "return 1", 3, "a"), ("EVAL", "return 1", "abc"),
        ("EVAL", "return 1", "1.0", "a"), ("EVAL", "return 1", ""), ("EVAL", "syntax error", "x"),
        ("EVAL", "return 1"), ("EVALSHA", "abc", 0), ("EVALSHA", "ABC", "x"),
        ("EVALSHA", "0" * 40, 0), ("EVALSHA", "0" * 40, "x"), ("EVALSHA", "0" * 40, -1),
        ("EVALSHA", SHA_RETURN_1 + "xx", 0), ("EVAL_RO", "return 1", -1),
    ],
    # -- redis.* helpers ---------------------------------------------------------------------
    "redis-helpers": [
        _ev("return redis.sha1hex('')"), _ev("return redis.sha1hex()"),
        _ev("return redis.sha1hex(1)"), _ev("return redis.sha1hex({})"),
        _ev("return redis.log(redis.LOG_WARNING, 'hello', 'x')"),
        _ev("return redis.log(redis.LOG_WARNING)"), _ev("return redis.log(9, 'x')"),
        _ev("return redis.log('x', 'x')"), _ev("return redis.set_repl(redis.REPL_ALL)"),
        _ev("return redis.set_repl(9)"), _ev("return redis.set_repl()"),
        _ev("return redis.replicate_commands()"), _ev("return redis.breakpoint()"),
        _ev("return redis.debug('x')"), _ev("return redis.acl_check_cmd('get','x')"),
        _ev("return redis.acl_check_cmd('nosuch','x')"), _ev("return redis.acl_check_cmd()"),
        _ev("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}"),
        _ev("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, "
            "redis.REPL_ALL}"),
        _ev("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}"), _ev("return _VERSION"),
    ],
    # -- read-only scripts and shebangs ------------------------------------------------------
    "read-only-scripts": [
        ("EVAL_RO", "return redis.call('set', 'a', 'b')", 0),
        ("EVAL_RO", "return redis.call('get', 'a')", 0),
        ("EVAL_RO", "return redis.pcall('set', 'a', 'b')", 0),
        ("EVAL_RO", "#!lua\nreturn 1", 0), ("EVAL_RO", "#!lua flags=no-writes\nreturn 1", 0),
        ("SCRIPT", "LOAD", "return redis.call('del', 'a')"),
        ("EVALSHA_RO", "0" * 40, 0),
    ],
    "shebangs": [
        _ev("#!lua flags=no-writes\nreturn redis.call('set','a','b')"),
        _ev("#!lua flags=no-writes,allow-oom\nreturn 1"), _ev("#!lua flags=bogus\nreturn 1"),
        _ev("#!lua name=x\nreturn 1"), _ev("#!luax\nreturn 1"), _ev("#!lua\nreturn 1"),
        _ev("#!lua \nreturn 1"), _ev("#!lua flags=\nreturn 1"),
        _ev("#!lua flags=no-writes return 1"), _ev("#!notlua\nreturn 1"),
        _ev("#!lua x=y\nreturn 1"), _ev("#!lua flags=no-writes,no-writes\nreturn 1"),
        _ev("#!lua flags=no-cluster\nreturn 1"),
        _ev("#!lua flags=allow-cross-slot-keys,allow-stale\nreturn 1"), _ev("#! lua\nreturn 1"),
        _ev("#!\nreturn 1"), _ev("#!lua\nerror('x')"), _ev("#!lua\n\nerror('x')"),
        _ev("#!lua\nsyntax error"), _ev("#!lua\nreturn redis.call('get', KEYS[1])"),
    ],
    # -- the script cache --------------------------------------------------------------------
    "script-subcommands": [
        ("SCRIPT", "LOAD", "return 1"), ("EVALSHA", SHA_RETURN_1, 0),
        ("EVALSHA", SHA_RETURN_1.upper(), 0),
        ("SCRIPT", "EXISTS", SHA_RETURN_1, "x", SHA_RETURN_1.upper()),
        ("SCRIPT", "FLUSH"), ("SCRIPT", "EXISTS", SHA_RETURN_1), ("EVALSHA", SHA_RETURN_1, 0),
        ("EVAL", "return 1", 0), ("SCRIPT", "EXISTS", SHA_RETURN_1),
        ("SCRIPT", "FLUSH", "SYNC"), ("SCRIPT", "FLUSH", "async"), ("SCRIPT", "FLUSH", "x"),
        ("SCRIPT", "FLUSH", "async", "x"), ("SCRIPT", "EXISTS"), ("SCRIPT", "LOAD"),
        ("SCRIPT", "LOAD", "return 1", "x"), ("SCRIPT", "KILL"), ("SCRIPT", "NOSUCH"),
        ("SCRIPT",), ("SCRIPT", "HELP"), ("SCRIPT", "DEBUG", "no"), ("SCRIPT", "DEBUG", "x"),
        ("SCRIPT", "LOAD", "#!lua flags=bogus\nreturn 1"),
    ],
    "frozen-time-and-select": [
        # Its own key: whether 'fk' outlived its 1 ms once the script ended depends on timing.
        _ev("redis.call('set', 'fk', 'v', 'px', 1) local t = {} "
            "for i = 1, 20000 do t[#t + 1] = i end return redis.call('get', 'fk')"),
        _ev("redis.call('select', 1) redis.call('set', 'k', 'db1') return redis.call('get', 'k')"),
        ("GET", "k"), ("SELECT", "1"), ("GET", "k"), ("SELECT", "0"),
        _ev("return redis.call('blpop', 'nolist', 0)"),
        _ev("return redis.call('blpop', 'nolist', 0) == false"),
    ],
    "scripts-in-transactions": [
        ("MULTI",), _ev("redis.call('set', 'k', 'v', 'px', 1) return redis.call('get','k')"),
        _ev("return redis.call('incr', 'k')"), ("EVALSHA", "0" * 40, 0), ("EXEC",),
        ("MULTI",), ("EVAL", "return 1"), ("EXEC",),
        ("WATCH", "w"), _ev("return redis.call('set', 'w', 1)"), ("MULTI",), ("GET", "w"),
        ("EXEC",),
    ],
    # -- functions ---------------------------------------------------------------------------
    "function-load-and-call": [
        ("FUNCTION", "LOAD", "#!lua name=mylib\n"
         "redis.register_function('f1', function(keys, args) return {keys[1], args[1]} end)"),
        ("FCALL", "f1", 1, "k", "a"), ("FCALL", "F1", 0), ("FCALL", "f1", "x"),
        ("FCALL", "nosuch", "x"), ("FCALL", "f1", -1), ("FCALL", "f1", 5),
        ("FCALL", "nosuch", 0), ("FCALL_RO", "f1", 0),
        ("FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('f1', function() end)"),
        ("FUNCTION", "LOAD", "REPLACE", "#!lua name=mylib\n"
         "redis.register_function('f1', function(keys, args) return 1 end)"),
        ("FCALL", "f1", 0),
        ("FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f1', function() end)"),
        ("FUNCTION", "LOAD", "bogus", "x"), ("FUNCTION", "LOAD"),
        ("FUNCTION", "LIST"), ("FUNCTION", "LIST", "WITHCODE"),
        ("FUNCTION", "LIST", "LIBRARYNAME", "my"), ("FUNCTION", "LIST", "libraryname", "my*"),
        ("FUNCTION", "LIST", "LIBRARYNAME"), ("FUNCTION", "LIST", "bogus"),
        ("FUNCTION", "STATS"), ("FUNCTION", "KILL"), ("FUNCTION", "DELETE", "nosuch"),
        ("FUNCTION", "DELETE", "mylib"), ("FCALL", "f1", 0), ("FUNCTION", "LIST"),
    ],
    "function-flags-and-errors": [
        ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function{function_name='ro', "
         "callback=function(keys, args) return redis.call('set','x','y') end, "
         "flags={'no-writes'}, description='read only'}"),
        ("FCALL", "ro", 0), ("FCALL_RO", "ro", 0), ("FUNCTION", "LIST"),
        ("FUNCTION", "LOAD", "#!lua name=lib4\nredis.register_function{function_name='rw', "
         "callback=function(keys, args) return redis.call('set','x','y') end}"),
        ("FCALL_RO", "rw", 0), ("FCALL", "rw", 0), ("GET", "x"),
        ("FUNCTION", "LOAD", "#!lua name=lib8\n"
         "redis.register_function('err', function(keys, args) error('boom') end)\n"
         "redis.register_function('err2', function(keys, args) "
         "return redis.call('incr', 'x') end)"),
        ("FCALL", "err", 0), ("FCALL", "err2", 0),
    ],
    "function-load-errors": [
        ("FUNCTION", "LOAD", "return 1"), ("FUNCTION", "LOAD", "#!lua\nreturn 1"),
        ("FUNCTION", "LOAD", "#!lua name=\nreturn 1"),
        ("FUNCTION", "LOAD", "#!lua name=a b=c\nreturn 1"),
        ("FUNCTION", "LOAD", "#!lua name=a flags=x\nreturn 1"),
        ("FUNCTION", "LOAD", "#!py name=a\nreturn 1"),
        ("FUNCTION", "LOAD", "#!lua name=bad-na.me\nreturn 1"),
        ("FUNCTION", "LOAD", "#!lua name=ok_Name1\nreturn 1"),
        ("FUNCTION", "LOAD", "#!lua name=lib6 name=lib7\nredis.register_function('g', "
         "function() return 1 end)"),
        ("FUNCTION", "LOAD", "#!lua name=t\nsyntax error"),
        ("FUNCTION", "LOAD", "#!lua name=t\nredis.call('ping')"),
        ("FUNCTION", "LOAD", "#!lua name=t\nerror('boom')"),
        ("FUNCTION", "LOAD", "#!lua name=t\nx = 1"), ("FUNCTION", "LOAD", "#!lua name=t\nreturn y"),
        ("FUNCTION", "LOAD", "#!lua name=t\nredis.setresp(3)"),
        ("FUNCTION", "LOAD", "#!lua name=t\nredis.log(redis.LOG_WARNING, 'hi') "
         "redis.register_function('lg', function() return redis.REDIS_VERSION end)"),
        ("FCALL", "lg", 0),
    ],
    "function-register-errors": [
        ("FUNCTION", "LOAD", f"#!lua name=t{i}\n{body}")
        for i, body in enumerate([
            "redis.register_function{function_name='bad', callback=function() end, xx=1}",
            "redis.register_function{callback=function() end}",
            "redis.register_function{function_name='x'}",
            "redis.register_function{function_name='x', callback='y'}",
            "redis.register_function{function_name='x', callback=function() end, flags='w'}",
            "redis.register_function{function_name='x', callback=function() end, flags={1}}",
            "redis.register_function{function_name='x', callback=function() end, "
            "flags={'bogus'}}",
            "redis.register_function('bad name', function() end)",
            "redis.register_function('', function() end)",
            "redis.register_function('f', 'notfn')", "redis.register_function('f')",
            "redis.register_function()", "redis.register_function('a', function() end, 1)",
            "redis.register_function('a', function() end) "
            "redis.register_function('a', function() end)",
        ])
    ],
    "function-restore-errors": [
        ("FUNCTION", "RESTORE", "garbage"), ("FUNCTION", "RESTORE", "garbage", "bogus"),
        ("FUNCTION", "RESTORE", "garbage", "FLUSH"), ("FUNCTION", "FLUSH", "bogus"),
        ("FUNCTION", "FLUSH", "SYNC"), ("FUNCTION", "FLUSH", "async"), ("FUNCTION", "HELP"),
        ("FUNCTION", "NOSUCH"), ("FUNCTION",), ("FUNCTION", "DUMP", "x"),
    ],
}
# fmt: on


class Pair:
    """A raw connection to each server speaking the same protocol version."""

    def __init__(self, ours: ServerProcess, theirs: ServerProcess, resp: int) -> None:
        self.ours = ours.raw()
        self.theirs = theirs.raw()
        if resp == 3:
            for conn in (self.ours, self.theirs):
                assert conn.request(encode_command("HELLO", "3")).startswith(b"%")

    def run(self, conn: RawConnection, commands: list[Command]) -> list[bytes]:
        for reset in (("FLUSHALL",), ("SCRIPT", "FLUSH"), ("FUNCTION", "FLUSH")):
            assert conn.request(encode_command(*reset)) == b"+OK\r\n"
        return [conn.request(encode_command(*cmd)) for cmd in commands]

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(
    request: pytest.FixtureRequest, server: ServerProcess, redis_oracle: ServerProcess
) -> Iterator[Pair]:
    p = Pair(server, redis_oracle, request.param)
    yield p
    p.close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_replies_equal_redis(pair: Pair, case: str) -> None:
    commands = CASES[case]
    theirs = pair.run(pair.theirs, commands)
    ours = pair.run(pair.ours, commands)
    if any(reply.startswith(b"-ERR unknown command '") for reply in ours):
        pytest.skip("a command this case needs is not implemented in damselfly yet")
    problems = [
        f"{cmd!r}\n    redis:     {real[:300]!r}\n    damselfly: {mine[:300]!r}"
        for cmd, mine, real in zip(commands, ours, theirs, strict=True)
        if mine != real
    ]
    assert not problems, f"{case}: replies differ from redis-server:\n" + "\n".join(problems)


def test_function_dump_restores_on_the_same_server(pair: Pair) -> None:
    """DUMP payloads differ (ours is not RDB), but on each server DUMP -> FLUSH -> RESTORE
    gives back the same libraries, and RESTORE's policies behave alike."""
    load = (
        "FUNCTION",
        "LOAD",
        "#!lua name=dumped\nredis.register_function('d1', function() return 'd' end)",
    )
    for conn in (pair.ours, pair.theirs):
        pair.run(conn, [load])
    results = []
    for conn in (pair.ours, pair.theirs):
        payload = conn.request(encode_command("FUNCTION", "DUMP"))
        assert payload.startswith(b"$")
        body = payload[payload.index(b"\r\n") + 2 : -2]
        steps = [
            ("FUNCTION", "RESTORE", body),
            ("FUNCTION", "FLUSH"),
            ("FUNCTION", "RESTORE", body),
            ("FCALL", "d1", 0),
            ("FUNCTION", "RESTORE", body, "APPEND"),
            ("FUNCTION", "RESTORE", body, "REPLACE"),
            ("FUNCTION", "RESTORE", body, "FLUSH"),
            ("FUNCTION", "LIST"),
        ]
        results.append([conn.request(encode_command(*step)) for step in steps])
    assert results[0] == results[1]
