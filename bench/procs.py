"""The two servers under test, as child processes on free loopback ports, and what /proc says
about them.

Both servers get the same treatment: no persistence (`--save '' --appendonly no`), loopback only,
their own scratch directory, and a PING answered before any measurement starts. CPU time and RSS
are read straight from /proc/<pid>/stat and /proc/<pid>/status, because asking the server (INFO)
would cost the server work and damselfly may not implement the field yet.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
NAMES = ("redis", "damselfly")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def damselfly_python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else "python3"


def redis_server_path() -> str:
    path = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(path).exists():
        raise SystemExit("redis-server not found: run `make redis-server` first")
    return path


class StartError(RuntimeError):
    """A server did not come up; the harness stops, since every figure needs both."""


class Server:
    """One running server. `restart()` replaces a process that died, on a new port."""

    def __init__(self, name: str) -> None:
        if name not in NAMES:
            raise ValueError(name)
        self.name = name
        self.scratch = tempfile.mkdtemp(prefix=f"bench-{name}-")
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        try:
            self.start()
        except BaseException:
            self.close()
            raise

    def argv(self) -> list[str]:
        common = [
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        if self.name == "redis":
            return [redis_server_path(), *common, "--dir", self.scratch, "--daemonize", "no"]
        return [damselfly_python(), "-m", "damselfly", *common, "--dir", self.scratch]

    def start(self) -> None:
        self.port = free_port()
        log = open(Path(self.scratch) / "server.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            self.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT
        )
        log.close()
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                log = (Path(self.scratch) / "server.log").read_text(errors="replace")
                raise StartError(f"{self.name} exited at start:\n{log[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise StartError(f"{self.name} did not answer PING within {timeout}s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def cpu_seconds(self) -> float:
        """utime + stime of the whole process (every thread), in seconds."""
        with open(f"/proc/{self.pid}/stat") as f:
            # The command name (field 2) may hold spaces; everything after its ')' is numeric.
            fields = f.read().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])
        return (utime + stime) / CLOCK_TICKS

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS line")


def redis_version() -> str:
    out = subprocess.run(
        [redis_server_path(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    for word in out.split():
        if word.startswith("v="):
            return word[2:]
    return out.strip()
