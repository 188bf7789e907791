"""COMMAND and its subcommands: the server describing its own command table.

Clients build on these replies: redis-cli turns `COMMAND DOCS` into its typing hints, cluster
clients route with the key specs of `COMMAND INFO`, redis-py asks `COMMAND GETKEYS` for keys it
cannot place. So the shapes follow Redis 7.0 exactly, down to its quirks (key specs are a set,
subcommands a set when empty and an array otherwise). The table never changes while the server
runs, so each command's INFO and DOCS entries are encoded once per protocol and then reused:
redis-cli fetches all of DOCS on every connect.
"""

from __future__ import annotations

from typing import Any

from damselfly import errors
from damselfly.commands.args import to_int
from damselfly.commands.spec import (
    FLAG_ORDER,
    HIDDEN_FLAGS,
    KNOWN_CATEGORIES,
    Cmd,
    CommandSpec,
    KeySpec,
)
from damselfly.errors import CommandError
from damselfly.keyspace.glob import glob_match
from damselfly.protocol.encoder import encode_one
from damselfly.protocol.types import Map, Raw, SetReply, Status
from damselfly.server.client import Client

_VISIBLE_FLAGS = tuple(f for f in FLAG_ORDER if f not in HIDDEN_FLAGS)


# --- looking commands up ------------------------------------------------------------------


def lookup_fullname(table: dict[bytes, CommandSpec], name: bytes) -> CommandSpec | None:
    """ "get" or "client|setname" (any case) to its spec; anything else (client|, a|b|c) is None."""
    parts = name.lower().split(b"|")
    spec = table.get(parts[0])
    if spec is None or len(parts) == 1:
        return spec
    if len(parts) == 2:
        return spec.subcommands.get(parts[1])
    return None


def lookup_argv(table: dict[bytes, CommandSpec], argv: list[bytes]) -> CommandSpec | None:
    """The spec a command line would run (subcommand included), as dispatch resolves it."""
    spec = table.get(argv[0].lower())
    if spec is not None and spec.subcommands and len(argv) > 1:
        return spec.subcommands.get(argv[1].lower())
    return spec


def iter_all(table: dict[bytes, CommandSpec]) -> list[CommandSpec]:
    """Every command and subcommand, each container followed by its subcommands."""
    out: list[CommandSpec] = []
    for spec in table.values():
        out.append(spec)
        out.extend(spec.subcommands.values())
    return out


# --- COMMAND INFO entries -----------------------------------------------------------------


def _key_spec_reply(ks: KeySpec) -> Map:
    fields: list[tuple[Any, Any]] = []
    if ks.notes:
        fields.append((b"notes", ks.notes.encode()))
    fields.append((b"flags", SetReply(Status(f) for f in ks.flags)))
    begin = ks.begin_search
    if begin[0] == "index":
        begin_spec = Map([(b"index", begin[1])])
    elif begin[0] == "keyword":
        begin_spec = Map([(b"keyword", begin[1].encode()), (b"startfrom", begin[2])])
    else:
        begin_spec = Map()
    fields.append((b"begin_search", Map([(b"type", begin[0].encode()), (b"spec", begin_spec)])))
    find = ks.find_keys
    if find[0] == "range":
        names: tuple[bytes, ...] = (b"lastkey", b"keystep", b"limit")
    elif find[0] == "keynum":
        names = (b"keynumidx", b"firstkey", b"keystep")
    else:
        names = ()
    find_spec = Map(zip(names, find[1:], strict=True))
    fields.append((b"find_keys", Map([(b"type", find[0].encode()), (b"spec", find_spec)])))
    return Map(fields)


