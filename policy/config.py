"""The `[[lists]]`, `[[groups]]` and `[policy]` parts of roja.toml.

```
[[lists]]
id = "hotline"            # letters, digits, '-', '_'
path = "lists/hotline.txt"  # relative to the config file
format = "domains"        # domains | hosts | adblock | rpz | ut1 | urls
kind = "legal"            # deny | allow | legal (legal: nothing can open it)
category = "csam"
max_shrink = 0.5          # hold the list back if it shrinks by more than this share (0..1)

[[lists]]
id = "ut1"
path = "lists/ut1"        # format "ut1": the category directory
format = "ut1"
mapping = "lists/ut1.map" # ut1 only (required): `source_category = roja_category` lines

[[groups]]
id = "nxenes"
name = "Nxënësit"
networks = ["10.0.2.0/24"]
lists = ["hotline", "ads"]  # deny/allow lists that apply (default: all); legal lists always do
safe_search = "strict"      # off | moderate | strict

[policy]
default_group = "nxenes"    # clients in no group's networks (default: a built-in "default")
```

Allow entries inside a list (adblock `@@||x^`, RPZ `rpz-passthru.`) are compiled under the list
id `<id>@allow`; the policy reads them as an allow rule of list `<id>` (see `policy.engine`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from blocklists.readers import FORMATS
from configkit import Section
from policy.engine import Group, ListRule

ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_GROUP = Group("default", "Të gjithë / Everyone", (), None, "moderate")


@dataclass(frozen=True)
class ListConfig:
    rule: ListRule
    path: Path
    format: str
    mapping: Path | None = None
    max_shrink: float = 0.5


@dataclass(frozen=True)
class PolicySettings:
    lists: tuple[ListConfig, ...]
    groups: tuple[Group, ...]
    default_group: Group


def _id(s: Section, key: str) -> str:
    value = s.str(key)
    if not ID_RE.fullmatch(value):
        raise s.error(key, f"{value!r}: use letters, digits, '-' or '_' (at most 64)")
    return value


def parse(root: Section, base_dir: Path) -> PolicySettings:
    lists: list[ListConfig] = []
    seen: set[str] = set()
    for s in root.sections("lists"):
        list_id = _id(s, "id")
        if list_id in seen:
            raise s.error("id", f"list id {list_id!r} is used twice")
        seen.add(list_id)
        path = Path(s.str("path"))
        fmt = s.choice("format", FORMATS, "domains")
        kind = s.choice("kind", ("deny", "allow", "legal"), "deny")
        category = s.str("category", "")
        mapping: Path | None = None
        if fmt == "ut1":
            mapping = Path(s.str("mapping"))
            mapping = mapping if mapping.is_absolute() else base_dir / mapping
        elif s.has("mapping"):
            raise s.error("mapping", "only a list with format = \"ut1\" has a mapping")
        max_shrink = s.float("max_shrink", 0.5, min=0.0, max=1.0)
        s.done()
        lists.append(ListConfig(ListRule(list_id, kind, category),  # type: ignore[arg-type]
                                path if path.is_absolute() else base_dir / path, fmt,
                                mapping, max_shrink))
    groups: list[Group] = []
    for s in root.sections("groups"):
        group_id = _id(s, "id")
        if any(g.id == group_id for g in groups):
            raise s.error("id", f"group id {group_id!r} is used twice")
        names = s.str_list("lists", []) if s.has("lists") else None
        if names is not None:
            for name in names:
                if name not in seen:
                    raise s.error("lists", f"no [[lists]] entry has id {name!r}")
        groups.append(Group(
            id=group_id,
            name=s.str("name", group_id),
            networks=s.networks("networks", []),
            lists=frozenset(names) if names is not None else None,
            safe_search=s.choice("safe_search", ("off", "moderate", "strict"),  # type: ignore[arg-type]
                                 "moderate"),
        ))
        s.done()
    p = root.section("policy")
    default_id = p.str("default_group", "")
    default = DEFAULT_GROUP
    if default_id:
        match = [g for g in groups if g.id == default_id]
        if not match:
            raise p.error("default_group", f"no [[groups]] entry has id {default_id!r}")
        default = match[0]
    p.done()
    return PolicySettings(tuple(lists), tuple(groups), default)
