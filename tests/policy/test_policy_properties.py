"""Property tests of policy v2: the legal layer never opens, allow beats deny outside it, and
decisions flip exactly at schedule boundaries (both Europe/Tirane DST nights of 2026)."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from blocklists.compiled import CompiledList, Tag, compile_entries
from policy import Group, ListRule, Policy, Profile, Schedule, Unblock, Window
from policy.categories import CATEGORIES
from policy.schedule import TIRANE, next_boundary

CATS = sorted(CATEGORIES)
LISTS = ["a", "b", "c", "d"]
AT = datetime(2026, 12, 1, 10, 0, tzinfo=TIRANE)
TICK = timedelta(microseconds=1)


def windows() -> st.SearchStrategy[tuple[Window, ...]]:
    pair = st.tuples(st.integers(0, 1439), st.integers(1, 1440)).filter(lambda p: p[0] < p[1])
    return st.lists(pair.map(lambda p: Window(*p)), min_size=1, max_size=3).map(tuple)


def schedules(groups: list[str]) -> st.SearchStrategy[Schedule]:
    return st.builds(Schedule, st.lists(st.sampled_from(groups), min_size=1).map(tuple),
                     st.lists(st.sampled_from(CATS), min_size=1, max_size=4).map(tuple),
                     st.sampled_from(("allow", "block")), windows(),
                     st.frozensets(st.integers(0, 6), min_size=1), st.booleans())


def profiles() -> st.SearchStrategy[Profile]:
    return st.builds(Profile, st.just("p"), st.just("P"),
                     st.none() | st.frozensets(st.sampled_from(CATS)),
                     st.sampled_from(("off", "moderate", "strict")),
                     st.none() | st.frozensets(st.sampled_from(LISTS)),
                     st.frozensets(st.sampled_from(LISTS)))


def _with_policy(entries: list[tuple[str, Tag]], build: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "l"
        compile_entries(entries, out)
        view = CompiledList(out)
        try:
            build(view)  # type: ignore[operator]
        finally:
            view.close()


@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(st.sampled_from(("deny", "allow")), min_size=4, max_size=4),
       cats=st.lists(st.sampled_from(CATS), min_size=4, max_size=4),
       member=st.lists(st.booleans(), min_size=4, max_size=4),
       profile=profiles(), sched=schedules(["g", "default"]),
       unblock=st.booleans(), minutes=st.integers(0, 60 * 24 * 7), depth=st.integers(0, 2))
def test_a_legal_match_is_never_allowed(kinds: list[str], cats: list[str], member: list[bool],
                                        profile: Profile, sched: Schedule, unblock: bool,
                                        minutes: int, depth: int) -> None:
    rules = {lid: ListRule(lid, k, c)  # type: ignore[arg-type]
             for lid, k, c in zip(LISTS, kinds, cats, strict=True)}
    rules["court"] = ListRule("court", "legal", "gambling")
    entries = [("x.example", Tag(lid, c)) for lid, c, m in zip(LISTS, cats, member, strict=True)
               if m] + [("x.example", Tag("court", "gambling"))]
    at = AT + timedelta(minutes=minutes)
    group = Group("g", "G", profile="p")
    unblocks = (Unblock(1, "g", "x.example", at + timedelta(hours=1)),) if unblock else ()

    def check(view: CompiledList) -> None:
        p = Policy((group,), Group("default", "D"), rules, view, profiles={"p": profile},
                   schedules=(sched,), unblocks=unblocks, now=at)
        name = "sub." * depth + "x.example"
        for g in (group, p.default_group):
            for d in (p.decide(g, name), p.decide(g, name, at),
                      p.decide_url(g, f"http://{name}/p", at)):
                assert d.blocked and d.legal and d.list_id == "court"

    _with_policy(entries, check)


@settings(max_examples=60, deadline=None)
@given(deny_cat=st.sampled_from(CATS), profile=profiles(), sched=schedules(["g"]),
       minutes=st.integers(0, 60 * 24 * 7))
def test_allow_beats_deny_outside_the_legal_layer(deny_cat: str, profile: Profile,
                                                  sched: Schedule, minutes: int) -> None:
    rules = {"d": ListRule("d", "deny", deny_cat), "a": ListRule("a", "allow", "")}
    profile = Profile(profile.id, profile.name, profile.block, profile.safe_search, None,
                      profile.deny_lists | {"d"})
    group = Group("g", "G", profile="p")

    def check(view: CompiledList) -> None:
        p = Policy((group,), group, rules, view, profiles={"p": profile}, schedules=(sched,))
        at = AT + timedelta(minutes=minutes)
        assert p.decide(group, "y.example", at).blocked
        assert p.decide(group, "ok.y.example", at).action == "allow"

    _with_policy([("y.example", Tag("d", deny_cat)), ("ok.y.example", Tag("a", ""))], check)


DST_NIGHTS = [datetime(2026, 3, 29, tzinfo=TIRANE), datetime(2026, 10, 25, tzinfo=TIRANE)]


@settings(max_examples=80, deadline=None)
@given(sched=schedules(["g"]), night=st.sampled_from(DST_NIGHTS),
       offset=st.integers(-36 * 60, 36 * 60), holiday=st.booleans())
def test_decisions_change_only_at_boundaries(sched: Schedule, night: datetime, offset: int,
                                             holiday: bool) -> None:
    """Between two consecutive boundaries the decision is constant; each flip is at one."""
    rules = {"s": ListRule("s", "deny", sched.categories[0])}
    group = Group("g", "G")
    holidays = frozenset({date(2026, 3, 30), date(2026, 10, 26)}) if holiday else frozenset()

    def check(view: CompiledList) -> None:
        p = Policy((group,), group, rules, view, schedules=(sched,), holidays=holidays)
        start = (night + timedelta(minutes=offset)).astimezone(UTC)
        t = start
        for _ in range(6):
            nxt = next_boundary((sched,), holidays, t)
            assert nxt is not None and nxt > t
            inside = [t, t + (nxt - t) / 2, nxt - TICK]
            seen = {p.decide(group, "z.example", x).blocked for x in inside}
            assert len(seen) == 1, (t, nxt)
            # The state the appliance would compute at t is valid until the boundary.
            assert p.at(t).next_change() == nxt
            t = nxt

    _with_policy([("z.example", Tag("s", sched.categories[0]))], check)


def test_lunch_on_both_dst_days_is_wall_clock_lunch() -> None:
    lunch = Schedule(("g",), ("social_media",), "allow", (Window(720, 780),), frozenset(range(7)))
    for night in DST_NIGHTS:
        noon = night.replace(hour=12)
        assert lunch.in_force(noon, frozenset())
        assert not lunch.in_force(noon - TICK, frozenset())
        assert lunch.in_force(noon.replace(hour=12, minute=59), frozenset())
        assert not lunch.in_force(noon.replace(hour=13), frozenset())
    # Boundaries on the nights themselves are real instants, one hour apart from UTC's view.
    spring = next_boundary((lunch,), frozenset(), datetime(2026, 3, 29, 1, 59, tzinfo=TIRANE))
    assert spring is not None and spring.astimezone(TIRANE).hour == 3  # 02:00 does not exist
    fall = datetime(2026, 10, 25, 2, 30, tzinfo=TIRANE)  # first 02:30 (CEST)
    second = fall.replace(fold=1).astimezone(UTC)
    assert second - fall.astimezone(UTC) == timedelta(hours=1)


def test_a_window_over_the_repeated_hour_flips_four_times() -> None:
    night = Schedule(("g",), ("games",), "block", (Window(60, 150),), frozenset(range(7)))
    t = datetime(2026, 10, 25, 0, 30, tzinfo=TIRANE).astimezone(UTC)
    states = []
    while t < datetime(2026, 10, 25, 4, 0, tzinfo=TIRANE):
        nxt = next_boundary((night,), frozenset(), t)
        assert nxt is not None
        states.append((nxt.astimezone(TIRANE).strftime("%H:%M%z"),
                       night.in_force(nxt, frozenset())))
        t = nxt
    flips = [s for i, s in enumerate(states) if i == 0 or s[1] != states[i - 1][1]]
    assert [f for f in flips if f[0] != "00:00+0200"][:4] == [
        ("01:00+0200", True), ("02:30+0200", False), ("02:00+0100", True), ("02:30+0100", False)]
