"""Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB.

Subscribing replies once per channel, so these handlers write every confirmation but the last
as out-of-band pushes and return the last one as the command's reply (a RESP3 push or a RESP2
array). In RESP2 a client with subscriptions may only run the commands Redis allows in that
context; dispatch enforces that.
"""

from __future__ import annotations

from typing import Any

from damselfly import errors
from damselfly.commands.spec import Cmd, key_spec
from damselfly.errors import CommandError
from damselfly.keyspace.glob import compile_glob
from damselfly.protocol.encoder import encode_one
from damselfly.protocol.types import NO_REPLY, Push, Status
from damselfly.server.client import Client
from damselfly.server.pubsub import subscription_count

_P = "pubsub"


def _confirm(client: Client, replies: list[Push]) -> Any:
    """Send all confirmations in order: each is a separate push in RESP3 / array in RESP2."""
    proto = client.extra.get("protocol")
    for reply in replies[:-1]:
        if proto is not None:
            proto.write_out_of_band(encode_one(reply, client.resp == 3))
    return replies[-1] if replies else NO_REPLY


def _subscribe(client: Client, argv: list[bytes], kind: str, verb: bytes) -> Any:
    pubsub = client.server.pubsub
    replies = []
    for channel in argv[1:]:
        pubsub.subscribe(client, channel, kind)
        count = (
            len(client.extra.get("shard_channels", ()))
            if kind == "shard_channels"
            else subscription_count(client)
        )
        replies.append(Push([verb, channel, count]))
    return _confirm(client, replies)


def _unsubscribe(client: Client, argv: list[bytes], kind: str, verb: bytes) -> Any:
    pubsub = client.server.pubsub
    channels = argv[1:] or list(client.extra.get(kind, ()))

    def count() -> int:
        if kind == "shard_channels":
            return len(client.extra.get("shard_channels", ()))
        return subscription_count(client)

    if not channels:
        return Push([verb, None, count()])
    replies = []
    for channel in channels:
        pubsub.unsubscribe(client, channel, kind)
        replies.append(Push([verb, channel, count()]))
    return _confirm(client, replies)


def cmd_subscribe(client: Client, argv: list[bytes]) -> Any:
    return _subscribe(client, argv, "channels", b"subscribe")


def cmd_psubscribe(client: Client, argv: list[bytes]) -> Any:
    return _subscribe(client, argv, "patterns", b"psubscribe")


def cmd_ssubscribe(client: Client, argv: list[bytes]) -> Any:
    return _subscribe(client, argv, "shard_channels", b"ssubscribe")


def cmd_unsubscribe(client: Client, argv: list[bytes]) -> Any:
    return _unsubscribe(client, argv, "channels", b"unsubscribe")


def cmd_punsubscribe(client: Client, argv: list[bytes]) -> Any:
    return _unsubscribe(client, argv, "patterns", b"punsubscribe")


def cmd_sunsubscribe(client: Client, argv: list[bytes]) -> Any:
    return _unsubscribe(client, argv, "shard_channels", b"sunsubscribe")


def cmd_publish(client: Client, argv: list[bytes]) -> Any:
    return client.server.pubsub.publish(argv[1], argv[2])


def cmd_spublish(client: Client, argv: list[bytes]) -> Any:
    return client.server.pubsub.publish(argv[1], argv[2], shard=True)


def _channels(table: dict[bytes, Any], argv: list[bytes]) -> Any:
    if len(argv) > 3:
        # Redis checks this count in the handler, hence its generic subcommand error.
        sub = argv[1][:128].decode("utf-8", "surrogateescape")
        raise CommandError(errors.SUBCOMMAND_SYNTAX.format(sub, "PUBSUB"))
    if len(argv) == 3:
        match = compile_glob(argv[2])
        return [name for name in table if match(name)]
    return list(table)


def cmd_pubsub_channels(client: Client, argv: list[bytes]) -> Any:
    return _channels(client.server.pubsub.channels, argv)


def cmd_pubsub_shardchannels(client: Client, argv: list[bytes]) -> Any:
    return _channels(client.server.pubsub.shard_channels, argv)


def cmd_pubsub_numsub(client: Client, argv: list[bytes]) -> Any:
    table = client.server.pubsub.channels
    out: list[Any] = []
    for channel in argv[2:]:
        out += [channel, len(table.get(channel, ()))]
    return out


def cmd_pubsub_shardnumsub(client: Client, argv: list[bytes]) -> Any:
    table = client.server.pubsub.shard_channels
    out: list[Any] = []
    for channel in argv[2:]:
        out += [channel, len(table.get(channel, ()))]
    return out


def cmd_pubsub_numpat(client: Client, argv: list[bytes]) -> Any:
    return len(client.server.pubsub.patterns)


PUBSUB_HELP = [
    Status(line)
    for line in (
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    )
]


def cmd_pubsub_help(client: Client, argv: list[bytes]) -> Any:
    return list(PUBSUB_HELP)


