"""COMMAND and its subcommands: reply shapes byte for byte against redis-server 7.0, key
extraction (GETKEYS) following key specs, filters of COMMAND LIST, and redis-cli's hints."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from damselfly.commands.introspection import command_keys, info_entry
from damselfly.commands.spec import Cmd, CommandSpec, key_spec, parse_args
from damselfly.protocol.encoder import encode_one
from tests.servers import RawConnection, ServerProcess, encode_command


def parse_typed(buf: bytes, pos: int = 0) -> tuple[Any, int]:
    """A RESP reply as (type, value) pairs, so that a set (~) and an array (*) differ."""
    nl = buf.index(b"\r\n", pos)
    kind, head, pos = chr(buf[pos]), buf[pos + 1 : nl], nl + 2
    if kind in "+-:,#(":
        return (kind, head), pos
    if kind == "_":
        return ("_", None), pos
    if kind in "$=!":
        n = int(head)
        if n < 0:
            return (kind, None), pos
        return (kind, buf[pos : pos + n]), pos + n + 2
    n = int(head)
    if n < 0:
        return (kind, None), pos
    items = []
    for _ in range(n * 2 if kind in "%|" else n):
        item, pos = parse_typed(buf, pos)
        items.append(item)
    return (kind, items), pos


def shape(node: Any) -> Any:
    """Only the types of a typed reply tree, with the keys of maps kept."""
    kind, value = node
    if kind == "%":
        return ("%", [(value[i][1], shape(value[i + 1])) for i in range(0, len(value), 2)])
    if kind in "*~>" and value is not None:
        return (kind, [shape(v) for v in value])
    return kind


def strip_since(node: Any) -> Any:
    """A typed DOCS argument tree without the `since` fields damselfly does not keep."""
    kind, value = node
    if kind == "%":
        pairs = [(value[i], value[i + 1]) for i in range(0, len(value), 2)]
        kept = [
            (k, strip_since(v)) for k, v in pairs if k[1] not in (b"since", b"deprecated_since")
        ]
        return ("%", [x for pair in kept for x in pair])
    if kind in "*~" and value is not None:
        return (kind, [strip_since(v) for v in value])
    return node


def map_get(node: Any, key: bytes) -> Any:
    """A value of a typed map (RESP3) or of its flat-array form (RESP2)."""
    kind, value = node
    assert kind in "%*", node
    for i in range(0, len(value), 2):
        if value[i][1] == key:
            return value[i + 1]
    raise KeyError(key)


def connect(proc: ServerProcess, resp: int) -> RawConnection:
    conn = proc.raw()
    if resp == 3:
        assert conn.request(encode_command("HELLO", "3")).startswith(b"%")
    return conn


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def both(
    request: pytest.FixtureRequest, server: ServerProcess, redis_oracle: ServerProcess
) -> Iterator[tuple[RawConnection, RawConnection, int]]:
    """Raw connections to damselfly and to redis-server speaking the same protocol."""
    ours, theirs = connect(server, request.param), connect(redis_oracle, request.param)
    yield ours, theirs, request.param
    ours.close()
    theirs.close()


def ask(conn: RawConnection, *args: str | bytes) -> bytes:
    return conn.request(encode_command(*args))


def call(client: redis.Redis, *args: str | int) -> Any:
    """A command through redis-py without its reply callbacks (which reshape COMMAND replies)."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        client.connection_pool.release(conn)


# --- byte-exact replies ---------------------------------------------------------------------


@pytest.mark.differential
@pytest.mark.parametrize(
    "args",
    [
        ("COMMAND", "INFO", "COMMAND|Info", "command|getkeys"),
        ("COMMAND", "INFO", "nosuch", "command|", "|info", "get|x", "command|info|x"),
        ("COMMAND", "HELP"),
        ("COMMAND", "GETKEYS", "GET", "k"),
        ("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"),
        ("COMMAND", "GETKEYS", "mset", "a", "1", "b"),
        ("COMMAND", "GETKEYSANDFLAGS", "get", "k"),
        ("COMMAND", "GETKEYSANDFLAGS", "mget", "a", "b"),
        ("COMMAND", "LIST", "FILTERBY", "MODULE", "x"),
        ("COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch"),
        ("COMMAND", "LIST", "FILTERBY", "aclcat", "@connection"),
        ("COMMAND", "LIST", "FILTERBY", "pattern", "COMMAND|c*"),
        ("COMMAND", "DOCS", "nosuch"),
    ],
    ids=lambda args: " ".join(args[1:]),
)
def test_reply_bytes_equal_redis(
    both: tuple[RawConnection, RawConnection, int], args: tuple[str, ...]
) -> None:
    ours, theirs, _ = both
    assert ask(ours, *args) == ask(theirs, *args)


