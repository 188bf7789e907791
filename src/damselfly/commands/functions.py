"""Placeholder for the functions family (being written)."""

from __future__ import annotations

from damselfly.commands.spec import CommandSpec

COMMANDS: list[CommandSpec] = []
