"""The lock-oriented string commands through redis-py, in RESP2 and RESP3: SET's compare-and-set
conditions (IFEQ/IFNE/IFDEQ/IFDNE) and DELEX and DIGEST from Redis 8.4, DELIFEQ from Valkey 9.

The oracle redis-server 7.0 has none of these, so the expected replies and error texts come from
the Redis 8.4 and Valkey 9 documentation and sources (see the report of issue 4); digests are
checked against the xxhash package, the same XXH3-64 Redis uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import xxhash

from tests.servers import ServerProcess, encode_command

DIGEST_LENGTH_ERROR = "must be exactly 16 hexadecimal characters"
DELEX_TYPE_ERROR = "Key should be of string type if conditions are specified"
DELEX_CONDITION_ERROR = "Invalid condition. Use IFEQ, IFNE, IFDEQ, or IFDNE"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
CONDITIONS = ("IFEQ", "IFNE", "IFDEQ", "IFDNE")


def digest(value: bytes) -> bytes:
    return xxhash.xxh3_64_hexdigest(value).encode()


@pytest.fixture
def c(rp: redis.Redis) -> redis.Redis:
    """`rp` with SET's replies left as sent (redis-py turns them into booleans otherwise)."""
    rp.set_response_callback("SET", lambda response, **options: response)
    return rp


def error_of(client: redis.Redis, *args: Any) -> str:
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


# -- DIGEST --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [b"hello", b"", b"123", b"v8", b"Hello world", bytes(range(256)) * 40],
    ids=["word", "empty", "integer", "leading-zero", "doc-example", "long-binary"],
)
def test_digest_is_xxh3_of_the_value_in_16_lower_case_hex_digits(
    c: redis.Redis, value: bytes
) -> None:
    c.set("k", value)
    reply = c.execute_command("DIGEST", "k")
    assert reply == digest(value)
    assert len(reply) == 16 and reply == reply.lower()


def test_digest_matches_the_documented_examples(c: redis.Redis) -> None:
    c.set("k1", "Hello world")
    c.set("k2", "v8")
    assert c.execute_command("DIGEST", "k1") == b"b6acb9d84a38ff74"
    assert c.execute_command("DIGEST", "k2") == b"0cc76dbb41381419"  # leading zero kept


def test_digest_of_an_appended_value_is_the_digest_of_its_bytes(c: redis.Redis) -> None:
    c.set("k", "12")
    c.append("k", "34")
    assert c.execute_command("DIGEST", "k") == digest(b"1234")


def test_digest_of_a_missing_or_expired_key_is_nil(c: redis.Redis) -> None:
    assert c.execute_command("DIGEST", "missing") is None
    c.execute_command("SET", "old", "v", "PXAT", 1)
    assert c.execute_command("DIGEST", "old") is None


def test_digest_of_a_non_string_key_is_wrongtype(c: redis.Redis) -> None:
    c.rpush("list", "a")
    assert error_of(c, "DIGEST", "list") == WRONGTYPE


@pytest.mark.parametrize("args", [(), ("k", "extra")])
def test_digest_takes_exactly_one_key(c: redis.Redis, args: tuple[str, ...]) -> None:
    assert error_of(c, "DIGEST", *args) == "wrong number of arguments for 'digest' command"


def test_digest_counts_keyspace_hits_and_misses(c: redis.Redis) -> None:
    c.config_resetstat()
    c.set("k", "v")
    c.execute_command("DIGEST", "k")
    c.execute_command("DIGEST", "missing")
    stats = c.info("stats")
    assert (stats["keyspace_hits"], stats["keyspace_misses"]) == (1, 1)


# -- SET with conditions ---------------------------------------------------------------------------


def test_set_ifeq_replaces_only_a_matching_value(c: redis.Redis) -> None:
    c.set("k", "token-1")
    assert c.execute_command("SET", "k", "token-2", "IFEQ", "other") is None
    assert c.get("k") == b"token-1"
    assert c.execute_command("SET", "k", "token-2", "IFEQ", "token-1") == b"OK"
    assert c.get("k") == b"token-2"


