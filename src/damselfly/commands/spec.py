"""CommandSpec: everything the server knows about one command, declared once.

A family module ends with a list of `Cmd(...)` declarations. From each declaration come the
dispatch entry (handler, arity), `COMMAND INFO` (flags, key positions, ACL categories, key specs),
`COMMAND DOCS` (summary, since, group, complexity and the argument tree that redis-cli turns into
hints) and `docs/commands.md`. ACL categories implied by flags are derived here, never listed by hand.

Argument syntax (`args=`) is Redis's own usage notation with types:
    key:key value:string [NX|XX] [GET] [EX seconds:integer|PX milliseconds:integer|KEEPTTL]
- `name:type` is an argument (types: key string integer double pattern unix-time block oneof);
- an UPPERCASE word is a token; a token directly followed by `name:type` is one argument with a token;
- `[ ... ]` is optional, `( ... )` groups, `a|b` is a oneof, a trailing `...` makes it multiple;
- `[label= ...]` / `(label= ...)` names a group (otherwise it is named after its first part).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[Any, list[bytes]], Any]

# Flags Redis shows in COMMAND INFO, and the ACL categories each implies.
KNOWN_FLAGS = {
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
}

FAMILY_CATEGORY = {
    "string": "@string",
    "generic": "@keyspace",
    "connection": "@connection",
    "server": None,
    "list": "@list",
    "pubsub": "@pubsub",
    "transactions": "@transaction",
    "scripting": "@scripting",
}

ARG_TYPES = {"key", "string", "integer", "double", "pattern", "unix-time", "pure-token"}


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
    # Per-command statistics (INFO commandstats).
    calls: int = 0
    usec: int = 0
    rejected_calls: int = 0
    failed_calls: int = 0

    @property
    def fullname(self) -> str:
        return self.name

    @property
    def is_write(self) -> bool:
        return "write" in self.flags


def derive_categories(flags: frozenset[str], group: str, extra: tuple[str, ...]) -> tuple[str, ...]:
    cats: list[str] = []

    def add(cat: str) -> None:
        if cat not in cats:
            cats.append(cat)

    if "write" in flags:
        add("@write")
    if "readonly" in flags:
        add("@read")
    family = FAMILY_CATEGORY.get(group)
    if family:
        add(family)
    if "admin" in flags:
        add("@admin")
        add("@dangerous")
    if "pubsub" in flags:
        add("@pubsub")
    add("@fast" if "fast" in flags else "@slow")
    if "blocking" in flags:
        add("@blocking")
    for cat in extra:
        add(cat)
    return tuple(cats)


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
) -> CommandSpec:
    """Declare a command (or, with `name` like "client|setname", a subcommand)."""
    flag_set = frozenset(flags.split())
    unknown = flag_set - KNOWN_FLAGS
    if unknown:
        raise ValueError(f"{name}: unknown flags {sorted(unknown)}")
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
        categories=derive_categories(flag_set, group, categories),
        arguments=parse_args(args),
        doc_flags=doc_flags,
    )
    for sub in subcommands or []:
        sub.container = spec
        spec.subcommands[sub.name.split("|", 1)[1].encode()] = sub
    return spec


_TOKEN_RE = re.compile(r"\.\.\.|\[|\]|\(|\)|\||[^\s\[\]()|]+")


def parse_args(text: str) -> list[dict[str, Any]]:
    """Parse the usage notation above into COMMAND DOCS argument maps."""
    tokens = _TOKEN_RE.findall(text)
    pos = 0

    def parse_seq(stop: set[str]) -> list[dict[str, Any]]:
        nonlocal pos
        items: list[dict[str, Any]] = []
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
                if tok == "[":
                    item["flags"] = ["optional", *item.get("flags", [])]
                items.append(item)
            elif tok == "...":
                if not items:
                    raise ValueError(f"dangling ... in {text!r}")
                items[-1].setdefault("flags", [])
                if "multiple" not in items[-1]["flags"]:
                    items[-1]["flags"].append("multiple")
            elif ":" in tok:
                name, typ = tok.split(":", 1)
                if typ not in ARG_TYPES:
                    raise ValueError(f"unknown argument type {typ!r} in {text!r}")
                arg: dict[str, Any] = {"name": name, "type": typ}
                if items and items[-1].get("_bare_token"):
                    token = items.pop()["token"]
                    arg = {"name": name, "type": typ, "token": token}
                items.append(arg)
            elif tok.upper() == tok and re.match(r"^[A-Z0-9_-]+$", tok):
                items.append(
                    {"name": tok.lower(), "type": "pure-token", "token": tok, "_bare_token": True}
                )
            else:
                raise ValueError(f"bad argument notation {tok!r} in {text!r}")
        for item in items:
            item.pop("_bare_token", None)
        return items

    def _group(alts: list[list[dict[str, Any]]], label: str | None) -> dict[str, Any]:
        members = [alt[0] if len(alt) == 1 else _block(alt) for alt in alts]
        if len(members) == 1:
            only = dict(members[0])
            if label:
                only["name"] = label
            return only
        name = label or members[0]["name"]
        return {"name": name, "type": "oneof", "arguments": members}

    def _block(seq: list[dict[str, Any]]) -> dict[str, Any]:
        return {"name": seq[0]["name"], "type": "block", "arguments": seq}

    result = parse_seq(set())
    if pos != len(tokens):
        raise ValueError(f"unexpected {tokens[pos]!r} in {text!r}")
    return result


def usage(spec: CommandSpec) -> str:
    """The argument notation rendered back for humans (docs/commands.md, COMMAND DOCS checks)."""

    def render(arg: dict[str, Any]) -> str:
        flags = arg.get("flags", [])
        if arg["type"] in ("oneof", "block"):
            sep = "|" if arg["type"] == "oneof" else " "
            inner = sep.join(render(a) for a in arg["arguments"])
            text = inner if "optional" in flags else f"<{inner}>"
        elif arg["type"] == "pure-token":
            text = arg["token"]
        else:
            text = arg["name"]
            if "token" in arg:
                text = f"{arg['token']} {text}"
        if "optional" in flags:
            text = f"[{text}]"
        if "multiple" in flags:
            text += " ..."
        return text

    return " ".join(render(a) for a in spec.arguments)