_SUB_FLAGS = "pubsub noscript loading stale"

COMMANDS = [
    Cmd(
        "subscribe",
        -2,
        _SUB_FLAGS,
        cmd_subscribe,
        group=_P,
        since="2.0.0",
        summary="Listens for messages published to channels.",
        complexity="O(N) where N is the number of channels to subscribe to.",
        args="channel:string ...",
    ),
    Cmd(
        "psubscribe",
        -2,
        _SUB_FLAGS,
        cmd_psubscribe,
        group=_P,
        since="2.0.0",
        summary="Listens for messages published to channels that match patterns.",
        complexity="O(N) where N is the number of patterns to subscribe to.",
        args="(pattern:block= pattern:pattern) ...",
    ),
    Cmd(
        "ssubscribe",
        -2,
        _SUB_FLAGS,
        cmd_ssubscribe,
        keys=(1, -1, 1),
        key_specs=(key_spec("not_key", index=1, lastkey=-1),),
        group=_P,
        since="7.0.0",
        summary="Listens for messages published to shard channels.",
        complexity="O(N) where N is the number of shard channels to subscribe to.",
        args="shardchannel:string ...",
    ),
    Cmd(
        "unsubscribe",
        -1,
        _SUB_FLAGS,
        cmd_unsubscribe,
        group=_P,
        since="2.0.0",
        summary="Stops listening to channels (all of them when none is named).",
        complexity="O(N) where N is the number of channels to unsubscribe.",
        args="[channel:string ...]",
    ),
    Cmd(
        "punsubscribe",
        -1,
        _SUB_FLAGS,
        cmd_punsubscribe,
        group=_P,
        since="2.0.0",
        summary="Stops listening to patterns (all of them when none is named).",
        complexity="O(N+M)",
        args="[pattern:pattern ...]",
    ),
    Cmd(
        "sunsubscribe",
        -1,
        _SUB_FLAGS,
        cmd_sunsubscribe,
        keys=(1, -1, 1),
        key_specs=(key_spec("not_key", index=1, lastkey=-1),),
        group=_P,
        since="7.0.0",
        summary="Stops listening to shard channels (all when none is named).",
        complexity="O(N) where N is the number of shard channels to unsubscribe.",
        args="[shardchannel:string ...]",
    ),
    Cmd(
        "publish",
        3,
        "pubsub loading stale fast may_replicate",
        cmd_publish,
        group=_P,
        since="2.0.0",
        summary="Posts a message to a channel; returns how many received it.",
        complexity="O(N+M)",
        args="channel:string message:string",
    ),
    Cmd(
        "spublish",
        3,
        "pubsub loading stale fast may_replicate",
        cmd_spublish,
        keys=(1, 1, 1),
        key_specs=(key_spec("not_key", index=1),),
        group=_P,
        since="7.0.0",
        summary="Posts a message to a shard channel; returns how many received it.",
        complexity="O(N)",
        args="shardchannel:string message:string",
    ),
    Cmd(
        "pubsub",
        -2,
        "",
        None,
        group=_P,
        since="2.8.0",
        summary="A container for Pub/Sub introspection commands.",
        complexity="Depends on subcommand.",
        subcommands=[
            Cmd(
                "pubsub|channels",
                -2,
                "pubsub loading stale",
                cmd_pubsub_channels,
                group=_P,
                since="2.8.0",
                summary="Returns the active channels, optionally matching a pattern.",
                complexity="O(N)",
                args="[pattern:pattern]",
            ),
            Cmd(
                "pubsub|numpat",
                2,
                "pubsub loading stale",
                cmd_pubsub_numpat,
                group=_P,
                since="2.8.0",
                summary="Returns the number of pattern subscriptions.",
            ),
            Cmd(
                "pubsub|numsub",
                -2,
                "pubsub loading stale",
                cmd_pubsub_numsub,
                group=_P,
                since="2.8.0",
                summary="Returns the subscriber counts of channels.",
                complexity="O(N) for the NUMSUB subcommand, where N is the number of requested channels",
                args="[channel:string ...]",
            ),
            Cmd(
                "pubsub|shardchannels",
                -2,
                "pubsub loading stale",
                cmd_pubsub_shardchannels,
                group=_P,
                since="7.0.0",
                summary="Returns the active shard channels, optionally matching a pattern.",
                complexity="O(N)",
                args="[pattern:pattern]",
            ),
            Cmd(
                "pubsub|shardnumsub",
                -2,
                "pubsub loading stale",
                cmd_pubsub_shardnumsub,
                group=_P,
                since="7.0.0",
                summary="Returns the subscriber counts of shard channels.",
                complexity="O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
                args="[shardchannel:string ...]",
            ),
            Cmd(
                "pubsub|help",
                2,
                "loading stale",
                cmd_pubsub_help,
                group=_P,
                since="6.2.0",
                summary="Returns helpful text about the different subcommands.",
                complexity="O(1)",
            ),
        ],
    ),
]
