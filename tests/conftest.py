"""Shared fixtures: one damselfly per test session (flushed between tests), redis-server for
differential tests, and helpers to move the server's clock instead of sleeping."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
import redis

from tests.servers import ServerProcess, redis_server_path, start_damselfly, start_redis

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def server() -> Iterator[ServerProcess]:
    proc = start_damselfly()
    yield proc
    proc.stop()


def _reset(client: redis.Redis) -> None:
    client.execute_command("DEBUG", "SET-CLOCK-OFFSET", 0)
    client.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
    client.flushall()
    client.config_resetstat()


@pytest.fixture
def r(server: ServerProcess) -> Iterator[redis.Redis]:
    """A RESP2 redis-py client on a flushed damselfly."""
    client = server.client(protocol=2)
    _reset(client)
    yield client
    client.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def rp(request: pytest.FixtureRequest, server: ServerProcess) -> Iterator[redis.Redis]:
    """The same tests through redis-py in RESP2 and in RESP3."""
    client = server.client(protocol=request.param)
    _reset(client)
    yield client
    client.close()


@pytest.fixture(scope="session")
def redis_oracle() -> Iterator[ServerProcess]:
    """A real redis-server; CI must have it (make test installs it), locally it may be skipped."""
    if redis_server_path() is None:
        if IN_CI:
            pytest.fail("redis-server is not installed; `make test` installs it with apt-get")
        pytest.skip("redis-server not installed: differential tests skipped (run `make test`)")
    proc = start_redis()
    yield proc
    proc.stop()


@pytest.fixture
def advance_clock(r: redis.Redis):  # type: ignore[no-untyped-def]
    """advance_clock(ms): move damselfly's clock forward without sleeping."""
    total = [0]

    def advance(ms: int) -> None:
        total[0] += ms
        r.execute_command("DEBUG", "SET-CLOCK-OFFSET", total[0])

    return advance


@pytest.fixture
def restore_config(r: redis.Redis) -> Iterator[None]:
    """Put back every mutable parameter a test changed on the shared server."""
    before = r.config_get("*")
    yield
    after = r.config_get("*")
    for name, value in before.items():
        if after.get(name) != value:
            with contextlib.suppress(redis.ResponseError):
                r.config_set(name, value)
