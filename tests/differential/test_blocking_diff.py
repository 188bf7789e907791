"""Blocking list commands with several clients, against the real redis-server, byte for byte.

A scenario is a script of steps for named raw connections; it runs on a flushed redis-server and
on a flushed damselfly (in RESP2 and RESP3), and everything recorded must be equal: the replies of
the clients that pushed, of the clients that were woken (in the order they were read), the state
left behind, and a few INFO fields. Step notation:

    a: CMD args          send, wait for the reply, record it
    a& CMD ;; CMD        send (a pipeline), then wait until the server shows `a` blocked
    a| CMD ;; CMD        send a pipeline without waiting for anything
    a?                   read one reply of `a` (a woken client, or an earlier `|`), record it
    @info                record INFO's blocked_clients and clients_in_timeout_table
    @changes             record how much rdb_changes_since_last_save moved since the last one
    {a}                  in a command: the client id of connection `a`

Blocking is detected by polling CLIENT LIST for the `b` flag, never by sleeping, so the order in
which clients block is the order of the script.
"""

from __future__ import annotations

import shlex
import time

import pytest

from tests.servers import RawConnection, ServerProcess, encode_command

pytestmark = pytest.mark.differential

SCENARIOS: dict[str, list[str]] = {
    # Redis resumes a woken client's pipeline after every client's pending input (beforeSleep),
    # so the writer's LPOP runs before the woken client's second BLPOP.
    "writer-pipeline-runs-before-woken-clients": [
        "a& BLPOP wp 0 ;; BLPOP wp 0.2",
        "d| RPUSH wp 1 2 ;; LPOP wp",
        "d?",
        "d?",
        "a?",
        "a?",
    ],
    "pushed-elements-go-to-the-waiter": [
        "a& BLPOP k 5",
        "b: RPUSH k x y",
        "a?",
        "b: LRANGE k 0 -1",
        "@info",
    ],
    "first-blocked-first-served": [
        "a& BLPOP q 0",
        "b& BLPOP q 0",
        "c& BRPOP q 0",
        "d: RPUSH q 1 2 3 4",
        "a?",
        "b?",
        "c?",
        "d: LRANGE q 0 -1",
    ],
    "push-of-n-with-m-waiters": [
        "a& BRPOP m 0",
        "b& BRPOP m 0",
        "c& BRPOP m 0",
        "@changes",
        "d: LPUSH m a b c d e",
        "@changes",
        "a?",
        "b?",
        "c?",
        "d: LRANGE m 0 -1",
    ],
    "fewer-elements-than-waiters": [
        "a& BLPOP few 0",
        "b& BLPOP few 0",
        "c& BLPOP few 0",
        "d: RPUSH few x y",
        "a?",
        "b?",
        "@info",
        "d: RPUSH few z",
        "c?",
    ],
    "several-keys": [
        "a& BLPOP k1 k2 k3 0",
        "b& BLPOP k3 0",
        "d: RPUSH k2 two",
        "a?",
        "d: RPUSH k1 one",
        "d: RPUSH k3 three",
        "b?",
        "d: LRANGE k1 0 -1 | EXISTS k3",
    ],
    "key-turned-into-another-type": [
        "a& BLPOP s l 0",
        "d: SET s v",
        "d: RPUSH l x",
        "a?",
        "a& BLPOP s2 0",
        "d: SET s2 v",
        "d: APPEND s2 w",
        "@info",
        "d: DEL s2",
        "d: RPUSH s2 y",
        "a?",
    ],
    "blmove-chain": [
        "a& BLMOVE src mid RIGHT LEFT 0",
        "b& BRPOPLPUSH mid dst 0",
        "c& BLPOP dst 0",
        "@changes",
        "d: RPUSH src v",
        "@changes",
        "a?",
        "b?",
        "c?",
        "d: EXISTS src mid dst",
    ],
    "blmove-into-another-type": [
        "d: SET dst s",
        "a& BLMOVE src dst LEFT LEFT 0",
        "b& BLPOP src 0",
        "d: RPUSH src x",
        "a?",
        "b?",
        "d: EXISTS src",
    ],
    "blmove-onto-itself": [
        "a& BLMOVE rot rot LEFT RIGHT 0",
        "b& BLPOP rot 0",
        "d: RPUSH rot 1 2",
        "a?",
        "b?",
        "d: LRANGE rot 0 -1",
    ],
    "blmpop-counts": [
        "a& BLMPOP 0 2 ma mb RIGHT COUNT 2",
        "b& BLMPOP 0 1 mb LEFT COUNT 5",
        "@changes",
        "d: RPUSH mb 1 2 3",
        "@changes",
        "a?",
        "b?",
        "d: EXISTS mb",
    ],
    "woken-pipeline-runs-after-the-other-waiters": [
        "a& BLPOP o 0 ;; BLPOP o 0",
        "b& BLPOP o 0",
        "d: RPUSH o 1 2 3",
        "a?",
        "b?",
        "a?",
    ],
    "pipelined-commands-wait-for-the-blocked-reply": [
        "a& BLPOP p 0 ;; ECHO first ;; RPUSH after x ;; LLEN p",
        "d: EXISTS after",
        "d: RPUSH p 1 2",
        "a?",
        "a?",
        "a?",
        "a?",
    ],
    "timeouts": [
        "a: BLPOP t 0.05",
        "a: BRPOP t t2 0.05",
        "a: BLMOVE t d LEFT RIGHT 0.05",
        "a: BRPOPLPUSH t d 0.05",
        "a: BLMPOP 0.05 2 t t2 LEFT COUNT 3",
        "a: BLPOP t 0.0001",
        "a: EXISTS d",
        "@info",
    ],
    "client-unblock": [
        "a& BLPOP u 0",
        "d: CLIENT UNBLOCK {a} TIMEOUT",
        "a?",
        "a& BLMOVE u v LEFT LEFT 0",
        "d: CLIENT UNBLOCK {a} ERROR",
        "a?",
        "a& BRPOPLPUSH u v 0",
        "d: CLIENT UNBLOCK {a}",
        "a?",
        "d: CLIENT UNBLOCK {a}",
        "a& BLMPOP 0 1 u LEFT",
        "d: CLIENT UNBLOCK {a} timeout",
        "a?",
        "a& BRPOP u 0 ;; PING",
        "d: CLIENT UNBLOCK {a} error",
        "a?",
        "a?",
        "d: RPUSH u x | LLEN u",
    ],
    "databases-are-separate": [
        "a& BLPOP same 0",
        "b: SELECT 1",
        "b& BLPOP same 0",
        "d: SELECT 1",
        "d: RPUSH same one",
        "b?",
        "@info",
        "d: SELECT 0",
        "d: RPUSH same zero",
        "a?",
    ],
    "deletes-expiry-and-flushes-wake-nobody": [
        "a& BLPOP quiet 0",
        "d: SET quiet v PXAT 1",
        "d: EXISTS quiet",
        "d: SET quiet v",
        "d: DEL quiet",
        "d: FLUSHDB",
        "d: FLUSHALL",
        "@info",
        "d: RPUSH quiet x",
        "a?",
    ],
    "lists-arriving-under-the-key": [
        "a& BLPOP arrive 0",
        "d: SELECT 1",
        "d: RPUSH arrive swapped",
        "d: SWAPDB 0 1",
        "a?",
        "a& BLPOP arrive 0",
        "d: RPUSH arrive moved",
        "d: MOVE arrive 0",
        "a?",
        "d: SELECT 0",
        "a& BLPOP arrive 0",
        "d: RPUSH elsewhere renamed",
        "d: RENAME elsewhere arrive",
        "a?",
        "a& BLPOP arrive 0",
        "d: RPUSH elsewhere copied",
        "d: COPY elsewhere arrive",
        "a?",
    ],
    "info-while-blocked": [
        "a& BLPOP i 0",
        "b& BLMOVE i x LEFT LEFT 100",
        "@info",
        "d: RPUSH i 1 2",
        "a?",
        "b?",
        "@info",
    ],
}


