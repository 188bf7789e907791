"""Invariants of the command table, and its metadata compared with redis-server's.

Every declaration feeds dispatch (arity), COMMAND INFO (flags, keys, categories), COMMAND DOCS
and docs/commands.md, so a slip in one line misleads clients in several places. The checks here
run over every command and subcommand; the differential part compares what COMMAND INFO says
with what the real redis-server says for every command both know.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import hiredis
import pytest

from damselfly.commands.registry import all_specs, build_table, iter_specs
from damselfly.commands.spec import (
    CATEGORY_ORDER,
    DOC_FLAGS,
    GROUPS,
    HIDDEN_FLAGS,
    KNOWN_FLAGS,
    KNOWN_KEY_FLAGS,
    CommandSpec,
    implied_categories,
)
from tests.servers import ServerProcess, encode_command

SPECS = list(iter_specs())
IDS = [spec.name for spec in SPECS]
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")


def key_arguments(args: list[dict[str, Any]]) -> int:
    return sum((arg["type"] == "key") + key_arguments(arg.get("arguments", [])) for arg in args)


def is_subcommand(spec: CommandSpec) -> bool:
    return spec.container is not None


def test_table_builds_with_unique_lower_case_names() -> None:
    table = build_table()
    assert len(table) == len(all_specs())
    names = [spec.name for spec in SPECS]
    assert len(names) == len(set(names))
    for name in names:
        assert name == name.lower()
        assert re.fullmatch(r"[a-z0-9_-]+(\|[a-z0-9_-]+)?", name), name


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_command_is_documented(spec: CommandSpec) -> None:
    assert spec.summary.strip() and spec.summary == spec.summary.strip()
    assert "\n" not in spec.summary
    assert _VERSION_RE.match(spec.since), spec.since
    assert spec.group in GROUPS
    assert spec.complexity.strip()
    assert set(spec.doc_flags) <= DOC_FLAGS
    if spec.deprecated_since:
        assert _VERSION_RE.match(spec.deprecated_since)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_flags_are_known_and_consistent(spec: CommandSpec) -> None:
    assert spec.flags <= KNOWN_FLAGS
    assert not {"write", "readonly"} <= spec.flags
    moving = any(not ks.simple for ks in spec.key_specs)
    if moving:
        assert "movablekeys" in spec.flags
    if "movablekeys" in spec.flags:
        assert moving or spec.getkeys is not None


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_categories_are_known_ordered_and_never_listed_twice(spec: CommandSpec) -> None:
    assert spec.categories, "every command needs at least one ACL category"
    assert set(spec.categories) <= set(CATEGORY_ORDER)
    assert list(spec.categories) == sorted(spec.categories, key=CATEGORY_ORDER.index)
    assert ("@fast" in spec.categories) != ("@slow" in spec.categories)
    derived = implied_categories(spec.flags, spec.group)
    assert not set(spec.extra_categories) & derived, (
        f"{spec.name}: {sorted(set(spec.extra_categories) & derived)} follow from flags or "
        "group; do not list them in categories="
    )


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_key_positions_fit_inside_the_arity(spec: CommandSpec) -> None:
    first, last, step = spec.first_key, spec.last_key, spec.step
    arity = spec.arity
    assert arity != 0
    if first == 0:
        assert (last, step) == (0, 0)
        return
    assert first > 0 and step >= 1
    only_not_keys = all("not_key" in ks.flags for ks in spec.key_specs)
    # Shard channels are "keys" for cluster routing only; SUNSUBSCRIBE may name none, as in Redis.
    assert first < abs(arity) or only_not_keys, "the first key must be a mandatory argument"
    if last < 0:
        assert arity < 0, "keys up to the end need a variable arity"
    else:
        assert first <= last
        if arity > 0:
            assert last < arity
        else:
            assert last < -arity, "fixed key positions must be mandatory arguments"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_key_positions_agree_with_the_argument_notation(spec: CommandSpec) -> None:
    keys_in_args = key_arguments(spec.arguments)
    real_key_specs = [ks for ks in spec.key_specs if "not_key" not in ks.flags]
    if spec.key_specs and not real_key_specs:
        # Shard channels: key positions for routing, documented as plain strings, no access flags.
        assert not keys_in_args
        return
    if (spec.first_key, spec.last_key, spec.step) == (0, 0, 0):
        # Only commands whose keys move (a count, a keyword) have key arguments without
        # fixed positions.
        if keys_in_args:
            assert real_key_specs and "movablekeys" in spec.flags
    else:
        assert keys_in_args or not real_key_specs, "keys=(...) but no key:key in args="
    for ks in spec.key_specs:
        assert set(ks.flags) <= KNOWN_KEY_FLAGS
        assert len({"RO", "RW", "OW", "RM"} & set(ks.flags)) == 1


# Commands that take arguments but describe none (none left; the mechanism stays for new ones).
KNOWN_UNDOCUMENTED_ARGUMENTS: dict[str, str] = {}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_argument_notation_matches_the_arity(spec: CommandSpec, request: Any) -> None:
    if spec.name in KNOWN_UNDOCUMENTED_ARGUMENTS:
        reason = KNOWN_UNDOCUMENTED_ARGUMENTS[spec.name]
        request.node.add_marker(pytest.mark.xfail(reason=reason))
    if spec.subcommands and spec.handler is None:
        assert not spec.arguments, "a container's arguments belong to its subcommands"
        return
    if "syscmd" in spec.doc_flags:
        return  # internal commands (DEBUG) stay undocumented, as in Redis
    words_before_args = 2 if is_subcommand(spec) else 1
    mandatory = abs(spec.arity) - words_before_args
    if mandatory > 0:
        assert spec.arguments, "the command takes arguments: describe them with args="
    if spec.arity == words_before_args:
        assert not spec.arguments, "the command takes no arguments but args= lists some"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_containers_and_subcommands_fit_together(spec: CommandSpec) -> None:
    if spec.subcommands:
        assert spec.container is None, "subcommands do not nest"
        if spec.handler is None:
            assert spec.arity <= -2, "a container alone must be an arity error"
        else:
            assert spec.arity == -1, "a container that answers alone (COMMAND) has arity -1"
        for key, sub in spec.subcommands.items():
            assert sub.container is spec
            assert sub.name == f"{spec.name}|{key.decode()}"
            assert sub.group == spec.group
            assert sub.handler is not None
            assert not sub.subcommands
    elif spec.container is None:
        assert spec.handler is not None, f"{spec.name} has no handler"


# --- against redis-server -------------------------------------------------------------------


def _command_entries(proc: ServerProcess) -> dict[str, list[Any]]:
    """COMMAND's reply (RESP2) as name -> entry, subcommands included."""
    conn = proc.raw()
    reader = hiredis.Reader()
    reader.feed(conn.request(encode_command("COMMAND")))
    conn.close()
    entries: dict[str, list[Any]] = {}

    def add(entry: list[Any]) -> None:
        entries[entry[0].decode()] = entry
        for sub in entry[9]:
            add(sub)

    for entry in reader.gets():
        add(entry)
    return entries


