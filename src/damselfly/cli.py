"""`damselfly [config-file] [--name value ...]`, like redis-server.

Options come from the one parameter registry (config.py): the config file is read first, then
command-line options override it, exactly as redis-server does (it appends the options to the
file's text). `-` as the config file reads it from standard input.
"""

from __future__ import annotations

import asyncio
import sys

from damselfly import REDIS_VERSION, __version__
from damselfly.config import Config, ConfigError, default_config
from damselfly.protocol.parser import split_inline

USAGE = """Usage: damselfly [/path/to/damselfly.conf] [options] [-]
       damselfly - (read config from stdin)
       damselfly -v or --version
       damselfly -h or --help

Examples:
       damselfly (run the server with default config)
       damselfly /etc/damselfly/6379.conf
       damselfly --port 7777
       damselfly --port 7777 --requirepass secret
       damselfly /etc/mydamselfly.conf --loglevel verbose -

Every parameter of the config file (redis.conf syntax) is also an option: --name value.
"""


def version_line() -> str:
    return f"damselfly v={__version__} redis_version={REDIS_VERSION} bits=64"


def parse_lines(text: str) -> list[tuple[int, str, list[str]]]:
    """Config text -> (line number, original line, words), skipping blanks and comments."""
    result = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            words = [w.decode() for w in split_inline(stripped.encode())]
        except Exception:
            raise _FatalLine(number, line, "Unbalanced quotes in configuration line") from None
        result.append((number, line, words))
    return result


class _FatalLine(Exception):
    def __init__(self, number: int, line: str, reason: str) -> None:
        super().__init__(reason)
        self.number = number
        self.line = line
        self.reason = reason


def apply_text(config: Config, text: str) -> None:
    for number, line, words in parse_lines(text):
        name, values = words[0].lower(), words[1:]
        try:
            if not values:
                raise ConfigError("wrong number of arguments")
            config.set(name, " ".join(values), startup=True)
        except ConfigError as exc:
            reason = str(exc)
            if name not in config.params:
                reason = "Bad directive or wrong number of arguments"
            raise _FatalLine(number, line, reason) from None


def build_config(argv: list[str]) -> Config:
    config = default_config()
    args = list(argv)
    text = ""
    if args and not args[0].startswith("--") and args[0] != "-":
        path = args.pop(0)
        try:
            with open(path) as f:
                text = f.read()
        except OSError as exc:
            raise SystemExit(f"Fatal error, can't open config file '{path}': {exc.strerror}") from None
    options: list[str] = []
    read_stdin = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-":
            read_stdin = True
            i += 1
            continue
        if not arg.startswith("--"):
            raise SystemExit(f"Invalid option '{arg}': options must start with -- (see --help)")
        name = arg[2:]
        values: list[str] = []
        i += 1
        while i < len(args) and not args[i].startswith("--") and args[i] != "-":
            values.append(args[i])
            i += 1
        if not values:
            values = [""] if name in ("save",) else []
        options.append(" ".join([name, *[_quote(v) for v in values]]))
    if read_stdin:
        text += "\n" + sys.stdin.read()
    text += "\n" + "\n".join(options)
    apply_text(config, text)
    return config


def _quote(value: str) -> str:
    if value == "" or any(c in value for c in " \t\"'"):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-v", "--version"):
        print(version_line())
        return 0
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    try:
        config = build_config(args)
    except _FatalLine as exc:
        sys.stderr.write(
            f"\n*** FATAL CONFIG FILE ERROR (damselfly {__version__}) ***\n"
            f"Reading the configuration file, at line {exc.number}\n"
            f">>> '{exc.line.strip()}'\n{exc.reason}\n"
        )
        return 1
    except SystemExit as exc:
        if isinstance(exc.code, str):
            sys.stderr.write(exc.code + "\n")
            return 1
        raise
    from damselfly.server.server import Server

    server = Server(config)
    for line in server.banner():
        server.log_warning(line)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency, but keep plain asyncio working
        runner = asyncio.run
    try:
        return int(runner(server.serve()))
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except KeyboardInterrupt:
        return 0