class Session:
    """Named raw connections to one server and the record of a scenario run on it."""

    def __init__(self, proc: ServerProcess, resp3: bool) -> None:
        self.proc = proc
        self.resp3 = resp3
        self.conns: dict[str, RawConnection] = {}
        self.ids: dict[str, bytes] = {}
        self.control = proc.raw()
        self.changes = self.changes_now()
        self.record: list[tuple[str, object]] = []

    def conn(self, name: str) -> RawConnection:
        conn = self.conns.get(name)
        if conn is None:
            conn = self.conns[name] = self.proc.raw()
            self.ids[name] = conn.request(encode_command("CLIENT", "ID"))[1:-2]
            if self.resp3:
                conn.request(encode_command("HELLO", "3"))
        return conn

    def encode(self, commands: str) -> bytes:
        out = []
        for command in commands.split(" ;; "):
            argv = shlex.split(command)
            for name, cid in self.ids.items():
                argv = [cid.decode() if arg == "{" + name + "}" else arg for arg in argv]
            out.append(encode_command(*argv))
        return b"".join(out)

    def info(self) -> dict[bytes, bytes]:
        text = self.control.request(encode_command("INFO", "everything"))
        return dict(line.split(b":", 1) for line in text.split(b"\r\n") if b":" in line)

    def changes_now(self) -> int:
        return int(self.info()[b"rdb_changes_since_last_save"])

    def wait_blocked(self, name: str) -> None:
        deadline = time.monotonic() + 5
        while True:
            line = self.control.request(encode_command("CLIENT", "LIST", "ID", self.ids[name]))
            flags = [f for f in line.split() if f.startswith(b"flags=")]
            if flags and b"b" in flags[0][6:]:
                return
            assert time.monotonic() < deadline, f"{name} did not block"
            time.sleep(0.002)

    def step(self, line: str) -> None:
        if line == "@info":
            fields = self.info()
            shown = (fields[b"blocked_clients"], fields[b"clients_in_timeout_table"])
            self.record.append((line, shown))
            return
        if line == "@changes":
            now = self.changes_now()
            self.record.append((line, now - self.changes))
            self.changes = now
            return
        name, mode, rest = line[0], line[1], line[2:].strip()
        conn = self.conn(name)
        if mode == "?":
            self.record.append((line, conn.read_reply()))
        elif mode == "&":
            conn.send(self.encode(rest))
            self.wait_blocked(name)
        elif mode == "|":
            conn.send(self.encode(rest))
        else:
            for command in rest.split(" | "):
                self.record.append((f"{name}: {command}", conn.request(self.encode(command))))

    def close(self) -> None:
        # Killed through the server: a client left blocked by a failed step must not linger.
        for cid in self.ids.values():
            self.control.request(encode_command("CLIENT", "KILL", "ID", cid))
        for conn in [*self.conns.values(), self.control]:
            conn.close()


def run(proc: ServerProcess, script: list[str], resp3: bool) -> list[tuple[str, object]]:
    session = Session(proc, resp3)
    try:
        session.control.request(encode_command("FLUSHALL"))
        session.changes = session.changes_now()
        for line in script:
            session.step(line)
        return session.record
    finally:
        session.close()


def compare(script: list[str], server: ServerProcess, oracle: ServerProcess, resp3: bool) -> None:
    expected = run(oracle, script, resp3)
    actual = run(server, script, resp3)
    for (step, want), (_, got) in zip(expected, actual, strict=True):
        assert got == want, f"{step}: redis {want!r} damselfly {got!r}"


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_blocking_scenario_matches_redis(
    name: str, resp3: bool, server: ServerProcess, redis_oracle: ServerProcess
) -> None:
    compare(SCENARIOS[name], server, redis_oracle, resp3)
