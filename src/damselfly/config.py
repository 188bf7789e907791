"""The one registry of configuration parameters.

Each parameter is declared once (name, kind, default, bounds, whether CONFIG SET may change it,
an optional hook run after a change). The same declaration serves command-line flags
(`--port 7000`), the config file (redis.conf syntax), CONFIG GET / SET / REWRITE and INFO, so
they can never disagree about names, types, defaults or error texts. Parsing follows Redis 7.0
exactly, quirks included: integers are read like `string2ll` (no '+', no leading zeros), memory
values like `memtoull` (digits then an optional unit, saturating, empty means 0), and every
error reason is the text Redis puts after "CONFIG SET failed (possibly related to argument ...)".

Values are stored parsed: bool, int, str, or for the few structured parameters a canonical form
documented next to their parser (`save` is a tuple of (seconds, changes) pairs,
`notify-keyspace-events` the set of class letters with `A` expanded, and so on). Parameters
marked `inert` are accepted and reported like Redis but change nothing in damselfly (tuning knobs
of subsystems damselfly does not have); docs list them so nobody is misled.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from damselfly.keyspace.glob import compile_glob
from damselfly.protocol.parser import split_inline

LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)
ULLONG_MAX = 2**64 - 1
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
UINT_MAX = 2**32 - 1


class ConfigError(Exception):
    """An invalid name or value; the message is the reason Redis would give."""


class UnknownOption(ConfigError):
    """CONFIG SET of a name that is not a parameter (its own error text, not 'failed ...')."""


class ConfigSetError(ConfigError):
    """CONFIG SET failed: `arg` is the parameter name as the client spelled it."""

    def __init__(self, arg: str, reason: str) -> None:
        super().__init__(reason)
        self.arg = arg
        self.reason = reason


# -- value syntax ----------------------------------------------------------------------------------

_INT_RE = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_FLOAT_RE = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_MEMORY_RE = re.compile(r"([0-9]*)(b|k|kb|m|mb|g|gb)?\Z", re.IGNORECASE)
_MEMORY_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1024,
    "m": 1000**2,
    "mb": 1024**2,
    "g": 1000**3,
    "gb": 1024**3,
}


def parse_int_text(text: str) -> int | None:
    """string2ll: the integer `text` spells exactly (no '+', spaces or leading zeros), or None."""
    if len(text) > 20 or not _INT_RE.match(text) or text == "-0":
        return None
    value = int(text)
    return value if LLONG_MIN <= value <= LLONG_MAX else None


def split_values(text: str) -> list[str]:
    """A multi-word value cut on single spaces, as Redis cuts it: "" is no words, and a doubled,
    leading or trailing space makes an empty word (which every parser then rejects)."""
    return text.split(" ") if text else []


def memtoull(text: str) -> int | None:
    """Redis's memtoull: digits then an optional unit; the digits saturate at 2**64-1 and the
    unit multiplies modulo 2**64 (what the C code does); "" and a bare unit mean 0."""
    m = _MEMORY_RE.match(text)
    if not m:
        return None
    digits = min(int(m.group(1) or "0"), ULLONG_MAX)
    return (digits * _MEMORY_UNITS[(m.group(2) or "").lower()]) % 2**64


def parse_memory(text: str) -> int:
    """A memory value as a plain int (used by limits other modules read from config text)."""
    value = memtoull(text)
    if value is None:
        raise ConfigError("argument must be a memory value")
    return value


def format_memory_units(value: int) -> str:
    """Memory as CONFIG REWRITE writes it: the largest binary unit that divides it exactly."""
    if value and value % 1024**3 == 0:
        return f"{value // 1024**3}gb"
    if value and value % 1024**2 == 0:
        return f"{value // 1024**2}mb"
    if value and value % 1024 == 0:
        return f"{value // 1024}kb"
    return str(value)


def quote(text: str) -> str:
    """A string as sdscatrepr writes it: double quotes, C escapes, \\xHH for other bytes."""
    out = ['"']
    for ch in text.encode("utf-8", "surrogateescape"):
        if ch == 0x5C:
            out.append("\\\\")
        elif ch == 0x22:
            out.append('\\"')
        elif ch == 0x0A:
            out.append("\\n")
        elif ch == 0x0D:
            out.append("\\r")
        elif ch == 0x09:
            out.append("\\t")
        elif ch == 0x07:
            out.append("\\a")
        elif ch == 0x08:
            out.append("\\b")
        elif 0x20 <= ch < 0x7F:
            out.append(chr(ch))
        else:
            out.append("\\x%02x" % ch)
    out.append('"')
    return "".join(out)


# -- parameters ------------------------------------------------------------------------------------


@dataclass
class Param:
    """One parameter. `kind` decides parsing and printing:

    bool (yes/no), int (string2ll within [minimum, maximum]), memory (memtoull; `unsigned` ones
    are never range-checked above, signed ones see values past 2**63 as negative like C does),
    percent (memory, or "N%" stored as -N), enum (one of `choices`), flags (a space-separated
    set of `choices`, printed in `choices` order, "default" when empty), string, special (the
    `parser`/`formatter` callables do the work).
    """

    name: str
    kind: str
    default: Any
    mutable: bool = True
    protected: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    aliases: tuple[str, ...] = ()
    on_change: Callable[[Any], None] | None = None
    sensitive: bool = False
    unsigned: bool = False
    inert: bool = False
    multi_arg: bool = False
    # Lines in a config file add to the value (`save`); CONFIG SET replaces it.
    file_accumulates: bool = False
    parser: Callable[[str, Any], Any] | None = None
    formatter: Callable[[Any], str] | None = None
    rewriter: Callable[[Any], list[str]] | None = None
    help: str = ""

    def parse(self, text: str, current: Any = None) -> Any:
        kind = self.kind
        if kind == "bool":
            low = text.lower()
            if low == "yes":
                return True
            if low == "no":
                return False
            raise ConfigError("argument must be 'yes' or 'no'")
        if kind == "int":
            value = parse_int_text(text)
            if value is None:
                raise ConfigError("argument couldn't be parsed into an integer")
            return self._bounded(value)
        if kind == "memory":
            raw = memtoull(text)
            if raw is None:
                raise ConfigError("argument must be a memory value")
            return self._memory(raw)
        if kind == "percent":
            if text.endswith("%"):
                number = parse_int_text(text[:-1])
                if number is None or number < 0:
                    raise ConfigError("argument must be a memory or percent value")
                if number > 100:
                    raise ConfigError("percentage argument must be less or equal to 100")
                return -number
            raw = memtoull(text)
            if raw is None:
                raise ConfigError("argument must be a memory or percent value")
            return self._memory(raw)
        if kind == "enum":
            low = text.lower()
            if low not in self.choices:
                raise ConfigError(self._choices_error())
            return low
        if kind == "flags":
            words = [w.lower() for w in split_values(text)]
            if not words or any(w not in self.choices for w in words):
                raise ConfigError(self._choices_error())
            chosen = {w for w in words if w != "default"}
            if {"save", "nosave"} <= chosen:
                # The one flags parameter pair (shutdown-on-*) with exclusive members.
                raise ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously")
            return tuple(c for c in self.choices if c in chosen)
        if kind == "special":
            assert self.parser is not None
            return self.parser(text, current)
        return text

    def _choices_error(self) -> str:
        return "argument(s) must be one of the following: " + ", ".join(self.choices)

    def _bounded(self, value: int) -> int:
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise ConfigError(
                f"argument must be between {self.minimum} and {self.maximum} inclusive"
            )
        return value

    def _memory(self, raw: int) -> int:
        if self.unsigned:
            if self.minimum is not None and raw < self.minimum:
                raise ConfigError(
                    f"argument must be between {self.minimum} and {ULLONG_MAX} inclusive"
                )
            return raw
        signed = raw - 2**64 if raw > LLONG_MAX else raw
        return self._bounded(signed)

    def format(self, value: Any) -> str:
        kind = self.kind
        if kind == "bool":
            return "yes" if value else "no"
        if kind == "percent" and value < 0:
            return f"{-value}%"
        if kind == "flags":
            return " ".join(value) if value else "default"
        if kind == "special":
            assert self.formatter is not None
            return self.formatter(value)
        return str(value)

    def rewrite_lines(self, value: Any) -> list[str]:
        """The `name value` lines CONFIG REWRITE writes for `value` (several for `save`)."""
        if self.rewriter is not None:
            return [f"{self.name} {text}" for text in self.rewriter(value)]
        kind = self.kind
        if kind in ("string",):
            text = quote(value)
        elif kind in ("memory", "percent") and value >= 0:
            text = format_memory_units(value)
        else:
            text = self.format(value)
        return [f"{self.name} {text}"]


@dataclass
class Config:
    """Current values of every parameter, plus where they came from (the config file)."""

    params: dict[str, Param] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    order: list[Param] = field(default_factory=list)
    # Absolute path of the config file the server started with ("" when none): CONFIG REWRITE
    # writes it back and INFO shows it.
    file: str = ""
    # Parameters already seen while loading the startup text: the first `save` line replaces
    # the default schedule and later ones add to it, like Redis.
    _loaded: set[str] = field(default_factory=set)

    def declare(self, param: Param) -> None:
        self.params[param.name] = param
        for alias in param.aliases:
            self.params[alias] = param
        self.values[param.name] = param.default
        self.order.append(param)

    def lookup(self, name: str) -> Param:
        param = self.params.get(name.lower())
        if param is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        return param

    def __getitem__(self, name: str) -> Any:
        return self.values[self.params[name].name]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.params

    def set(self, name: str, text: str, *, startup: bool = False) -> None:
        """Set one parameter (startup: immutable ones allowed and no hooks run yet)."""
        param = self.lookup(name)
        if not startup:
            self.set_many([(name, text)])
            return
        value = param.parse(text, self._current_for_startup(param))
        self.values[param.name] = value
        self._loaded.add(param.name)

    def _current_for_startup(self, param: Param) -> Any:
        # Accumulating lines (`save`) start from nothing at their first line, not the default.
        if param.file_accumulates and param.name not in self._loaded:
            return ()
        return self.values[param.name]

    def set_many(self, pairs: list[tuple[str, str]], *, allow_protected: bool = False) -> None:
        """CONFIG SET: all or nothing, errors checked in Redis's order.

        First every name is checked (unknown, immutable, protected, given twice), then every value
        is parsed, then the hooks run; if a value or a hook fails, every parameter gets its old
        value back (and its hook runs again with it) before the error is raised.
        """
        seen: set[str] = set()
        targets: list[tuple[str, Param, str]] = []
        for name, text in pairs:
            param = self.params.get(name.lower())
            if param is None:
                raise UnknownOption(name)
            if not param.mutable:
                raise ConfigSetError(name, "can't set immutable config")
            if param.protected and not allow_protected:
                raise ConfigSetError(name, "can't set protected config")
            if name.lower() in seen:
                raise ConfigSetError(name, "duplicate parameter")
            seen.add(name.lower())
            targets.append((name, param, text))
        old = {param.name: self.values[param.name] for _, param, _ in targets}
        changed: list[tuple[str, Param]] = []
        try:
            for name, param, text in targets:
                try:
                    current = () if param.file_accumulates else self.values[param.name]
                    self.values[param.name] = param.parse(text, current)
                except ConfigError as exc:
                    raise ConfigSetError(name, str(exc)) from None
                changed.append((name, param))
            for name, param in changed:
                if param.on_change is not None and self.values[param.name] != old[param.name]:
                    try:
                        param.on_change(self.values[param.name])
                    except ConfigError as exc:
                        raise ConfigSetError(name, str(exc)) from None
        except ConfigSetError:
            for _, param in changed:
                current = self.values[param.name]
                self.values[param.name] = old[param.name]
                if param.on_change is not None and current != old[param.name]:
                    with contextlib.suppress(ConfigError):
                        param.on_change(old[param.name])
            raise

    def get_text(self, name: str) -> str:
        param = self.params[name.lower()]
        return param.format(self.values[param.name])

    def canonical_names(self) -> Iterable[str]:
        return (p.name for p in self.order)

    def all_names(self) -> Iterator[tuple[str, Param]]:
        """Every name CONFIG GET can show, aliases included, in declaration order."""
        for param in self.order:
            yield param.name, param
            for alias in param.aliases:
                yield alias, param

    def matching(self, patterns: list[str]) -> list[tuple[str, str]]:
        """CONFIG GET: (name, value) for every parameter some pattern matches, once each.

        A pattern without glob characters is looked up directly and answered under the name
        as given (Redis does the same); globs match case-insensitively against every name.
        """
        found: dict[str, str] = {}
        for pattern in patterns:
            if not any(c in pattern for c in "*?["):
                param = self.params.get(pattern.lower())
                if param is not None and pattern not in found:
                    found[pattern] = param.format(self.values[param.name])
                continue
            match = compile_glob(pattern.encode("utf-8", "surrogateescape"), nocase=True)
            for name, param in self.all_names():
                if name not in found and match(name.encode()):
                    found[name] = param.format(self.values[param.name])
        return list(found.items())

    def is_default(self, param: Param) -> bool:
        return bool(self.values[param.name] == param.default)

    # -- the config file ---------------------------------------------------------------------------

    def load_text(self, text: str) -> None:
        """Apply redis.conf-syntax text at startup; raises ConfigFileError on the first bad line."""
        for number, line, words in parse_lines(text):
            name = words[0].lower()
            args = words[1:]
            if name == "include":
                if len(args) != 1:
                    raise ConfigFileError(
                        number, line, "Bad directive or wrong number of arguments"
                    )
                try:
                    with open(args[0]) as f:
                        included = f.read()
                except OSError as exc:
                    raise ConfigFileError(
                        number,
                        line,
                        f"Fatal error, can't open config file '{args[0]}': {exc.strerror}",
                    ) from None
                self.load_text(included)
                continue
            param = self.params.get(name)
            if param is None:
                raise ConfigFileError(number, line, "Bad directive or wrong number of arguments")
            if not args or (len(args) > 1 and not param.multi_arg):
                raise ConfigFileError(number, line, "wrong number of arguments")
            try:
                self.set(name, " ".join(args), startup=True)
            except ConfigError as exc:
                raise ConfigFileError(number, line, str(exc)) from None

    def rewrite(self) -> None:
        """CONFIG REWRITE: write the current values back into the file the server started with.

        Like Redis: comments, blank lines and lines it does not understand stay where they are; a
        parameter already in the file is rewritten in place (even at its default value) and its
        extra lines become blank; parameters that differ from their default and were not in the
        file are appended after a "# Generated by CONFIG REWRITE" line. The new file replaces the
        old one atomically (temporary file, fsync, rename).
        """
        if not self.file:
            raise ConfigError("The server is running without a config file")
        try:
            with open(self.file) as f:
                old_lines = f.read().splitlines()
        except FileNotFoundError:
            old_lines = []
        out: list[str] = []
        done: set[str] = set()
        has_marker = False
        for line in old_lines:
            stripped = line.strip()
            if stripped == REWRITE_MARKER:
                has_marker = True
            if not stripped or stripped.startswith("#"):
                out.append(line)
                continue
            try:
                words = split_words(stripped)
            except ConfigError:
                out.append(line)
                continue
            param = self.params.get(words[0].lower())
            if param is None:
                out.append(line)
                continue
            if param.name in done:
                out.append("")
                continue
            done.add(param.name)
            out.extend(param.rewrite_lines(self.values[param.name]))
        appended: list[str] = []
        for param in self.order:
            if param.name not in done and not self.is_default(param):
                appended.extend(param.rewrite_lines(self.values[param.name]))
        if appended and not has_marker:
            out.extend(["", REWRITE_MARKER])
        out.extend(appended)
        text = "\n".join(out) + "\n"
        directory = os.path.dirname(self.file) or "."
        fd, tmp = tempfile.mkstemp(prefix=".damselfly-conf-", dir=directory)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.chmod(tmp, os.stat(self.file).st_mode & 0o777)
            except OSError:
                os.chmod(tmp, 0o644)
            os.replace(tmp, self.file)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise ConfigError(f"Rewriting config file: {exc.strerror}") from None


REWRITE_MARKER = "# Generated by CONFIG REWRITE"


class ConfigFileError(Exception):
    """A bad line in the startup text: redis-server's "FATAL CONFIG FILE ERROR" block."""

    def __init__(self, number: int, line: str, reason: str) -> None:
        super().__init__(reason)
        self.number = number
        self.line = line
        self.reason = reason