@pytest.mark.differential
def test_info_of_a_container_equals_redis_up_to_subcommand_order(
    both: tuple[RawConnection, RawConnection, int],
) -> None:
    """Redis keeps subcommands in a randomly seeded hash table: their order varies per process."""
    ours, theirs, _ = both

    def normalized(reply: bytes) -> Any:
        typed, _ = parse_typed(reply)
        entry = typed[1][0][1]
        kind, subs = entry[9]
        entry[9] = (kind, sorted(subs, key=lambda sub: sub[1][0][1]))
        return typed

    mine = normalized(ask(ours, "COMMAND", "INFO", "command"))
    assert mine == normalized(ask(theirs, "COMMAND", "INFO", "command"))
    assert len(mine[1][0][1][9][1]) == 7


@pytest.mark.differential
@pytest.mark.parametrize(
    "args",
    [
        ("COMMAND", "nosuch"),
        ("COMMAND", "COUNT", "x"),
        ("COMMAND", "HELP", "x"),
        ("COMMAND", "GETKEYS"),
        ("COMMAND", "GETKEYS", "get"),
        ("COMMAND", "GETKEYS", "nosuch", "x"),
        ("COMMAND", "GETKEYS", "command", "x"),
        ("COMMAND", "GETKEYS", "ping", "x"),
        ("COMMAND", "GETKEYS", "ping", "x", "y", "z"),
        ("COMMAND", "GETKEYS", "command", "info"),
        ("COMMAND", "GETKEYS", "get", "a", "b"),
        ("COMMAND", "GETKEYS", "set", "k"),
        ("COMMAND", "GETKEYSANDFLAGS", "nosuch", "x"),
        ("COMMAND", "LIST", "x"),
        ("COMMAND", "LIST", "FILTERBY"),
        ("COMMAND", "LIST", "FILTERBY", "x", "y"),
        ("COMMAND", "LIST", "FILTERBY", "PATTERN"),
        ("COMMAND", "LIST", "FILTERBY", "PATTERN", "x", "y"),
    ],
    ids=lambda args: " ".join(args[1:]),
)
def test_error_replies_equal_redis(
    both: tuple[RawConnection, RawConnection, int], args: tuple[str, ...]
) -> None:
    ours, theirs, _ = both
    reply = ask(theirs, *args)
    assert reply.startswith(b"-")
    assert ask(ours, *args) == reply


@pytest.mark.differential
def test_info_entry_of_a_plain_read_command_has_redis_shape(
    both: tuple[RawConnection, RawConnection, int],
) -> None:
    ours, theirs, resp = both
    mine, _ = parse_typed(ask(ours, "COMMAND", "INFO", "get"))
    real, _ = parse_typed(ask(theirs, "COMMAND", "INFO", "get"))
    assert shape(mine) == shape(real)
    # key specs are a set and an empty subcommand list a set too, in RESP3
    entry = mine[1][0][1]
    assert entry[8][0] == ("~" if resp == 3 else "*")
    assert entry[9] == ("~" if resp == 3 else "*", [])


@pytest.mark.differential
def test_docs_of_a_subcommand_with_a_tokened_oneof_equal_redis_without_since(
    both: tuple[RawConnection, RawConnection, int],
) -> None:
    ours, theirs, _ = both
    mine, _ = parse_typed(ask(ours, "COMMAND", "DOCS", "command|list"))
    real, _ = parse_typed(ask(theirs, "COMMAND", "DOCS", "command|list"))
    assert mine[1][0] == real[1][0] == ("$", b"command|list")
    mine_args = map_get(mine[1][1], b"arguments")
    real_args = map_get(real[1][1], b"arguments")
    assert strip_since(mine_args) == strip_since(real_args)


def test_docs_of_a_container_nest_its_subcommands_by_full_name(r: redis.Redis) -> None:
    raw = call(r, "COMMAND", "DOCS", "command")
    assert raw[0] == b"command"
    docs = dict(zip(raw[1][::2], raw[1][1::2], strict=True))
    assert docs[b"group"] == b"server"
    subs = docs[b"subcommands"]
    names = subs[::2]
    assert b"command|info" in names and b"command|getkeysandflags" in names
    assert b"arguments" not in docs


