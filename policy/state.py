"""Profiles, unblocks, and the per-group state they add up to at one moment.

A `Profile` says which categories a group blocks, its safe-search level and which extra lists
apply. Schedules (`policy.schedule`) open or close categories at times; `Unblock`s open one
host for one group until they expire. `state_at(...)` folds all of that into one small
`GroupState` per group, valid from one instant until the next schedule boundary or unblock
expiry, so `Policy.decide` only does set lookups on the resolver's hot path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from policy.schedule import Schedule, aware, next_boundary

SafeSearch = Literal["off", "moderate", "strict"]


@dataclass(frozen=True)
class Profile:
    """What a group gets. `block` None: every category; `allow_lists` None: every allow list;
    `deny_lists`: lists that block whatever category their entries carry."""

    id: str
    name: str = ""
    block: frozenset[str] | None = None
    safe_search: SafeSearch = "moderate"
    allow_lists: frozenset[str] | None = None
    deny_lists: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Unblock:
    """A time-boxed unblock of `host` (and its subdomains) for one group, until `expires`."""

    id: int
    group_id: str
    host: str
    expires: datetime
    by: str = ""
    reason: str = ""


@dataclass(frozen=True)
class GroupState:
    blocked: frozenset[str] | None = None       # None: every category
    opened: frozenset[str] = frozenset()        # opened by a schedule in force
    allow_lists: frozenset[str] | None = None
    deny_lists: frozenset[str] = frozenset()
    unblocks: Mapping[str, Unblock] = field(default_factory=dict)  # host → unblock
    in_force: tuple[Schedule, ...] = ()

    def blocks(self, list_id: str, category: str, aliases: Mapping[str, str]) -> bool:
        """Does a deny entry of `list_id` with `category` block for this group now?"""
        if list_id in self.deny_lists or not category:
            return True
        c = aliases.get(category, category)
        if c in self.opened:
            return False
        return self.blocked is None or c in self.blocked

    def unblock_for(self, host: str) -> Unblock | None:
        if not self.unblocks:
            return None
        name = host
        while True:
            found = self.unblocks.get(name)
            if found is not None:
                return found
            dot = name.find(".")
            if dot < 0:
                return None
            name = name[dot + 1:]


@dataclass(frozen=True)
class State:
    """Per-group states, valid for `start <= t < until` (UTC; None: unbounded)."""

    start: datetime | None
    until: datetime | None
    groups: Mapping[str, GroupState]

    def valid_at(self, now: datetime) -> bool:
        if self.start is None:
            return False
        t = aware(now).astimezone(UTC)
        return self.start <= t and (self.until is None or t < self.until)


def group_state(group_id: str, profile: Profile | None, schedules: Iterable[Schedule],
                holidays: frozenset[date], unblocks: Iterable[Unblock],
                now: datetime | None) -> GroupState:
    blocked = profile.block if profile is not None else None
    opened: set[str] = set()
    closed: set[str] = set()
    in_force: list[Schedule] = []
    for s in schedules:
        if group_id in s.groups and now is not None and s.in_force(now, holidays):
            in_force.append(s)
            (opened if s.action == "allow" else closed).update(s.categories)
    if closed and blocked is not None:
        blocked = blocked | closed
    t = aware(now) if now is not None else None
    active = {u.host: u for u in unblocks
              if u.group_id == group_id and (t is None or u.expires > t)}
    return GroupState(blocked, frozenset(opened - closed),
                      profile.allow_lists if profile is not None else None,
                      profile.deny_lists if profile is not None else frozenset(),
                      active, tuple(in_force))


def state_at(group_profiles: Mapping[str, Profile | None], schedules: tuple[Schedule, ...],
             holidays: frozenset[date], unblocks: tuple[Unblock, ...],
             now: datetime | None) -> State:
    """Every group's state at `now` (None: no schedule in force, every unblock active)."""
    groups = {gid: group_state(gid, prof, schedules, holidays, unblocks, now)
              for gid, prof in group_profiles.items()}
    if now is None:
        return State(None, None, groups)
    start = aware(now).astimezone(UTC)
    ends = [u.expires.astimezone(UTC) for u in unblocks if u.expires.astimezone(UTC) > start]
    boundary = next_boundary(schedules, holidays, now)
    if boundary is not None:
        ends.append(boundary)
    return State(start, min(ends) if ends else None, groups)