def split_words(line: str) -> list[str]:
    """One config line split like sdssplitargs (quotes and escapes), as text."""
    try:
        words = split_inline(line.encode("utf-8", "surrogateescape"))
    except Exception:
        raise ConfigError("Unbalanced quotes in configuration line") from None
    return [w.decode("utf-8", "surrogateescape") for w in words]


def parse_lines(text: str) -> list[tuple[int, str, list[str]]]:
    """Config text -> (line number, trimmed line, words), skipping blanks and comments."""
    result = []
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip(" \t\r\n")
        if not stripped or stripped.startswith("#"):
            continue
        try:
            words = split_words(stripped)
        except ConfigError as exc:
            raise ConfigFileError(number, stripped, str(exc)) from None
        if words:
            result.append((number, stripped, words))
    return result


# -- structured parameters ---------------------------------------------------------------------


def _parse_save(text: str, current: Any) -> tuple[tuple[int, int], ...]:
    """`save "3600 1 300 100"`: pairs of (seconds, changes); "" turns snapshots off.

    In a config file each `save` line adds pairs (`current` holds the earlier ones); CONFIG SET
    passes the whole schedule, replacing it.
    """
    words = split_values(text)
    if not words or len(words) % 2:
        raise ConfigError("Invalid save parameters")
    pairs = []
    for i in range(0, len(words), 2):
        seconds = parse_int_text(words[i])
        changes = parse_int_text(words[i + 1])
        if seconds is None or changes is None or seconds < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        pairs.append((seconds, changes))
    return tuple(pairs)