def test_set_ifeq_compares_bytes_not_numbers(c: redis.Redis) -> None:
    c.set("k", "0123")
    assert c.execute_command("SET", "k", "x", "IFEQ", "123") is None
    assert c.execute_command("SET", "k", "x", "IFNE", "123") == b"OK"
    assert c.get("k") == b"x"


def test_set_ifne_replaces_only_a_different_value(c: redis.Redis) -> None:
    c.set("k", "a")
    assert c.execute_command("SET", "k", "b", "IFNE", "a") is None
    assert c.get("k") == b"a"
    assert c.execute_command("SET", "k", "b", "IFNE", "z") == b"OK"
    assert c.get("k") == b"b"


def test_set_ifdeq_replaces_only_when_the_digest_matches_in_any_case(c: redis.Redis) -> None:
    c.set("k", "a")
    assert c.execute_command("SET", "k", "b", "IFDEQ", digest(b"z")) is None
    assert c.get("k") == b"a"
    assert c.execute_command("SET", "k", "b", "IFDEQ", digest(b"a").upper()) == b"OK"
    assert c.get("k") == b"b"
    assert c.execute_command("SET", "k", "c", "IFDEQ", digest(b"b")) == b"OK"
    assert c.get("k") == b"c"


def test_set_ifdne_replaces_only_when_the_digest_differs(c: redis.Redis) -> None:
    c.set("k", "a")
    assert c.execute_command("SET", "k", "b", "IFDNE", digest(b"a").upper()) is None
    assert c.get("k") == b"a"
    assert c.execute_command("SET", "k", "b", "IFDNE", digest(b"z")) == b"OK"
    assert c.get("k") == b"b"


@pytest.mark.parametrize("condition", ["IFEQ", "IFDEQ"])
def test_set_ifeq_and_ifdeq_never_create_a_missing_key(c: redis.Redis, condition: str) -> None:
    assert c.execute_command("SET", "k", "v", condition, digest(b"v")) is None
    assert c.exists("k") == 0


@pytest.mark.parametrize("condition", ["IFNE", "IFDNE"])
def test_set_ifne_and_ifdne_create_a_missing_key(c: redis.Redis, condition: str) -> None:
    assert c.execute_command("SET", "k", "v", condition, digest(b"v")) == b"OK"
    assert c.get("k") == b"v"


def test_set_conditions_treat_an_expired_key_as_missing(c: redis.Redis) -> None:
    c.execute_command("SET", "k", "v", "PXAT", 1)
    assert c.execute_command("SET", "k", "w", "IFEQ", "v") is None
    assert c.exists("k") == 0
    c.execute_command("SET", "k", "v", "PXAT", 1)
    assert c.execute_command("SET", "k", "w", "IFNE", "v") == b"OK"
    assert c.get("k") == b"w"


@pytest.mark.parametrize("condition", CONDITIONS)
def test_set_condition_against_a_non_string_key_is_wrongtype(
    c: redis.Redis, condition: str
) -> None:
    c.rpush("k", "a")
    assert error_of(c, "SET", "k", "v", condition, "0" * 16) == WRONGTYPE
    assert c.type("k") == b"list"


@pytest.mark.parametrize("condition", ["IFDEQ", "IFDNE"])
@pytest.mark.parametrize("bad", ["", "0123", "0" * 15, "0" * 17])
def test_set_digest_of_the_wrong_length_is_an_error_on_an_existing_string(
    c: redis.Redis, condition: str, bad: str
) -> None:
    c.set("k", "a")
    assert error_of(c, "SET", "k", "b", condition, bad) == DIGEST_LENGTH_ERROR
    assert c.get("k") == b"a"


def test_set_digest_length_is_not_checked_for_a_missing_key(c: redis.Redis) -> None:
    assert c.execute_command("SET", "k", "v", "IFDEQ", "short") is None
    assert c.execute_command("SET", "k", "v", "IFDNE", "short") == b"OK"
    assert c.get("k") == b"v"


def test_set_digest_of_16_non_hex_characters_matches_nothing(c: redis.Redis) -> None:
    c.set("k", "a")
    assert c.execute_command("SET", "k", "b", "IFDEQ", "z" * 16) is None
    assert c.execute_command("SET", "k", "b", "IFDNE", "z" * 16) == b"OK"
    assert c.get("k") == b"b"