@pytest.fixture(scope="module")
def redis_entries(redis_oracle: ServerProcess) -> dict[str, list[Any]]:
    return _command_entries(redis_oracle)


@pytest.fixture(scope="module")
def our_entries(server: ServerProcess) -> Iterator[dict[str, list[Any]]]:
    yield _command_entries(server)


def _metadata(entry: list[Any]) -> dict[str, Any]:
    return {
        "arity": entry[1],
        "flags": [f.decode() for f in entry[2]],
        "keys (first, last, step)": tuple(entry[3:6]),
        "categories": [c.decode() for c in entry[6]],
    }


# Differences reported to their owners and not fixed yet: command -> what differs and why.
KNOWN_MISMATCHES: dict[str, str] = {}

# COMMAND DOCS argument trees that differ on purpose: Redis 7.0 documents no arguments for
# GETKEYS, and redis-cli shows a better hint with them; SET has Redis 8.4's IF* conditions.
INTENDED_DOCS_DIFFERENCES = {"command|getkeys", "command|getkeysandflags", "set"}
# Argument trees that differ from Redis and are not fixed yet: command -> what differs.
KNOWN_DOCS_MISMATCHES: dict[str, str] = {}


@pytest.mark.differential
@pytest.mark.parametrize("name", IDS)
def test_command_info_metadata_equals_redis(
    name: str, our_entries: dict[str, list[Any]], redis_entries: dict[str, list[Any]]
) -> None:
    if name not in redis_entries:
        pytest.skip(f"{name} is not a Redis 7.0 command")
    if name in KNOWN_MISMATCHES:
        pytest.xfail(KNOWN_MISMATCHES[name])
    ours, theirs = _metadata(our_entries[name]), _metadata(redis_entries[name])
    diffs = {k: (ours[k], theirs[k]) for k in ours if ours[k] != theirs[k]}
    assert not diffs, f"{name}: (damselfly, redis) {diffs}"


