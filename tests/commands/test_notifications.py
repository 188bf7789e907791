"""Keyspace notifications through redis-py: channels, class letters, expiry (lazy and active,
with the server's clock moved instead of sleeping), `new` and `keymiss`, and the setting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from tests.servers import RawConnection, ServerProcess, encode_command, start_damselfly

Event = tuple[bytes, bytes]


@pytest.fixture
def notify(r: redis.Redis) -> Iterator[Callable[[str], None]]:
    """notify(flags): set notify-keyspace-events; switched off again after the test."""

    def set_flags(flags: str) -> None:
        r.config_set("notify-keyspace-events", flags)

    yield set_flags
    r.config_set("notify-keyspace-events", "")


@pytest.fixture
def events(rp: redis.Redis) -> Iterator[Callable[..., list[Event]]]:
    """A subscriber to every keyspace channel (in the protocol of `rp`); calling
    events(n) returns the next n notifications as (channel, message), and events() all
    that arrive until a sentinel published after them."""
    pubsub = rp.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("__key*__:*")
    pubsub.subscribe("__sentinel__")
    for _ in range(2):
        pubsub.get_message(timeout=2)

    def read(n: int | None = None) -> list[Event]:
        if n is None:
            rp.publish("__sentinel__", "end")
        out: list[Event] = []
        deadline = time.monotonic() + 5
        while n is None or len(out) < n:
            assert time.monotonic() < deadline, f"only these events arrived: {out}"
            message = pubsub.get_message(timeout=0.2)
            if message is None:
                continue
            if message["channel"] == b"__sentinel__":
                break
            out.append((message["channel"], message["data"]))
        return out

    yield read
    pubsub.close()


def space(key: str, event: str, db: int = 0) -> Event:
    return (f"__keyspace@{db}__:{key}".encode(), event.encode())


def keyevent(key: str, event: str, db: int = 0) -> Event:
    return (f"__keyevent@{db}__:{event}".encode(), key.encode())


def both(key: str, event: str, db: int = 0) -> list[Event]:
    return [space(key, event, db), keyevent(key, event, db)]


def test_a_write_is_published_on_the_keyspace_then_the_keyevent_channel(
    rp: redis.Redis, notify: Any, events: Any
) -> None:
    notify("KEA")
    rp.set("k", "v")
    assert events() == both("k", "set")


def test_k_and_e_choose_the_channels(rp: redis.Redis, notify: Any, events: Any) -> None:
    notify("K$")
    rp.set("k", "v")
    notify("E$")
    rp.set("k", "v")
    notify("$")
    rp.set("k", "v")
    assert events() == [space("k", "set"), keyevent("k", "set")]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("K$", [space("s", "set"), space("s", "append")]),
        ("Kg", [space("s", "expire"), space("s", "del"), space("l", "del")]),
        ("Kl", [space("l", "lpush"), space("l", "rpop")]),
        ("Kn", [space("s", "new"), space("l", "new")]),
        ("Km", [space("nope", "keymiss")]),
        (
            "KA",
            [
                space("s", "set"),
                space("s", "append"),
                space("s", "expire"),
                space("s", "del"),
                space("l", "lpush"),
                space("l", "rpop"),
                space("l", "del"),
            ],
        ),
        ("K", []),
        ("A", []),
    ],
)
def test_class_letters_select_the_events(
    flags: str, expected: list[Event], r: redis.Redis, notify: Any, events: Any
) -> None:
    notify(flags)
    r.set("s", "v")
    r.append("s", "w")
    r.expire("s", 100)
    r.get("nope")
    r.delete("s")
    r.lpush("l", "x")
    r.rpop("l")
    assert events() == expected


def test_events_name_the_database(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("KEg$")
    r.execute_command("SELECT", 5)
    r.set("k", "v")
    r.execute_command("MOVE", "k", 0)
    assert events() == [
        *both("k", "set", 5),
        *both("k", "move_from", 5),
        *both("k", "move_to", 0),
    ]


def test_lazy_expiry_emits_expired_then_the_read_misses(
    r: redis.Redis, notify: Any, events: Any, advance_clock: Any
) -> None:
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    notify("KExm")
    r.set("k", "v", px=100)
    advance_clock(101)
    assert r.get("k") is None
    assert events() == [*both("k", "expired"), *both("k", "keymiss")]
    assert r.info("stats")["expired_keys"] == 1


def test_active_expiry_emits_expired_without_any_access(
    r: redis.Redis, notify: Any, events: Any, advance_clock: Any
) -> None:
    notify("Ex")
    r.set("k", "v", px=100)
    r.set("kept", "v", px=100_000)
    advance_clock(200)
    assert events(1) == [keyevent("k", "expired")]
    assert r.dbsize() == 1


def test_expire_in_the_past_deletes_with_del_not_expired(
    r: redis.Redis, notify: Any, events: Any
) -> None:
    notify("Egx")
    r.set("a", "v")
    r.set("b", "v")
    r.set("c", "v")
    r.expire("a", -1)
    r.pexpireat("b", 1)
    r.getex("c", exat=1)
    assert events() == [keyevent("a", "del"), keyevent("b", "del"), keyevent("c", "del")]


def test_new_is_emitted_when_a_key_is_created_only(
    r: redis.Redis, notify: Any, events: Any
) -> None:
    notify("En")
    r.set("a", "1")
    r.set("a", "2")
    r.incr("n")
    r.incr("n")
    r.rpush("l", "x")
    r.rpush("l", "y")
    r.append("s", "x")
    r.setrange("r", 2, "x")
    r.setrange("r2", 2, "")  # creates nothing
    r.mset({"m1": "1", "a": "3"})
    r.rename("a", "n")  # RENAME re-creates an existing destination: "new" again
    r.copy("n", "c")
    r.lmove("l", "moved")
    assert events() == [
        keyevent(key, "new") for key in ("a", "n", "l", "s", "r", "m1", "n", "c", "moved")
    ]


def test_keymiss_comes_from_reads_only(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("Em")
    r.get("a")
    r.mget("b", "c")
    r.exists("d")
    r.ttl("e")
    r.llen("f")
    r.object("encoding", "g")  # OBJECT does not notify, like Redis
    r.incr("h")  # writes do not either
    r.delete("i")
    r.lpop("j")
    assert events() == [keyevent(key, "keymiss") for key in "abcdef"]


def test_emptied_list_is_deleted_after_its_pop(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("El$g")
    r.rpush("l", "a", "b")
    r.lpop("l", 2)
    r.rpush("l", "a")
    r.lmove("l", "l", "LEFT", "RIGHT")  # one element rotated onto itself: never emptied
    assert events() == [
        keyevent("l", "rpush"),
        keyevent("l", "lpop"),
        keyevent("l", "del"),
        keyevent("l", "rpush"),
        keyevent("l", "rpush"),
        keyevent("l", "lpop"),
    ]


def test_blocked_pop_is_notified_after_the_push_that_served_it(
    r: redis.Redis, server: ServerProcess, notify: Any, events: Any
) -> None:
    notify("KEA")
    waiter = RawConnection(server.host, server.port)
    try:
        waiter.send(encode_command("BLPOP", "q", "0"))
        deadline = time.monotonic() + 5
        while r.info("clients")["blocked_clients"] != 1:
            assert time.monotonic() < deadline
            time.sleep(0.002)
        r.rpush("q", "job")
        assert waiter.read_reply() == b"*2\r\n$1\r\nq\r\n$3\r\njob\r\n"
    finally:
        waiter.close()
    assert events() == [*both("q", "rpush"), *both("q", "lpop"), *both("q", "del")]


def test_failed_commands_emit_nothing(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("KEA")
    r.rpush("l", "x")
    events()
    for args in (("SET", "l", "v", "EX", "0"), ("INCR", "l"), ("LSET", "l", "5", "x")):
        with pytest.raises(redis.ResponseError):
            r.execute_command(*args)
    assert r.set("l", "v", nx=True) is None
    assert events() == []


def test_resp3_client_gets_its_own_events_as_pushes_before_the_reply(
    server: ServerProcess, notify: Any
) -> None:
    notify("KE$")
    conn = RawConnection(server.host, server.port)
    try:
        conn.request(encode_command("HELLO", "3"))
        conn.request(encode_command("SUBSCRIBE", "__keyevent@0__:set"))
        conn.send(encode_command("SET", "mine", "v"))
        assert conn.read_reply() == (
            b">3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$4\r\nmine\r\n"
        )
        assert conn.read_reply() == b"+OK\r\n"
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("KEA", "AKE"),
        ("EKA", "AKE"),
        ("KEAnm", "AKEm"),
        ("g$lshzxetd", "A"),
        ("Kn", "nK"),
        ("Ex$", "$xE"),
        ("Kgm$", "g$Km"),
        ("", ""),
    ],
)
def test_config_get_spells_the_flags_like_redis(
    value: str, shown: str, r: redis.Redis, notify: Any
) -> None:
    notify(value)
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": shown}


def test_an_unknown_class_letter_is_rejected_and_nothing_changes(
    r: redis.Redis, notify: Any
) -> None:
    notify("KEg")
    with pytest.raises(redis.ResponseError, match="Invalid event class character"):
        r.config_set("notify-keyspace-events", "KEQ")
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "gKE"}


def test_notifications_can_be_enabled_at_startup() -> None:
    proc = start_damselfly("--notify-keyspace-events", "KEA")
    try:
        client = proc.client()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe("__keyevent@0__:set")
        pubsub.get_message(timeout=2)
        client.set("k", "v")
        message = pubsub.get_message(timeout=2)
        assert message is not None and message["data"] == b"k"
        pubsub.close()
        client.close()
    finally:
        proc.stop()
