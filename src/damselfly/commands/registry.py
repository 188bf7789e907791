"""The command table: every family's declarations collected explicitly, plus COMMAND itself.

No import-time magic: `FAMILIES` lists the modules, each exports `COMMANDS`. `build_table` maps
both the lower-case name and nothing else (dispatch lowers unknown-case names once) to the spec.
The table's invariants (arity, key positions inside arity, a category and a summary for every
command) are checked by tests/commands/test_registry.py.
"""

from __future__ import annotations

from damselfly.commands import connection, introspection, keyspace, server, strings
from damselfly.commands.spec import CommandSpec

FAMILIES = [strings, keyspace, connection, server, introspection]


def all_specs() -> list[CommandSpec]:
    specs: list[CommandSpec] = []
    for family in FAMILIES:
        specs.extend(family.COMMANDS)
    return specs


def build_table() -> dict[bytes, CommandSpec]:
    table: dict[bytes, CommandSpec] = {}
    for spec in all_specs():
        key = spec.name.encode()
        if key in table:
            raise ValueError(f"command {spec.name} declared twice")
        table[key] = spec
    return table