def info_entry(spec: CommandSpec) -> list[Any]:
    """One COMMAND INFO entry: name, arity, flags, first, last, step, categories, tips, key
    specs, subcommands."""
    subcommands: Any = [info_entry(sub) for sub in spec.subcommands.values()]
    if not subcommands:
        subcommands = SetReply()  # Redis 7.0 answers an empty *set* here, a non-empty *array*.
    return [
        spec.name.encode(),
        spec.arity,
        SetReply(Status(f) for f in _VISIBLE_FLAGS if f in spec.flags),
        spec.first_key,
        spec.last_key,
        spec.step,
        SetReply(Status(c) for c in spec.categories),
        SetReply(t.encode() for t in spec.tips),
        SetReply(_key_spec_reply(ks) for ks in spec.key_specs),
        subcommands,
    ]


# --- COMMAND DOCS entries -----------------------------------------------------------------


def _argument_reply(arg: dict[str, Any], key_index: list[int], nspecs: int) -> Map:
    fields: list[tuple[Any, Any]] = [
        (b"name", arg["name"].encode()),
        (b"type", arg["type"].encode()),
    ]
    if arg["type"] == "key":
        # The n-th key argument belongs to the n-th key spec (the last spec takes the rest).
        fields.append((b"key_spec_index", min(key_index[0], max(nspecs - 1, 0))))
        key_index[0] += 1
    if "token" in arg:
        fields.append((b"token", arg["token"].encode()))
    if arg.get("flags"):
        fields.append((b"flags", SetReply(Status(f) for f in arg["flags"])))
    if "arguments" in arg:
        nested = [_argument_reply(a, key_index, nspecs) for a in arg["arguments"]]
        fields.append((b"arguments", nested))
    return Map(fields)


def docs_entry(spec: CommandSpec) -> Map:
    """One COMMAND DOCS value: summary, since, group, complexity, doc flags, arguments, subs."""
    fields: list[tuple[Any, Any]] = [
        (b"summary", spec.summary.encode()),
        (b"since", spec.since.encode()),
        (b"group", spec.group.encode()),
    ]
    if spec.complexity:
        fields.append((b"complexity", spec.complexity.encode()))
    if spec.doc_flags:
        fields.append((b"doc_flags", SetReply(Status(f) for f in spec.doc_flags)))
    if spec.deprecated_since:
        fields.append((b"deprecated_since", spec.deprecated_since.encode()))
    if spec.replaced_by:
        fields.append((b"replaced_by", spec.replaced_by.encode()))
    if spec.arguments:
        key_index = [0]
        nspecs = len(spec.key_specs)
        args = [_argument_reply(a, key_index, nspecs) for a in spec.arguments]
        fields.append((b"arguments", args))
    if spec.subcommands:
        subs = Map((sub.name.encode(), docs_entry(sub)) for sub in spec.subcommands.values())
        fields.append((b"subcommands", subs))
    return Map(fields)


def _encoded(spec: CommandSpec, kind: str, resp: int) -> Raw:
    """The spec's INFO or DOCS entry, encoded once per protocol version and kept."""
    cache_key = f"{kind}{resp}"
    cached = spec.reply_cache.get(cache_key)
    if isinstance(cached, Raw):
        return cached
    value = info_entry(spec) if kind == "info" else docs_entry(spec)
    raw = spec.reply_cache[cache_key] = Raw(encode_one(value, resp == 3))
    return raw


# --- keys of a command line (COMMAND GETKEYS) ---------------------------------------------


def has_key_arguments(spec: CommandSpec) -> bool:
    """Whether GETKEYS can say anything: a key finder, or a spec describing real keys."""
    return spec.getkeys is not None or any("not_key" not in ks.flags for ks in spec.key_specs)


