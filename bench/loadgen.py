"""Load generation: redis-benchmark runs, bulk loading through `redis-cli --pipe`, and probes.

Every load comes from the same Debian tools for both servers, so the client's own cost is equal
on both sides and only the server differs. redis-benchmark stops at the first error reply, so a
command is probed first and a server that lacks it is recorded as "unsupported" instead of
benchmarked. Bulk loads are RESP files written once per run of the harness and replayed
byte-for-byte into each server.
"""

from __future__ import annotations

import csv
import io
import random
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import redis

# The lock-release idiom: delete the key only if it still holds the caller's token.
# KEYS[1] = lock key, ARGV[1] = token; returns 1 if released, 0 if the lock was not ours.
RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""

BENCH_TIMEOUT_S = 600
# What a failed measurement can raise; the harness records it and goes on with the next one.
FAILURES = (RuntimeError, OSError, subprocess.TimeoutExpired, redis.RedisError)


@dataclass
class Workload:
    """One throughput test: what redis-benchmark runs and how to check the server supports it."""

    name: str
    bench_args: list[str]  # `-t name` or a custom command line
    probe: list[str]  # a command that must not answer "unknown command"
    n_scale: float = 1.0  # heavier commands get fewer requests to keep runs of similar length


WORKLOADS = [
    Workload("PING_INLINE", ["-t", "ping_inline"], ["PING"]),
    Workload("PING_MBULK", ["-t", "ping_mbulk"], ["PING"]),
    Workload("SET", ["-t", "set"], ["SET", "bench:probe", "x"]),
    Workload("GET", ["-t", "get"], ["GET", "bench:probe"]),
    Workload("SETNX", ["SETNX", "key:__rand_int__", "v"], ["SETNX", "bench:probe", "x"]),
    Workload("INCR", ["-t", "incr"], ["INCR", "bench:counter"]),
    Workload("MSET", ["-t", "mset"], ["MSET", "bench:a", "1", "bench:b", "2"], n_scale=0.25),
    # The command line and the probe need the script's SHA: see evalsha_args, supports_evalsha.
    Workload("EVALSHA", [], [], n_scale=0.5),
]


@dataclass
class BenchResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int


def client(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)


def supports(port: int, command: list[str]) -> bool:
    """False only when the server says it does not know the command (or subcommand)."""
    with client(port) as r:
        try:
            r.execute_command(*command)
        except redis.ResponseError as exc:
            text = str(exc).lower()
            return not ("unknown command" in text or "unknown subcommand" in text)
    return True


def supports_evalsha(port: int) -> bool:
    if not supports(port, ["SCRIPT", "LOAD", RELEASE_SCRIPT]):
        return False
    return supports(port, [*evalsha_args(port)[:3], "bench:probe", "token"])


def evalsha_args(port: int) -> list[str]:
    """Compare-and-delete against the SET test's keys with a token that never matches: every call
    does the GET and the compare and leaves the data alone, so runs stay repeatable."""
    with client(port) as r:
        sha = r.execute_command("SCRIPT", "LOAD", RELEASE_SCRIPT)
    sha = sha.decode() if isinstance(sha, bytes) else str(sha)
    return ["EVALSHA", sha, "1", "key:__rand_int__", "not-the-token"]


def redis_benchmark(
    port: int, args: list[str], requests: int, pipeline: int, clients: int, keyspace: int
) -> BenchResult:
    cmd = [
        "redis-benchmark", "-h", "127.0.0.1", "-p", str(port),
        "-c", str(clients), "-n", str(requests), "-P", str(pipeline), "-r", str(keyspace),
        "--csv", *args,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    if out.returncode != 0 or not rows:
        detail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"redis-benchmark failed: {detail[0]}")
    row = rows[0]
    return BenchResult(
        rps=float(row["rps"]),
        p50_ms=float(row["p50_latency_ms"]),
        p99_ms=float(row["p99_latency_ms"]),
        requests=requests,
    )


# -- latency histograms for loads that run in several chunks ------------------------------------

_HIST_LINE = re.compile(r"([\d.]+)% <= ([\d.]+) milliseconds \(cumulative count (\d+)\)")


def benchmark_histogram(
    port: int, requests: int, clients: int, keyspace: int
) -> list[tuple[float, int]]:
    """A GET load without --csv: the (latency ms, cumulative count) points redis-benchmark prints
    in its two distribution sections, so that several chunks can be merged into one percentile."""
    cmd = [
        "redis-benchmark", "-h", "127.0.0.1", "-p", str(port),
        "-c", str(clients), "-n", str(requests), "-r", str(keyspace), "-t", "get",
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S)
    points = sorted({(float(m[2]), int(m[3])) for m in _HIST_LINE.finditer(out.stdout)})
    if out.returncode != 0 or not points:
        raise RuntimeError("redis-benchmark GET load failed")
    return points


def merged_percentile(chunks: list[list[tuple[float, int]]], pct: float) -> float | None:
    """The smallest printed latency below which `pct` percent of all requests of all chunks fall.

    Each chunk counts only at its own printed points (a step function from below), so the result
    errs high, never low: a fair bound for a tail latency."""
    chunks = [c for c in chunks if c]
    if not chunks:
        return None
    total = sum(c[-1][1] for c in chunks)
    need = total * pct / 100.0
    for x in sorted({lat for c in chunks for lat, _ in c}):
        below = sum(max((n for lat, n in c if lat <= x), default=0) for c in chunks)
        if below >= need:
            return x
    return chunks[0][-1][0]


# -- bulk loading --------------------------------------------------------------------------------


def _bulk(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def write_set_file(path: Path, keys: int, prefix: bytes, value: bytes) -> None:
    """`SET <prefix><12 digits> <value>` for `keys` distinct keys: 16-byte keys like
    redis-benchmark's own `key:000000012345`."""
    with open(path, "wb") as f:
        for start in range(0, keys, 100_000):
            f.write(
                b"".join(
                    _bulk(b"SET", prefix + b"%012d" % i, value)
                    for i in range(start, min(keys, start + 100_000))
                )
            )


def write_expiring_file(path: Path, keys: int, ttl_min_ms: int, ttl_max_ms: int) -> None:
    """`SET exp:<12 digits> <16 bytes> PX <ttl>` with TTLs spread uniformly; a fixed seed makes
    the file identical for both servers and from run to run."""
    rng = random.Random(6)
    value = b"v" * 16
    with open(path, "wb") as f:
        for start in range(0, keys, 100_000):
            f.write(
                b"".join(
                    _bulk(
                        b"SET",
                        b"exp:%012d" % i,
                        value,
                        b"PX",
                        b"%d" % rng.randint(ttl_min_ms, ttl_max_ms),
                    )
                    for i in range(start, min(keys, start + 100_000))
                )
            )


def pipe_load(port: int, path: Path, expected: int) -> None:
    """Replay a RESP file with `redis-cli --pipe`: it keeps the socket full and counts replies."""
    with open(path, "rb") as f:
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--pipe", "--pipe-timeout", "300"],
            stdin=f, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S,
        )  # fmt: skip
    match = re.search(r"errors: (\d+), replies: (\d+)", out.stdout)
    if out.returncode != 0 or not match or int(match[1]) != 0 or int(match[2]) != expected:
        raise RuntimeError(
            f"bulk load failed: {out.stdout.strip()[-200:]} {out.stderr.strip()[-200:]}"
        )