def _docs(proc: ServerProcess) -> dict[str, Any]:
    """COMMAND DOCS (RESP3, so maps stay maps) as name -> docs, subcommands included."""
    conn = proc.raw()
    conn.request(encode_command("HELLO", "3"))
    reader = hiredis.Reader()
    reader.feed(conn.request(encode_command("COMMAND", "DOCS")))
    conn.close()
    docs: dict[str, Any] = {}

    def add(name: bytes, doc: dict[bytes, Any]) -> None:
        docs[name.decode()] = doc
        for sub_name, sub_doc in doc.get(b"subcommands", {}).items():
            add(sub_name, sub_doc)

    for name, doc in reader.gets().items():
        add(name, doc)
    return docs


def _without_since(node: Any) -> Any:
    if isinstance(node, dict):
        skip = (b"since", b"deprecated_since", b"display_text")
        return {k: _without_since(v) for k, v in node.items() if k not in skip}
    if isinstance(node, list):
        return [_without_since(v) for v in node]
    return node


@pytest.fixture(scope="module")
def redis_docs(redis_oracle: ServerProcess) -> dict[str, Any]:
    return _docs(redis_oracle)


@pytest.fixture(scope="module")
def our_docs(server: ServerProcess) -> dict[str, Any]:
    return _docs(server)


@pytest.mark.differential
@pytest.mark.parametrize("name", IDS)
def test_command_docs_arguments_equal_redis(
    name: str, our_docs: dict[str, Any], redis_docs: dict[str, Any], request: Any
) -> None:
    """The argument trees redis-cli builds its hints from, `since` fields aside."""
    if name not in redis_docs or name in INTENDED_DOCS_DIFFERENCES:
        pytest.skip(f"{name}: not a Redis 7.0 command, or documented differently on purpose")
    if name in KNOWN_DOCS_MISMATCHES:
        request.node.add_marker(pytest.mark.xfail(reason=KNOWN_DOCS_MISMATCHES[name]))
    ours = _without_since(our_docs[name].get(b"arguments"))
    theirs = _without_since(redis_docs[name].get(b"arguments"))
    assert ours == theirs
    assert our_docs[name][b"group"] == redis_docs[name][b"group"]
    assert our_docs[name].get(b"doc_flags") == redis_docs[name].get(b"doc_flags")


@pytest.mark.differential
def test_hidden_flags_never_show_in_command_info(our_entries: dict[str, list[Any]]) -> None:
    shown = {f.decode() for entry in our_entries.values() for f in entry[2]}
    assert not shown & HIDDEN_FLAGS
    assert len(our_entries) == len(SPECS)
