"""Grupet dhe oraret: a form of the page → the new text of roja.toml, checked like
`roja config check`, and its unified diff (pure: no file is written here).

    edit = build(text, path, "orari", "0", form)   # Edit(what, new) or FormError
    check(edit.new, path)                          # RojaConfig or FormError (the key named)
    lines, digest = diff(text, edit.new, path)

Forms (`kind`, `target`):
    grupi/<id>      profile, safe_search (without a profile), ip_literals
    profili/<id>    block (the categories, checkboxes; all of them = the key is removed, which
                    means every category), safe_search
    orari/<n>       name, groups, categories, action, windows ("12:00-13:00, 15:00-24:00"),
    orari/i-ri      days, on_holidays; `fshij` removes schedule n
    pushimet/-      holidays (one date or range a line)

Only the keys whose value changes are written (`filterd.install.tomledit`: every other line,
comment and table stays, proven by parsing the result again). Nothing here can touch
`[[lists]]` or a group's `lists`: a legal list always applies, and a schedule or profile that
would open a legal category is refused by the config check itself.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multidict import MultiDictProxy

from configkit import ConfigError
from filterd.config import RojaConfig, missing_files, parse_config_text
from filterd.install import tomledit
from filterd.install.tomledit import DELETE, EditError
from policy.categories import CATEGORIES
from policy.schedule import DAYS

KINDS = ("grupi", "profili", "orari", "pushimet")
SCHOOL_DAYS = list(DAYS[:5])


Form = MultiDictProxy[Any]  # a POST form


class FormError(ValueError):
    """What is wrong, Albanian first; `key` is the config key when the check named one."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Edit:
    what: str  # e.g. "schedules[0] (Dreka)": the audit log's words
    new: str


def _one(form: Form, name: str) -> str:
    return str(form.get(name, "")).strip()


def _many(form: Form, name: str) -> list[str]:
    return [str(v).strip() for v in form.getall(name, []) if str(v).strip()]


def _entry(data: Mapping[str, Any], table: str, key: str, value: str) -> int:
    for i, entry in enumerate(data.get(table) or ()):
        if isinstance(entry, dict) and entry.get(key) == value:
            return i
    raise FormError(f"Nuk ka [[{table}]] me {key} = «{value}» / no [[{table}]] has {key} "
                    f"{value!r}")


def _same(old: object, new: object) -> bool:
    """Equal values; lists (categories, groups, days, windows) in any order."""
    if isinstance(old, list) and isinstance(new, list):
        return sorted(map(str, old)) == sorted(map(str, new))
    return old == new


def _changes(current: Mapping[str, Any], wanted: Mapping[str, tuple[object, object]]
             ) -> dict[str, object]:
    """{key: new value or DELETE} for each key whose value (or default) changes;
    `wanted`: key → (value, default); a value equal to its default is written only when the
    key is already there."""
    out: dict[str, object] = {}
    for key, (value, default) in wanted.items():
        if value is DELETE:
            if key in current:
                out[key] = DELETE
        elif not _same(current.get(key, default), value):
            out[key] = value
    return out


def _set(text: str, prefix: tuple[str, ...], changes: Mapping[str, object]) -> str:
    if not changes:
        raise FormError("Asgjë nuk ndryshoi. / Nothing changed.")
    return tomledit.set_values(text, {(*prefix, k): v for k, v in changes.items()})


def _group(text: str, data: Mapping[str, Any], target: str, form: Form) -> Edit:
    i = _entry(data, "groups", "id", target)
    profile = _one(form, "profile")
    wanted: dict[str, tuple[object, object]] = {
        "profile": (profile or DELETE, ""),
        "safe_search": (DELETE, "") if profile else (_one(form, "safe_search"), "moderate"),
        "ip_literals": (_one(form, "ip_literals"), "block")}
    return Edit(f"groups[{i}] ({target})",
                _set(text, (f"groups[{i}]",), _changes(data["groups"][i], wanted)))


def legal_categories(data: Mapping[str, Any]) -> set[str]:
    """The categories legal lists carry, and csam: always blocked, never in a form."""
    found = {"csam"}
    for entry in data.get("lists") or ():
        if isinstance(entry, dict) and entry.get("kind") == "legal" and entry.get("category"):
            found.add(str(entry["category"]))
    return found


def _profile(text: str, data: Mapping[str, Any], target: str, form: Form) -> Edit:
    i = _entry(data, "profiles", "id", target)
    legal = legal_categories(data)
    current = data["profiles"][i].get("block")
    kept = [c for c in current if c in legal] if isinstance(current, list) else []
    chosen = _many(form, "block") + kept  # a legal category written there stays (no checkbox)
    every = set(CATEGORIES) <= set(chosen) | legal
    order = list(CATEGORIES)
    block = sorted(set(chosen) - (legal - set(kept)),
                   key=lambda c: order.index(c) if c in order else 99)
    wanted: dict[str, tuple[object, object]] = {
        "block": (DELETE, None) if every else (block, None),
        "safe_search": (_one(form, "safe_search"), "moderate")}
    return Edit(f"profiles[{i}] ({target})",
                _set(text, (f"profiles[{i}]",), _changes(data["profiles"][i], wanted)))


