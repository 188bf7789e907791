"""Fixtures for the lock library's tests: groups of real servers per backend.

`servers` is three servers of one backend (redis-server or damselfly), started once per module
and flushed before each test; `backend` parametrizes it. Features are checked at run time, not by
backend name: a test that needs EVAL (fencing) skips with the reason when a server lacks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from tests.servers import ServerProcess, redis_server_path, start_damselfly, start_redis

BACKENDS: dict[str, Callable[[], ServerProcess]] = {
    "redis": start_redis,
    "damselfly": start_damselfly,
}


def start_group(backend: str, count: int) -> list[ServerProcess]:
    if backend == "redis" and redis_server_path() is None:
        pytest.skip("redis-server is not installed")
    return [BACKENDS[backend]() for _ in range(count)]


def has_command(client: redis.Redis, name: str) -> bool:
    reply = client.execute_command("COMMAND INFO", name)
    return bool(reply and reply[0])


def require_eval(clients: list[redis.Redis]) -> None:
    for client in clients:
        if not has_command(client, "eval"):
            pytest.skip("a server lacks EVAL: fencing tokens need a Lua script")


@pytest.fixture(scope="module", params=list(BACKENDS))
def servers(request: pytest.FixtureRequest) -> Iterator[list[ServerProcess]]:
    group = start_group(request.param, 3)
    yield group
    for proc in group:
        proc.stop()


@pytest.fixture
def clients(servers: list[ServerProcess]) -> Iterator[list[redis.Redis]]:
    made = [proc.client(socket_timeout=2) for proc in servers]
    for client in made:
        client.flushall()
    yield made
    for client in made:
        client.close()


@pytest.fixture
def fenced(clients: list[redis.Redis]) -> list[redis.Redis]:
    """The clients, when every server can run the fencing script."""
    require_eval(clients)
    return clients
