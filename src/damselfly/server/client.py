"""Per-connection state.

One `Client` per connection, created by the protocol when the socket is accepted. Handlers get the
client as their first argument and reach the server, the selected database and the per-command
time snapshot through it, so a handler never needs more than `(client, argv)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from damselfly.keyspace.database import Database
    from damselfly.server.server import Server

REPLY_ON = 0
REPLY_OFF = 1
REPLY_SKIP = 2


class Client:
    __slots__ = (
        "id",
        "server",
        "db",
        "resp",
        "authenticated",
        "user",
        "name",
        "lib_name",
        "lib_ver",
        "addr",
        "laddr",
        "fd",
        "created_ms",
        "last_interaction_ms",
        "last_command",
        "transport",
        "close_after_reply",
        "reply_mode",
        "no_evict",
        "no_touch",
        "flags",
        "monitor",
        "kill_requested",
        "unix",
        "query_buffer_size",
        "output_pending",
        "extra",
    )

    def __init__(self, server: Server, client_id: int, transport: Any) -> None:
        self.id = client_id
        self.server = server
        self.db: Database = server.dbs[0]
        self.resp = 2
        self.authenticated = not server.requires_auth()
        self.user = b"default"
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.addr = ""
        self.laddr = ""
        self.fd = -1
        self.created_ms = server.clock.now_ms()
        self.last_interaction_ms = self.created_ms
        self.last_command = b"NULL"
        self.transport = transport
        self.close_after_reply = False
        self.reply_mode = REPLY_ON
        self.no_evict = False
        self.no_touch = False
        self.flags = ""
        self.monitor = False
        self.kill_requested = False
        self.unix = False
        self.query_buffer_size = 0
        self.output_pending = 0
        # State that later features hang on a client (transactions, pub/sub, blocking).
        self.extra: dict[str, Any] = {}

    @property
    def resp3(self) -> bool:
        return self.resp == 3

    def select(self, index: int) -> None:
        self.db = self.server.dbs[index]
