"""Typed reading of Roja's TOML config, with errors that name the file, line and key.

Every unit (dns_resolver, policy, reporting, filterd) parses its own part of `roja.toml`
through a `Section`; this package is the one place that knows how a dotted key maps back to a
line of the file. It imports nothing of ours, so every unit may import it.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(Exception):
    """A config problem, located: `file:line: key: message`."""

    def __init__(self, file: str, line: int | None, key: str, message: str) -> None:
        self.file, self.line, self.key, self.message = file, line, key, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


@dataclass(frozen=True)
class Source:
    """The text of a config file, kept to turn dotted keys back into line numbers."""

    name: str
    text: str
    _lines: list[str] = field(default_factory=list, compare=False)

    def lines(self) -> list[str]:
        if not self._lines:
            self._lines.extend(self.text.splitlines())
        return self._lines

    def line_of(self, path: str) -> int | None:
        """Best-effort line of `path` such as `dns.acl.allow` or `lists[2].path`."""
        parts = [p for p in re.split(r"\.(?![^\[]*\])", path) if p]
        table_parts, key = parts[:-1], parts[-1] if parts else ""
        start = self._table_start(table_parts) if table_parts else 0
        if start is None:
            return None
        key_name = re.sub(r"\[\d+\]$", "", key)
        key_re = re.compile(rf"^\s*(\"?{re.escape(key_name)}\"?)\s*=")
        header_re = re.compile(r"^\s*\[")
        lines = self.lines()
        for lineno in range(start, len(lines)):
            if lineno > start and header_re.match(lines[lineno]) and table_parts:
                break
            if key_re.match(lines[lineno]):
                return lineno + 1
        table = self._table_start([*table_parts, key_name])
        if table is not None:
            return table + 1
        return start + 1 if table_parts else None

    def _table_start(self, parts: Sequence[str]) -> int | None:
        """Index of the header line of table `parts` (`lists[2]` means the third `[[lists]]`)."""
        names: list[str] = []
        index = 0
        for p in parts:
            m = re.fullmatch(r"(.+)\[(\d+)\]", p)
            if m:
                names.append(m.group(1))
                index = int(m.group(2))
            else:
                names.append(p)
        dotted = ".".join(names)
        plain = re.compile(rf"^\s*\[\s*{re.escape(dotted)}\s*\]")
        array = re.compile(rf"^\s*\[\[\s*{re.escape(dotted)}\s*\]\]")
        seen = 0
        for lineno, line in enumerate(self.lines()):
            if plain.match(line):
                return lineno
            if array.match(line):
                if seen == index:
                    return lineno
                seen += 1
        return None


def load_toml(path: Path) -> tuple[dict[str, Any], Source]:
    """Read and parse a TOML file; syntax errors become a ConfigError with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), None, "", f"cannot read the file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), None, "", "the file is not UTF-8") from exc
    return parse_toml_text(text, str(path))