@pytest.mark.parametrize(
    "options",
    [
        ("NX", "IFEQ", "a"),
        ("IFEQ", "a", "NX"),
        ("XX", "IFNE", "a"),
        ("IFDEQ", "0" * 16, "XX"),
        ("IFEQ", "a", "IFNE", "b"),
        ("IFEQ", "a", "IFEQ", "a"),
        ("IFDNE", "0" * 16, "IFDEQ", "0" * 16),
        ("IFEQ",),
        ("GET", "IFNE"),
    ],
    ids=lambda options: "-".join(options),
)
def test_set_conditions_exclude_nx_xx_and_each_other(
    c: redis.Redis, options: tuple[str, ...]
) -> None:
    c.set("k", "a")
    assert error_of(c, "SET", "k", "b", *options) == "syntax error"
    assert c.get("k") == b"a"


def test_set_condition_names_are_case_insensitive(c: redis.Redis) -> None:
    c.set("k", "a")
    assert c.execute_command("SET", "k", "b", "ifeq", "a") == b"OK"
    assert c.execute_command("SET", "k", "c", "IfDeQ", digest(b"b")) == b"OK"
    assert c.get("k") == b"c"


def test_set_condition_with_get_answers_the_old_value_whether_or_not_it_held(
    c: redis.Redis,
) -> None:
    c.set("k", "a")
    assert c.execute_command("SET", "k", "b", "IFEQ", "no", "GET") == b"a"
    assert c.get("k") == b"a"
    assert c.execute_command("SET", "k", "b", "GET", "IFEQ", "a") == b"a"
    assert c.get("k") == b"b"
    assert c.execute_command("SET", "new", "v", "IFNE", "x", "GET") is None
    assert c.get("new") == b"v"
    assert c.execute_command("SET", "none", "v", "IFEQ", "x", "GET") is None
    assert c.exists("none") == 0


def test_set_condition_with_get_on_a_non_string_key_is_wrongtype(c: redis.Redis) -> None:
    c.rpush("k", "a")
    assert error_of(c, "SET", "k", "v", "IFNE", "x", "GET") == WRONGTYPE


def test_set_expire_value_is_checked_before_the_condition(c: redis.Redis) -> None:
    c.rpush("list", "a")
    assert error_of(c, "SET", "list", "v", "IFEQ", "x", "EX", "0") == (
        "invalid expire time in 'set' command"
    )
    assert error_of(c, "SET", "list", "v", "IFEQ", "x", "PX", "soon") == (
        "value is not an integer or out of range"
    )


def test_set_condition_that_holds_applies_the_expiry_options(c: redis.Redis) -> None:
    c.set("k", "a", ex=100)
    assert c.execute_command("SET", "k", "b", "IFEQ", "a", "KEEPTTL") == b"OK"
    assert 0 < c.ttl("k") <= 100
    assert c.execute_command("SET", "k", "c", "IFEQ", "b", "PX", 500_000) == b"OK"
    assert 100 < c.ttl("k") <= 500
    assert c.execute_command("SET", "k", "d", "IFEQ", "c") == b"OK"
    assert c.ttl("k") == -1


def test_set_condition_that_fails_leaves_the_ttl_alone(c: redis.Redis) -> None:
    c.set("k", "a", ex=100)
    assert c.execute_command("SET", "k", "b", "IFEQ", "x", "EX", 5000) is None
    assert 0 < c.ttl("k") <= 100


def test_set_conditions_make_a_lock_that_only_its_owner_extends_and_releases(
    c: redis.Redis,
) -> None:
    assert c.execute_command("SET", "lock", "mine", "NX", "PX", 10_000) == b"OK"
    assert c.execute_command("SET", "lock", "theirs", "NX", "PX", 10_000) is None
    # Extending: only the holder's token matches.
    assert c.execute_command("SET", "lock", "theirs", "IFEQ", "nope", "PX", 60_000) is None
    assert c.execute_command("SET", "lock", "mine", "IFEQ", "mine", "PX", 60_000) == b"OK"
    assert 10 < c.ttl("lock") <= 60
    # Releasing: only the holder's token deletes the key.
    assert c.execute_command("DELEX", "lock", "IFEQ", "nope") == 0
    assert c.execute_command("DELEX", "lock", "IFDEQ", digest(b"mine")) == 1
    assert c.exists("lock") == 0