def _parse_save_setting(text: str, current: Any) -> tuple[tuple[int, int], ...]:
    # `current` is what earlier lines of the same config text set (empty for CONFIG SET);
    # `save ""` (exactly empty, not blanks) clears it.
    if text == "":
        return ()
    return tuple(current or ()) + _parse_save(text, current)


def _format_save(value: Any) -> str:
    return " ".join(f"{s} {c}" for s, c in value)


def _rewrite_save(value: Any) -> list[str]:
    return [f"{s} {c}" for s, c in value] or ['""']


COBL_CLASSES = ("normal", "slave", "pubsub")
_COBL_ALIASES = {"normal": "normal", "slave": "slave", "replica": "slave", "pubsub": "pubsub"}
COBL_DEFAULT = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"


def _cobl_dict(text: str) -> dict[str, tuple[int, int, int]]:
    words = text.split()
    return {
        words[i]: (int(words[i + 1]), int(words[i + 2]), int(words[i + 3]))
        for i in range(0, len(words), 4)
    }


def _parse_cobl(text: str, current: Any) -> str:
    """`client-output-buffer-limit <class> <hard> <soft> <soft-seconds> ...`.

    Classes not named keep their limits. The value is kept as Redis prints it (all three
    classes, plain bytes), which is what the connection code reads its limits from.
    """
    words = split_values(text)
    if len(words) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    limits = _cobl_dict(current or COBL_DEFAULT)
    for i in range(0, len(words), 4):
        cls = _COBL_ALIASES.get(words[i].lower())
        if cls is None:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        hard = memtoull(words[i + 1])
        soft = memtoull(words[i + 2])
        seconds = parse_int_text(words[i + 3])
        if (
            hard is None
            or soft is None
            or seconds is None
            or hard > LLONG_MAX
            or soft > LLONG_MAX
            or seconds < 0
        ):
            raise ConfigError(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            )
        limits[cls] = (hard, soft, seconds)
    return " ".join(f"{c} {h} {s} {t}" for c, (h, s, t) in ((c, limits[c]) for c in COBL_CLASSES))


