"""Change a few keys of a TOML file in place, keeping every other line, comment and key.

`tomllib` reads but cannot write, and writing the parsed data back would lose the comments
and the layout a teacher chose. `set_values(text, {("firewall", "lan_interface"): "eth1"})`
instead finds each key's statement with a small scanner that knows TOML's strings (basic,
literal, multi-line), arrays and inline tables over several lines and comments, and replaces
only the value's characters (a trailing comment stays). A key that is missing is added at the
end of its table; a missing table is added at the end of the file.

Entries of an array of tables are named by index: `("groups[2]", "profile")` is the key
`profile` of the third `[[groups]]`. `DELETE` as a value removes the key's line;
`append_table(text, "schedules", {...})` adds a `[[schedules]]` entry after the last one and
`remove_table(text, "schedules", 1)` removes the second (its header and statements; comments
before the next table stay with it).

Then it proves the edit: the new text is parsed again and must equal the old data with
exactly the given keys changed. Anything else (a key written as an inline table, a quoted
header, a file that does not parse) raises `EditError` naming the keys, and nothing is
written: the caller tells the teacher to change those values by hand.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Path_ = tuple[str, ...]
HEADER = re.compile(r"\[(\[?)([^\[\]]*)\]\]?")
INDEXED = re.compile(r"(.+)\[(\d+)\]")


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: object = _Delete()  # set_values(text, {path: DELETE}) removes the key


class EditError(ValueError):
    """The keys could not be changed safely; `paths` says which."""

    def __init__(self, paths: list[Path_], why: str) -> None:
        super().__init__(why)
        self.paths = paths


@dataclass(frozen=True)
class Statement:
    """One `key = value` of the file: its full dotted path and the value's characters."""
    path: Path_
    start: int          # the statement's first character
    value_start: int
    value_end: int      # the value's last character + 1 (a comment after it is not included)
    line_end: int       # just after the statement's newline


@dataclass(frozen=True)
class Table:
    path: Path_ | None  # an array of tables' entry: its last part is indexed, "lists[0]"
    start: int
    line_end: int


def render(value: object) -> str:
    """A TOML value: strings, ints, bools and lists of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _dotted(text: str) -> Path_:
    return tuple(part.strip().strip('"').strip("'") for part in text.split("."))


def _skip_string(text: str, i: int) -> int:
    """`i` is at a quote; returns the index just after the string."""
    for quote in ('"""', "'''"):
        if text.startswith(quote, i):
            j = i + 3
            while j < len(text):
                if quote == '"""' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(quote, j):
                    j += 3
                    while j < len(text) and text[j] == quote[0]:  # up to two more quotes
                        j += 1
                    return j
                j += 1
            return j
    quote, j = text[i], i + 1
    while j < len(text) and text[j] != quote and text[j] != "\n":
        j += 2 if quote == '"' and text[j] == "\\" else 1
    return j + 1


def _value_end(text: str, i: int) -> int:
    """Where the value starting at `i` ends (before a trailing comment or the newline)."""
    depth = 0
    end = i
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = end = _skip_string(text, i)
            continue
        if c == "#":
            if depth == 0:
                break
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        if c == "\n" and depth == 0:
            break
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        if not c.isspace():
            end = i + 1
        i += 1
    return end


def _line_end(text: str, i: int) -> int:
    j = text.find("\n", i)
    return len(text) if j < 0 else j + 1


def scan(text: str) -> tuple[list[Statement], list[Table]]:
    """The file's key/value statements (with full paths) and table headers, in order."""
    statements: list[Statement] = []
    tables: list[Table] = []
    table: Path_ | None = ()
    entries: dict[Path_, int] = {}  # array of tables → entries seen
    i = 0
    while i < len(text):
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c == "#":
            i = _line_end(text, i)
        elif c == "[":
            match = HEADER.match(text, i)
            table = None if match is None else _dotted(match.group(2))
            if match is not None and match.group(1) and table is not None:
                index = entries[table] = entries.get(table, -1) + 1
                table = (*table[:-1], f"{table[-1]}[{index}]")
            start, i = i, _line_end(text, i)
            tables.append(Table(table, start, i))
        else:
            eq = i
            while eq < len(text) and text[eq] not in "=\n":
                eq = _skip_string(text, eq) if text[eq] in "\"'" else eq + 1
            if eq >= len(text) or text[eq] != "=":  # not TOML; the parse check reports it
                i = _line_end(text, i)
                continue
            start = eq + 1
            while start < len(text) and text[start] in " \t":
                start += 1
            end = _value_end(text, start)
            if table is not None:
                statements.append(Statement((*table, *_dotted(text[i:eq])), i, start, end,
                                            _line_end(text, end)))
            i = _line_end(text, end)
    return statements, tables


def _line_start(text: str, i: int) -> int:
    """The start of `i`'s line when only blanks come before `i` on it, else `i`."""
    start = text.rfind("\n", 0, i) + 1
    return start if not text[start:i].strip() else i


