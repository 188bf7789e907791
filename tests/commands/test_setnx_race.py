"""SETNX under contention: 50 clients race for the same key, round after round.

Each client is a thread with its own connection. In round N all of them call
`SETNX lock:round:N token-<i>` at (nearly) the same moment, released together by a barrier.
Exactly one must get 1 and the key must hold that client's token: commands run to completion one
at a time on the server's event loop, so there is no window for a second winner.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.servers import ServerProcess, start_damselfly

CLIENTS = 50
ROUNDS = 1000


@pytest.fixture(scope="module")
def race_server() -> Iterator[ServerProcess]:
    proc = start_damselfly()
    yield proc
    proc.stop()


def test_exactly_one_client_wins_each_setnx_round(race_server: ServerProcess) -> None:
    barrier = threading.Barrier(CLIENTS)
    wins = [[0] * CLIENTS for _ in range(ROUNDS)]
    failures: list[BaseException] = []

    def contender(i: int) -> None:
        client = race_server.client()
        try:
            client.ping()
            token = f"token-{i}"
            for n in range(ROUNDS):
                barrier.wait(timeout=30)
                wins[n][i] = client.setnx(f"lock:round:{n}", token)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            barrier.abort()
        finally:
            client.close()

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures[:3]

    checker = race_server.client()
    values = checker.mget([f"lock:round:{n}" for n in range(ROUNDS)])
    checker.close()
    for n in range(ROUNDS):
        winners = [i for i in range(CLIENTS) if wins[n][i]]
        assert len(winners) == 1, f"round {n}: winners {winners}"
        assert values[n] == f"token-{winners[0]}".encode()


def test_pipelined_setnx_batches_from_two_clients_split_every_key(
    race_server: ServerProcess,
) -> None:
    """Two pipelines of SETNX over the same keys, sent at once: each key has one winner."""
    a, b = race_server.client(), race_server.client()
    keys = [f"batch:{n}" for n in range(200)]
    pa, pb = a.pipeline(transaction=False), b.pipeline(transaction=False)
    for key in keys:
        pa.setnx(key, "a")
        pb.setnx(key, "b")
    results: dict[str, list[bool]] = {}
    threads = [
        threading.Thread(target=lambda: results.__setitem__("a", pa.execute())),
        threading.Thread(target=lambda: results.__setitem__("b", pb.execute())),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for n, key in enumerate(keys):
        assert results["a"][n] != results["b"][n], key
    stored = a.mget(keys)
    for n in range(len(keys)):
        assert stored[n] == (b"a" if results["a"][n] else b"b")
    a.close()
    b.close()
    assert isinstance(results["a"][0], bool)