def test_docs_leave_out_unknown_names_and_accept_any_case(rp: redis.Redis) -> None:
    reply = call(rp, "COMMAND", "DOCS", "nosuch", "COMMAND|COUNT", "Command")
    if isinstance(reply, dict):
        names = list(reply)
    else:
        names = reply[::2]
    assert names == [b"command|count", b"command"]


def test_command_alone_lists_every_top_level_command(r: redis.Redis) -> None:
    entries = call(r, "COMMAND")
    count = call(r, "COMMAND", "COUNT")
    assert len(entries) == count > 0
    names = {e[0] for e in entries}
    assert {b"command", b"get", b"ping"} <= names
    assert all(b"|" not in name for name in names)


def test_info_and_docs_without_names_describe_every_top_level_command(rp: redis.Redis) -> None:
    count = call(rp, "COMMAND", "COUNT")
    assert len(call(rp, "COMMAND", "INFO")) == count
    docs = call(rp, "COMMAND", "DOCS")
    assert len(docs) == (count if isinstance(docs, dict) else 2 * count)


def test_command_list_names_every_command_and_subcommand(r: redis.Redis) -> None:
    listed = call(r, "COMMAND", "LIST")
    assert len(listed) == len(set(listed))
    top = [e for e in listed if b"|" not in e]
    assert len(top) == call(r, "COMMAND", "COUNT")
    assert b"command|getkeys" in listed
    info = call(r, "COMMAND", "INFO", *listed)
    assert [e[0] for e in info] == listed


def test_command_list_pattern_ignores_case_and_matches_subcommands(r: redis.Redis) -> None:
    got = call(r, "COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND|*KEYS*")
    assert sorted(got) == [b"command|getkeys", b"command|getkeysandflags"]
    assert call(r, "COMMAND", "LIST", "FILTERBY", "PATTERN", "comman?") == [b"command"]


def test_command_list_by_category_takes_names_without_at_sign(r: redis.Redis) -> None:
    listed = call(r, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "CONNECTION")
    assert b"command|info" in listed and b"ping" in listed
    assert b"get" not in listed
    assert call(r, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "@connection") == []


def test_getkeysandflags_pairs_each_key_with_its_spec_flags(rp: redis.Redis) -> None:
    reply = call(rp, "COMMAND", "GETKEYSANDFLAGS", "mget", "a", "b")
    assert reply == [[b"a", [b"RO", b"access"]], [b"b", [b"RO", b"access"]]]


def test_redis_py_command_helpers_parse_our_replies(rp: redis.Redis) -> None:
    names = rp.command_list()
    assert rp.command_count() == len([name for name in names if b"|" not in name])
    keys = rp.command_getkeys("MSET", "a", 1, "b", 2)
    assert [k if isinstance(k, bytes) else k.encode() for k in keys] == [b"a", b"b"]
    info = rp.command()
    assert info["get"]["arity"] == 2


def test_container_alone_is_an_arity_error_but_command_alone_runs(r: redis.Redis) -> None:
    assert isinstance(call(r, "COMMAND"), list)
    with pytest.raises(
        redis.ResponseError, match=r"unknown subcommand 'nosuch'\. Try COMMAND HELP\."
    ):
        call(r, "COMMAND", "nosuch")


# --- key specs and GETKEYS on declarations that mirror Redis's --------------------------------