def _rewrite_cobl(value: Any) -> list[str]:
    limits = _cobl_dict(value)
    defaults = _cobl_dict(COBL_DEFAULT)
    lines = []
    for cls in COBL_CLASSES:
        if limits[cls] != defaults[cls]:
            h, s, t = limits[cls]
            lines.append(f"{cls} {format_memory_units(h)} {format_memory_units(s)} {t}")
    return lines


# Keyspace notification classes. The stored value is the set of letters with `A` expanded,
# in this order; the pub/sub code tests membership (`"g" in server.notify_flags`).
NOTIFY_TYPES = "g$lshzxetdn"
NOTIFY_ALL = "g$lshzxetd"
NOTIFY_ORDER = NOTIFY_TYPES + "KEm"


def _parse_notify(text: str, current: Any) -> str:
    letters: set[str] = set()
    for ch in text:
        if ch == "A":
            letters.update(NOTIFY_ALL)
        elif ch in NOTIFY_ORDER:
            letters.add(ch)
        else:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    return "".join(c for c in NOTIFY_ORDER if c in letters)


def _format_notify(value: Any) -> str:
    """Redis's spelling: `A` when every type class is on (and then `n` is not shown, as in
    Redis 7.0), else the type letters; then K, E and m."""
    letters = set(value)
    if letters.issuperset(NOTIFY_ALL):
        head = "A"
    else:
        head = "".join(c for c in NOTIFY_TYPES if c in letters)
    return head + "".join(c for c in "KEm" if c in letters)


