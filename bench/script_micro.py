"""In-process micro-benchmark of the script-call hot path (no sockets, no event loop).

It times `dispatch.execute` on a Server made in this process for GET, for EVALSHA of redis-py's
Lock release script (the compare-and-delete of bench/loadgen.py, with a token that never
matches), and for a few variants that isolate one cost each (an empty script, one redis.call,
FCALL). The figures are the best of several rounds of this thread's CPU time, in
microseconds per call, so that a noisy shared machine disturbs them less. `--profile` runs cProfile over the EVALSHA loop instead.

    .venv/bin/python bench/script_micro.py [--rounds 5] [--calls 20000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable

from damselfly.config import default_config
from damselfly.server.client import Client
from damselfly.server.dispatch import execute
from damselfly.server.server import Server

RELEASE_SCRIPT = b"""
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
EMPTY_SCRIPT = b"return 0"
ONE_CALL_SCRIPT = b"return redis.call('get', KEYS[1])"
LIBRARY = b"""#!lua name=microlib
redis.register_function('release', function(keys, args)
    if redis.call('get', keys[1]) == args[1] then
        return redis.call('del', keys[1])
    end
    return 0
end)
"""


def setup() -> tuple[Server, Client]:
    server = Server(default_config())
    client = Client(server, 1, None)
    server.add_client(client)
    for i in range(1000):
        execute(client, [b"SET", b"key:%d" % i, b"token-%d" % i])
    return server, client


def timed(call: Callable[[], object], calls: int, rounds: int) -> float:
    """Best per-call time in µs over `rounds` rounds of `calls` calls. CPU time of this thread,
    not wall time: on a shared machine the time spent descheduled would swamp a 5 µs call."""
    best = float("inf")
    for _ in range(rounds):
        start = time.thread_time_ns()
        for _ in range(calls):
            call()
        best = min(best, (time.thread_time_ns() - start) / calls / 1e3)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--profile", action="store_true")
    opts = parser.parse_args()
    _server, client = setup()
    sha = {}
    for name, body in (
        ("release", RELEASE_SCRIPT),
        ("empty", EMPTY_SCRIPT),
        ("one_call", ONE_CALL_SCRIPT),
    ):
        sha[name] = execute(client, [b"SCRIPT", b"LOAD", body])
    assert execute(client, [b"FUNCTION", b"LOAD", LIBRARY]) == b"microlib"

    release = [b"EVALSHA", sha["release"], b"1", b"key:7", b"not-the-token"]
    # The script must really do its GET and compare (and leave the key alone).
    assert execute(client, release) == 0
    assert execute(client, [b"EXISTS", b"key:7"]) == 1

    if opts.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(opts.calls):
            execute(client, release)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return

    cases: list[tuple[str, list[bytes]]] = [
        ("GET", [b"GET", b"key:7"]),
        ("EVALSHA release (GET + compare)", release),
        ("EVALSHA return 0", [b"EVALSHA", sha["empty"], b"0"]),
        ("EVALSHA one redis.call GET", [b"EVALSHA", sha["one_call"], b"1", b"key:7"]),
        ("FCALL release", [b"FCALL", b"release", b"1", b"key:7", b"not-the-token"]),
    ]
    for label, argv in cases:
        us = timed(lambda argv=argv: execute(client, argv), opts.calls, opts.rounds)
        print(f"{label:36s} {us:7.2f} µs")


if __name__ == "__main__":
    main()
