"""The command table: every family's declarations collected explicitly.

No import-time magic: `FAMILIES` lists the modules, each exports `COMMANDS`. `build_table` maps
each lower-case name (dispatch lowers other spellings once) to its spec; subcommands hang off
their container. COMMAND, which describes this table to clients, lives in introspection.py. The
table's invariants (arity, key positions inside arity, categories, docs for every command, names)
are checked by tests/commands/test_registry.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from damselfly.commands import (
    connection,
    functions,
    introspection,
    keyspace,
    lists,
    pubsub,
    scripting,
    server,
    strings,
    transactions,
)
from damselfly.commands.spec import CommandSpec

FAMILIES = [
    strings,
    keyspace,
    lists,
    pubsub,
    transactions,
    scripting,
    functions,
    connection,
    server,
    introspection,
]


def all_specs() -> list[CommandSpec]:
    """Every top-level command, in family order."""
    specs: list[CommandSpec] = []
    for family in FAMILIES:
        specs.extend(family.COMMANDS)
    return specs


def iter_specs() -> Iterator[CommandSpec]:
    """Every command and subcommand, each container followed by its subcommands."""
    for spec in all_specs():
        yield spec
        yield from spec.subcommands.values()


def build_table() -> dict[bytes, CommandSpec]:
    table: dict[bytes, CommandSpec] = {}
    for spec in all_specs():
        key = spec.name.encode()
        if key in table:
            raise ValueError(f"command {spec.name} declared twice")
        if "|" in spec.name:
            raise ValueError(f"subcommand {spec.name} declared outside its container")
        for sub_key, sub in spec.subcommands.items():
            if sub.name != f"{spec.name}|{sub_key.decode()}":
                raise ValueError(f"subcommand {sub.name} does not belong to {spec.name}")
        table[key] = spec
    return table
