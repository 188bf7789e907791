"""Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO and the CLIENT container.

These act on the calling connection (its database, protocol version, name, authentication,
reply mode) or, for CLIENT LIST / KILL / PAUSE / UNBLOCK, on the server's table of connections.
Reply shapes, error texts and the order in which arguments are checked follow Redis 7.0; CLIENT
SETINFO and CLIENT NO-TOUCH follow Redis 7.2, whose clients (redis-py among them) send SETINFO
on every connect. Client-side caching (CLIENT TRACKING ON) is not implemented: GETREDIR,
TRACKINGINFO and CACHING answer as Redis does for a connection that has tracking off.
"""

from __future__ import annotations

from typing import Any

from damselfly import REDIS_VERSION, errors
from damselfly.commands.args import to_int
from damselfly.commands.spec import Cmd
from damselfly.errors import CommandError
from damselfly.protocol.types import NO_REPLY, OK, PONG, Map, Push, SetReply, Status, Verbatim
from damselfly.server.client import (
    CLIENT_TYPES,
    REPLY_OFF,
    REPLY_SKIP,
    REPLY_SKIP_NEXT,
    Client,
)

_C = "connection"
_INT_MIN = -(2**31)
_INT_MAX = 2**31 - 1
_LONG_MAX = 2**63 - 1

# -- PING, ECHO, QUIT, SELECT ------------------------------------------------------------------