# Declarations shaped like Redis 7.0's, to check derived and explicit key specs end to end.
MIRRORS = [
    Cmd("get", 2, "readonly fast", None, keys=(1, 1, 1), group="string", since="1.0.0",
        summary="-"),
    Cmd("mset", -3, "write denyoom", None, keys=(1, -1, 2), group="string", since="1.0.1",
        summary="-", key_flags="OW update",
        tips="request_policy:multi_shard response_policy:all_succeeded"),
    Cmd("lcs", -3, "readonly", None, keys=(1, 2, 1), group="string", since="7.0.0",
        summary="-"),
    Cmd("rename", 3, "write", None, keys=(1, 2, 1), group="generic", since="1.0.0",
        summary="-", key_flags=("RW access delete", "OW update")),
    Cmd("sdiffstore", -3, "write denyoom", None, keys=(1, -1, 1), group="set", since="1.0.0",
        summary="-", key_flags=("OW update", "RO access")),
    Cmd("brpop", -3, "write noscript blocking", None, keys=(1, -2, 1), group="list",
        since="2.0.0", summary="-", key_flags="RW access delete"),
    Cmd("exists", -2, "readonly fast", None, keys=(1, -1, 1), group="generic", since="1.0.0",
        summary="-", key_flags="RO", tips="request_policy:multi_shard response_policy:agg_sum"),
    Cmd("zunion", -3, "readonly", None, group="sorted-set", since="6.2.0", summary="-",
        key_specs=(key_spec("RO access", index=1, keynumidx=0),)),
    Cmd("eval", -3, "noscript stale skip_monitor may_replicate no_mandatory_keys", None,
        group="scripting", since="2.6.0", summary="-",
        key_specs=(key_spec("RW access update", index=2, keynumidx=0, notes=(
            "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")),)),
    Cmd("xread", -4, "readonly blocking", None, group="stream", since="5.0.0", summary="-",
        key_specs=(key_spec("RO access", keyword="STREAMS", lastkey=-1, limit=2),)),
    Cmd("georadius", -6, "write denyoom", None, keys=(1, 1, 1), group="geo", since="3.2.0",
        summary="-", key_specs=(
            key_spec("RO access", index=1),
            key_spec("OW update", keyword="STORE", startfrom=6),
            key_spec("OW update", keyword="STOREDIST", startfrom=6))),
    Cmd("sort", -2, "write denyoom", None, keys=(1, 1, 1), group="generic", since="1.0.0",
        summary="-", family=False, categories=("@set", "@sortedset", "@list", "@dangerous"),
        key_specs=(
            key_spec("RO access", index=1),
            key_spec("RO access", notes=(
                "For the optional BY/GET keyword. It is marked 'unknown' because the key names "
                "derive from the content of the key we sort")),
            key_spec("OW update", notes=(
                "For the optional STORE keyword. It is marked 'unknown' because the keyword can "
                "appear anywhere in the argument array")))),
    Cmd("client", -2, "", None, group="connection", since="2.4.0", summary="-",
        subcommands=[Cmd("client|getname", 2, "noscript loading stale", None,
                         group="connection", since="2.6.9", summary="-")]),
]  # fmt: skip
MIRROR = {spec.name: spec for spec in MIRRORS}


@pytest.mark.differential
@pytest.mark.parametrize("name", sorted(set(MIRROR) - {"client"}))
@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
def test_info_entry_from_a_declaration_equals_redis_bytes(
    redis_oracle: ServerProcess, name: str, resp: int
) -> None:
    conn = connect(redis_oracle, resp)
    real = ask(conn, "COMMAND", "INFO", name)
    conn.close()
    assert real == encode_one([info_entry(MIRROR[name])], resp == 3)


def _oracle_getkeys(conn: RawConnection, argv: list[str]) -> list[bytes] | str:
    reply = ask(conn, "COMMAND", "GETKEYS", *argv)
    if reply.startswith(b"-"):
        return reply[1:-2].decode()
    typed, _ = parse_typed(reply)
    return [item[1] for item in typed[1]]


@pytest.mark.differential
@pytest.mark.parametrize(
    "argv",
    [
        "mset a 1 b 2",
        "mset a 1 b",
        "exists a b c",
        "brpop a b 0",
        "zunion 2 a b",
        "zunion 2 a b WEIGHTS 1 2",
        "zunion 3 a b",
        "zunion 0 a",
        "zunion -1 a",
        "zunion x a",
        "eval s 2 a b c",
        "eval s 3 a b",
        "eval s 0",
        "eval s x",
        "xread STREAMS a b 0 0",
        "xread COUNT 1 STREAMS a b 0 0",
        "xread STREAMS a b 0",
        "xread streams a 0",
        "georadius k 0 0 1 m",
        "georadius k 0 0 1 m STORE d",
        "georadius k 0 0 1 m STOREDIST d STORE e",
        "georadius k 0 0 1 STORE",
        "rename a b",
        "sdiffstore d a b c",
        "lcs a b",
    ],
)
def test_keys_found_from_key_specs_equal_redis(redis_oracle: ServerProcess, argv: str) -> None:
    words = argv.split()
    conn = redis_oracle.raw()
    expected = _oracle_getkeys(conn, words)
    conn.close()
    spec = MIRROR[words[0]]
    found = command_keys(spec, [w.encode() for w in words])
    if isinstance(expected, str):
        assert expected == "ERR Invalid arguments specified for command"
        assert found == []
    elif not expected:
        assert found == [] and "no_mandatory_keys" in spec.flags
    else:
        assert [words[pos].encode() for pos, _ in found] == expected


def test_movable_keys_flag_follows_from_non_positional_key_specs() -> None:
    assert "movablekeys" in MIRROR["zunion"].flags
    assert "movablekeys" in MIRROR["georadius"].flags
    assert "movablekeys" not in MIRROR["rename"].flags