# -- DELEX -----------------------------------------------------------------------------------------


def test_delex_without_a_condition_deletes_a_key_of_any_type(c: redis.Redis) -> None:
    assert c.execute_command("DELEX", "k") == 0
    c.set("k", "v")
    assert c.execute_command("DELEX", "k") == 1
    c.rpush("k", "a")
    assert c.execute_command("DELEX", "k") == 1
    assert c.exists("k") == 0


def test_delex_ifeq_deletes_only_a_matching_value(c: redis.Redis) -> None:
    c.set("k", "hello")
    assert c.execute_command("DELEX", "k", "IFEQ", "other") == 0
    assert c.get("k") == b"hello"
    assert c.execute_command("DELEX", "k", "ifeq", "hello") == 1
    assert c.exists("k") == 0


def test_delex_ifne_deletes_only_a_different_value(c: redis.Redis) -> None:
    c.set("k", "hello")
    assert c.execute_command("DELEX", "k", "IFNE", "hello") == 0
    assert c.get("k") == b"hello"
    assert c.execute_command("DELEX", "k", "IfNe", "other") == 1
    assert c.exists("k") == 0


def test_delex_ifdeq_and_ifdne_compare_digests_in_any_case(c: redis.Redis) -> None:
    c.set("k", "hello")
    assert c.execute_command("DELEX", "k", "IFDNE", digest(b"hello").upper()) == 0
    assert c.execute_command("DELEX", "k", "IFDEQ", "0" * 16) == 0
    assert c.get("k") == b"hello"
    assert c.execute_command("DELEX", "k", "IFDEQ", digest(b"hello").upper()) == 1
    c.set("k", "hello")
    assert c.execute_command("DELEX", "k", "IFDNE", "z" * 16) == 1
    assert c.exists("k") == 0


@pytest.mark.parametrize("condition", [*CONDITIONS, "FOO"])
def test_delex_of_a_missing_key_is_0_whatever_the_condition(c: redis.Redis, condition: str) -> None:
    assert c.execute_command("DELEX", "missing", condition, "short") == 0


@pytest.mark.parametrize("condition", [*CONDITIONS, "FOO"])
def test_delex_condition_on_a_non_string_key_is_an_error(c: redis.Redis, condition: str) -> None:
    c.rpush("k", "a")
    assert error_of(c, "DELEX", "k", condition, "a") == DELEX_TYPE_ERROR
    assert c.exists("k") == 1


def test_delex_unknown_condition_is_an_error(c: redis.Redis) -> None:
    c.set("k", "hello")
    assert error_of(c, "DELEX", "k", "FOO", "hello") == DELEX_CONDITION_ERROR
    assert error_of(c, "DELEX", "k", "IFE", "hello") == DELEX_CONDITION_ERROR
    assert c.get("k") == b"hello"
    # Redis compares the name as a C string: what follows a NUL byte is not part of it.
    assert c.execute_command("DELEX", "k", "IFEQ\x00junk", "hello") == 1


@pytest.mark.parametrize("condition", ["IFDEQ", "IFDNE"])
@pytest.mark.parametrize("bad", ["", "0123", digest(b"hello")[1:].decode(), "0" * 17])
def test_delex_digest_of_the_wrong_length_is_an_error(
    c: redis.Redis, condition: str, bad: str
) -> None:
    c.set("k", "hello")
    assert error_of(c, "DELEX", "k", condition, bad) == DIGEST_LENGTH_ERROR
    assert c.get("k") == b"hello"


