"""Pub/Sub state: who listens to which channel, pattern and shard channel; message delivery.

Subscribers are kept per channel in insertion order (a dict used as an ordered set), so a message
reaches subscribers in the order they subscribed, like Redis. Each client keeps its own sets
(`client.extra["channels"|"patterns"|"shard_channels"]`) so unsubscribing all and disconnecting
are O(own subscriptions). Pattern subscriptions are few in practice; PUBLISH checks each pattern
with the same glob matcher KEYS uses.

A message is encoded once per protocol version and handed to each subscriber's connection, which
places it after the replies it has already produced in the current batch (so a client publishing
to itself sees the message before PUBLISH's reply, as with Redis). A keyspace notification carries
its event name along, because some commands announce to their own client only after replying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from damselfly.keyspace.glob import compile_glob
from damselfly.protocol.encoder import encode_one
from damselfly.protocol.types import Push

if TYPE_CHECKING:
    from damselfly.server.client import Client


def client_set(client: Client, kind: str) -> dict[bytes, None]:
    found: dict[bytes, None] | None = client.extra.get(kind)
    if found is None:
        found = client.extra[kind] = {}
    return found


def subscription_count(client: Client) -> int:
    """What SUBSCRIBE/PSUBSCRIBE replies count: channels plus patterns of this client."""
    return len(client.extra.get("channels", ())) + len(client.extra.get("patterns", ()))


def in_subscriber_mode(client: Client) -> bool:
    extra = client.extra
    return bool(extra.get("channels") or extra.get("patterns") or extra.get("shard_channels"))


class PubSub:
    __slots__ = ("channels", "patterns", "shard_channels", "matchers")

    def __init__(self) -> None:
        self.channels: dict[bytes, dict[Client, None]] = {}
        self.shard_channels: dict[bytes, dict[Client, None]] = {}
        self.patterns: dict[bytes, dict[Client, None]] = {}
        self.matchers: dict[bytes, Any] = {}

    def subscribe(self, client: Client, channel: bytes, kind: str) -> bool:
        table = self._table(kind)
        mine = client_set(client, kind)
        if channel in mine:
            return False
        mine[channel] = None
        client.subscribed = True
        table.setdefault(channel, {})[client] = None
        if kind == "patterns" and channel not in self.matchers:
            self.matchers[channel] = compile_glob(channel)
        return True

    def unsubscribe(self, client: Client, channel: bytes, kind: str) -> bool:
        mine = client.extra.get(kind)
        if not mine or channel not in mine:
            return False
        del mine[channel]
        client.subscribed = in_subscriber_mode(client)
        table = self._table(kind)
        subscribers = table.get(channel)
        if subscribers is not None:
            subscribers.pop(client, None)
            if not subscribers:
                del table[channel]
                if kind == "patterns":
                    self.matchers.pop(channel, None)
        return True

    def client_gone(self, client: Client) -> None:
        for kind in ("channels", "patterns", "shard_channels"):
            for channel in list(client.extra.get(kind, ())):
                self.unsubscribe(client, channel, kind)

    def _table(self, kind: str) -> dict[bytes, dict[Client, None]]:
        if kind == "channels":
            return self.channels
        if kind == "patterns":
            return self.patterns
        return self.shard_channels

    def publish(
        self, channel: bytes, message: bytes, shard: bool = False, event: str | None = None
    ) -> int:
        """Deliver to channel subscribers, then pattern subscribers; the count of deliveries.

        `event` names the keyspace event a notification carries: the connection of the client
        whose command caused it may hold it until that command's reply (server/notify.py).
        """
        receivers = 0
        cache: dict[int, bytes] = {}
        kind = b"smessage" if shard else b"message"
        table = self.shard_channels if shard else self.channels
        subscribers = table.get(channel)
        if subscribers:
            payload = Push([kind, channel, message])
            for client in list(subscribers):
                _deliver(client, payload, cache, event)
                receivers += 1
        if not shard and self.patterns:
            # Snapshots: a delivery can drop its client (output buffer limit), which removes
            # its subscriptions, patterns included, while this loop runs.
            for pattern, clients in list(self.patterns.items()):
                matcher = self.matchers.get(pattern)
                if matcher is None or not matcher(channel):
                    continue
                payload = Push([b"pmessage", pattern, channel, message])
                pcache: dict[int, bytes] = {}
                for client in list(clients):
                    _deliver(client, payload, pcache, event)
                    receivers += 1
        return receivers


def _deliver(client: Client, payload: Push, cache: dict[int, bytes], event: str | None) -> None:
    data = cache.get(client.resp)
    if data is None:
        data = cache[client.resp] = encode_one(payload, client.resp == 3)
    proto = client.extra.get("protocol")
    if proto is not None:
        proto.deliver_message(data, event)
