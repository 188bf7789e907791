"""The one registry of configuration parameters.

Each parameter is declared once (name, type, default, whether CONFIG SET may change it, an
optional hook run after a change). The same declaration serves command-line flags
(`--port 7000`), the config file (redis.conf syntax) and CONFIG GET / SET / REWRITE, so the three
can never disagree about names, types or defaults.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


class ConfigError(Exception):
    """An invalid name or value; the message is the reason Redis would give."""


_MEMORY_RE = re.compile(r"^(-?\d+)(b|k|kb|m|mb|g|gb)?$", re.IGNORECASE)
_MEMORY_UNITS = {
    None: 1,
    "b": 1,
    "k": 1000,
    "kb": 1024,
    "m": 1000**2,
    "mb": 1024**2,
    "g": 1000**3,
    "gb": 1024**3,
}


def parse_memory(text: str) -> int:
    m = _MEMORY_RE.match(text)
    if not m:
        raise ConfigError("argument must be a memory value")
    unit = m.group(2).lower() if m.group(2) else None
    return int(m.group(1)) * _MEMORY_UNITS[unit]


@dataclass
class Param:
    name: str
    kind: str  # "bool" | "int" | "memory" | "string" | "enum" | "special"
    default: Any
    mutable: bool = True
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    aliases: tuple[str, ...] = ()
    on_change: Callable[[Any], None] | None = None
    sensitive: bool = False

    def parse(self, text: str) -> Any:
        if self.kind == "bool":
            low = text.lower()
            if low == "yes":
                return True
            if low == "no":
                return False
            raise ConfigError("argument must be 'yes' or 'no'")
        if self.kind in ("int", "memory"):
            if self.kind == "memory":
                value = parse_memory(text)
            else:
                try:
                    if not re.match(r"^-?\d+$", text):
                        raise ValueError
                    value = int(text)
                except ValueError:
                    raise ConfigError("argument couldn't be parsed into an integer") from None
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise ConfigError(
                    f"argument must be between {self.minimum} and {self.maximum} inclusive"
                )
            return value
        if self.kind == "enum":
            low = text.lower()
            if low not in self.choices:
                raise ConfigError("argument(s) must be one of the following: " + ", ".join(self.choices))
            return low
        return text

    def format(self, value: Any) -> str:
        if self.kind == "bool":
            return "yes" if value else "no"
        return str(value)


@dataclass
class Config:
    params: dict[str, Param] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def declare(self, param: Param) -> None:
        self.params[param.name] = param
        for alias in param.aliases:
            self.params[alias] = param
        self.values[param.name] = param.default

    def lookup(self, name: str) -> Param:
        param = self.params.get(name.lower())
        if param is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        return param

    def __getitem__(self, name: str) -> Any:
        return self.values[self.params[name].name]

    def set(self, name: str, text: str, *, startup: bool = False) -> None:
        param = self.lookup(name)
        if not param.mutable and not startup:
            raise ConfigError("can't set immutable config")
        value = param.parse(text)
        self.values[param.name] = value
        if param.on_change is not None and not startup:
            param.on_change(value)

    def get_text(self, name: str) -> str:
        param = self.params[name]
        return param.format(self.values[param.name])

    def canonical_names(self) -> Iterable[str]:
        return self.values.keys()


def default_config() -> Config:
    config = Config()
    for param in PARAMS:
        config.declare(
            Param(**{**param.__dict__})  # a fresh copy per server: hooks are bound per server
        )
    return config


PARAMS: list[Param] = [
    Param("port", "int", 6379, mutable=True, minimum=0, maximum=65535),
    Param("bind", "string", "127.0.0.1 -::1"),
    Param("unixsocket", "string", "", mutable=False),
    Param("unixsocketperm", "int", 0, mutable=False),
    Param("databases", "int", 16, mutable=False, minimum=1, maximum=2**31 - 1),
    Param("requirepass", "string", "", sensitive=True),
    Param("hz", "int", 10, minimum=0, maximum=2**31 - 1),
    Param("proto-max-bulk-len", "memory", 512 * 1024 * 1024, minimum=1024 * 1024),
    Param("client-query-buffer-limit", "memory", 1024 * 1024 * 1024, minimum=1024 * 1024),
    Param("maxclients", "int", 10000, minimum=1),
    Param("timeout", "int", 0, minimum=0),
    Param("tcp-keepalive", "int", 300, minimum=0),
    Param("tcp-backlog", "int", 511, mutable=False, minimum=0),
    Param("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning", "nothing")),
    Param("logfile", "string", "", mutable=False),
    Param("daemonize", "bool", False, mutable=False),
    Param("pidfile", "string", "", mutable=False),
    Param("dir", "string", "."),
    Param("dbfilename", "string", "dump.rdb"),
    Param("save", "string", ""),
    Param("appendonly", "bool", False),
    Param("maxmemory", "memory", 0, minimum=0),
    Param(
        "maxmemory-policy",
        "enum",
        "noeviction",
        choices=(
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ),
    ),
    Param("slowlog-log-slower-than", "int", 10000),
    Param("slowlog-max-len", "int", 128, minimum=0),
    Param("latency-monitor-threshold", "int", 0, minimum=0),
    Param("notify-keyspace-events", "string", ""),
    Param("active-expire-effort", "int", 1, minimum=1, maximum=10),
    Param("lazyfree-lazy-user-flush", "bool", False),
    Param("protected-mode", "bool", True),
]
