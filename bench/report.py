"""Turning one harness run into its three outputs: raw JSON, a chart of the ratios, and
docs/benchmarks.md.

The JSON is the record (every run's numbers, medians, ratios, the machine); the chart and the
page are views of it, so they can be regenerated from a results file with `--report FILE`.
Every ratio is damselfly / Redis. For throughput 1.0 is parity and higher is better; for CPU,
latency, memory and time to expire, lower is better.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Targets from issue 6, keyed by (kind, pipeline or None); kind names match the JSON ratio keys.
THROUGHPUT_TARGET = {1: 1.0, 16: 0.8}
TARGET_TESTS = ("SET", "GET", "SETNX", "INCR")
CPU_TARGET_P16 = 1.5
MEMORY_TARGET = 1.5
P99_TARGET = 2.0
CHART_CAP = 10.0  # ratios above this are drawn cut at it (the value is still printed)


def write_json(results: dict[str, Any], results_dir: Path, stamp: str) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    text = _compact_json(results) + "\n"
    path = results_dir / f"{stamp}.json"
    path.write_text(text)
    (results_dir / "latest.json").write_text(text)
    return path


def _compact_json(value: Any, indent: str = "") -> str:
    """JSON with every dict or list of plain values on one line: one line per run, so a results
    file stays short and diffs between two of them read well."""
    inner = indent + " "
    if isinstance(value, dict) and any(isinstance(v, dict | list) for v in value.values()):
        items = [f"{inner}{json.dumps(k)}: {_compact_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        items = [inner + _compact_json(v, inner) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    return json.dumps(value)


def _runs(n: int) -> str:
    return "1 run" if n == 1 else f"{n} runs"


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _side(entry: dict[str, Any], name: str, field: str) -> str:
    side = entry[name]
    if side["status"] != "ok":
        return side["status"]
    return _fmt(side["median"].get(field))


def _met(value: float | None, limit: float, higher_is_better: bool) -> str:
    if value is None:
        return "not measured"
    ok = value >= limit if higher_is_better else value <= limit
    return "met" if ok else "not met"


def lock_lines(lock: dict[str, Any]) -> list[str]:
    """The lock latency table: one row per node count and operation."""
    if lock.get("status") != "ok":
        return [f"Not measured in this run ({lock.get('status', 'not run')})."]
    lines = [
        f"Uncontended `acquire()` then `release()` through `damselfly.lock` (fencing on), "
        f"{lock['cycles']} timed cycles per run from one client thread; one node is `Lock`, "
        "several are `Redlock` asking every node in parallel. Milliseconds, medians over runs.",
        "",
        "| nodes | operation | Redis p50 | damselfly p50 | ratio | Redis p99 | damselfly p99 | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in lock["nodes"]:
        entry = lock.get(str(n))
        if entry is None:
            continue
        for op in ("acquire", "release"):
            p50, p99 = f"{op}_p50_ms", f"{op}_p99_ms"
            lines.append(
                f"| {n} | {op} | {_side(entry, 'redis', p50)} | {_side(entry, 'damselfly', p50)} "
                f"| {_ratio(entry['ratio'].get(p50))} | {_side(entry, 'redis', p99)} "
                f"| {_side(entry, 'damselfly', p99)} | {_ratio(entry['ratio'].get(p99))} |"
            )
    return lines


def targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured ratios, verdict) for the targets of issue 6 that these figures cover."""
    rows = []
    tp = results["throughput"]
    for pipeline, limit in THROUGHPUT_TARGET.items():
        picked = [e for e in tp if e["pipeline"] == pipeline and e["test"] in TARGET_TESTS]
        vals = [e["ratio"].get("rps") for e in picked]
        shown = ", ".join(f"{e['test']} {_ratio(v)}" for e, v in zip(picked, vals, strict=True))
        verdicts = {_met(v, limit, True) for v in vals}
        verdict = (
            "met"
            if verdicts == {"met"}
            else ("not met" if "not met" in verdicts else "not measured")
        )
        rows.append((f"throughput ≥ {limit}x Redis at pipeline {pipeline}", shown, verdict))
    picked = [e for e in tp if e["pipeline"] == 16 and e["test"] in TARGET_TESTS]
    vals = [e["ratio"].get("cpu_us") for e in picked]
    verdicts = {_met(v, CPU_TARGET_P16, False) for v in vals}
    rows.append(
        (
            f"server CPU per request ≤ {CPU_TARGET_P16}x Redis at pipeline 16",
            ", ".join(f"{e['test']} {_ratio(v)}" for e, v in zip(picked, vals, strict=True)),
            "met"
            if verdicts == {"met"}
            else ("not met" if "not met" in verdicts else "not measured"),
        )
    )
    mem = results["memory"].get("ratio", {}).get("bytes_per_key")
    rows.append(
        (f"RSS per key ≤ {MEMORY_TARGET}x Redis", _ratio(mem), _met(mem, MEMORY_TARGET, False))
    )
    p99s = [e["ratio"].get("p99_ms") for e in tp if e["ratio"].get("p99_ms") is not None]
    worst = max(p99s) if p99s else None
    rows.append(
        (
            f"p99 latency ≤ {P99_TARGET}x Redis",
            f"worst {_ratio(worst)}",
            _met(worst, P99_TARGET, False),
        )
    )
    return rows


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    s = meta["settings"]
    machine = meta["machine"]
    lines = ["# Benchmarks: damselfly side by side with redis-server", ""]
    if meta["quick"]:
        lines += [
            "> **Quick-mode figures** (`make bench QUICK=1`: "
            f"{_runs(s['runs'])} per throughput figure, {s['heavy_runs']} per memory and expiry "
            "figure, small request counts). Indicative only: the full run (`make bench`, 5 runs "
            "per figure) replaces them.",
            "",
        ]
    lines += [
        f"Measured {meta['date']} on {machine['cpus']} CPUs ({machine['cpu_model']}), "
        f"{machine['kernel']}; Python {machine['python']} (damselfly {machine['damselfly']}, "
        f"commit {machine['commit']}); redis-server {machine['redis']} (Debian package, "
        "jemalloc); load from redis-benchmark and redis-cli of the same version.",
        "",
        "How to read the ratios: every ratio is **damselfly ÷ Redis**. For throughput, 1.0 is "
        "parity and **higher is better**. For CPU per request, latency, memory and time to "
        "expire, **lower is better** (2.0x = twice Redis's cost). Each figure is the median of "
        f"{_runs(s['runs'])} (throughput) or {_runs(s['heavy_runs'])} (memory, expiry); the two "
        "servers "
        "run alternately (Redis, damselfly, Redis, "
        "damselfly, …) so drift on the shared machine hits both. The benchmark client shares "
        "the same cores, so absolute numbers mean little; the ratios are the result.",
        "",
        "![ratios damselfly / Redis](../bench/results/ratios.png)",
        "",
        "## Throughput and server CPU per request",
        "",
        f"`redis-benchmark -c {s['clients']} -r {s['keyspace']} -P <pipeline> -n <requests>`; "
        f"{s['requests_p1']:,} requests at pipeline 1 and {s['requests_p16']:,} at pipeline 16 "
        "(MSET ¼, EVALSHA ½ of that). CPU is the server's utime+stime from /proc/PID/stat "
        "around each run, divided by the requests.",
        "",
        "| test | pipeline | Redis req/s | damselfly req/s | ratio (higher is better) "
        "| Redis CPU µs/req | damselfly CPU µs/req | ratio (lower is better) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in results["throughput"]:
        r = e["ratio"]
        lines.append(
            f"| {e['test']} | {e['pipeline']} | {_side(e, 'redis', 'rps')} | "
            f"{_side(e, 'damselfly', 'rps')} | {_ratio(r.get('rps'))} | "
            f"{_side(e, 'redis', 'cpu_us')} | {_side(e, 'damselfly', 'cpu_us')} | "
            f"{_ratio(r.get('cpu_us'))} |"
        )
    lines += [
        "",
        "## Latency",
        "",
        "Per-request latency as redis-benchmark reports it (ms), same runs as above.",
        "",
        "| test | pipeline | Redis p50 | damselfly p50 | ratio (lower is better) "
        "| Redis p99 | damselfly p99 | ratio (lower is better) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in results["throughput"]:
        r = e["ratio"]
        lines.append(
            f"| {e['test']} | {e['pipeline']} | {_side(e, 'redis', 'p50_ms')} | "
            f"{_side(e, 'damselfly', 'p50_ms')} | {_ratio(r.get('p50_ms'))} | "
            f"{_side(e, 'redis', 'p99_ms')} | {_side(e, 'damselfly', 'p99_ms')} | "
            f"{_ratio(r.get('p99_ms'))} |"
        )
    mem = results["memory"]
    lines += [
        "",
        "## Memory",
        "",
        f"A fresh server per run is loaded with {mem['keys']:,} keys (16-byte keys, "
        f"{mem['value_bytes']}-byte values) by `redis-cli --pipe` replaying the same RESP file; "
        "RSS is VmRSS from /proc/PID/status before and after, and bytes per key is the "
        "difference divided by the keys.",
        "",
        "| figure | Redis | damselfly | ratio (lower is better) |",
        "|---|---:|---:|---:|",
    ]
    for field, label in (
        ("bytes_per_key", "bytes per key"),
        ("rss_after_mb", "RSS after load (MB)"),
        ("rss_before_mb", "RSS of the empty server (MB)"),
        ("load_s", "time to load (s)"),
    ):
        lines.append(
            f"| {label} | {_side(mem, 'redis', field)} | {_side(mem, 'damselfly', field)} | "
            f"{_ratio(mem.get('ratio', {}).get(field))} |"
        )
    exp = results["expiry"]
    lines += [
        "",
        "## Expiry",
        "",
        f"A fresh server per run is loaded (pipelined) with {exp['keys']:,} keys whose TTLs are "
        f"spread uniformly over {exp['ttl_ms'][0]}-{exp['ttl_ms'][1]} ms, then left untouched: "
        "the time is from the end of the load until DBSIZE reaches 0 (so the last TTL sets a "
        f"floor of about {exp['ttl_ms'][1] / 1000:g} s). Meanwhile redis-benchmark runs a GET load "
        f"(-c {s['clients']}, keys that do not exist, back-to-back chunks merged into one "
        "histogram) and its p99 shows how much the active expiry cycle stalls other clients.",
        "",
        "| figure | Redis | damselfly | ratio (lower is better) |",
        "|---|---:|---:|---:|",
    ]
    for field, label in (
        ("empty_after_s", "time until DBSIZE is 0 (s)"),
        ("left_after_load", "keys left when the load ended"),
        ("get_p50_ms", "GET p50 while expiring (ms)"),
        ("get_p99_ms", "GET p99 while expiring (ms)"),
    ):
        # How many keys outlived the load is context (a slower loader leaves fewer), not a score.
        ratio = "-" if field == "left_after_load" else _ratio(exp.get("ratio", {}).get(field))
        lines.append(
            f"| {label} | {_side(exp, 'redis', field)} | {_side(exp, 'damselfly', field)} | {ratio} |"
        )
    lines += ["", "## Lock latency (damselfly.lock)", ""]
    lines += lock_lines(results["lock"])
    lines += [
        "",
        "## Targets (issue 6) against these figures",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    for target, shown, verdict in targets(results):
        lines.append(f"| {target} | {shown} | {verdict} |")
    lines += [
        "",
        "## Reproduce",
        "",
        "```",
        "make bench           # full: 5 alternating runs per figure, about 10-15 minutes",
        "make bench QUICK=1   # quick: under 2 minutes, indicative only",
        "```",
        "",
        "`make bench` installs the `bench` extra (matplotlib) into `.venv`, needs Debian's "
        "`redis-server` and `redis-tools` (`make redis-server` installs them), and rewrites this "
        "page, `bench/results/<timestamp>.json`, `bench/results/latest.json` and "
        "`bench/results/ratios.png`. `.venv/bin/python bench/run.py --report "
        "bench/results/latest.json` redraws the page and chart from a results file.",
        "",
        "Notes on method:",
        "",
        "- PING is measured as redis-benchmark's two tests (inline and multibulk), each in its own "
        "run so that the CPU figure belongs to one test.",
        "- SETNX has no built-in redis-benchmark test; it runs as the custom command "
        "`SETNX key:__rand_int__ v`.",
        "- EVALSHA runs a compare-and-delete lock-release script against the SET test's keys "
        "with a token that never matches, so every call reads a key and compares, and the data "
        "stays the same from run to run. A server without EVALSHA is shown as unsupported.",
        "- CPU time comes in clock ticks (10 ms), so short runs carry a few percent of rounding.",
        "- A command the server does not know is probed first and reported as unsupported "
        "rather than benchmarked (redis-benchmark stops at the first error reply).",
        "",
    ]
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tp = results["throughput"]
    tests = list(dict.fromkeys(e["test"] for e in tp))
    pipelines = sorted({e["pipeline"] for e in tp})
    fig, axes = plt.subplots(2, 2, figsize=(14, 9.5))
    title = "damselfly ÷ Redis"
    if results["meta"]["quick"]:
        title += " (quick mode: indicative only)"
    fig.suptitle(f"{title} — {results['meta']['date']}", fontsize=14)
    parity = (1.0, "parity")
    panels = (
        (axes[0][0], "rps", "Throughput ratio (higher is better)",
         [parity, (THROUGHPUT_TARGET[16], "P16 target")]),
        (axes[0][1], "cpu_us", "Server CPU per request ratio (lower is better)",
         [parity, (CPU_TARGET_P16, "P16 target")]),
        (axes[1][0], "p99_ms", "p99 latency ratio (lower is better)",
         [parity, (P99_TARGET, "target")]),
    )  # fmt: skip
    width = 0.8 / max(1, len(pipelines))
    colors = {1: "#4c72b0", 16: "#dd8452"}
    for ax, field, label, lines in panels:
        values = []
        for i, pipeline in enumerate(pipelines):
            for j, test in enumerate(tests):
                entry = next(e for e in tp if e["test"] == test and e["pipeline"] == pipeline)
                x = j + (i - (len(pipelines) - 1) / 2) * width
                value = entry["ratio"].get(field)
                if value is None:
                    _missing(ax, x)
                    continue
                values.append(value)
                _bar(ax, x, value, width, colors.get(pipeline, "#888888"),
                     f"pipeline {pipeline}" if j == 0 else None)  # fmt: skip
        _finish(ax, tests, label, lines, values)
    ax = axes[1][1]
    keys = results["memory"]["keys"]
    rest = [
        ("bytes per key", results["memory"].get("ratio", {}).get("bytes_per_key")),
        (f"time to load {keys:,} keys", results["memory"].get("ratio", {}).get("load_s")),
        ("time until all expired", results["expiry"].get("ratio", {}).get("empty_after_s")),
        ("GET p99 while expiring", results["expiry"].get("ratio", {}).get("get_p99_ms")),
    ]
    values = []
    for j, (_name, value) in enumerate(rest):
        if value is None:
            _missing(ax, j)
            continue
        values.append(value)
        _bar(ax, j, value, 0.6, "#55a868", None)
    _finish(
        ax,
        [name for name, _ in rest],
        "Memory and expiry ratios (lower is better)",
        [parity, (MEMORY_TARGET, "memory target")],
        values,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _bar(ax: Any, x: float, value: float, width: float, color: str, label: str | None) -> None:
    """A bar with its value on top; one far beyond the others is cut at CHART_CAP and hatched,
    so a single outlier does not flatten every other bar of its panel."""
    shown = min(value, CHART_CAP)
    hatch = "//" if value > CHART_CAP else None
    ax.bar(x, shown, width, color=color, label=label, hatch=hatch, edgecolor="white")
    text = f"{value:.2f}" if value <= CHART_CAP else f"{value:.1f}\n(cut)"
    ax.text(x, shown, text, ha="center", va="bottom", fontsize=7)


def _missing(ax: Any, x: float) -> None:
    ax.text(
        x, 0.02, "unsupported", rotation=90, ha="center", va="bottom", fontsize=7, color="#777777"
    )


def _finish(
    ax: Any, names: list[str], title: str, lines: list[tuple[float, str]], values: list[float]
) -> None:
    """Ticks, title, headroom above the tallest bar for its label and the legend, and the
    parity/target lines (named in the legend, where they cannot hide a bar's label)."""
    top = min(CHART_CAP, max([*values, *(y for y, _ in lines)])) * 1.5
    ax.set_ylim(0, top)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=20, ha="right", fontsize=9)
    ax.set_title(title, fontsize=11)
    for y, text in lines:
        style = "-" if text == "parity" else "--"
        ax.axhline(y, color="#333333", linestyle=style, linewidth=0.8, label=f"{text} ({y:g})")
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.legend(fontsize=8, loc="upper right", framealpha=0.9, ncol=2)