@pytest.mark.parametrize("args", [("IFEQ",), ("IFEQ", "hello", "extra"), ()], ids=str)
def test_delex_takes_a_key_and_at_most_one_condition(c: redis.Redis, args: tuple[str, ...]) -> None:
    c.set("k", "hello")
    expected = "wrong number of arguments for 'delex' command"
    if args:
        assert error_of(c, "DELEX", "k", *args) == expected
        assert error_of(c, "DELEX", "missing", *args) == expected
    else:
        assert error_of(c, "DELEX") == expected
    assert c.get("k") == b"hello"


# -- DELIFEQ -------------------------------------------------------------------------------------


def test_delifeq_deletes_only_an_exactly_matching_value(c: redis.Redis) -> None:
    c.set("k", "abc123")
    assert c.execute_command("DELIFEQ", "k", "ABC123") == 0
    assert c.execute_command("DELIFEQ", "k", "abc12") == 0
    assert c.get("k") == b"abc123"
    assert c.execute_command("DELIFEQ", "k", "abc123") == 1
    assert c.execute_command("DELIFEQ", "k", "abc123") == 0
    assert c.exists("k") == 0


def test_delifeq_of_a_missing_key_is_0(c: redis.Redis) -> None:
    assert c.execute_command("DELIFEQ", "missing", "v") == 0


def test_delifeq_on_a_non_string_key_is_wrongtype(c: redis.Redis) -> None:
    c.rpush("k", "somevalue")
    assert error_of(c, "DELIFEQ", "k", "somevalue") == WRONGTYPE
    assert c.exists("k") == 1


@pytest.mark.parametrize("args", [("k",), ("k", "v", "extra")])
def test_delifeq_takes_a_key_and_a_value(c: redis.Redis, args: tuple[str, ...]) -> None:
    assert error_of(c, "DELIFEQ", *args) == "wrong number of arguments for 'delifeq' command"


# -- side effects: notifications, dirty counter, transactions -------------------------------------


@pytest.fixture
def events(r: redis.Redis, server: ServerProcess) -> Iterator[Callable[[], list[Any]]]:
    """All keyspace/keyevent notifications published until a sentinel, as (channel, message)."""
    r.config_set("notify-keyspace-events", "KEAm")
    listener = server.client()
    pubsub = listener.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("__key*__:*")
    pubsub.subscribe("__sentinel__")
    for _ in range(2):
        pubsub.get_message(timeout=2)

    def read() -> list[Any]:
        r.publish("__sentinel__", "end")
        out: list[Any] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.2)
            if message is None:
                continue
            if message["channel"] == b"__sentinel__":
                return out
            out.append((message["channel"], message["data"]))
        raise AssertionError(f"the sentinel never arrived after {out}")

    yield read
    pubsub.close()
    listener.close()
    r.config_set("notify-keyspace-events", "")


def test_conditional_set_notifies_set_only_when_it_writes(
    r: redis.Redis, events: Callable[[], list[Any]]
) -> None:
    r.set("k", "a")
    events()
    r.execute_command("SET", "k", "b", "IFEQ", "no")
    assert events() == []
    r.execute_command("SET", "k", "b", "IFEQ", "a")
    assert events() == [
        (b"__keyspace@0__:k", b"set"),
        (b"__keyevent@0__:set", b"k"),
    ]


def test_delex_and_delifeq_notify_del_only_when_they_delete(
    r: redis.Redis, events: Callable[[], list[Any]]
) -> None:
    r.set("k", "a")
    events()
    r.execute_command("DELEX", "k", "IFNE", "a")
    r.execute_command("DELIFEQ", "k", "b")
    assert events() == []
    r.execute_command("DELEX", "k", "IFEQ", "a")
    r.set("k", "a")
    r.execute_command("DELIFEQ", "k", "a")
    deleted = [e for e in events() if e[1] == b"del" or e[0].endswith(b":del")]
    assert (
        deleted
        == [
            (b"__keyspace@0__:k", b"del"),
            (b"__keyevent@0__:del", b"k"),
        ]
        * 2
    )


def test_delex_condition_on_a_missing_key_sends_keymiss(
    r: redis.Redis, events: Callable[[], list[Any]]
) -> None:
    r.execute_command("DELEX", "missing", "IFEQ", "v")
    assert (b"__keyevent@0__:keymiss", b"missing") in events()


