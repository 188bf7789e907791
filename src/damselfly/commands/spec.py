"""CommandSpec: everything the server knows about one command, declared once.

A family module ends with a list of `Cmd(...)` declarations. From each declaration come the
dispatch entry (handler, arity), `COMMAND INFO` (flags, key positions, ACL categories, tips, key
specs), `COMMAND DOCS` (summary, since, group, complexity and the argument tree that redis-cli
turns into hints) and `docs/commands.md`. ACL categories implied by flags or by the command's
group are derived here, never listed by hand; key specs are derived from `keys=(first, last,
step)` and the command's flags unless a command gives its own.

Argument syntax (`args=`) is Redis's own usage notation with types:
    key:key value:string [NX|XX] [GET] [EX seconds:integer|PX milliseconds:integer|KEEPTTL]
- `name:type` is an argument (types: key string integer double pattern unix-time; the type is
  after the last colon, so `ip:port:string` is the argument `ip:port`);
- an UPPERCASE word is a token; a token directly followed by `name:type` is one argument with a
  token, a token directly followed by `( ... )` gives that group the token (a single argument
  in the parentheses becomes a block: `ID (client-id:integer ...)` is ID client-id [client-id ...]);
- `[ ... ]` is optional, `( ... )` groups, `a|b` is a oneof, a space-separated run is a block;
  a block that starts with a token takes the token (`[LIMIT offset:integer count:integer]`);
- a trailing `...` makes the previous item multiple; after a closing bracket whose item has a
  token it also repeats the token (`[GET pattern:pattern]...` is GET a GET b, `multiple_token`);
- `[label= ...]` / `(label= ...)` names a group (otherwise it is named after its token or first part).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[Any, list[bytes]], Any]

# Flags in the order Redis 7.0 prints them in COMMAND INFO. Commands may carry the hidden ones
# (Redis uses them internally), but COMMAND INFO never shows them.
FLAG_ORDER = (
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "may_replicate",
    "sentinel",
    "only_sentinel",
    "no_mandatory_keys",
    "protected",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
)
HIDDEN_FLAGS = frozenset({"may_replicate", "sentinel", "only_sentinel", "protected"})
KNOWN_FLAGS = frozenset(FLAG_ORDER)

# ACL categories in Redis's bit order: COMMAND INFO lists a command's categories in this order.
CATEGORY_ORDER = (
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
)
KNOWN_CATEGORIES = frozenset(CATEGORY_ORDER)

# The category every command of a docs group carries (Redis lists it in each command's JSON).
# Groups without one (server, cluster, ...) take their categories from flags and `categories=`.
# pubsub is absent on purpose: the `pubsub` flag implies @pubsub, and PUBSUB HELP has neither.
FAMILY_CATEGORY = {
    "string": "@string",
    "generic": "@keyspace",
    "connection": "@connection",
    "server": None,
    "list": "@list",
    "set": "@set",
    "sorted-set": "@sortedset",
    "hash": "@hash",
    "stream": "@stream",
    "geo": "@geo",
    "hyperloglog": "@hyperloglog",
    "bitmap": "@bitmap",
    "transactions": "@transaction",
    "scripting": "@scripting",
}
GROUPS = frozenset(FAMILY_CATEGORY) | {"pubsub", "cluster", "sentinel"}

ARG_TYPES = {"key", "string", "integer", "double", "pattern", "unix-time", "pure-token"}
ARG_FLAG_ORDER = ("optional", "multiple", "multiple_token")
DOC_FLAGS = frozenset({"deprecated", "syscmd"})

# Key-spec flags in the order Redis prints them.
KEY_FLAG_ORDER = (
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
)
KNOWN_KEY_FLAGS = frozenset(KEY_FLAG_ORDER)


@dataclass(frozen=True)
class KeySpec:
    """Where one kind of key sits in argv and how the command uses it (COMMAND INFO key specs).

    begin_search finds the first key: ("index", pos), ("keyword", word, startfrom) or
    ("unknown",). find_keys then takes ("range", lastkey, keystep, limit) keys from there,
    ("keynum", keynumidx, firstkey, keystep) with the count read from argv, or ("unknown",).
    """

    flags: tuple[str, ...]
    begin_search: tuple[Any, ...]
    find_keys: tuple[Any, ...]
    notes: str = ""

    @property
    def simple(self) -> bool:
        """Keys at fixed positions: the only kind the legacy first/last/step can describe."""
        return bool(self.begin_search[0] == "index" and self.find_keys[0] == "range")


def key_spec(
    flags: str,
    *,
    index: int | None = None,
    keyword: str | None = None,
    startfrom: int = 1,
    lastkey: int = 0,
    keystep: int = 1,
    limit: int = 0,
    keynumidx: int | None = None,
    firstkey: int = 1,
    notes: str = "",
) -> KeySpec:
    """A key spec in words: `key_spec("RW access delete", index=1)`,
    `key_spec("RO access", keyword="STREAMS", lastkey=-1, limit=2)`,
    `key_spec("RO access", index=1, keynumidx=0)`; neither index nor keyword means unknown."""
    flag_tuple = _ordered(flags.split(), KEY_FLAG_ORDER, "key-spec flag")
    begin: tuple[Any, ...]
    if index is not None:
        begin = ("index", index)
    elif keyword is not None:
        begin = ("keyword", keyword, startfrom)
    else:
        begin = ("unknown",)
    find: tuple[Any, ...]
    if begin[0] == "unknown":
        find = ("unknown",)
    elif keynumidx is not None:
        find = ("keynum", keynumidx, firstkey, keystep)
    else:
        find = ("range", lastkey, keystep, limit)
    return KeySpec(flag_tuple, begin, find, notes)


@dataclass(eq=False)
class CommandSpec:
    name: str  # lower case; "client|setname" for a subcommand
    arity: int
    flags: frozenset[str]
    first_key: int
    last_key: int
    step: int
    handler: Handler | None
    group: str
    summary: str
    since: str
    complexity: str
    categories: tuple[str, ...]
    arguments: list[dict[str, Any]]
    doc_flags: tuple[str, ...] = ()
    subcommands: dict[bytes, CommandSpec] = field(default_factory=dict)
    container: CommandSpec | None = None
    # Categories the declaration listed by hand (the rest of `categories` is derived).
    extra_categories: tuple[str, ...] = ()
    # Hints for cluster clients (`nondeterministic_output`, `request_policy:all_shards`, ...).
    tips: tuple[str, ...] = ()
    key_specs: tuple[KeySpec, ...] = ()
    # A custom key finder for COMMAND GETKEYS when key specs cannot describe the keys
    # (SORT ... STORE, SET's GET-dependent flags): argv -> [(position, key-spec flags), ...].
    getkeys: Callable[[list[bytes]], list[tuple[int, tuple[str, ...]]]] | None = None
    deprecated_since: str = ""
    replaced_by: str = ""
    # Where damselfly's behaviour knowingly departs from Redis (docs/commands.md).
    differences: str = ""
    # Per-command statistics (INFO commandstats).
    calls: int = 0
    usec: int = 0
    rejected_calls: int = 0
    failed_calls: int = 0
    # Encoded-once introspection replies (COMMAND INFO / DOCS), filled on first use.
    reply_cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def fullname(self) -> str:
        return self.name

    @property
    def is_container(self) -> bool:
        return bool(self.subcommands)

    @property
    def usage_line(self) -> str:
        """`SET key value [NX|XX] ...`: the command line as the docs show it."""
        words = self.name.upper().replace("|", " ")
        text = usage(self)
        return f"{words} {text}" if text else words


def _ordered(
    items: list[str] | frozenset[str], order: tuple[str, ...], what: str
) -> tuple[str, ...]:
    unknown = set(items) - set(order)
    if unknown:
        raise ValueError(f"unknown {what} {sorted(unknown)}")
    return tuple(x for x in order if x in items)


def derive_categories(
    flags: frozenset[str],
    group: str,
    extra: tuple[str, ...],
    *,
    family: bool = True,
) -> tuple[str, ...]:
    """The command's ACL categories in Redis's order: from flags, the group, and `extra`."""
    cats = set(implied_categories(flags, group, family=family))
    cats.update(extra)
    return _ordered(frozenset(cats), CATEGORY_ORDER, "ACL category")


def implied_categories(flags: frozenset[str], group: str, *, family: bool = True) -> set[str]:
    """Categories that follow from flags and group alone (the ones never listed by hand)."""
    cats: set[str] = set()
    family_cat = FAMILY_CATEGORY.get(group) if family else None
    if family_cat:
        cats.add(family_cat)
    if "write" in flags:
        cats.add("@write")
    # Redis leaves @read off read-only scripting commands (EVAL_RO, FCALL_RO): what the script
    # reads is unknown, and @read rules must not let them through.
    if "readonly" in flags and family_cat != "@scripting":
        cats.add("@read")
    if "admin" in flags:
        cats.update(("@admin", "@dangerous"))
    if "pubsub" in flags:
        cats.add("@pubsub")
    cats.add("@fast" if "fast" in flags else "@slow")
    if "blocking" in flags:
        cats.add("@blocking")
    return cats


def derive_key_specs(
    flags: frozenset[str], keys: tuple[int, int, int], key_flags: str | tuple[str, ...] | None
) -> tuple[KeySpec, ...]:
    """Key specs from the legacy (first, last, step) triple.

    One range spec covers all keys, flagged from the command's flags (write: RW update,
    readonly: RO access) unless `key_flags` says otherwise. A tuple of flag strings splits the
    keys: one spec per key position in order, the last one taking the rest of the range (so
    RENAME is ("RW access delete", "OW update") and SDIFFSTORE ("OW update", "RO access")).
    """
    first, last, step = keys
    if first == 0:
        return ()
    if key_flags is None:
        key_flags = (
            "RW update" if "write" in flags else "RO access" if "readonly" in flags else "RO"
        )
    if isinstance(key_flags, str):
        key_flags = (key_flags,)

    def lastkey_from(begin: int) -> int:
        return last - begin if last >= 0 else last

    specs = []
    for i, flag_text in enumerate(key_flags):
        begin = first + i * step
        final = i == len(key_flags) - 1
        lastkey = lastkey_from(begin) if final else 0
        specs.append(key_spec(flag_text, index=begin, lastkey=lastkey, keystep=step))
    return tuple(specs)


def Cmd(
    name: str,
    arity: int,
    flags: str,
    handler: Handler | None = None,
    *,
    keys: tuple[int, int, int] = (0, 0, 0),
    group: str,
    summary: str,
    since: str,
    complexity: str = "O(1)",
    args: str = "",
    categories: tuple[str, ...] = (),
    doc_flags: tuple[str, ...] = (),
    subcommands: list[CommandSpec] | None = None,
    tips: str = "",
    key_flags: str | tuple[str, ...] | None = None,
    key_specs: tuple[KeySpec, ...] | None = None,
    getkeys: Callable[[list[bytes]], list[tuple[int, tuple[str, ...]]]] | None = None,
    family: bool = True,
    deprecated_since: str = "",
    replaced_by: str = "",
    differences: str = "",
) -> CommandSpec:
    """Declare a command (or, with `name` like "client|setname", a subcommand).

    `categories` lists only ACL categories that neither flags nor the group imply; `family=False`
    drops the group's category (SORT is in the generic group but not @keyspace). A container
    (subcommands, no handler of its own) never takes its group's category, like in Redis.
    `key_flags`/`key_specs` override the key specs derived from `keys` (see derive_key_specs);
    `key_specs` whose keys move (keyword or keynum searches) add the `movablekeys` flag.
    """
    flag_set = frozenset(flags.split())
    unknown = flag_set - KNOWN_FLAGS
    if unknown:
        raise ValueError(f"{name}: unknown flags {sorted(unknown)}")
    if key_specs is None:
        specs = derive_key_specs(flag_set, keys, key_flags)
    else:
        specs = tuple(key_specs)
    if any(not s.simple for s in specs):
        flag_set |= {"movablekeys"}
    is_container = bool(subcommands) and handler is None
    spec = CommandSpec(
        name=name.lower(),
        arity=arity,
        flags=flag_set,
        first_key=keys[0],
        last_key=keys[1],
        step=keys[2],
        handler=handler,
        group=group,
        summary=summary,
        since=since,
        complexity=complexity,
        categories=derive_categories(
            flag_set, group, categories, family=family and not is_container
        ),
        arguments=parse_args(args),
        doc_flags=doc_flags,
        extra_categories=tuple(categories),
        tips=tuple(tips.split()),
        key_specs=specs,
        getkeys=getkeys,
        deprecated_since=deprecated_since,
        replaced_by=replaced_by,
        differences=differences,
    )
    for sub in subcommands or []:
        sub.container = spec
        spec.subcommands[sub.name.split("|", 1)[1].encode()] = sub
    return spec


_TOKEN_RE = re.compile(r"\.\.\.|\[|\]|\(|\)|\||[^\s\[\]()|]+")
_TOKEN_WORD_RE = re.compile(r"^[A-Z0-9_-]+$")


def parse_args(text: str) -> list[dict[str, Any]]:
    """Parse the usage notation above into COMMAND DOCS argument maps."""
    tokens = _TOKEN_RE.findall(text)
    pos = 0

    def add_flag(item: dict[str, Any], flag: str) -> None:
        flags = item.setdefault("flags", [])
        if flag not in flags:
            flags.append(flag)
        flags.sort(key=ARG_FLAG_ORDER.index)

    def parse_seq(stop: set[str]) -> list[dict[str, Any]]:
        nonlocal pos
        items: list[dict[str, Any]] = []
        bracketed: list[bool] = []  # per item: did it come from a [ ] / ( ) group?
        while pos < len(tokens) and tokens[pos] not in stop:
            tok = tokens[pos]
            pos += 1
            if tok in ("[", "("):
                closing = "]" if tok == "[" else ")"
                label = None
                if pos < len(tokens) and tokens[pos].endswith("="):
                    label = tokens[pos][:-1]
                    pos += 1
                alts = [parse_seq({"|", closing})]
                while pos < len(tokens) and tokens[pos] == "|":
                    pos += 1
                    alts.append(parse_seq({"|", closing}))
                if pos >= len(tokens) or tokens[pos] != closing:
                    raise ValueError(f"unbalanced {tok} in {text!r}")
                pos += 1
                item = _group(alts, label)
                if tok == "(" and items and items[-1].get("_bare_token"):
                    # TOKEN ( ... ): the group takes the token (FILTERBY <MODULE ...>); a single
                    # argument becomes a block under the token (ID client-id [client-id ...]).
                    token = items.pop()["token"]
                    bracketed.pop()
                    name = label or token.lower()
                    if item["type"] in ("oneof", "block") and "token" not in item:
                        rest = {k: v for k, v in item.items() if k not in ("name", "type")}
                        item = {"name": name, "type": item["type"], "token": token}
                        item.update(rest)
                    else:
                        item = {"name": name, "type": "block", "token": token, "arguments": [item]}
                if tok == "[":
                    add_flag(item, "optional")
                items.append(item)
                bracketed.append(True)
            elif tok == "...":
                if not items:
                    raise ValueError(f"dangling ... in {text!r}")
                add_flag(items[-1], "multiple")
                if bracketed[-1] and "token" in items[-1] and items[-1]["type"] != "pure-token":
                    add_flag(items[-1], "multiple_token")
            elif ":" in tok:
                name, typ = tok.rsplit(":", 1)  # names may hold colons: ip:port:string
                if typ not in ARG_TYPES or typ == "pure-token":
                    raise ValueError(f"unknown argument type {typ!r} in {text!r}")
                arg: dict[str, Any] = {"name": name, "type": typ}
                if items and items[-1].get("_bare_token"):
                    token = items.pop()["token"]
                    bracketed.pop()
                    arg = {"name": name, "type": typ, "token": token}
                items.append(arg)
                bracketed.append(False)
            elif tok.upper() == tok and _TOKEN_WORD_RE.match(tok):
                items.append(
                    {"name": tok.lower(), "type": "pure-token", "token": tok, "_bare_token": True}
                )
                bracketed.append(False)
            else:
                raise ValueError(f"bad argument notation {tok!r} in {text!r}")
        for item in items:
            item.pop("_bare_token", None)
        return items

    def _group(alts: list[list[dict[str, Any]]], label: str | None) -> dict[str, Any]:
        if label and label.endswith(":block") and len(alts) == 1:
            # (name:block= ...): a block even around one argument (PSUBSCRIBE's pattern).
            return {"name": label[: -len(":block")], "type": "block", "arguments": alts[0]}
        members = [alt[0] if len(alt) == 1 else _block(alt) for alt in alts]
        if len(members) == 1:
            only = dict(members[0])
            if label:
                only["name"] = label
            return only
        name = label or members[0]["name"]
        return {"name": name, "type": "oneof", "arguments": members}

    def _block(seq: list[dict[str, Any]]) -> dict[str, Any]:
        head = seq[0]
        if head["type"] != "pure-token" and "token" in head and "flags" not in head:
            # [LIMIT offset count]: the token introduces the whole block, as Redis documents it.
            token = head["token"]
            first = {k: v for k, v in head.items() if k != "token"}
            args = [first, *seq[1:]]
            return {"name": token.lower(), "type": "block", "token": token, "arguments": args}
        return {"name": head["name"], "type": "block", "arguments": seq}

    result = parse_seq(set())
    if pos != len(tokens):
        raise ValueError(f"unexpected {tokens[pos]!r} in {text!r}")
    return result


def render_argument(arg: dict[str, Any]) -> str:
    """One argument in redis.io's notation: `[EX seconds|PX milliseconds]`, `key [key ...]`."""
    flags = arg.get("flags", ())
    kind = arg["type"]
    token = arg.get("token") if kind != "pure-token" else None
    if kind == "pure-token":
        body = arg["token"]
    elif kind in ("oneof", "block"):
        sep = "|" if kind == "oneof" else " "
        body = sep.join(render_argument(a) for a in arg["arguments"])
        if kind == "oneof" and ("optional" not in flags or token or "multiple" in flags):
            body = f"<{body}>"
    else:
        body = arg["name"]
    if "multiple" in flags:
        if token and "multiple_token" in flags:
            one = f"{token} {body}"
            text = f"{one} [{one} ...]"
        else:
            text = f"{body} [{body} ...]"
            if token:
                text = f"{token} {text}"
    else:
        text = f"{token} {body}" if token else body
    if "optional" in flags:
        text = f"[{text}]"
    return text


def usage(spec: CommandSpec) -> str:
    """The argument notation rendered back for humans (docs/commands.md, COMMAND DOCS checks)."""
    return " ".join(render_argument(a) for a in spec.arguments)
