"""docs/commands.md is generated from the command table: it must equal what the generator
writes now, so the page never drifts from the commands the server really has."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from damselfly.commands.registry import iter_specs

ROOT = Path(__file__).resolve().parent.parent


def load_generator(name: str = "gen_commands_md") -> ModuleType:
    path = ROOT / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_commands_md_is_up_to_date() -> None:
    expected = load_generator().render()
    current = (ROOT / "docs" / "commands.md").read_text()
    assert current == expected, "docs/commands.md is stale: run `make docs` and commit the result"


def test_every_supported_command_and_every_missing_redis_command_is_on_the_page() -> None:
    gen = load_generator()
    page = gen.render()
    for spec in gen.supported_specs():
        assert f"| `{gen.cell(spec.usage_line)}` |" in page
    known = {spec.name for spec in iter_specs()}
    for cmd in gen.load_redis_commands():
        if cmd.name in known:
            continue
        container = cmd.name.split("|")[0]
        assert f"`{gen.command_title(cmd.name)}`" in page or (
            f"`{gen.command_title(container)}` (and its" in page
        ), cmd.name


def test_unsupported_commands_point_at_the_issue_that_brings_them() -> None:
    gen = load_generator()
    by_name = {cmd.name: cmd for cmd in gen.load_redis_commands()}
    assert gen.planned_issue(by_name["blpop"]) == "issue 5"
    assert gen.planned_issue(by_name["subscribe"]) == "issue 5"
    assert gen.planned_issue(by_name["multi"]) == "issue 3"
    assert gen.planned_issue(by_name["script|load"]) == "issue 3"
    assert gen.planned_issue(by_name["function|list"]) == "issue 3"
    assert gen.planned_issue(by_name["cluster|info"]) == "no issue yet"


def test_configuration_md_is_up_to_date() -> None:
    current = (ROOT / "docs" / "configuration.md").read_text()
    assert current == load_generator("gen_config_md").render(), (
        "docs/configuration.md is stale: run `make docs` and commit the result"
    )
