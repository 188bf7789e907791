"""Pub/Sub through redis-py's PubSub, in RESP2 and RESP3, plus the server-side bookkeeping:
subscriber counts, disconnects, CLIENT LIST/KILL and the pubsub output buffer limit."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.servers import RawConnection, ServerProcess, encode_command


def next_message(pubsub: Any, timeout: float = 2.0, ignore_subscribe: bool = True) -> Any:
    """The next message (or confirmation), waiting at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(
            ignore_subscribe_messages=ignore_subscribe, timeout=deadline - time.monotonic()
        )
        if message is not None:
            return message
    raise AssertionError("no message arrived")


def wait_for(condition: Any, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


@pytest.fixture(autouse=True)
def no_subscriptions_left(server: ServerProcess) -> None:
    """Subscribers of earlier tests close asynchronously; start once the server has no
    subscription left, so that global counts (NUMPAT, CHANNELS) start from zero."""
    client = server.client()
    try:
        wait_for(
            lambda: (
                not client.pubsub_numpat()
                and not client.pubsub_channels()
                and not client.pubsub_shardchannels()
            ),
            "earlier subscribers to close",
        )
    finally:
        client.close()


@pytest.fixture
def pubsub(rp: redis.Redis) -> Iterator[Any]:
    p = rp.pubsub()
    yield p
    p.close()


def test_subscribe_confirms_each_channel_with_a_running_count(pubsub: Any) -> None:
    pubsub.subscribe("a", "b")
    pubsub.psubscribe("p*")
    confirmations = [next_message(pubsub, ignore_subscribe=False) for _ in range(3)]
    assert [(m["type"], m["channel"], m["data"]) for m in confirmations] == [
        ("subscribe", b"a", 1),
        ("subscribe", b"b", 2),
        ("psubscribe", b"p*", 3),
    ]


def test_publish_returns_receivers_and_delivers_the_message(rp: redis.Redis, pubsub: Any) -> None:
    pubsub.subscribe("news")
    next_message(pubsub, ignore_subscribe=False)
    assert rp.publish("news", "hello") == 1
    assert rp.publish("elsewhere", "x") == 0
    message = next_message(pubsub)
    assert message == {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"}


def test_pattern_subscription_calls_its_handler(rp: redis.Redis, pubsub: Any) -> None:
    seen: list[Any] = []
    pubsub.psubscribe(**{"user:*": seen.append})
    next_message(pubsub, ignore_subscribe=False)
    assert rp.publish("user:42", "joined") == 1
    assert rp.publish("users", "nope") == 0
    deadline = time.monotonic() + 2
    while not seen and time.monotonic() < deadline:
        pubsub.get_message(timeout=0.1)
    assert seen == [
        {"type": "pmessage", "pattern": b"user:*", "channel": b"user:42", "data": b"joined"}
    ]


def test_listen_yields_messages_in_publish_order(rp: redis.Redis, pubsub: Any) -> None:
    pubsub.subscribe("seq")
    next_message(pubsub, ignore_subscribe=False)
    for i in range(20):
        rp.publish("seq", i)
    received = []
    for message in pubsub.listen():
        if message["type"] == "message":
            received.append(int(message["data"]))
            if len(received) == 20:
                break
    assert received == list(range(20))


def test_channel_and_matching_pattern_both_deliver(rp: redis.Redis, pubsub: Any) -> None:
    pubsub.subscribe("topic")
    pubsub.psubscribe("t*")
    for _ in range(2):
        next_message(pubsub, ignore_subscribe=False)
    assert rp.publish("topic", "m") == 2
    first, second = next_message(pubsub), next_message(pubsub)
    assert (first["type"], first["channel"]) == ("message", b"topic")
    assert (second["type"], second["pattern"], second["channel"]) == ("pmessage", b"t*", b"topic")


def test_messages_are_binary_safe(rp: redis.Redis, pubsub: Any) -> None:
    channel = b"bin\x00\xff"
    payload = bytes(range(256))
    pubsub.subscribe(channel)
    next_message(pubsub, ignore_subscribe=False)
    assert rp.publish(channel, payload) == 1
    message = next_message(pubsub)
    assert (message["channel"], message["data"]) == (channel, payload)


def test_many_subscribers_each_receive_once(rp: redis.Redis, server: ServerProcess) -> None:
    clients = [server.client(protocol=rp.get_connection_kwargs()["protocol"]) for _ in range(40)]
    subs = [c.pubsub() for c in clients]
    try:
        for p in subs:
            p.subscribe("fanout")
            next_message(p, ignore_subscribe=False)
        assert rp.pubsub_numsub("fanout") == [(b"fanout", 40)]
        assert rp.publish("fanout", "all") == 40
        assert all(next_message(p)["data"] == b"all" for p in subs)
    finally:
        for p, c in zip(subs, clients, strict=True):
            p.close()
            c.close()


def test_unsubscribe_without_arguments_leaves_every_channel(rp: redis.Redis, pubsub: Any) -> None:
    pubsub.subscribe("a", "b", "c")
    for _ in range(3):
        next_message(pubsub, ignore_subscribe=False)
    pubsub.unsubscribe()
    replies = [next_message(pubsub, ignore_subscribe=False) for _ in range(3)]
    assert sorted(m["channel"] for m in replies) == [b"a", b"b", b"c"]
    assert [m["data"] for m in replies] == [2, 1, 0]
    assert rp.pubsub_numsub("a", "b", "c") == [(b"a", 0), (b"b", 0), (b"c", 0)]
    assert rp.publish("a", "x") == 0


def test_shard_channels_are_counted_apart(rp: redis.Redis, pubsub: Any) -> None:
    pubsub.ssubscribe("s1", "s2")
    pubsub.subscribe("s1")
    assert [next_message(pubsub, ignore_subscribe=False)["data"] for _ in range(3)] == [1, 2, 1]
    assert rp.pubsub_shardnumsub("s1", "s3") == [(b"s1", 1), (b"s3", 0)]
    assert rp.pubsub_numsub("s1") == [(b"s1", 1)]
    assert sorted(rp.pubsub_shardchannels()) == [b"s1", b"s2"]
    assert rp.pubsub_shardchannels("*2") == [b"s2"]
    assert rp.spublish("s1", "sharded") == 1
    message = next_message(pubsub)
    assert (message["type"], message["channel"], message["data"]) == ("smessage", b"s1", b"sharded")
    assert rp.publish("s1", "plain") == 1
    assert next_message(pubsub)["type"] == "message"


def test_pubsub_introspection_counts(rp: redis.Redis, server: ServerProcess) -> None:
    first = server.client().pubsub()
    second = server.client().pubsub()
    try:
        first.subscribe("alpha", "beta")
        first.psubscribe("a*", "b*")
        second.subscribe("beta")
        second.psubscribe("a*")
        for p, n in ((first, 4), (second, 2)):
            for _ in range(n):
                next_message(p, ignore_subscribe=False)
        assert sorted(rp.pubsub_channels()) == [b"alpha", b"beta"]
        assert rp.pubsub_channels("a*") == [b"alpha"]
        assert rp.pubsub_numsub("alpha", "beta", "gamma") == [
            (b"alpha", 1),
            (b"beta", 2),
            (b"gamma", 0),
        ]
        # NUMPAT counts distinct patterns, not subscriptions (Redis 7).
        assert rp.pubsub_numpat() == 2
        stats = rp.info("stats")
        assert (stats["pubsub_channels"], stats["pubsub_patterns"]) == (2, 2)
        assert rp.publish("beta", "m") == 3
        assert rp.publish("alpha", "m") == 3
    finally:
        first.close()
        second.close()


def test_subscriber_shows_in_client_list_with_its_counts(rp: redis.Redis, pubsub: Any) -> None:
    pubsub.subscribe("a", "b")
    pubsub.psubscribe("p*")
    pubsub.ssubscribe("s")
    for _ in range(4):
        next_message(pubsub, ignore_subscribe=False)
    (entry,) = [c for c in rp.client_list() if c["cmd"] == "ssubscribe"]
    assert (entry["flags"], entry["sub"], entry["psub"], entry["ssub"]) == ("P", "2", "1", "1")
    assert entry["id"] in [c["id"] for c in rp.client_list(_type="pubsub")]
    assert entry["id"] not in [c["id"] for c in rp.client_list(_type="normal")]


def test_disconnected_subscriber_is_dropped_and_publish_keeps_working(
    rp: redis.Redis, server: ServerProcess
) -> None:
    staying = server.client().pubsub()
    leaving = server.client().pubsub()
    try:
        staying.subscribe("room")
        leaving.subscribe("room")
        leaving.psubscribe("r*")
        for p, n in ((staying, 1), (leaving, 2)):
            for _ in range(n):
                next_message(p, ignore_subscribe=False)
        assert rp.publish("room", "before") == 3
        leaving.close()
        wait_for(lambda: rp.pubsub_numsub("room") == [(b"room", 1)], "the subscriber to go")
        assert rp.pubsub_numpat() == 0
        assert rp.publish("room", "after") == 1
        assert [next_message(staying)["data"] for _ in range(2)] == [b"before", b"after"]
    finally:
        staying.close()
        leaving.close()


def test_client_kill_type_pubsub_closes_only_subscribers(rp: redis.Redis, pubsub: Any) -> None:
    pubsub.subscribe("k")
    next_message(pubsub, ignore_subscribe=False)
    assert rp.client_kill_filter(_type="pubsub") >= 1
    wait_for(lambda: rp.pubsub_numsub("k") == [(b"k", 0)], "the subscriber to be killed")
    assert rp.ping() is True


def raw(server: ServerProcess) -> RawConnection:
    return RawConnection(server.host, server.port)


@pytest.mark.usefixtures("r")
def test_resp2_subscriber_context_allows_only_subscription_commands(
    server: ServerProcess,
) -> None:
    conn = raw(server)
    try:
        conn.request(encode_command("SUBSCRIBE", "c"))
        error = conn.request(encode_command("GET", "k"))
        assert error.startswith(b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE")
        assert conn.request(encode_command("PING")) == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        assert conn.request(encode_command("PSUBSCRIBE", "x*")) == (
            b"*3\r\n$10\r\npsubscribe\r\n$2\r\nx*\r\n:2\r\n"
        )
        assert conn.request(encode_command("RESET")) == b"+RESET\r\n"
        assert conn.request(encode_command("GET", "k")) == b"$-1\r\n"
        assert conn.request(encode_command("PING")) == b"+PONG\r\n"
    finally:
        conn.close()


@pytest.mark.usefixtures("r")
def test_resp3_subscriber_runs_commands_and_sees_its_own_message_first(
    server: ServerProcess,
) -> None:
    conn = raw(server)
    try:
        conn.request(encode_command("HELLO", "3"))
        assert conn.request(encode_command("SUBSCRIBE", "me")) == (
            b">3\r\n$9\r\nsubscribe\r\n$2\r\nme\r\n:1\r\n"
        )
        assert conn.request(encode_command("SET", "k", "v")) == b"+OK\r\n"
        assert conn.request(encode_command("PUBLISH", "me", "hi")) == (
            b">3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$2\r\nhi\r\n"
        )
        assert conn.read_reply() == b":1\r\n"
        assert conn.request(encode_command("GET", "k")) == b"$1\r\nv\r\n"
        assert conn.request(encode_command("PING")) == b"+PONG\r\n"
    finally:
        conn.close()


@pytest.fixture
def output_limit(r: redis.Redis) -> Iterator[None]:
    saved = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    r.config_set("client-output-buffer-limit", "pubsub 1mb 0 0")
    yield
    r.config_set("client-output-buffer-limit", saved)


@pytest.mark.usefixtures("output_limit")
def test_slow_subscriber_is_disconnected_past_the_pubsub_output_limit(
    r: redis.Redis, server: ServerProcess
) -> None:
    """A subscriber that never reads is dropped once its pending output passes the pubsub hard
    limit; publishers and well-behaved subscribers carry on."""
    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # keep the kernel from hoarding
    slow.connect((server.host, server.port))
    good = server.client().pubsub()
    try:
        # Channel and patterns: the drop happens in the middle of a PUBLISH, whose later
        # deliveries must skip the subscriptions the drop removed.
        slow.sendall(encode_command("SUBSCRIBE", "flood") + encode_command("PSUBSCRIBE", "f*", "*"))
        good.subscribe("flood")
        next_message(good, ignore_subscribe=False)
        wait_for(lambda: r.pubsub_numsub("flood") == [(b"flood", 2)], "both subscribers")
        payload = b"x" * 65536
        receivers: list[int] = []
        # Half a MiB per round, which the good subscriber reads before the next one (so it
        # stays far below the limit), until the slow one's socket buffers and then its 1 MiB
        # are full.
        for _ in range(64):
            pipe = r.pipeline(transaction=False)
            for _ in range(8):
                pipe.publish("flood", payload)
            receivers += pipe.execute()
            for _ in range(8):
                assert next_message(good)["data"] == payload
            if receivers[-1] == 1:
                break
        assert receivers[0] == 4
        assert receivers[-1] == 1
        assert r.pubsub_numpat() == 0
        wait_for(lambda: r.pubsub_numsub("flood") == [(b"flood", 1)], "the slow subscriber to go")
        assert r.publish("flood", "still here") == 1
        assert next_message(good)["data"] == b"still here"
        assert r.ping() is True
    finally:
        slow.close()
        good.close()