def _rewrite_notify(value: Any) -> list[str]:
    return [quote(_format_notify(value))]


def _parse_percentiles(text: str, current: Any) -> tuple[float, ...]:
    values = []
    for word in split_values(text):
        if not _FLOAT_RE.match(word):
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
        number = float(word)
        if not 0.0 <= number <= 100.0:
            raise ConfigError(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
            )
        values.append(number)
    return tuple(values)


def format_percentile(number: float) -> str:
    return ("%f" % number).rstrip("0").rstrip(".")


def _format_percentiles(value: Any) -> str:
    return " ".join(format_percentile(v) for v in value)


def _parse_octal(text: str, current: Any) -> int:
    if not re.match(r"[0-7]+\Z", text):
        raise ConfigError("Invalid socket file permissions")
    return int(text, 8)


def _format_octal(value: Any) -> str:
    return "%o" % value


def _parse_bind(text: str, current: Any) -> str:
    words = split_values(text)
    if len(words) > 16:
        raise ConfigError("Too many bind addresses specified.")
    if "" in words:
        raise ConfigError("Failed to bind to specified addresses.")
    return " ".join(words)


def _parse_daemonize(text: str, current: Any) -> bool:
    low = text.lower()
    if low == "no":
        return False
    if low == "yes":
        raise ConfigError(
            "damselfly does not daemonize: run it in the foreground under a supervisor"
        )
    raise ConfigError("argument must be 'yes' or 'no'")


