"""`make bench`: damselfly against redis-server on this machine, in the same run, as ratios.

Three phases, each alternating the servers run by run (Redis, damselfly, Redis, damselfly, ...)
so that whatever else the shared machine does lands on both:
1. throughput, latency and server CPU per request for each redis-benchmark workload at pipeline
   1 and 16, against one long-lived process per server;
2. memory: RSS per key after a bulk load, a fresh process per run;
3. expiry: how long a fresh process takes to reclaim keys with short TTLs that nobody touches,
   and the GET latency other clients see meanwhile.
Every figure is the median of the runs; the outputs are written by report.py. A progress line
is printed per run. `--quick` keeps the whole thing under two minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import loadgen
import procs
import report

ROOT = procs.ROOT
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
MB = 1024 * 1024


@dataclass
class Settings:
    runs: int  # alternating runs per throughput figure
    heavy_runs: int  # alternating runs per memory and expiry figure (each loads a fresh server)
    requests_p1: int
    requests_p16: int
    memory_keys: int
    expiry_keys: int
    clients: int = 50
    keyspace: int = 100_000
    pipelines: tuple[int, ...] = (1, 16)
    value_bytes: int = 16
    ttl_ms: tuple[int, int] = (1000, 3000)
    expiry_wait_s: float = 60.0  # give up on "DBSIZE reaches 0" this long after the last TTL
    lock_cycles: int = 1000  # timed acquire+release cycles per lock run


FULL = Settings(
    runs=5, heavy_runs=5, requests_p1=100_000, requests_p16=500_000,
    memory_keys=1_000_000, expiry_keys=1_000_000,
)  # fmt: skip
QUICK = Settings(
    runs=2, heavy_runs=1, requests_p1=15_000, requests_p16=60_000,
    memory_keys=1_000_000, expiry_keys=200_000, lock_cycles=200,
)  # fmt: skip


def say(text: str) -> None:
    print(text, flush=True)


def median_of(runs: list[dict[str, Any]], field: str) -> float | None:
    values = [r[field] for r in runs if r.get(field) is not None]
    return statistics.median(values) if values else None


def summarise(side: dict[str, Any], fields: tuple[str, ...]) -> None:
    ok = [r for r in side["runs"] if "error" not in r]
    side["median"] = {f: median_of(ok, f) for f in fields}
    if side["status"] == "ok" and not ok:
        side["status"] = "failed"


def ratios(entry: dict[str, Any], fields: tuple[str, ...]) -> None:
    """damselfly / Redis for each field both servers measured."""
    out: dict[str, float | None] = {}
    r, d = entry["redis"], entry["damselfly"]
    for f in fields:
        a = r["median"].get(f) if r["status"] == "ok" else None
        b = d["median"].get(f) if d["status"] == "ok" else None
        out[f] = round(b / a, 4) if a and b is not None else None
    entry["ratio"] = out


# -- phase 1: throughput, latency, CPU ------------------------------------------------------------

TP_FIELDS = ("rps", "p50_ms", "p99_ms", "cpu_us")


def throughput(settings: Settings) -> list[dict[str, Any]]:
    servers: dict[str, procs.Server] = {}
    try:
        for name in procs.NAMES:
            servers[name] = procs.Server(name)
        return _throughput(settings, servers)
    finally:
        for server in servers.values():
            server.close()


def _throughput(settings: Settings, servers: dict[str, procs.Server]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for w in loadgen.WORKLOADS:
        for pipeline in settings.pipelines:
            scale = settings.requests_p1 if pipeline == 1 else settings.requests_p16
            entry: dict[str, Any] = {
                "test": w.name,
                "pipeline": pipeline,
                "requests": int(scale * w.n_scale),
            }
            for name, server in servers.items():
                supported = (
                    loadgen.supports_evalsha(server.port)
                    if w.name == "EVALSHA"
                    else loadgen.supports(server.port, w.probe)
                )
                entry[name] = {"status": "ok" if supported else "unsupported", "runs": []}
            entries.append(entry)
    workloads = {w.name: w for w in loadgen.WORKLOADS}
    for run in range(1, settings.runs + 1):
        for entry in entries:
            for name, server in servers.items():
                side = entry[name]
                if side["status"] != "ok":
                    continue
                test, pipeline = entry["test"], entry["pipeline"]
                label = f"[throughput {run}/{settings.runs}] {test:<11} P{pipeline:<2} {name:<9}"
                side["runs"].append(_one_benchmark(settings, server, entry, workloads[test], label))
    for entry in entries:
        for name in procs.NAMES:
            summarise(entry[name], TP_FIELDS)
        ratios(entry, TP_FIELDS)
    return entries


def _one_benchmark(
    settings: Settings, server: procs.Server, entry: dict[str, Any], w: loadgen.Workload, label: str
) -> dict[str, Any]:
    n = entry["requests"]
    try:
        # The script is loaded afresh each time (outside the CPU window): a restarted server
        # has an empty script cache.
        args = loadgen.evalsha_args(server.port) if w.name == "EVALSHA" else w.bench_args
        cpu0 = server.cpu_seconds()
        res = loadgen.redis_benchmark(
            server.port, args, n, entry["pipeline"], settings.clients, settings.keyspace
        )
        cpu = server.cpu_seconds() - cpu0
    except loadgen.FAILURES as exc:
        say(f"{label} ERROR {exc}")
        if not server.alive():
            say(f"{label} server died; restarting it")
            server.restart()
        return {"error": str(exc)}
    cpu_us = cpu / n * 1e6
    say(
        f"{label} {res.rps:>11,.0f} req/s  p50 {res.p50_ms:6.3f} ms  p99 {res.p99_ms:6.3f} ms  "
        f"cpu {cpu_us:6.2f} us/req"
    )
    return {"rps": res.rps, "p50_ms": res.p50_ms, "p99_ms": res.p99_ms, "cpu_us": round(cpu_us, 3)}


# -- phase 2: memory -------------------------------------------------------------------------------

MEM_FIELDS = ("bytes_per_key", "rss_before_mb", "rss_after_mb", "load_s")


def memory(settings: Settings, scratch: Path) -> dict[str, Any]:
    keys = settings.memory_keys
    data = scratch / "memory.resp"
    loadgen.write_set_file(data, keys, b"key:", b"m" * settings.value_bytes)
    entry: dict[str, Any] = {"keys": keys, "value_bytes": settings.value_bytes}
    for name in procs.NAMES:
        entry[name] = {"status": "ok", "runs": []}
    for run in range(1, settings.heavy_runs + 1):
        for name in procs.NAMES:
            label = f"[memory {run}/{settings.heavy_runs}] {name:<9}"
            entry[name]["runs"].append(_one_memory(name, data, keys, label))
    for name in procs.NAMES:
        summarise(entry[name], MEM_FIELDS)
    ratios(entry, MEM_FIELDS)
    return entry


def _one_memory(name: str, data: Path, keys: int, label: str) -> dict[str, Any]:
    server = procs.Server(name)
    try:
        time.sleep(0.2)  # let start-up allocations settle before the baseline
        before = server.rss_bytes()
        t0 = time.monotonic()
        loadgen.pipe_load(server.port, data, keys)
        load_s = time.monotonic() - t0
        after = server.rss_bytes()
    except loadgen.FAILURES as exc:
        say(f"{label} ERROR {exc}")
        return {"error": str(exc)}
    finally:
        server.close()
    per_key = (after - before) / keys
    say(
        f"{label} {per_key:7.1f} bytes/key  RSS {before / MB:6.1f} -> {after / MB:7.1f} MB  "
        f"load {load_s:5.2f} s"
    )
    return {
        "bytes_per_key": round(per_key, 2),
        "rss_before_mb": round(before / MB, 2),
        "rss_after_mb": round(after / MB, 2),
        "load_s": round(load_s, 3),
    }


# -- phase 3: expiry -------------------------------------------------------------------------------

EXP_FIELDS = ("empty_after_s", "left_after_load", "get_p50_ms", "get_p99_ms", "load_s")


def expiry(settings: Settings, scratch: Path, get_rps: dict[str, float | None]) -> dict[str, Any]:
    keys = settings.expiry_keys
    data = scratch / "expiry.resp"
    loadgen.write_expiring_file(data, keys, *settings.ttl_ms)
    entry: dict[str, Any] = {"keys": keys, "ttl_ms": list(settings.ttl_ms)}
    for name in procs.NAMES:
        entry[name] = {"status": "ok", "runs": []}
    for run in range(1, settings.heavy_runs + 1):
        for name in procs.NAMES:
            side = entry[name]
            if side["status"] != "ok":
                continue
            label = f"[expiry {run}/{settings.heavy_runs}] {name:<9}"
            outcome = _one_expiry(settings, name, data, get_rps.get(name), label)
            if outcome is None:
                side["status"] = "unsupported (no DBSIZE)"
                say(f"{label} DBSIZE unsupported: skipped")
            else:
                side["runs"].append(outcome)
    for name in procs.NAMES:
        summarise(entry[name], EXP_FIELDS)
    ratios(entry, EXP_FIELDS)
    return entry


def _one_expiry(
    settings: Settings, name: str, data: Path, get_rps: float | None, label: str
) -> dict[str, Any] | None:
    server = procs.Server(name)
    try:
        if not loadgen.supports(server.port, ["DBSIZE"]):
            return None
        return _drain(settings, server, data, get_rps, label)
    except loadgen.FAILURES as exc:
        say(f"{label} ERROR {exc}")
        return {"error": str(exc)}
    finally:
        server.close()


def _drain(
    settings: Settings, server: procs.Server, data: Path, get_rps: float | None, label: str
) -> dict[str, Any]:
    # A chunk of the GET load lasts about half a second, so the load stops soon after the keys.
    chunk = int(min(50_000, max(2_000, (get_rps or 20_000) / 2)))
    histograms: list[list[tuple[float, int]]] = []
    stop = threading.Event()

    failures: list[str] = []

    def get_load() -> None:
        while not stop.is_set():
            try:
                histograms.append(
                    loadgen.benchmark_histogram(
                        server.port, chunk, settings.clients, settings.keyspace
                    )
                )
            except loadgen.FAILURES as exc:
                failures.append(str(exc))
                return

    t0 = time.monotonic()
    loadgen.pipe_load(server.port, data, settings.expiry_keys)
    loaded = time.monotonic()
    worker = threading.Thread(target=get_load, daemon=True)
    with loadgen.client(server.port) as r:
        left = int(r.dbsize())
        worker.start()
        deadline = loaded + settings.ttl_ms[1] / 1000 + settings.expiry_wait_s
        remaining = left
        while remaining and time.monotonic() < deadline:
            time.sleep(0.02)
            remaining = int(r.dbsize())
        empty_after = time.monotonic() - loaded
    stop.set()
    worker.join()
    if remaining:
        raise RuntimeError(f"{remaining} keys still there {empty_after:.0f} s after the load")
    if failures:
        raise RuntimeError(f"concurrent GET load failed: {failures[0]}")
    p50 = loadgen.merged_percentile(histograms, 50)
    p99 = loadgen.merged_percentile(histograms, 99)
    requests = sum(h[-1][1] for h in histograms if h)
    say(
        f"{label} load {loaded - t0:5.2f} s, {left:,} keys left, empty after {empty_after:5.2f} s; "
        f"GET p50 {p50} ms p99 {p99} ms over {requests:,} requests"
    )
    return {
        "empty_after_s": round(empty_after, 3),
        "left_after_load": left,
        "get_p50_ms": p50,
        "get_p99_ms": p99,
        "get_requests": requests,
        "load_s": round(loaded - t0, 3),
    }


# -- phase 4: lock latency ------------------------------------------------------------------------

LOCK_FIELDS = ("acquire_p50_ms", "acquire_p99_ms", "release_p50_ms", "release_p99_ms")
LOCK_NODES = (1, 3, 5)


def lock_latency(settings: Settings) -> dict[str, Any]:
    """Uncontended acquire and release through `damselfly.lock` (fencing on, the default) against
    1, 3 and 5 servers of each kind. One client thread, so the figure is the round trip the
    library pays: one node is `Lock`, several are `Redlock` asking every node in parallel."""
    entry: dict[str, Any] = {"nodes": list(LOCK_NODES), "cycles": settings.lock_cycles}
    for n in LOCK_NODES:
        per_n: dict[str, Any] = {name: {"status": "ok", "runs": []} for name in procs.NAMES}
        for run in range(1, settings.runs + 1):
            for name in procs.NAMES:
                label = f"[lock {run}/{settings.runs}] {n} node(s) {name:<9}"
                per_n[name]["runs"].append(_one_lock(settings, name, n, label))
        for name in procs.NAMES:
            summarise(per_n[name], LOCK_FIELDS)
        ratios(per_n, LOCK_FIELDS)
        entry[str(n)] = per_n
    entry["status"] = "ok"
    return entry


def _one_lock(settings: Settings, name: str, n: int, label: str) -> dict[str, Any]:
    from damselfly.lock import Lock, Redlock

    servers: list[procs.Server] = []
    clients = []
    try:
        for _ in range(n):
            servers.append(procs.Server(name))
        clients = [loadgen.client(server.port) for server in servers]
        lock = (
            Lock(clients[0], "bench:lock", ttl=10)
            if n == 1
            else Redlock(clients, "bench:lock", ttl=10)
        )
        acquire: list[float] = []
        release: list[float] = []
        for i in range(settings.lock_cycles + 50):
            t0 = time.perf_counter()
            if not lock.acquire(blocking=False):
                raise RuntimeError("an uncontended acquire failed")
            t1 = time.perf_counter()
            lock.release()
            t2 = time.perf_counter()
            if i >= 50:  # the first cycles load scripts and warm connections
                acquire.append((t1 - t0) * 1000)
                release.append((t2 - t1) * 1000)
    except (*loadgen.FAILURES, RuntimeError) as exc:
        say(f"{label} ERROR {exc}")
        return {"error": str(exc)}
    finally:
        for c in clients:
            c.close()
        for server in servers:
            server.close()
    out = {
        "acquire_p50_ms": round(_percentile(acquire, 50), 3),
        "acquire_p99_ms": round(_percentile(acquire, 99), 3),
        "release_p50_ms": round(_percentile(release, 50), 3),
        "release_p99_ms": round(_percentile(release, 99), 3),
    }
    say(
        f"{label} acquire p50 {out['acquire_p50_ms']:.3f} p99 {out['acquire_p99_ms']:.3f} ms  "
        f"release p50 {out['release_p50_ms']:.3f} p99 {out['release_p99_ms']:.3f} ms"
    )
    return out


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def lock_not_run() -> dict[str, Any]:
    return {"status": "not run", "nodes": list(LOCK_NODES)}


def not_run() -> dict[str, Any]:
    return {name: {"status": "not run", "runs": [], "median": {}} for name in procs.NAMES}


# -- the run ---------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    probe = "import sys, damselfly; print(sys.version.split()[0], damselfly.__version__)"
    py = subprocess.run(
        [procs.damselfly_python(), "-c", probe], capture_output=True, text=True, cwd=ROOT
    ).stdout.split()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    # Read-only check (no index refresh): were the measured sources different from the commit?
    dirty = subprocess.run(
        ["git", "--no-optional-locks", "diff", "--quiet", "HEAD", "--", "src"], cwd=ROOT
    ).returncode
    if commit and dirty == 1:
        commit += " + uncommitted changes in src"
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": py[0] if py else platform.python_version(),
        "damselfly": py[1] if len(py) > 1 else "?",
        "redis": procs.redis_version(),
        "commit": commit or "?",
    }


def write_outputs(results: dict[str, Any], stamp: str | None) -> None:
    if stamp is not None:
        path = report.write_json(results, RESULTS, stamp)
        say(f"raw results: {path.relative_to(ROOT)} (and bench/results/latest.json)")
    report.chart(results, RESULTS / "ratios.png")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(report.markdown(results))
    say(f"chart: {(RESULTS / 'ratios.png').relative_to(ROOT)}; table: {DOC.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, smaller loads: < 2 min")
    parser.add_argument("--runs", type=int, help="override the number of alternating runs")
    parser.add_argument("--requests", type=int, help="override requests at pipeline 1 (x5 at 16)")
    parser.add_argument("--memory-keys", type=int)
    parser.add_argument("--expiry-keys", type=int)
    parser.add_argument(
        "--only", choices=("throughput", "memory", "expiry", "lock"), action="append"
    )
    parser.add_argument("--report", type=Path, help="redraw docs and chart from a results file")
    parser.add_argument("--no-write", action="store_true", help="print figures, write nothing")
    opts = parser.parse_args()
    if opts.report:
        write_outputs(json.loads(opts.report.read_text()), None)
        return 0
    settings = Settings(**asdict(QUICK if opts.quick else FULL))
    if opts.runs:
        settings.runs = settings.heavy_runs = opts.runs
    if opts.requests:
        settings.requests_p1, settings.requests_p16 = opts.requests, opts.requests * 5
    if opts.memory_keys:
        settings.memory_keys = opts.memory_keys
    if opts.expiry_keys:
        settings.expiry_keys = opts.expiry_keys
    phases = set(opts.only or ("throughput", "memory", "expiry", "lock"))
    started = time.monotonic()
    now = time.gmtime()
    results: dict[str, Any] = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", now),
            "quick": opts.quick,
            "settings": asdict(settings),
            "machine": machine(),
        },
        "throughput": [],
        "memory": {"keys": settings.memory_keys, "value_bytes": settings.value_bytes, **not_run()},
        "expiry": {"keys": settings.expiry_keys, "ttl_ms": list(settings.ttl_ms), **not_run()},
        "lock": lock_not_run(),
    }
    m = results["meta"]["machine"]
    say(
        f"damselfly {m['damselfly']} (Python {m['python']}) vs redis-server {m['redis']}, "
        f"{m['cpus']} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp:
        scratch = Path(tmp)
        if "throughput" in phases:
            results["throughput"] = throughput(settings)
        if "memory" in phases:
            results["memory"] = memory(settings, scratch)
        if "expiry" in phases:
            get_rps = {
                e_name: e[e_name]["median"].get("rps")
                for e in results["throughput"]
                if e["test"] == "GET" and e["pipeline"] == 1
                for e_name in procs.NAMES
                if e[e_name]["status"] == "ok"
            }
            results["expiry"] = expiry(settings, scratch, get_rps)
        if "lock" in phases:
            results["lock"] = lock_latency(settings)
    results["meta"]["duration_s"] = round(time.monotonic() - started, 1)
    say(f"done in {results['meta']['duration_s']:.0f} s")
    if not opts.no_write:
        write_outputs(results, time.strftime("%Y%m%d-%H%M%S", now))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except procs.StartError as exc:
        sys.exit(f"bench: {exc}")
