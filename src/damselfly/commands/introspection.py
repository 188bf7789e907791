"""Placeholder family module (introspection); filled in by its own change."""

from __future__ import annotations

from damselfly.commands.spec import CommandSpec

COMMANDS: list[CommandSpec] = []