# -- the table ---------------------------------------------------------------------------------


def _b(name: str, default: bool, **kw: Any) -> Param:
    return Param(name, "bool", default, **kw)


def _i(name: str, default: int, lo: int, hi: int, **kw: Any) -> Param:
    return Param(name, "int", default, minimum=lo, maximum=hi, **kw)


def _m(name: str, default: int, lo: int = 0, hi: int = LLONG_MAX, **kw: Any) -> Param:
    return Param(name, "memory", default, minimum=lo, maximum=hi, **kw)


def _e(name: str, default: str, choices: str, **kw: Any) -> Param:
    return Param(name, "enum", default, choices=tuple(choices.split()), **kw)


def _s(name: str, default: str, **kw: Any) -> Param:
    return Param(name, "string", default, **kw)


def _x(name: str, default: Any, parser: Any, formatter: Any = str, **kw: Any) -> Param:
    return Param(name, "special", default, parser=parser, formatter=formatter, **kw)


_POLICIES = (
    "volatile-lru volatile-lfu volatile-random volatile-ttl allkeys-lru allkeys-lfu "
    "allkeys-random noeviction"
)
_SHUTDOWN_FLAGS = ("default", "save", "nosave", "now", "force")

PARAMS: list[Param] = [
    # Network and clients.
    _i("port", 6379, 0, 65535),
    # Damselfly listens on loopback only unless told otherwise (Redis: "* -::*" + protected-mode).
    _x("bind", "127.0.0.1 -::1", _parse_bind, multi_arg=True),
    _s("unixsocket", "", mutable=False),
    _x("unixsocketperm", 0, _parse_octal, _format_octal, mutable=False),
    _i("tcp-backlog", 511, 0, INT_MAX, mutable=False),
    _i("tcp-keepalive", 300, 0, INT_MAX),
    _i("timeout", 0, 0, INT_MAX),
    _i("maxclients", 10000, 1, UINT_MAX),
    _b("protected-mode", True),
    _m("client-query-buffer-limit", 1024**3, 1024**2),
    _m("proto-max-bulk-len", 512 * 1024**2, 1024**2),
    _x(
        "client-output-buffer-limit", COBL_DEFAULT, _parse_cobl, multi_arg=True,
        rewriter=_rewrite_cobl,
    ),
    Param("maxmemory-clients", "percent", 0, minimum=0, maximum=LLONG_MAX, inert=True),
    # Security.
    _s("requirepass", "", sensitive=True),
    _s("masterauth", "", sensitive=True, inert=True),
    _s("masteruser", "", inert=True),
    _s("aclfile", "", mutable=False, inert=True),
    _i("acllog-max-len", 128, 0, LLONG_MAX),
    _e("acl-pubsub-default", "resetchannels", "allchannels resetchannels"),
    # Damselfly's test hooks (DEBUG SET-CLOCK-OFFSET) need DEBUG on loopback; Redis: "no".
    _e("enable-debug-command", "local", "no yes local", mutable=False),
    _e("enable-protected-configs", "no", "no yes local", mutable=False),
    _e("enable-module-command", "no", "no yes local", mutable=False, inert=True),
    # Process and logging.
    _x("daemonize", False, _parse_daemonize, lambda v: "yes" if v else "no", mutable=False),
    _s("pidfile", "", mutable=False),
    _e("loglevel", "notice", "debug verbose notice warning"),
    _s("logfile", "", mutable=False),
    _b("always-show-logo", False, mutable=False),
    _i("databases", 16, 1, INT_MAX, mutable=False),
    _i("hz", 10, 0, INT_MAX),
    _b("dynamic-hz", True, inert=True),
    Param("shutdown-on-sigint", "flags", (), choices=_SHUTDOWN_FLAGS, multi_arg=True),
    Param("shutdown-on-sigterm", "flags", (), choices=_SHUTDOWN_FLAGS, multi_arg=True),
    _i("shutdown-timeout", 10, 0, INT_MAX),
    _b("crash-log-enabled", True, inert=True),
    _b("crash-memcheck-enabled", True, inert=True),
    # Keyspace, expiry, memory.
    _m("maxmemory", 0, unsigned=True),
    _e("maxmemory-policy", "noeviction", _POLICIES),
    _i("maxmemory-samples", 5, 1, INT_MAX, inert=True),
    _i("maxmemory-eviction-tenacity", 10, 0, 100, inert=True),
    _i("active-expire-effort", 1, 1, 10),
    _b("lazyfree-lazy-eviction", False, inert=True),
    _b("lazyfree-lazy-expire", False, inert=True),
    _b("lazyfree-lazy-server-del", False, inert=True),
    _b("lazyfree-lazy-user-del", False, inert=True),
    _b("lazyfree-lazy-user-flush", False),
    _i("lfu-log-factor", 10, 0, INT_MAX, inert=True),
    _i("lfu-decay-time", 1, 0, INT_MAX, inert=True),
    _b("activerehashing", True, inert=True),
    _b("activedefrag", False, inert=True),
    _m("active-defrag-ignore-bytes", 100 * 1024**2, 1, inert=True),
    _i("active-defrag-threshold-lower", 10, 0, 1000, inert=True),
    _i("active-defrag-threshold-upper", 100, 0, 1000, inert=True),
    _i("active-defrag-cycle-min", 1, 1, 99, inert=True),
    _i("active-defrag-cycle-max", 25, 1, 99, inert=True),
    _i("active-defrag-max-scan-fields", 1000, 1, LLONG_MAX, inert=True),
    _i("tracking-table-max-keys", 1000000, 0, LLONG_MAX),
    # Encodings of small values (what OBJECT ENCODING reports).
    _i("hash-max-listpack-entries", 512, 0, LLONG_MAX, aliases=("hash-max-ziplist-entries",)),
    _m("hash-max-listpack-value", 64, unsigned=True, aliases=("hash-max-ziplist-value",)),
    _i("list-max-listpack-size", -2, INT_MIN, INT_MAX, aliases=("list-max-ziplist-size",)),
    _i("list-compress-depth", 0, 0, INT_MAX),
    _i("set-max-intset-entries", 512, 0, LLONG_MAX),
    _i("zset-max-listpack-entries", 128, 0, LLONG_MAX, aliases=("zset-max-ziplist-entries",)),
    _m("zset-max-listpack-value", 64, unsigned=True, aliases=("zset-max-ziplist-value",)),
    _m("hll-sparse-max-bytes", 3000, unsigned=True),
    _m("stream-node-max-bytes", 4096, unsigned=True),
    _i("stream-node-max-entries", 100, 0, LLONG_MAX),
    # Scripting, diagnostics.
    _i("busy-reply-threshold", 5000, 0, LLONG_MAX, aliases=("lua-time-limit",)),
    _i("slowlog-log-slower-than", 10000, -1, LLONG_MAX),
    _i("slowlog-max-len", 128, 0, LLONG_MAX),
    _i("latency-monitor-threshold", 0, 0, LLONG_MAX),
    _b("latency-tracking", True),
    _x(
        "latency-tracking-info-percentiles", (50.0, 99.0, 99.9), _parse_percentiles,
        _format_percentiles, multi_arg=True,
    ),
    _x("notify-keyspace-events", "", _parse_notify, _format_notify, rewriter=_rewrite_notify),
    # Persistence (snapshots and AOF arrive with the persistence issue; until then inert).
    # Shown as the absolute working directory, like Redis (the server chdirs into it).
    _x(
        "dir", ".", lambda text, current: text, lambda value: os.getcwd(), protected=True,
        rewriter=lambda value: [quote(os.getcwd())],
    ),
    _s("dbfilename", "dump.rdb", protected=True, inert=True),
    _x(
        "save", (), _parse_save_setting, _format_save, multi_arg=True, rewriter=_rewrite_save,
        file_accumulates=True, inert=True,
    ),
    _b("stop-writes-on-bgsave-error", True, inert=True),
    _b("rdbcompression", True, inert=True),
    _b("rdbchecksum", True, mutable=False, inert=True),
    _b("rdb-del-sync-files", False, inert=True),
    _b("rdb-save-incremental-fsync", True, inert=True),
    _e("sanitize-dump-payload", "no", "no yes clients"),
    _b("appendonly", False, inert=True),
    _s("appendfilename", "appendonly.aof", mutable=False, inert=True),
    _s("appenddirname", "appendonlydir", mutable=False, inert=True),
    _e("appendfsync", "everysec", "everysec always no", inert=True),
    _b("no-appendfsync-on-rewrite", False, inert=True),
    _i("auto-aof-rewrite-percentage", 100, 0, INT_MAX, inert=True),
    _m("auto-aof-rewrite-min-size", 64 * 1024**2, inert=True),
    _b("aof-load-truncated", True, inert=True),
    _b("aof-use-rdb-preamble", True, inert=True),
    _b("aof-rewrite-incremental-fsync", True, inert=True),
    _b("aof-timestamp-enabled", False, inert=True),
    _b("aof-disable-auto-gc", False, inert=True),
    # Replication (damselfly is always a master without replicas: these only report).
    _b("replica-read-only", True, aliases=("slave-read-only",), inert=True),
    _b("replica-serve-stale-data", True, aliases=("slave-serve-stale-data",), inert=True),
    _b("replica-ignore-maxmemory", True, aliases=("slave-ignore-maxmemory",), inert=True),
    _b("replica-lazy-flush", False, aliases=("slave-lazy-flush",), inert=True),
    _i("replica-priority", 100, 0, INT_MAX, aliases=("slave-priority",), inert=True),
    _s("replica-announce-ip", "", aliases=("slave-announce-ip",), inert=True),
    _i("replica-announce-port", 0, 0, 65535, aliases=("slave-announce-port",), inert=True),
    _b("replica-announced", True, inert=True),
    _b("replica-ignore-disk-write-errors", False, inert=True),
    _i(
        "repl-ping-replica-period", 10, 1, INT_MAX, aliases=("repl-ping-slave-period",),
        inert=True,
    ),
    _i("repl-timeout", 60, 1, INT_MAX, inert=True),
    _m("repl-backlog-size", 1024**2, 1, inert=True),
    _i("repl-backlog-ttl", 3600, 0, LLONG_MAX, inert=True),
    _b("repl-disable-tcp-nodelay", False, inert=True),
    _b("repl-diskless-sync", True, inert=True),
    _i("repl-diskless-sync-delay", 5, 0, INT_MAX, inert=True),
    _i("repl-diskless-sync-max-replicas", 0, 0, INT_MAX, inert=True),
    _e("repl-diskless-load", "disabled", "disabled on-empty-db swapdb", inert=True),
    _i("min-replicas-to-write", 0, 0, INT_MAX, aliases=("min-slaves-to-write",), inert=True),
    _i("min-replicas-max-lag", 10, 0, INT_MAX, aliases=("min-slaves-max-lag",), inert=True),
    _e(
        "propagation-error-behavior", "ignore", "ignore panic panic-on-replicas", inert=True
    ),
    # Cluster mode is not supported: reported so clients see a standalone server.
    _b("cluster-enabled", False, mutable=False),
]  # fmt: skip


def default_config() -> Config:
    config = Config()
    for param in PARAMS:
        # A fresh copy per server: hooks are bound per server.
        config.declare(replace(param))
    return config