def test_writes_count_as_changes_and_failed_conditions_do_not(r: redis.Redis) -> None:
    def changes() -> int:
        return int(r.info("persistence")["rdb_changes_since_last_save"])

    r.set("k", "a")
    before = changes()
    r.execute_command("SET", "k", "b", "IFEQ", "no")
    r.execute_command("DELEX", "k", "IFEQ", "no")
    r.execute_command("DELIFEQ", "k", "no")
    assert changes() == before
    r.execute_command("SET", "k", "b", "IFEQ", "a")
    assert changes() > before
    before = changes()
    r.execute_command("DELEX", "k", "IFDEQ", digest(b"b"))
    assert changes() > before


@pytest.mark.parametrize(
    ("command", "writes"),
    [
        (("SET", "k", "w", "IFEQ", "v"), True),
        (("SET", "k", "w", "IFEQ", "other"), False),
        (("DELEX", "k", "IFDEQ", digest(b"v").decode()), True),
        (("DELEX", "k", "IFNE", "v"), False),
        (("DELIFEQ", "k", "v"), True),
        (("DELIFEQ", "k", "other"), False),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else str(value),
)
def test_watch_is_invalidated_only_when_the_condition_lets_the_write_happen(
    r: redis.Redis, server: ServerProcess, command: tuple[str, ...], writes: bool
) -> None:
    r.set("k", "v")
    other = server.client()
    try:
        with r.pipeline() as pipe:
            pipe.watch("k")
            other.execute_command(*command)
            pipe.multi()
            pipe.set("done", "1")
            if writes:
                with pytest.raises(redis.WatchError):
                    pipe.execute()
            else:
                assert pipe.execute() == [True]
    finally:
        other.close()
    assert r.exists("done") == (0 if writes else 1)


# -- command table ---------------------------------------------------------------------------------


def test_command_info_declares_the_new_commands(r: redis.Redis) -> None:
    r.set_response_callback("COMMAND", lambda response, **options: response)
    entries = r.execute_command("COMMAND", "INFO", "digest", "delex", "delifeq")
    got = {entry[0]: (entry[1], entry[2], entry[3:6], entry[6]) for entry in entries}
    assert got == {
        b"digest": (2, [b"readonly", b"fast"], [1, 1, 1], [b"@read", b"@string", b"@fast"]),
        b"delex": (-2, [b"write", b"fast"], [1, 1, 1], [b"@write", b"@string", b"@fast"]),
        b"delifeq": (3, [b"write", b"fast"], [1, 1, 1], [b"@write", b"@string", b"@fast"]),
    }


def test_command_docs_give_since_group_and_hint_arguments(server: ServerProcess) -> None:
    conn = server.raw()
    try:
        reply = conn.request(encode_command("COMMAND", "DOCS", "delex", "digest", "set"))
    finally:
        conn.close()
    assert b"$5\r\nsince\r\n$5\r\n8.4.0\r\n" in reply
    assert b"$5\r\ngroup\r\n$6\r\nstring\r\n" in reply
    for token in (b"IFEQ", b"IFNE", b"IFDEQ", b"IFDNE"):
        assert b"$5\r\ntoken\r\n$%d\r\n%s\r\n" % (len(token), token) in reply
    assert b"ifdeq-digest" in reply


@pytest.mark.parametrize(
    ("args", "flags"),
    [
        (("SET", "k", "v"), [b"OW", b"update"]),
        (("SET", "k", "v", "IFEQ", "old"), [b"RW", b"access", b"update"]),
        (("DELEX", "k"), [b"RM", b"delete"]),
        (("DELEX", "k", "IFDEQ", "0" * 16), [b"RW", b"access", b"delete"]),
        (("DELIFEQ", "k", "v"), [b"RM", b"access", b"delete"]),
        (("DIGEST", "k"), [b"RO", b"access"]),
    ],
)
def test_command_getkeysandflags_reports_how_the_key_is_used(
    r: redis.Redis, args: tuple[str, ...], flags: list[bytes]
) -> None:
    r.set_response_callback("COMMAND", lambda response, **options: response)
    assert r.execute_command("COMMAND", "GETKEYSANDFLAGS", *args) == [[b"k", flags]]
