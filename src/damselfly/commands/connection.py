"""Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO and CLIENT."""

from __future__ import annotations

from typing import Any

from damselfly import REDIS_VERSION, errors
from damselfly.commands.args import to_int
from damselfly.commands.spec import Cmd
from damselfly.errors import CommandError
from damselfly.protocol.types import OK, PONG, Map, Push, Status
from damselfly.server.client import Client

_C = "connection"


def cmd_ping(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 2:
        raise CommandError(errors.WRONG_ARGS.format("ping"))
    if client.extra.get("subscriptions") and client.resp == 2:
        return Push([b"pong", argv[1] if len(argv) == 2 else b""])
    return argv[1] if len(argv) == 2 else PONG


def cmd_echo(client: Client, argv: list[bytes]) -> Any:
    return argv[1]


def cmd_quit(client: Client, argv: list[bytes]) -> Any:
    client.close_after_reply = True
    return OK


def cmd_select(client: Client, argv: list[bytes]) -> Any:
    index = to_int(argv[1])
    if index is None or not -(2**31) <= index < 2**31:
        raise CommandError(errors.INVALID_DB_INDEX)
    if index < 0 or index >= len(client.server.dbs):
        raise CommandError(errors.DB_INDEX_OUT_OF_RANGE)
    client.select(index)
    return OK


def check_password(client: Client, user: bytes, password: bytes) -> bool:
    required = client.server.config["requirepass"]
    if user != b"default":
        return False
    if not required:
        return True
    return password == required.encode()


def cmd_auth(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        if not client.server.config["requirepass"]:
            raise CommandError(errors.AUTH_NOT_CONFIGURED)
        user, password = b"default", argv[1]
    else:
        user, password = argv[1], argv[2]
    if not check_password(client, user, password):
        raise CommandError(errors.WRONGPASS)
    client.authenticated = True
    client.user = user
    return OK


def cmd_hello(client: Client, argv: list[bytes]) -> Any:
    version = client.resp
    j = 1
    if len(argv) >= 2:
        ver = to_int(argv[1])
        if ver is None:
            raise CommandError("ERR Protocol version is not an integer or out of range")
        if ver < 2 or ver > 3:
            raise CommandError(errors.NOPROTO)
        version = ver
        j = 2
    name: bytes | None = None
    while j < len(argv):
        opt = argv[j].upper()
        more = len(argv) - j - 1
        if opt == b"AUTH" and more >= 2:
            if not check_password(client, argv[j + 1], argv[j + 2]):
                raise CommandError(errors.WRONGPASS)
            client.authenticated = True
            client.user = argv[j + 1]
            j += 3
        elif opt == b"SETNAME" and more >= 1:
            validate_client_name(argv[j + 1])
            name = argv[j + 1]
            j += 2
        else:
            raise CommandError(
                "ERR Syntax error in HELLO option '%s'" % argv[j].decode("utf-8", "replace")
            )
    if not client.authenticated:
        raise CommandError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
            "select the RESP protocol version at the same time"
        )
    if name is not None:
        client.name = name
    client.resp = version
    return Map(
        [
            (b"server", b"redis"),
            (b"version", REDIS_VERSION.encode()),
            (b"proto", version),
            (b"id", client.id),
            (b"mode", b"standalone"),
            (b"role", b"master"),
            (b"modules", []),
        ]
    )


def validate_client_name(name: bytes) -> None:
    for b in name:
        if b < 0x21 or b > 0x7E:
            raise CommandError("ERR Client names cannot contain spaces, newlines or special characters.")


def cmd_reset(client: Client, argv: list[bytes]) -> Any:
    client.select(0)
    client.resp = 2
    client.name = b""
    client.reply_mode = 0
    client.no_evict = False
    client.no_touch = False
    client.authenticated = not client.server.requires_auth()
    client.user = b"default"
    if client.monitor:
        client.monitor = False
        if client in client.server.monitors:
            client.server.monitors.remove(client)
    for hook in client.server.reset_hooks:
        hook(client)
    return Status("RESET")


COMMANDS = [
    Cmd("ping", -1, "fast sentinel", cmd_ping, group=_C, since="1.0.0",
        summary="Returns the server's liveliness response.", args="[message:string]"),
    Cmd("echo", 2, "fast", cmd_echo, group=_C, since="1.0.0",
        summary="Returns the given string.", args="message:string"),
    Cmd("quit", -1, "allow_busy noscript loading stale fast no_auth", cmd_quit, group=_C,
        since="1.0.0", summary="Closes the connection.", doc_flags=("deprecated",)),
    Cmd("select", 2, "loading stale fast", cmd_select, group=_C, since="1.0.0",
        summary="Changes the selected database.", args="index:integer"),
    Cmd("auth", -2, "noscript loading stale fast no_auth sentinel allow_busy", cmd_auth,
        group=_C, since="1.0.0", summary="Authenticates the connection.",
        args="[username:string] password:string"),
    Cmd("hello", -1, "noscript loading stale fast no_auth sentinel allow_busy", cmd_hello,
        group=_C, since="6.0.0", summary="Handshakes with the server.",
        args="[arguments= protover:integer [AUTH username:string password:string] "
        "[SETNAME clientname:string]]"),
    Cmd("reset", 1, "noscript loading stale fast no_auth allow_busy", cmd_reset, group=_C,
        since="6.2.0", summary="Resets the connection."),
]