def keys_from_specs(
    spec: CommandSpec, argv: list[bytes]
) -> list[tuple[int, tuple[str, ...]]] | None:
    """Key positions following the key specs, as Redis does; None when argv contradicts a spec
    (a key count out of range, keys past the end) or a spec cannot be followed."""
    argc = len(argv)
    found: list[tuple[int, tuple[str, ...]]] = []
    for ks in spec.key_specs:
        if "not_key" in ks.flags:
            continue
        if "incomplete" in ks.flags:
            return None
        begin = ks.begin_search
        if begin[0] == "index":
            first = begin[1]
        elif begin[0] == "keyword":
            first = _search_keyword(argv, begin[1].encode(), begin[2])
            if first == 0:
                continue  # optional keyword absent: this spec has no keys here
        else:
            return None
        find = ks.find_keys
        if find[0] == "range":
            lastkey, step, limit = find[1], find[2], find[3]
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                # Keys take 1/limit of the remaining arguments (XREAD STREAMS k1 k2 id1 id2).
                last = first + int((argc - first) / limit) + lastkey
        elif find[0] == "keynum":
            numidx, firstkey, step = find[1], find[2], find[3]
            if first + numidx >= argc:
                return None
            numkeys = to_int(argv[first + numidx])
            if numkeys is None or numkeys < 0:
                return None
            first += firstkey
            last = first + (numkeys - 1) * step
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None
        found.extend((pos, ks.flags) for pos in range(first, last + 1, step))
    return found


def _search_keyword(argv: list[bytes], keyword: bytes, startfrom: int) -> int:
    """The position after `keyword`, searching forward from startfrom (backward from the end
    when negative); 0 when absent. Neither direction looks at the very last (forward) or the
    command name (backward) position, like Redis."""
    argc = len(argv)
    if startfrom > 0:
        positions = range(startfrom, argc - 1)
    else:
        positions = range(argc + startfrom, 0, -1)
    for i in positions:
        if argv[i].lower() == keyword.lower():
            return i + 1
    return 0


