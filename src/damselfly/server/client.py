"""Per-connection state.

One `Client` per connection, created by the protocol when the socket is accepted. Handlers get the
client as their first argument and reach the server, the selected database and the per-command
time snapshot through it, so a handler never needs more than `(client, argv)`. The fields that
other families own (pub/sub subscriptions, the MULTI queue, blocking) live here too, declared in
one place, because CLIENT LIST, CLIENT KILL, RESET and the idle timeout all read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from damselfly.keyspace.database import Database
    from damselfly.server.server import Server

# CLIENT REPLY state, as bits of `Client.reply_flags` (0 = every reply is sent).
# OFF: nothing is sent until CLIENT REPLY ON. SKIP_NEXT: set by CLIENT REPLY SKIP; once that
# command has run it becomes SKIP, which drops exactly the next command's reply.
REPLY_OFF = 1
REPLY_SKIP_NEXT = 2
REPLY_SKIP = 4

# Client types, as CLIENT LIST TYPE / CLIENT KILL TYPE name them (Redis's getClientTypeByName).
TYPE_NORMAL = "normal"
TYPE_REPLICA = "replica"
TYPE_PUBSUB = "pubsub"
TYPE_MASTER = "master"
CLIENT_TYPES = {
    b"normal": TYPE_NORMAL,
    b"slave": TYPE_REPLICA,
    b"replica": TYPE_REPLICA,
    b"pubsub": TYPE_PUBSUB,
    b"master": TYPE_MASTER,
}


class Client:
    __slots__ = (
        "addr",
        "authenticated",
        "blocked",
        "close_after_reply",
        "created_ms",
        "db",
        "dirty_cas",
        "extra",
        "fd",
        "id",
        "laddr",
        "last_command",
        "last_interaction_ms",
        "lib_name",
        "lib_ver",
        "monitor",
        "postponed",
        "multi",
        "name",
        "no_evict",
        "no_touch",
        "reply_flags",
        "resp",
        "server",
        "subscribed",
        "transport",
        "unix",
        "user",
    )

    def __init__(self, server: Server, client_id: int, transport: Any) -> None:
        self.id = client_id
        self.server = server
        self.db: Database = server.dbs[0]
        self.resp = 2
        self.authenticated = not server.requires_auth()
        self.user = b"default"
        # Kept by server/pubsub.py: subscribed to any channel, pattern or shard channel.
        self.subscribed = False
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        # addr/laddr as CLIENT LIST prints them: "ip:port", or "<unixsocket path>:0".
        self.addr = ""
        self.laddr = ""
        self.fd = -1
        self.unix = False
        self.created_ms = server.clock.now_ms()
        self.last_interaction_ms = self.created_ms
        # The last command run, as CLIENT LIST's cmd= shows it ("NULL" before the first one).
        self.last_command = "NULL"  # the name of the last command run (CLIENT LIST cmd=)
        self.transport = transport
        # Close once the replies so far are written (QUIT, protocol error, CLIENT KILL of self);
        # commands pipelined after it are not run.
        self.close_after_reply = False
        self.reply_flags = 0
        self.no_evict = False
        self.no_touch = False
        self.monitor = False
        # The Waiter of a blocking command in progress (server/blocking.py), None otherwise.
        self.blocked: Any = None
        # True while CLIENT PAUSE holds this client's next command back.
        self.postponed = False
        # The MULTI queue (owned by the transactions family): None outside MULTI, else the
        # queued argvs. dirty_cas: a WATCHed key changed, so EXEC will fail.
        self.multi: list[list[bytes]] | None = None
        self.dirty_cas = False
        # Anything else later features hang on a connection: "protocol" is the ClientProtocol;
        # the pubsub family keeps "channels", "patterns" and "shard_channels" (dicts) here.
        self.extra: dict[str, Any] = {}

    @property
    def resp3(self) -> bool:
        return self.resp == 3

    @property
    def pubsub(self) -> bool:
        """Subscribed to something: RESP2 then only takes (un)subscribe, PING, QUIT, RESET."""
        return self.subscribed

    def subscriptions(self, kind: str) -> int:
        """How many "channels", "patterns" or "shard_channels" this client listens to."""
        return len(self.extra.get(kind, ()))

    @property
    def client_type(self) -> str:
        # MONITOR clients count as normal, as in Redis (they are not replicas).
        return TYPE_PUBSUB if self.pubsub else TYPE_NORMAL

    def select(self, index: int) -> None:
        self.db = self.server.dbs[index]

    def flags_text(self) -> str:
        """CLIENT LIST's flags= letters, in Redis's order; "N" when none applies."""
        letters = []
        if self.monitor:
            letters.append("O")
        if self.pubsub:
            letters.append("P")
        if self.multi is not None:
            letters.append("x")
        if self.blocked is not None or self.postponed:
            letters.append("b")
        if self.dirty_cas:
            letters.append("d")
        if self.close_after_reply:
            letters.append("c")
        if self.unix:
            letters.append("U")
        if self.no_evict:
            letters.append("e")
        if self.no_touch:
            letters.append("T")
        return "".join(letters) or "N"

    def idle_timeout_exempt(self) -> bool:
        """Clients the `timeout` setting never closes: they are waiting by design."""
        return self.monitor or self.blocked is not None or self.postponed or self.pubsub

    def kill(self) -> None:
        """Close this connection now (CLIENT KILL of another client, idle timeout).

        A command that ends its own connection sets `close_after_reply` instead, so that its
        reply is written first.
        """
        proto = self.extra.get("protocol")
        if proto is not None:
            proto.close()

    def write_push(self, data: bytes) -> None:
        """Bytes for this client that are not a reply to its own command (MONITOR, pub/sub)."""
        proto = self.extra.get("protocol")
        if proto is not None:
            proto.write_out_of_band(data)
