"""Every Python example in docs/locks.md runs, against redis-server and damselfly: the page's
ports 6379, 6380 and 6381 are replaced with the test servers' ports."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
import redis

from tests.lock.conftest import require_eval
from tests.servers import ServerProcess

PAGE = Path(__file__).resolve().parents[2] / "docs" / "locks.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)


def test_the_page_has_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_example_runs(index: int, servers: list[ServerProcess], clients: list[redis.Redis]) -> None:
    require_eval(clients)
    source = EXAMPLES[index]
    for default, proc in zip((6379, 6380, 6381), servers, strict=True):
        source = source.replace(str(default), str(proc.port))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"docs/locks.md example {index + 1}", "exec"), {"__name__": "ex"})
    assert "Traceback" not in out.getvalue()
    # Every example cleans up after itself: no lock key is left behind.
    for client in clients:
        assert [k for k in client.scan_iter() if not k.endswith(b":fence")] == []