def _set_one(text: str, path: Path_, value: object) -> str:
    statements, tables = scan(text)
    for st in statements:
        if st.path == path:
            if value is DELETE:
                return text[:_line_start(text, st.start)] + text[st.line_end:]
            return text[:st.value_start] + render(value) + text[st.value_end:]
    if value is DELETE:
        return text
    line = f"{path[-1]} = {render(value)}\n"
    owner = path[:-1]
    for index, table in enumerate(tables):
        if table.path == owner:
            stop = tables[index + 1].line_end if index + 1 < len(tables) else len(text) + 1
            inside = [st for st in statements if table.line_end <= st.start < stop]
            at = inside[-1].line_end if inside else table.line_end
            return text[:at] + line + text[at:]
    if not owner:
        at = tables[0].start if tables else len(text)
        return text[:at] + line + text[at:]
    if any(INDEXED.fullmatch(part) for part in owner):
        raise EditError([path], f"{'.'.join(owner)}: no such entry")
    prefix = text if text.endswith("\n") or not text else text + "\n"
    return f"{prefix}\n[{'.'.join(owner)}]\n{line}"


def _table(data: dict[str, Any], owner: Path_, path: Path_) -> dict[str, Any]:
    """The table at `owner` (made when missing; an indexed part must exist)."""
    for part in owner:
        found = INDEXED.fullmatch(part)
        if found:
            entries, index = data.get(found.group(1)), int(found.group(2))
            if not isinstance(entries, list) or index >= len(entries):
                raise EditError([path], f"{'.'.join(path)}: no entry {part}")
            data = entries[index]
        else:
            data = data.setdefault(part, {})
        if not isinstance(data, dict):
            raise EditError([path], f"{'.'.join(path)}: {part} is not a table")
    return data


def _assign(data: dict[str, Any], path: Path_, value: object) -> None:
    table = _table(data, path[:-1], path)
    if value is DELETE:
        table.pop(path[-1], None)
    else:
        table[path[-1]] = list(value) if isinstance(value, tuple) else value


def _proved(text: str, new: str, paths: list[Path_], change: Any) -> str:
    """`new`, when it parses to `text`'s data changed by `change(data)`; else EditError."""
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EditError(paths, f"the file does not parse: {exc}") from None
    expected = copy.deepcopy(before)
    change(expected)
    try:
        after = tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:
        raise EditError(paths, f"the edited file would not parse: {exc}") from None
    if after != expected:
        raise EditError(paths, "the edit would change more than these keys")
    return new


def _entry_span(text: str, name: str, index: int) -> tuple[int, int] | None:
    """(header start, end of its last statement's line) of `[[name]]` number `index`."""
    statements, tables = scan(text)
    owner = (*_dotted(name)[:-1], f"{_dotted(name)[-1]}[{index}]")
    for n, table in enumerate(tables):
        if table.path == owner:
            stop = tables[n + 1].start if n + 1 < len(tables) else len(text)
            inside = [st.line_end for st in statements if table.line_end <= st.start < stop]
            return table.start, max(inside, default=table.line_end)
    return None


def append_table(text: str, name: str, values: Mapping[str, object]) -> str:
    """`text` with a new `[[name]]` entry after the last one (or at the end of the file)."""
    path = (name,)
    block = f"[[{name}]]\n" + "".join(f"{k} = {render(v)}\n" for k, v in values.items())
    try:
        count = len(tomllib.loads(text).get(name, []))
    except tomllib.TOMLDecodeError as exc:
        raise EditError([path], f"the file does not parse: {exc}") from None
    span = _entry_span(text, name, count - 1) if count else None
    if span is None:
        prefix = text if text.endswith("\n") or not text else text + "\n"
        new = f"{prefix}\n{block}"
    else:
        new = f"{text[:span[1]]}\n{block}{text[span[1]:]}"

    def change(data: dict[str, Any]) -> None:
        entries = data.setdefault(name, [])
        if not isinstance(entries, list):
            raise EditError([path], f"{name} is not an array of tables")
        entries.append({k: list(v) if isinstance(v, tuple) else v for k, v in values.items()})
    return _proved(text, new, [path], change)


def remove_table(text: str, name: str, index: int) -> str:
    """`text` without entry `index` of `[[name]]`."""
    path = (f"{name}[{index}]",)
    span = _entry_span(text, name, index)
    if span is None:
        raise EditError([path], f"no entry {path[0]}")
    start, stop = span
    if text[stop:stop + 1] == "\n":
        stop += 1  # the blank line after it goes too
    new = text[:start] + text[stop:]

    def change(data: dict[str, Any]) -> None:
        entries = data.get(name)
        if not isinstance(entries, list) or index >= len(entries):
            raise EditError([path], f"no entry {path[0]}")
        entries.pop(index)
    return _proved(text, new, [path], change)


def set_values(text: str, values: Mapping[Path_, object]) -> str:
    """`text` with each path set to its value; raises EditError unless provably exact."""
    paths = list(values)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EditError(paths, f"the file does not parse: {exc}") from None
    new = text
    for path, value in values.items():
        new = _set_one(new, path, value)

    def change(data: dict[str, Any]) -> None:
        for path, value in values.items():
            _assign(data, path, value)
    return _proved(text, new, paths, change)