_SPLIT = re.compile(r"[,;\n]+")


def schedule_values(form: Form) -> dict[str, object]:
    """A schedule form's values as roja.toml keys (defaults left out)."""
    values: dict[str, object] = {}
    if _one(form, "name"):
        values["name"] = _one(form, "name")
    values["groups"] = _many(form, "groups")
    values["categories"] = _many(form, "categories")
    values["action"] = _one(form, "action") or "allow"
    values["windows"] = [w.strip() for w in _SPLIT.split(_one(form, "windows")) if w.strip()]
    values["days"] = _many(form, "days")
    values["on_holidays"] = _one(form, "on_holidays") == "1"
    return values


def _schedule(text: str, data: Mapping[str, Any], target: str, form: Form) -> Edit:
    values = schedule_values(form)
    label = f" ({values['name']})" if "name" in values else ""
    if target == "i-ri":
        return Edit(f"schedules[{len(data.get('schedules') or ())}]{label} shtuar / added",
                    tomledit.append_table(text, "schedules", values))
    try:
        i = int(target)
        current = (data.get("schedules") or [])[i]
    except (ValueError, IndexError):
        raise FormError(f"Nuk ka orar «{target}» / no schedule {target!r}") from None
    legal = legal_categories(data)
    chosen = _many(form, "categories")  # no checkbox for a legal one: one written there stays
    values["categories"] = chosen + [c for c in current.get("categories", [])
                                     if c in legal and c not in chosen]
    if _one(form, "fshij") == "1":
        return Edit(f"schedules[{i}] hequr / removed", tomledit.remove_table(text, "schedules", i))
    wanted: dict[str, tuple[object, object]] = {
        "name": (values.get("name", DELETE), ""),
        "groups": (values["groups"], None), "categories": (values["categories"], None),
        "action": (values["action"], "allow"), "windows": (values["windows"], None),
        "days": (values["days"], SCHOOL_DAYS), "on_holidays": (values["on_holidays"], False)}
    return Edit(f"schedules[{i}]{label}",
                _set(text, (f"schedules[{i}]",), _changes(current, wanted)))


def _holidays(text: str, data: Mapping[str, Any], form: Form) -> Edit:
    lines = [h.strip() for h in _SPLIT.split(_one(form, "holidays")) if h.strip()]
    policy = data.get("policy") if isinstance(data.get("policy"), dict) else {}
    wanted: dict[str, tuple[object, object]] = {"holidays": (lines or DELETE, [])}
    return Edit("policy.holidays", _set(text, ("policy",), _changes(policy or {}, wanted)))


def build(text: str, kind: str, target: str, form: Form) -> Edit:
    """The edit a form asks for, applied to `text` (FormError when it cannot be made)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormError(f"roja.toml nuk lexohet; ndreqeni me dorë (roja config check) / "
                        f"roja.toml does not parse; fix it by hand: {exc}") from None
    try:
        if kind == "grupi":
            return _group(text, data, target, form)
        if kind == "profili":
            return _profile(text, data, target, form)
        if kind == "orari":
            return _schedule(text, data, target, form)
        if kind == "pushimet":
            return _holidays(text, data, form)
    except EditError as exc:
        raise FormError(f"Ky ndryshim nuk bëhet dot me siguri këtu; bëjeni me dorë në roja.toml "
                        f"/ this change cannot be made safely here; make it by hand in "
                        f"roja.toml ({exc})") from None
    raise FormError(f"Formular i panjohur «{kind}» / unknown form {kind!r}")


def check(new: str, path: Path) -> RojaConfig:
    """`roja config check` on the new text: the config and the files it names."""
    try:
        cfg = parse_config_text(new, path)
    except ConfigError as exc:
        where = f" (rreshti / line {exc.line})" if exc.line else ""
        raise FormError(f"Gabim te çelësi «{exc.key}»{where} / error at key «{exc.key}»: "
                        f"{exc.message}", exc.key) from None
    problems = missing_files(cfg)
    if problems:
        raise FormError("Konfigurimi lexohet, por i mungojnë skedarët / the config reads, but "
                        "files it names are missing: " + "; ".join(problems))
    return cfg


def diff(old: str, new: str, path: Path) -> tuple[list[str], str]:
    """(unified diff lines, a digest of old and new: the confirmation names exactly this)."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), str(path),
                                      f"{path} (i ri / new)", n=2, lineterm=""))
    digest = hashlib.sha256(f"{old}\0{new}".encode()).hexdigest()[:24]
    return lines, digest


def summary(lines: list[str], limit: int = 600) -> str:
    """The changed lines of a diff in one line, for the audit log."""
    changed = [line for line in lines[2:] if line[:1] in "+-"]
    text = " | ".join(changed)
    added = sum(1 for line in changed if line.startswith("+"))
    return (f"+{added} -{len(changed) - added}: "
            + (text if len(text) <= limit else text[:limit] + " …"))
