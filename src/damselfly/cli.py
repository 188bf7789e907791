"""`damselfly [config-file] [--name value ...] [-]`, read the way redis-server reads its arguments.

Options come from the one parameter registry (config.py). As in redis-server, the command line is
turned into config-file text and appended to the file's text (and to standard input's, with `-`),
then the whole text is applied line by line: a later line wins, and an error names the line of
that combined text, so `damselfly --hz abc` fails "at line 2" exactly like redis-server. A bad
line ends the process with redis-server's "FATAL CONFIG FILE ERROR" block and exit code 1.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from damselfly import REDIS_VERSION, __version__
from damselfly.config import Config, ConfigFileError, default_config, quote

USAGE = """Usage: damselfly [/path/to/damselfly.conf] [options] [-]
       damselfly - (read config from stdin)
       damselfly -v or --version
       damselfly -h or --help

Examples:
       damselfly (run the server with default config)
       echo 'maxmemory 128mb' | damselfly -
       damselfly /etc/damselfly/6379.conf
       damselfly --port 7777
       damselfly --port 0 --unixsocket /tmp/damselfly.sock
       damselfly /etc/mydamselfly.conf --loglevel verbose -

Every parameter of the config file (redis.conf syntax) is also an option: --name value.
The config file may `include` other files."""


class StartupError(Exception):
    """A problem that stops the server before it starts: message for stderr, exit code 1."""


def version_line() -> str:
    return f"damselfly v={__version__} redis_version={REDIS_VERSION} bits=64"


def options_text(args: list[str]) -> str:
    """Command-line options as config lines: `--port 7000 --save` -> 'port "7000" \\nsave ""'.

    A word after an option name is one of its values (quoted, so spaces survive), even when it
    starts with "--" while the option has no value yet; `--save` with nothing after it means
    `save ""` (snapshots off), the one option that may stand alone.
    """
    options = ""
    have_value = True
    for i, arg in enumerate(args):
        if have_value and arg.startswith("--"):
            if options:
                options += "\n"
            options += arg[2:] + " "
            have_value = len(arg[2:].split()) > 1
            if not have_value and arg.lower() == "--save":
                last = i == len(args) - 1
                if last or args[i + 1].startswith("--"):
                    options += '""'
                    have_value = True
        else:
            options += quote(arg) + " "
            have_value = True
    return options


def build_config(argv: list[str], stdin_text: str | None = None) -> Config:
    """The configuration for this command line; raises StartupError or ConfigFileError."""
    config = default_config()
    args = list(argv)
    text = ""
    if args and not args[0].startswith("-"):
        path = args.pop(0)
        try:
            with open(path) as f:
                text = f.read()
        except OSError as exc:
            raise StartupError(
                f"Fatal error, can't open config file '{path}': {exc.strerror}"
            ) from None
        config.file = os.path.abspath(path)
    from_stdin = False
    if args and args[-1] == "-":
        from_stdin = True
        args.pop()
    elif args and args[0] == "-":
        from_stdin = True
        args.pop(0)
    if from_stdin:
        text += stdin_text if stdin_text is not None else sys.stdin.read()
    text += "\n" + options_text(args)
    config.load_text(text)
    return config


def fatal_config_block(exc: ConfigFileError) -> str:
    return (
        f"\n*** FATAL CONFIG FILE ERROR (damselfly {__version__}) ***\n"
        f"Reading the configuration file, at line {exc.number}\n"
        f">>> '{exc.line}'\n{exc.reason}\n"
    )


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
    except ConfigFileError as exc:
        sys.stderr.write(fatal_config_block(exc))
        return 1
    except StartupError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    from damselfly.server.server import Server

    server = Server(config)
    runner: Callable[[Coroutine[Any, Any, int]], int]
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
