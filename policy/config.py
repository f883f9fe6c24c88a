"""The `[[lists]]`, `[[groups]]` and `[policy]` parts of roja.toml.

```
[[lists]]
id = "hotline"            # letters, digits, '-', '_'
path = "lists/hotline.txt"  # relative to the config file
format = "domains"        # domains | hosts | adblock | rpz | ut1 | urls | addresses
kind = "legal"            # deny | allow | legal (legal: nothing can open it)
category = "csam"
max_shrink = 0.5          # hold the list back if it shrinks by more than this share (0..1)
max_steered_hosts = 2000  # URL entries steer their hosts to the proxy: at most this many hosts
never_steer = ["github.com"]  # URL entries on these hosts (and below) are dropped, not steered

[[lists]]
id = "ut1"
path = "lists/ut1"        # format "ut1": the category directory
format = "ut1"
mapping = "lists/ut1.map" # ut1 only (required): `source_category = roja_category` lines

[[groups]]
id = "nxenes"
name = "Nxënësit / Pupils"  # shown in reports (the part before " / "); default: from the id
networks = ["10.0.2.0/24"]
lists = ["hotline", "ads"]  # deny/allow lists that apply (default: all); legal lists always do
safe_search = "strict"      # off | moderate | strict

[[groups]]
id = "mesuesit"
addresses = ["10.0.3.17"]   # single client addresses (win over MACs and networks)
macs = ["aa:bb:cc:dd:ee:ff"]  # MAC addresses, looked up in the kernel neighbour table
profile = "staff"           # a [[profiles]] id (then safe_search comes from the profile)
ip_literals = "allow"       # hosts written as IP addresses: "block" (default) | "allow"
family = false              # an ISP's subscribers with the family filter on: counted in
                            # `roja isp report` (default false)

[[profiles]]
id = "staff"
block = ["pornography"]     # categories blocked (default: every category)
safe_search = "moderate"
allow_lists = ["lejuar"]    # allow lists that apply (default: every allow list)
deny_lists = ["extra"]      # deny lists that block whatever their entries' category

[[schedules]]
groups = ["nxenes"]
categories = ["social_media"]
action = "allow"            # allow: open the categories inside the windows; block: close them
windows = ["12:00-13:00", "15:00-24:00"]   # Europe/Tirane wall-clock time
days = ["mon", "tue", "wed", "thu", "fri"]
on_holidays = false         # also on [policy] holidays?

[policy]
default_group = "nxenes"    # clients in no group (default: a built-in "default")
holidays = ["2026-12-25", "2026-12-24..2027-01-06"]
allow_private = ["10.0.5.0/24"]  # private networks clients may reach through the proxy
                                 # (default: none; the gateway's own addresses never)
```

Legal lists win over everything: a profile, schedule or allow list that would open a legal
list (or the `csam` category, or a category a legal list carries) is rejected at load.

Allow entries inside a list (adblock `@@||x^`, RPZ `rpz-passthru.`) are compiled under the list
id `<id>@allow`; the policy reads them as an allow rule of list `<id>` (see `policy.engine`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from blocklists.canonical import canonical_host
from blocklists.readers import FORMATS
from configkit import Section, client_address
from policy.addresses import AddressRules
from policy.categories import ALWAYS_LEGAL, CATEGORIES, canonical_category, is_known
from policy.engine import Group, ListRule, normalize_mac
from policy.group_names import default_name
from policy.schedule import Schedule, parse_dates, parse_day, parse_window
from policy.state import Profile

ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_GROUP = Group("default", "Të gjithë / Everyone", (), None, "moderate")


@dataclass(frozen=True)
class ListConfig:
    rule: ListRule
    path: Path
    format: str
    mapping: Path | None = None
    max_shrink: float = 0.5
    max_steered_hosts: int = 2000
    never_steer: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicySettings:
    lists: tuple[ListConfig, ...]
    groups: tuple[Group, ...]
    default_group: Group
    profiles: dict[str, Profile] = field(default_factory=dict)
    schedules: tuple[Schedule, ...] = ()
    holidays: frozenset[date] = frozenset()
    addresses: AddressRules = field(default_factory=AddressRules)


def _id(s: Section, key: str) -> str:
    value = s.str(key)
    if not ID_RE.fullmatch(value):
        raise s.error(key, f"{value!r}: use letters, digits, '-' or '_' (at most 64)")
    return value


def _legal_text(what: str) -> str:
    return (f"{what} është ligjore: asgjë nuk e hap / {what} is legal: nothing may open it "
            "(legal lists win over every allow list, profile, schedule and unblock)")


def _categories(s: Section, key: str) -> tuple[str, ...]:
    out = []
    for cid in s.str_list(key):
        if not is_known(cid):
            raise s.error(key, f"«{cid}» nuk është kategori / {cid!r} is not a category "
                               f"(accepted: {', '.join(CATEGORIES)})")
        out.append(canonical_category(cid))
    return tuple(out)


def _lists(root: Section, base_dir: Path) -> list[ListConfig]:
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
        if category and canonical_category(category) in ALWAYS_LEGAL and kind != "legal":
            raise s.error("category", _legal_text(f"kategoria / category {category!r}")
                          + "; use kind = \"legal\"")
        mapping: Path | None = None
        if fmt == "ut1":
            mapping = Path(s.str("mapping"))
            mapping = mapping if mapping.is_absolute() else base_dir / mapping
        elif s.has("mapping"):
            raise s.error("mapping", "only a list with format = \"ut1\" has a mapping")
        max_shrink = s.float("max_shrink", 0.5, min=0.0, max=1.0)
        max_steered = s.int("max_steered_hosts", 2000, min=0)
        never_steer = []
        for name in s.str_list("never_steer", []):
            host = canonical_host(name)
            if host is None:
                raise s.error("never_steer", f"{name!r} is not a host name")
            never_steer.append(host)
        s.done()
        lists.append(ListConfig(ListRule(list_id, kind, category),  # type: ignore[arg-type]
                                path if path.is_absolute() else base_dir / path, fmt,
                                mapping, max_shrink, max_steered, tuple(never_steer)))
    legal_cats = _legal_categories(lists)
    for s, lc in zip(root.sections("lists"), lists, strict=True):
        if lc.rule.kind == "allow" and canonical_category(lc.rule.category) in legal_cats:
            raise s.error("category", _legal_text(f"kategoria / category {lc.rule.category!r}"))
    return lists


def _legal_categories(lists: list[ListConfig]) -> frozenset[str]:
    return ALWAYS_LEGAL | {canonical_category(lc.rule.category) for lc in lists
                           if lc.rule.kind == "legal" and lc.rule.category}


def _profiles(root: Section, kinds: dict[str, str]) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {}
    for s in root.sections("profiles"):
        pid = _id(s, "id")
        if pid in profiles:
            raise s.error("id", f"profile id {pid!r} is used twice")
        block = frozenset(_categories(s, "block")) if s.has("block") else None
        allow = s.str_list("allow_lists", []) if s.has("allow_lists") else None
        for lid in allow or ():
            if kinds.get(lid) == "legal":
                raise s.error("allow_lists", _legal_text(f"lista / list {lid!r}"))
            if kinds.get(lid) != "allow":
                raise s.error("allow_lists", f"no [[lists]] entry with kind = \"allow\" has "
                              f"id {lid!r}")
        deny = s.str_list("deny_lists", [])
        for lid in deny:
            if kinds.get(lid) not in ("deny", "legal"):
                raise s.error("deny_lists", f"no [[lists]] entry with kind = \"deny\" has "
                              f"id {lid!r}")
        profiles[pid] = Profile(
            pid, s.str("name", pid), block,
            s.choice("safe_search", ("off", "moderate", "strict"), "moderate"),  # type: ignore[arg-type]
            frozenset(allow) if allow is not None else None, frozenset(deny))
        s.done()
    return profiles


def _groups(root: Section, kinds: dict[str, str],
            profiles: dict[str, Profile]) -> list[Group]:
    groups: list[Group] = []
    owners: dict[str, str] = {}
    for s in root.sections("groups"):
        group_id = _id(s, "id")
        if any(g.id == group_id for g in groups):
            raise s.error("id", f"group id {group_id!r} is used twice")
        names = s.str_list("lists", []) if s.has("lists") else None
        for name in names or ():
            if name not in kinds:
                raise s.error("lists", f"no [[lists]] entry has id {name!r}")
        addresses = []
        for text in s.str_list("addresses", []):
            address = client_address(text)
            if address is None:
                raise s.error("addresses", f"{text!r} is not an address (e.g. 10.0.3.17)")
            addresses.append(str(address))
        macs = []
        for text in s.str_list("macs", []):
            mac = normalize_mac(text)
            if mac is None:
                raise s.error("macs", f"{text!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
            macs.append(mac)
        for key, values in (("addresses", addresses), ("macs", macs)):
            for v in values:
                if v in owners:
                    raise s.error(key, f"{v} is already in group {owners[v]!r}")
                owners[v] = group_id
        profile = s.str("profile", "")
        if profile and profile not in profiles:
            raise s.error("profile", f"no [[profiles]] entry has id {profile!r}")
        if profile and s.has("safe_search"):
            raise s.error("safe_search", f"set safe_search in profile {profile!r}")
        safe = (profiles[profile].safe_search if profile else
                s.choice("safe_search", ("off", "moderate", "strict"), "moderate"))
        groups.append(Group(
            id=group_id, name=s.str("name", default_name(group_id)),
            networks=s.networks("networks", []),
            lists=frozenset(names) if names is not None else None,
            safe_search=safe,  # type: ignore[arg-type]
            addresses=tuple(addresses), macs=tuple(macs), profile=profile,
            ip_literals=s.choice("ip_literals", ("block", "allow"), "block"),  # type: ignore[arg-type]
            family=s.bool("family", False)))
        s.done()
    return groups


def _schedules(root: Section, group_ids: set[str],
               legal_cats: frozenset[str]) -> list[Schedule]:
    out: list[Schedule] = []
    for s in root.sections("schedules"):
        groups = s.str_list("groups")
        for gid in groups:
            if gid not in group_ids:
                raise s.error("groups", f"no group has id {gid!r}")
        categories = _categories(s, "categories")
        action = s.choice("action", ("allow", "block"), "allow")
        if action == "allow":
            for cid in categories:
                if cid in legal_cats:
                    raise s.error("categories", _legal_text(f"kategoria / category {cid!r}"))
        try:
            windows = tuple(parse_window(w) for w in s.str_list("windows"))
        except ValueError as exc:
            raise s.error("windows", str(exc)) from None
        try:
            days = frozenset(parse_day(d) for d in s.str_list(
                "days", ["mon", "tue", "wed", "thu", "fri"]))
        except ValueError as exc:
            raise s.error("days", str(exc)) from None
        out.append(Schedule(tuple(groups), categories, action,  # type: ignore[arg-type]
                            windows, days, s.bool("on_holidays", False), s.str("name", "")))
        s.done()
    return out


def parse(root: Section, base_dir: Path) -> PolicySettings:
    lists = _lists(root, base_dir)
    kinds: dict[str, str] = {lc.rule.id: lc.rule.kind for lc in lists}
    profiles = _profiles(root, kinds)
    groups = _groups(root, kinds, profiles)
    p = root.section("policy")
    default_id = p.str("default_group", "")
    default = DEFAULT_GROUP
    if default_id:
        match = [g for g in groups if g.id == default_id]
        if not match:
            raise p.error("default_group", f"no [[groups]] entry has id {default_id!r}")
        default = match[0]
    holidays: set[date] = set()
    for text in p.str_list("holidays", []):
        try:
            holidays.update(parse_dates(text))
        except ValueError as exc:
            raise p.error("holidays", f"«{text}»: shkruani VVVV-MM-DD ose VVVV-MM-DD..VVVV-MM-DD"
                          f" / use YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD ({exc})") from None
    addresses = AddressRules(p.networks("allow_private", []))
    p.done()
    schedules = _schedules(root, {g.id for g in groups} | {default.id},
                           _legal_categories(lists))
    return PolicySettings(tuple(lists), tuple(groups), default, profiles, tuple(schedules),
                          frozenset(holidays), addresses)