def parse_toml_text(text: str, name: str) -> tuple[dict[str, Any], Source]:
    source = Source(name, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.14 gives `lineno` and `msg`; before that, only "... (at line N, column M)".
        line = getattr(exc, "lineno", None)
        msg = getattr(exc, "msg", str(exc))
        found = re.search(r"\s*\(at line (\d+), column \d+\)$", msg)
        if found:
            line = line or int(found.group(1))
            msg = msg[:found.start()]
        elif msg.endswith(" (at end of document)"):
            line = line or max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
            msg = msg.removesuffix(" (at end of document)")
        raise ConfigError(name, line, "", f"TOML syntax error: {msg}") from exc
    return data, source


_MISSING = object()
# The getters below are named after the types they return; these aliases keep the
# annotations inside the class pointing at the builtins.
type _Str = str
type _Int = int
type _Float = float
type _Bool = bool


class Section:
    """One table of the config. Getters check types; `done()` rejects keys nobody asked for."""

    def __init__(self, data: Mapping[_Str, Any], path: _Str, source: Source) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(source.name, source.line_of(path), path, "must be a table")
        self._data = data
        self._path = path
        self._source = source
        self._used: set[_Str] = set()

    @property
    def path(self) -> _Str:
        return self._path

    def key(self, name: _Str) -> _Str:
        return f"{self._path}.{name}" if self._path else name

    def error(self, name: _Str, message: _Str) -> ConfigError:
        key = self.key(name) if name else self._path
        return ConfigError(self._source.name, self._source.line_of(key), key, message)

    def has(self, name: _Str) -> _Bool:
        return name in self._data

    def _get(self, name: _Str, default: Any) -> Any:
        self._used.add(name)
        value = self._data.get(name, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise self.error(name, "is required")
            return default
        return value

    def raw(self, name: _Str, default: Any = _MISSING) -> Any:
        """The value as TOML gave it, for keys that take more than one type."""
        return self._get(name, default)

    def str(self, name: _Str, default: Any = _MISSING) -> _Str:
        value = self._get(name, default)
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, not {_tname(value)}")
        return value

    def int(
        self,
        name: _Str,
        default: Any = _MISSING,
        *,
        min: _Int | None = None,
        max: _Int | None = None,
    ) -> _Int:
        value = self._get(name, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(name, f"must be a whole number, not {_tname(value)}")
        _check_range(self, name, value, min, max)
        return value

    def float(
        self,
        name: _Str,
        default: Any = _MISSING,
        *,
        min: _Float | None = None,
        max: _Float | None = None,
    ) -> _Float:
        value = self._get(name, default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.error(name, f"must be a number, not {_tname(value)}")
        _check_range(self, name, value, min, max)
        return float(value)

    def bool(self, name: _Str, default: Any = _MISSING) -> _Bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, not {_tname(value)}")
        return value

    def choice(self, name: _Str, choices: Iterable[_Str], default: Any = _MISSING) -> _Str:
        options = list(choices)
        value = self.str(name, default)
        if value not in options:
            raise self.error(name, f"{value!r} is not one of: {', '.join(options)}")
        return value

    def str_list(self, name: _Str, default: Any = _MISSING) -> tuple[_Str, ...]:
        value = self._get(name, default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self.error(name, "must be a list of strings")
        return tuple(value)

    def int_list(self, name: _Str, default: Any = _MISSING, *, min: _Int | None = None,
                 max: _Int | None = None) -> tuple[_Int, ...]:
        value = self._get(name, default)
        if not isinstance(value, list | tuple) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.error(name, "must be a list of whole numbers")
        for v in value:
            _check_range(self, name, v, min, max)
        return tuple(value)

    def networks(
        self, name: _Str, default: Any = _MISSING
    ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        out = []
        for text in self.str_list(name, default):
            try:
                out.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise self.error(name, f"{text!r} is not a network (e.g. 10.0.0.0/8)") from None
        return tuple(out)

    def section(self, name: _Str, *, required: _Bool = False) -> Section:
        value = self._get(name, _MISSING if required else {})
        return Section(value, self.key(name), self._source)

    def sections(self, name: _Str) -> list[Section]:
        value = self._get(name, [])
        if not isinstance(value, list):
            raise self.error(name, "must be an array of tables ([[...]])")
        return [Section(v, f"{self.key(name)}[{i}]", self._source) for i, v in enumerate(value)]

    def done(self) -> None:
        unknown = [k for k in self._data if k not in self._used]
        if unknown:
            accepted = ", ".join(sorted(self._used)) or "(none)"
            raise self.error(unknown[0], f"unknown key; accepted keys here: {accepted}")


def _check_range(
    section: Section, name: str, value: float, lo: float | None, hi: float | None
) -> None:
    if lo is not None and value < lo:
        raise section.error(name, f"must be at least {lo}")
    if hi is not None and value > hi:
        raise section.error(name, f"must be at most {hi}")


def _tname(value: object) -> str:
    return {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true/false",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def client_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A client's address as the configured networks are matched against it: the zone id
    (`fe80::1%eth0`) dropped and an IPv4-mapped IPv6 address (`::ffff:10.0.0.5`) taken as the
    IPv4 address it carries. None for text that is not an address."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_hostport(text: str, default_port: int, allow_zero: bool = False) -> tuple[str, int]:
    """`1.2.3.4`, `1.2.3.4:53`, `[::1]:53`, `::1` → (host, port). Raises ValueError."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else default_port
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = int(p)
    else:
        host, port = text, default_port
    ipaddress.ip_address(host)
    if not (0 if allow_zero else 1) <= port < 65536:
        raise ValueError("port out of range")
    return host, port