# --- argument notation ----------------------------------------------------------------------


def test_token_before_a_group_names_and_introduces_the_group() -> None:
    (arg,) = parse_args("[FILTERBY (MODULE name:string|PATTERN pattern:pattern)]")
    assert arg["name"] == "filterby" and arg["token"] == "FILTERBY"
    assert arg["type"] == "oneof" and arg["flags"] == ["optional"]
    assert [a["token"] for a in arg["arguments"]] == ["MODULE", "PATTERN"]


def test_token_before_a_single_argument_group_makes_a_block() -> None:
    (arg,) = parse_args("[ID (client-id:integer ...)]")
    assert arg == {
        "name": "id",
        "type": "block",
        "token": "ID",
        "arguments": [{"name": "client-id", "type": "integer", "flags": ["multiple"]}],
        "flags": ["optional"],
    }
    spec = Cmd("x", -2, "", None, group="server", since="1.0.0", summary="-",
               args="[ID (client-id:integer ...)] [ADDR ip:port:string]")  # fmt: skip
    assert spec.usage_line == "X [ID client-id [client-id ...]] [ADDR ip:port]"


def test_block_that_starts_with_a_token_takes_the_token() -> None:
    (arg,) = parse_args("[LIMIT offset:integer count:integer]")
    assert (arg["name"], arg["type"], arg["token"]) == ("limit", "block", "LIMIT")
    assert [a["name"] for a in arg["arguments"]] == ["offset", "count"]
    assert all("token" not in a for a in arg["arguments"])


def test_ellipsis_after_a_bracketed_token_argument_repeats_the_token() -> None:
    inner, outer = parse_args("[KEYS key:key ...] [GET pattern:pattern]...")
    assert inner["flags"] == ["optional", "multiple"]
    assert outer["flags"] == ["optional", "multiple", "multiple_token"]


def test_usage_renders_redis_io_notation() -> None:
    spec = Cmd("x", -2, "", None, group="server", since="1.0.0", summary="-",
               args="key:key [key:key ...] [KEYS k:key ...] [GET p:pattern]... (LEFT|RIGHT)"
               " [FILTERBY (MODULE m:string|PATTERN p:pattern)] [NX|XX]")  # fmt: skip
    assert spec.usage_line == (
        "X key [key [key ...]] [KEYS k [k ...]] [GET p [GET p ...]] <LEFT|RIGHT>"
        " [FILTERBY <MODULE m|PATTERN p>] [NX|XX]"
    )


def test_categories_are_listed_in_redis_order_and_containers_skip_their_group() -> None:
    spec: CommandSpec = MIRROR["sort"]
    assert spec.categories == ("@write", "@set", "@sortedset", "@list", "@slow", "@dangerous")
    assert MIRROR["client"].categories == ("@slow",)
    sub = MIRROR["client"].subcommands[b"getname"]
    assert sub.categories == ("@slow", "@connection")


# --- redis-cli hints ------------------------------------------------------------------------


def _cli_hint(port: int, typed: bytes, expect: bytes) -> bytes:
    """Type into an interactive redis-cli on a pseudo-terminal; the screen once `expect` shows."""
    pid, fd = pty.fork()
    if pid == 0:  # child: become redis-cli, and never return into pytest
        try:
            os.environ["TERM"] = "xterm"
            os.execvp("redis-cli", ["redis-cli", "-p", str(port)])
        finally:
            os._exit(127)
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))
    screen = b""
    try:

        def read_until(marker: bytes, timeout: float) -> None:
            nonlocal screen
            deadline = time.monotonic() + timeout
            while marker not in screen and time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if not ready:
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # redis-cli exited: the pty is gone
                    return
                screen += chunk
                if b"\x1b[6n" in chunk:  # linenoise asks where the cursor is
                    os.write(fd, b"\x1b[1;1R")

        read_until(b"> ", 10)
        os.write(fd, typed)
        read_until(expect, 10)
        return screen
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
def test_redis_cli_shows_argument_hints_from_command_docs(server: ServerProcess) -> None:
    expected = b"[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]"
    screen = _cli_hint(server.port, b"COMMAND LIST ", expected)
    assert expected in screen
    if b"set" in call(server.client(), "COMMAND", "LIST"):
        # SET's hint carries Redis 8.4's conditions (IFEQ ...) besides NX and XX.
        hint = b"value [NX|XX|IFEQ ifeq-value|"
        screen = _cli_hint(server.port, b"SET k", hint)
        assert hint in screen