def command_keys(spec: CommandSpec, argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
    """Key positions and flags in argv (argv[0] is the command): key specs when they are
    reliable, the command's own key finder otherwise."""
    variable = any("variable_flags" in ks.flags for ks in spec.key_specs)
    if spec.key_specs and not variable:
        found = keys_from_specs(spec, argv)
        if found is not None:
            return found
    if spec.getkeys is not None:
        return spec.getkeys(argv)
    if spec.key_specs:
        return keys_from_specs(spec, argv) or []
    return []


# --- handlers -----------------------------------------------------------------------------


def cmd_command(client: Client, argv: list[bytes]) -> Any:
    resp = client.resp
    return [_encoded(spec, "info", resp) for spec in client.server.commands.values()]


def cmd_command_count(client: Client, argv: list[bytes]) -> Any:
    return len(client.server.commands)


def cmd_command_info(client: Client, argv: list[bytes]) -> Any:
    table = client.server.commands
    resp = client.resp
    if len(argv) == 2:
        return [_encoded(spec, "info", resp) for spec in table.values()]
    out: list[Any] = []
    for name in argv[2:]:
        spec = lookup_fullname(table, name)
        out.append(None if spec is None else _encoded(spec, "info", resp))
    return out


def cmd_command_docs(client: Client, argv: list[bytes]) -> Any:
    table = client.server.commands
    resp = client.resp
    if len(argv) == 2:
        specs = list(table.values())
    else:
        found = (lookup_fullname(table, name) for name in argv[2:])
        specs = [spec for spec in found if spec is not None]
    return Map((spec.name.encode(), _encoded(spec, "docs", resp)) for spec in specs)


def cmd_command_list(client: Client, argv: list[bytes]) -> Any:
    specs = iter_all(client.server.commands)
    if len(argv) == 2:
        return [spec.name.encode() for spec in specs]
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise CommandError(errors.SYNTAX)
    kind, value = argv[3].lower(), argv[4]
    if kind == b"module":
        return []  # no modules: nothing can match
    if kind == b"aclcat":
        category = "@" + value.decode("utf-8", "replace").lower()
        if category not in KNOWN_CATEGORIES:
            return []
        return [spec.name.encode() for spec in specs if category in spec.categories]
    if kind == b"pattern":
        return [s.name.encode() for s in specs if glob_match(value, s.name.encode(), nocase=True)]
    raise CommandError(errors.SYNTAX)


def _getkeys(client: Client, argv: list[bytes], with_flags: bool) -> Any:
    target = argv[2:]
    spec = lookup_argv(client.server.commands, target)
    if spec is None:
        raise CommandError(errors.GETKEYS_INVALID_COMMAND)
    if not has_key_arguments(spec):
        raise CommandError(errors.GETKEYS_NO_KEY_ARGUMENTS)
    n = len(target)
    if (spec.arity > 0 and spec.arity != n) or n < -spec.arity:
        raise CommandError(errors.GETKEYS_INVALID_NUMBER_OF_ARGS)
    found = command_keys(spec, target)
    if not found:
        if "no_mandatory_keys" in spec.flags:
            return []
        raise CommandError(errors.GETKEYS_INVALID_ARGUMENTS)
    if with_flags:
        return [[target[pos], SetReply(Status(f) for f in flags)] for pos, flags in found]
    return [target[pos] for pos, _ in found]


def cmd_command_getkeys(client: Client, argv: list[bytes]) -> Any:
    return _getkeys(client, argv, with_flags=False)


def cmd_command_getkeysandflags(client: Client, argv: list[bytes]) -> Any:
    return _getkeys(client, argv, with_flags=True)


_HELP = [
    Status(line)
    for line in (
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    )
]


def cmd_command_help(client: Client, argv: list[bytes]) -> Any:
    return _HELP


_S = "server"
_CONN = ("@connection",)
_NAMES = "[command-name:string ...]"
_ORDER = "nondeterministic_output_order"

COMMANDS = [
    Cmd(
        "command", -1, "loading stale", cmd_command, group=_S, since="2.8.13",
        categories=_CONN, tips=_ORDER,
        summary="Returns detailed information about all commands.",
        complexity="O(N) where N is the total number of commands",
        subcommands=[
            Cmd("command|help", 2, "loading stale", cmd_command_help, group=_S, since="5.0.0",
                categories=_CONN, summary="Returns helpful text about the different subcommands."),
            Cmd("command|list", -2, "loading stale", cmd_command_list, group=_S, since="7.0.0",
                categories=_CONN, tips=_ORDER,
                summary="Returns a list of command names.",
                complexity="O(N) where N is the total number of commands",
                args="[FILTERBY (MODULE module-name:string|ACLCAT category:string"
                "|PATTERN pattern:pattern)]"),
            Cmd("command|count", 2, "loading stale", cmd_command_count, group=_S,
                since="2.8.13", categories=_CONN, summary="Returns a count of commands."),
            Cmd("command|getkeys", -4, "loading stale", cmd_command_getkeys, group=_S,
                since="2.8.13", categories=_CONN,
                summary="Extracts the key names from an arbitrary command.",
                complexity="O(N) where N is the number of arguments to the command",
                args="command:string [arg:string ...]"),
            Cmd("command|docs", -2, "loading stale", cmd_command_docs, group=_S, since="7.0.0",
                categories=_CONN, tips=_ORDER,
                summary="Returns documentary information about one, multiple or all commands.",
                complexity="O(N) where N is the number of commands to look up", args=_NAMES),
            Cmd("command|getkeysandflags", -4, "loading stale", cmd_command_getkeysandflags,
                group=_S, since="7.0.0", categories=_CONN,
                summary="Extracts the key names and access flags for an arbitrary command.",
                complexity="O(N) where N is the number of arguments to the command",
                args="command:string [arg:string ...]"),
            Cmd("command|info", -2, "loading stale", cmd_command_info, group=_S,
                since="2.8.13", categories=_CONN, tips=_ORDER,
                summary="Returns information about one, multiple or all commands.",
                complexity="O(N) where N is the number of commands to look up", args=_NAMES),
        ],
    ),
]  # fmt: skip