def cmd_ping(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 2:
        raise CommandError(errors.WRONG_ARGS.format("ping"))
    if client.resp == 2 and client.pubsub:
        # RESP2 has no push type: a subscribed client gets PING's answer shaped like a message.
        return Push([b"pong", argv[1] if len(argv) == 2 else b""])
    return argv[1] if len(argv) == 2 else PONG


def cmd_echo(client: Client, argv: list[bytes]) -> Any:
    return argv[1]


def cmd_quit(client: Client, argv: list[bytes]) -> Any:
    client.close_after_reply = True
    return OK


def cmd_select(client: Client, argv: list[bytes]) -> Any:
    index = to_int(argv[1])
    if index is None:
        raise CommandError(errors.NOT_INTEGER)
    if not _INT_MIN <= index <= _INT_MAX:
        raise CommandError(errors.INT_OUT_OF_RANGE)
    if not 0 <= index < len(client.server.dbs):
        raise CommandError(errors.DB_INDEX_OUT_OF_RANGE)
    client.select(index)
    return OK


# -- authentication ------------------------------------------------------------------------------


def user_exists(client: Client, user: bytes) -> bool:
    """Only the default user exists until ACL users are added."""
    return user == b"default"


def authenticate(client: Client, user: bytes, password: bytes) -> bool:
    """Check a user/password pair; on success the connection runs as that user.

    The default user takes any password while `requirepass` is empty (Redis's `nopass`), and
    exactly `requirepass` otherwise. A failed attempt leaves an authenticated connection as it was.
    """
    if not user_exists(client, user):
        return False
    required = client.server.config["requirepass"]
    if required and password != required.encode():
        return False
    client.authenticated = True
    client.user = user
    return True


def cmd_auth(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        if not client.server.config["requirepass"]:
            raise CommandError(errors.AUTH_NOT_CONFIGURED)
        user, password = b"default", argv[1]
    else:
        user, password = argv[1], argv[2]
    if not authenticate(client, user, password):
        raise CommandError(errors.WRONGPASS)
    return OK


def cmd_hello(client: Client, argv: list[bytes]) -> Any:
    """HELLO [protover [AUTH user pass] [SETNAME name]].

    Like Redis 7.0, options take effect in order as they are read: a SETNAME before a bad
    option or a failed AUTH stays set. The protocol switches last, once authenticated.
    """
    version = client.resp
    j = 1
    if len(argv) >= 2:
        requested = to_int(argv[1])
        if requested is None:
            raise CommandError(errors.HELLO_PROTOVER_NOT_INT)
        if requested not in (2, 3):
            raise CommandError(errors.NOPROTO)
        version = requested
        j = 2
    n = len(argv)
    while j < n:
        more = n - j - 1
        option = argv[j].lower()
        if option == b"auth" and more >= 2:
            if not authenticate(client, argv[j + 1], argv[j + 2]):
                raise CommandError(errors.WRONGPASS)
            j += 3
        elif option == b"setname" and more >= 1:
            set_client_name(client, argv[j + 1])
            j += 2
        else:
            raise CommandError(errors.HELLO_BAD_OPTION.format(_text(argv[j])))
    if not client.authenticated:
        raise CommandError(errors.HELLO_NOAUTH)
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


def cmd_reset(client: Client, argv: list[bytes]) -> Any:
    """Back to a fresh connection's state; name, user, db, protocol and modes all reset.

    Kept, as in Redis 7.0: the connection id, CLIENT NO-EVICT and the library name/version.
    Transactions, subscriptions and the like are cleared by their families' reset hooks.
    """
    server = client.server
    if client.monitor:
        client.monitor = False
        if client in server.monitors:
            server.monitors.remove(client)
    client.select(0)
    client.resp = 2
    client.user = b"default"
    client.authenticated = not server.requires_auth()
    for hook in server.reset_hooks:
        hook(client)
    client.name = b""
    # A pending SKIP still drops RESET's own reply, as in Redis.
    client.reply_flags &= ~(REPLY_OFF | REPLY_SKIP_NEXT)
    return Status("RESET")


# -- CLIENT --------------------------------------------------------------------------------------


def _text(arg: bytes) -> str:
    return arg.decode("utf-8", "replace")


def _printable(value: bytes) -> bool:
    """CLIENT LIST is space separated, one client a line: values must be printable, no spaces."""
    return all(0x21 <= b <= 0x7E for b in value)


def set_client_name(client: Client, name: bytes) -> None:
    if not _printable(name):
        raise CommandError(errors.CLIENT_NAME_INVALID)
    client.name = name


def _subcommand_syntax(argv: list[bytes]) -> CommandError:
    return CommandError(errors.SUBCOMMAND_SYNTAX.format(_text(argv[1][:128]), "CLIENT"))


def _argv_len(argv: list[bytes]) -> int:
    return sum(len(a) for a in argv)


def _request_len(argv: list[bytes]) -> int:
    """Bytes `argv` takes as a RESP request: what Redis counts in the caller's qbuf."""
    total = len(b"*%d\r\n" % len(argv))
    for arg in argv:
        total += len(b"$%d\r\n" % len(arg)) + len(arg) + 2
    return total


def client_info_line(target: Client, caller: Client, argv: list[bytes]) -> str:
    """One CLIENT LIST line, fields in Redis 7.0's order.

    Memory figures are damselfly's own: qbuf is the unparsed input (plus the running command
    for the caller), argv-mem the arguments of the command running, blocked or held back,
    omem what the transport still has to send; the reply-buffer fields (rbs, rbp, obl, oll) are
    0 because replies are written straight to the transport.
    """
    now = caller.server.clock.now_ms()
    proto = target.extra.get("protocol")
    qbuf = proto.parser.pending() if proto is not None else 0
    omem = proto.transport.get_write_buffer_size() if proto is not None else 0
    if target is caller:
        current = argv
        qbuf += _request_len(argv)
        cmd = "client|" + _text(argv[1].lower())
    else:
        current = []
        if proto is not None:
            if target.blocked is not None:
                current = proto.waiting_argv
            elif target.postponed and proto.pending:
                current = proto.pending[0]
        cmd = target.last_command
    argv_mem = _argv_len(current)
    multi = target.multi
    multi_mem = sum(_argv_len(a) for a in multi) if multi else 0
    events = ""
    if proto is not None and not proto.reading_paused:
        events += "r"
    if omem:
        events += "w"
    return (
        f"id={target.id} addr={target.addr} laddr={target.laddr} fd={target.fd} "
        f"name={_text(target.name)} age={(now - target.created_ms) // 1000} "
        f"idle={(now - target.last_interaction_ms) // 1000} flags={target.flags_text()} "
        f"db={target.db.index} sub={target.subscriptions('channels')} "
        f"psub={target.subscriptions('patterns')} ssub={target.subscriptions('shard_channels')} "
        f"multi={-1 if multi is None else len(multi)} "
        f"qbuf={qbuf} qbuf-free=0 argv-mem={argv_mem} multi-mem={multi_mem} rbs=0 rbp=0 "
        f"obl=0 oll=0 omem={omem} tot-mem={qbuf + argv_mem + multi_mem + omem} "
        f"events={events} cmd={cmd} user={_text(target.user)} redir=-1 resp={target.resp}"
    )


def cmd_client_id(client: Client, argv: list[bytes]) -> Any:
    return client.id


def cmd_client_setname(client: Client, argv: list[bytes]) -> Any:
    set_client_name(client, argv[2])
    return OK


def cmd_client_getname(client: Client, argv: list[bytes]) -> Any:
    return client.name or None


def cmd_client_info(client: Client, argv: list[bytes]) -> Any:
    return Verbatim((client_info_line(client, client, argv) + "\n").encode())


def cmd_client_list(client: Client, argv: list[bytes]) -> Any:
    clients = client.server.clients
    n = len(argv)
    if n == 4 and argv[2].lower() == b"type":
        wanted = CLIENT_TYPES.get(argv[3].lower())
        if wanted is None:
            raise CommandError(errors.UNKNOWN_CLIENT_TYPE.format(_text(argv[3])))
        targets = [c for c in clients.values() if c.client_type == wanted]
    elif n > 3 and argv[2].lower() == b"id":
        # In the order asked, repeats included, unknown ids skipped (as Redis does).
        targets = []
        for arg in argv[3:]:
            client_id = to_int(arg)
            if client_id is None:
                raise CommandError(errors.INVALID_CLIENT_ID)
            found = clients.get(client_id)
            if found is not None:
                targets.append(found)
    elif n != 2:
        raise CommandError(errors.SYNTAX)
    else:
        targets = list(clients.values())
    text = "".join(client_info_line(c, client, argv) + "\n" for c in targets)
    return Verbatim(text.encode())


class _KillFilter:
    """CLIENT KILL's filters; a client is killed when it matches all that were given."""

    __slots__ = ("addr", "client_id", "client_type", "laddr", "skipme", "user")

    def __init__(self) -> None:
        self.client_id: int | None = None
        self.client_type: str | None = None
        self.addr: str | None = None
        self.laddr: str | None = None
        self.user: bytes | None = None
        self.skipme = True

    def matches(self, target: Client, caller: Client) -> bool:
        if self.client_id is not None and target.id != self.client_id:
            return False
        if self.client_type is not None and target.client_type != self.client_type:
            return False
        if self.addr is not None and target.addr != self.addr:
            return False
        if self.laddr is not None and target.laddr != self.laddr:
            return False
        if self.user is not None and target.user != self.user:
            return False
        return not (self.skipme and target is caller)


def _parse_kill_filter(client: Client, argv: list[bytes]) -> _KillFilter:
    filt = _KillFilter()
    n = len(argv)
    i = 2
    while i < n:
        option = argv[i].lower()
        if i + 1 >= n:
            raise CommandError(errors.SYNTAX)
        value = argv[i + 1]
        if option == b"id":
            client_id = to_int(value)
            if client_id is None or not 1 <= client_id <= _LONG_MAX:
                raise CommandError(errors.CLIENT_ID_NOT_POSITIVE)
            filt.client_id = client_id
        elif option == b"type":
            client_type = CLIENT_TYPES.get(value.lower())
            if client_type is None:
                raise CommandError(errors.UNKNOWN_CLIENT_TYPE.format(_text(value)))
            filt.client_type = client_type
        elif option == b"addr":
            filt.addr = _text(value)
        elif option == b"laddr":
            filt.laddr = _text(value)
        elif option == b"user":
            if not user_exists(client, value):
                raise CommandError(errors.NO_SUCH_USER.format(_text(value)))
            filt.user = value
        elif option == b"skipme":
            answer = value.lower()
            if answer == b"yes":
                filt.skipme = True
            elif answer == b"no":
                filt.skipme = False
            else:
                raise CommandError(errors.SYNTAX)
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    return filt


def cmd_client_kill(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 3:
        # The old form, CLIENT KILL ip:port: may kill the caller, answers OK or an error.
        filt = _KillFilter()
        filt.addr = _text(argv[2])
        filt.skipme = False
    else:
        filt = _parse_kill_filter(client, argv)
    killed = 0
    for target in list(client.server.clients.values()):
        if not filt.matches(target, client):
            continue
        killed += 1
        if target is client:
            client.close_after_reply = True
        else:
            target.kill()
    if len(argv) == 3:
        if not killed:
            raise CommandError(errors.NO_SUCH_CLIENT)
        return OK
    return killed


def _on_off(arg: bytes) -> bool:
    word = arg.lower()
    if word == b"on":
        return True
    if word == b"off":
        return False
    raise CommandError(errors.SYNTAX)


def cmd_client_no_evict(client: Client, argv: list[bytes]) -> Any:
    client.no_evict = _on_off(argv[2])
    return OK


def cmd_client_no_touch(client: Client, argv: list[bytes]) -> Any:
    client.no_touch = _on_off(argv[2])
    return OK


def cmd_client_setinfo(client: Client, argv: list[bytes]) -> Any:
    attr, value = argv[2], argv[3]
    which = attr.lower()
    if which not in (b"lib-name", b"lib-ver"):
        raise CommandError(errors.CLIENT_SETINFO_BAD_ATTR.format(_text(attr)))
    if not _printable(value):
        raise CommandError(errors.CLIENT_ATTR_INVALID.format(_text(attr)))
    if which == b"lib-name":
        client.lib_name = value
    else:
        client.lib_ver = value
    return OK


def cmd_client_reply(client: Client, argv: list[bytes]) -> Any:
    """ON answers OK; OFF and SKIP answer nothing (the protocol applies the flags after this)."""
    mode = argv[2].lower()
    if mode == b"on":
        client.reply_flags &= ~(REPLY_OFF | REPLY_SKIP)
        return OK
    if mode == b"off":
        client.reply_flags |= REPLY_OFF
        return NO_REPLY
    if mode == b"skip":
        if not client.reply_flags & REPLY_OFF:
            client.reply_flags |= REPLY_SKIP_NEXT
        return NO_REPLY
    raise CommandError(errors.SYNTAX)


def cmd_client_pause(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 4:
        raise _subcommand_syntax(argv)
    pause_all = True
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode == b"write":
            pause_all = False
        elif mode != b"all":
            raise CommandError(errors.PAUSE_BAD_MODE)
    timeout = to_int(argv[2])
    if timeout is None:
        raise CommandError(errors.TIMEOUT_NOT_INTEGER)
    if timeout < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    server = client.server
    server.pause(server.clock.now_ms() + timeout, pause_all)
    return OK


def cmd_client_unpause(client: Client, argv: list[bytes]) -> Any:
    client.server.unpause()
    return OK


def cmd_client_unblock(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 4:
        raise _subcommand_syntax(argv)
    as_error = False
    if len(argv) == 4:
        reason = argv[3].lower()
        if reason == b"error":
            as_error = True
        elif reason != b"timeout":
            raise CommandError(errors.UNBLOCK_BAD_REASON)
    client_id = to_int(argv[2])
    if client_id is None:
        raise CommandError(errors.NOT_INTEGER)
    target = client.server.clients.get(client_id)
    # Only a client in a blocking command can be woken; one held by CLIENT PAUSE cannot.
    blocking = client.server.blocking
    if target is None or target.blocked is None:
        return 0
    return 1 if blocking.client_unblock(target, as_error) else 0


def cmd_client_tracking(client: Client, argv: list[bytes]) -> Any:
    """Options are checked like Redis; turning tracking on is refused (not implemented)."""
    redirect = 0
    bcast = optin = optout = False
    prefixes = 0
    n = len(argv)
    j = 3
    while j < n:
        option = argv[j].lower()
        more = j + 1 < n
        if option == b"redirect" and more:
            j += 1
            if redirect:
                raise CommandError(errors.TRACKING_ONE_REDIRECT)
            target = to_int(argv[j])
            if target is None:
                raise CommandError(errors.NOT_INTEGER)
            if target not in client.server.clients:
                raise CommandError(errors.TRACKING_NO_REDIRECT_CLIENT)
            redirect = target
        elif option == b"bcast":
            bcast = True
        elif option == b"optin":
            optin = True
        elif option == b"optout":
            optout = True
        elif option == b"noloop":
            pass
        elif option == b"prefix" and more:
            j += 1
            prefixes += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    status = argv[2].lower()
    if status == b"off":
        return OK
    if status != b"on":
        raise CommandError(errors.SYNTAX)
    if prefixes and not bcast:
        raise CommandError(errors.TRACKING_PREFIX_NEEDS_BCAST)
    if bcast and (optin or optout):
        raise CommandError(errors.TRACKING_BCAST_OPTIN)
    if optin and optout:
        raise CommandError(errors.TRACKING_OPTIN_OPTOUT)
    raise CommandError(errors.TRACKING_UNSUPPORTED)


def cmd_client_caching(client: Client, argv: list[bytes]) -> Any:
    # Tracking is never on, so this is always the error Redis gives without tracking.
    raise CommandError(errors.CACHING_WITHOUT_TRACKING)


def cmd_client_getredir(client: Client, argv: list[bytes]) -> Any:
    return -1


def cmd_client_trackinginfo(client: Client, argv: list[bytes]) -> Any:
    return Map([(b"flags", SetReply([b"off"])), (b"redirect", -1), (b"prefixes", [])])


_CLIENT_HELP = [
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Only with tracking in OPTIN/OPTOUT mode, which damselfly does not implement.",
    "GETNAME",
    "    The name of this connection, or nil.",
    "GETREDIR",
    "    The id tracking notifications are redirected to (-1: tracking is off).",
    "HELP",
    "    This text.",
    "ID",
    "    The id of this connection.",
    "INFO",
    "    This connection's line of CLIENT LIST.",
    "KILL <ip:port>",
    "    Close the connection from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Close every connection that matches all the filters; replies with how many:",
    "    * ID <client-id>",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "    * USER <username>",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Address of the client end of the connection.",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Address of the server end of the connection.",
    "    * SKIPME (YES|NO)",
    "      Spare the connection sending the command (default: YES).",
    "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <client-id> [...]]",
    "    One line of details per connection, all or those selected.",
    "NO-EVICT (ON|OFF)",
    "    Mark this connection as exempt from client eviction.",
    "NO-TOUCH (ON|OFF)",
    "    With ON, this connection's commands do not update keys' last access time.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Hold back commands from all clients (or only writes) for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Turn replies to this connection on or off, or drop the next one.",
    "SETINFO <LIB-NAME|LIB-VER> <value>",
    "    Record the client library's name or version for CLIENT LIST.",
    "SETNAME <name>",
    "    Name this connection.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Client-side caching; damselfly accepts only OFF.",
    "TRACKINGINFO",
    "    This connection's tracking state.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Wake a client blocked in a blocking command, as on timeout or with an error.",
    "UNPAUSE",
    "    End a CLIENT PAUSE now.",
]


def cmd_client_help(client: Client, argv: list[bytes]) -> Any:
    return [Status(line) for line in _CLIENT_HELP]


# -- declarations --------------------------------------------------------------------------------

_CLIENT_STATE = "noscript loading stale"
_CLIENT_ADMIN = "admin noscript loading stale"


def _sub(
    name: str, arity: int, flags: str, handler: Any, summary: str, since: str, **kw: Any
) -> Any:
    return Cmd(
        "client|" + name, arity, flags, handler, group=_C, summary=summary, since=since, **kw
    )


COMMANDS = [
    Cmd("ping", -1, "fast sentinel", cmd_ping, group=_C, since="1.0.0",
        summary="Checks that the server answers; replies PONG or the given message.",
        args="[message:string]", tips="request_policy:all_shards response_policy:all_succeeded"),
    Cmd("echo", 2, "loading stale fast", cmd_echo, group=_C, since="1.0.0",
        summary="Replies with the message it was sent.", args="message:string"),
    Cmd("quit", -1, "noscript loading stale fast no_auth allow_busy", cmd_quit, group=_C,
        since="1.0.0", summary="Replies OK, then closes the connection."),
    Cmd("select", 2, "loading stale fast", cmd_select, group=_C, since="1.0.0",
        summary="Switches the connection to another numbered database.", args="index:integer"),
    Cmd("auth", -2, "noscript loading stale fast no_auth sentinel allow_busy", cmd_auth,
        group=_C, since="1.0.0", complexity="O(N) where N is the number of passwords of the user",
        summary="Logs the connection in as a user (the default user when none is named).",
        args="[username:string] password:string"),
    Cmd("hello", -1, "noscript loading stale fast no_auth sentinel allow_busy", cmd_hello,
        group=_C, since="6.0.0",
        summary="Picks the protocol version, optionally logs in and names the connection; "
        "replies with server details.",
        args="[arguments= protover:integer [username_password= AUTH username:string "
        "password:string] [SETNAME clientname:string]]"),
    Cmd("reset", 1, "noscript loading stale fast no_auth allow_busy", cmd_reset, group=_C,
        since="6.2.0",
        summary="Returns the connection to the state of a new one (database, protocol, name, "
        "user, modes)."),
    Cmd("client", -2, "", None, group=_C, since="2.4.0", complexity="Depends on subcommand.",
        summary="A container for the commands about connections.", subcommands=[
            _sub("caching", 3, _CLIENT_STATE, cmd_client_caching, since="6.0.0",
                 summary="Tells tracking in OPTIN/OPTOUT mode whether to track the next "
                 "command's keys.", args="(mode= YES|NO)"),
            _sub("getname", 2, _CLIENT_STATE, cmd_client_getname, since="2.6.9",
                 summary="Returns the name of the connection, or nil."),
            _sub("getredir", 2, _CLIENT_STATE, cmd_client_getredir, since="6.0.0",
                 summary="Returns the id tracking notifications are redirected to."),
            _sub("help", 2, "loading stale", cmd_client_help, since="5.0.0",
                 summary="Lists the CLIENT subcommands with a line on each."),
            _sub("id", 2, _CLIENT_STATE, cmd_client_id, since="5.0.0",
                 summary="Returns the unique id of the connection."),
            _sub("info", 2, _CLIENT_STATE, cmd_client_info, since="6.2.0",
                 summary="Returns the CLIENT LIST line of this connection.",
                 tips="nondeterministic_output"),
            _sub("kill", -3, _CLIENT_ADMIN, cmd_client_kill, since="2.4.0",
                 complexity="O(N) where N is the number of connections",
                 summary="Closes the connections matching an address or a set of filters.",
                 args="(filter= ip:port:string|(new-format= [ID client-id:integer]|"
                 "[TYPE (normal_master_slave_pubsub= NORMAL|MASTER|SLAVE|REPLICA|PUBSUB)]|"
                 "[USER username:string]|[ADDR ip:port:string]|[LADDR ip:port:string]|"
                 "[SKIPME yes/no:string]) ...)"),
            _sub("list", -2, _CLIENT_ADMIN, cmd_client_list, since="2.4.0",
                 complexity="O(N) where N is the number of connections",
                 summary="Describes every connection, or those of a type or with given ids.",
                 args="[TYPE (normal_master_replica_pubsub= NORMAL|MASTER|REPLICA|PUBSUB)] "
                 "[ID (client-id:integer ...)]", tips="nondeterministic_output"),
            _sub("no-evict", 3, _CLIENT_ADMIN, cmd_client_no_evict, since="7.0.0",
                 summary="Exempts the connection from client eviction, or ends the exemption.",
                 args="(enabled= ON|OFF)"),
            _sub("no-touch", 3, _CLIENT_STATE, cmd_client_no_touch, since="7.2.0",
                 summary="Stops (or resumes) this connection's commands updating keys' "
                 "access time.", args="(enabled= ON|OFF)"),
            _sub("pause", -3, _CLIENT_ADMIN, cmd_client_pause, since="2.9.50",
                 summary="Holds back commands of all clients, or only their writes, for a "
                 "number of milliseconds.", args="timeout:integer [mode= WRITE|ALL]"),
            _sub("reply", 3, _CLIENT_STATE, cmd_client_reply, since="3.2.0",
                 summary="Turns replies to this connection off, on, or off for the next "
                 "command.", args="(on_off_skip= ON|OFF|SKIP)"),
            _sub("setinfo", 4, _CLIENT_STATE, cmd_client_setinfo, since="7.2.0",
                 summary="Records the client library's name or version for CLIENT LIST.",
                 args="(attr= LIB-NAME libname:string|LIB-VER libver:string)"),
            _sub("setname", 3, _CLIENT_STATE, cmd_client_setname, since="2.6.9",
                 summary="Names the connection (an empty name removes it).",
                 args="connection-name:string"),
            _sub("tracking", -3, _CLIENT_STATE, cmd_client_tracking, since="6.0.0",
                 complexity="O(1). Some options may introduce additional complexity.",
                 summary="Turns server-assisted client-side caching on or off.",
                 args="(status= ON|OFF) [REDIRECT client-id:integer] [PREFIX prefix:string]... "
                 "[BCAST] [OPTIN] [OPTOUT] [NOLOOP]"),
            _sub("trackinginfo", 2, _CLIENT_STATE, cmd_client_trackinginfo, since="6.2.0",
                 summary="Describes the connection's client-side caching state."),
            _sub("unblock", -3, _CLIENT_ADMIN, cmd_client_unblock, since="5.0.0",
                 complexity="O(log N) where N is the number of connections",
                 summary="Wakes a client blocked in a blocking command, as on timeout or with "
                 "an error.", args="client-id:integer [timeout_error= TIMEOUT|ERROR]"),
            _sub("unpause", 2, _CLIENT_ADMIN, cmd_client_unpause, since="6.2.0",
                 complexity="O(N) where N is the number of paused clients",
                 summary="Ends a CLIENT PAUSE before its time."),
        ]),
]  # fmt: skip
