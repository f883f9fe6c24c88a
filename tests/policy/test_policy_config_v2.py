"""`[[profiles]]`, `[[schedules]]`, group `addresses`/`macs`/`profile`, `[policy] holidays`, and
the legal layer's load-time refusals (file, line and key in every message)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from configkit import ConfigError, Section, parse_toml_text
from filterd.config import parse_config_text
from policy.config import PolicySettings, parse

NAME = "/etc/roja/roja.toml"
EXAMPLE = Path(__file__).resolve().parents[2] / "filterd" / "roja.toml.example"
LISTS = """\
[[lists]]
id = "hotline"
path = "h.txt"
kind = "legal"
category = "csam"

[[lists]]
id = "court"
path = "c.txt"
kind = "legal"
category = "gambling"

[[lists]]
id = "social"
path = "s.txt"
category = "social_media"

[[lists]]
id = "ok"
path = "ok.txt"
kind = "allow"
"""


def parse_text(text: str) -> PolicySettings:
    data, source = parse_toml_text(text, NAME)
    return parse(Section(data, "", source), Path("/etc/roja"))


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_text(text)
    return info.value


def test_profiles_groups_schedules_and_holidays() -> None:
    s = parse_text(LISTS + """
[[profiles]]
id = "nx"
block = ["social_media", "adult"]
safe_search = "strict"
allow_lists = ["ok"]
deny_lists = ["social"]

[[groups]]
id = "nxenesit"
networks = ["10.0.2.0/24"]
addresses = ["::ffff:10.0.9.9"]
macs = ["AA-BB-CC-DD-EE-FF"]
profile = "nx"

[[schedules]]
groups = ["nxenesit"]
categories = ["social_media"]
windows = ["12:00-13:00", "15:00-24:00"]

[policy]
holidays = ["2026-12-24..2026-12-26", "2027-03-14"]
""")
    (g,) = s.groups
    assert g.safe_search == "strict" and g.profile == "nx"
    assert g.addresses == ("10.0.9.9",) and g.macs == ("aa:bb:cc:dd:ee:ff",)
    p = s.profiles["nx"]
    assert p.block == frozenset({"social_media", "pornography"})
    assert p.allow_lists == frozenset({"ok"}) and p.deny_lists == frozenset({"social"})
    (sched,) = s.schedules
    assert sched.action == "allow" and sched.days == frozenset(range(5))
    assert [str(w) for w in sched.windows] == ["12:00-13:00", "15:00-24:00"]
    assert s.holidays == {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26),
                          date(2027, 3, 14)}


@pytest.mark.parametrize("extra,key,words", [
    ('[[profiles]]\nid = "p"\nallow_lists = ["hotline"]\n', "profiles[0].allow_lists",
     "is legal: nothing may open it"),
    ('[[groups]]\nid = "g"\n[[schedules]]\ngroups = ["g"]\ncategories = ["csam"]\n'
     'windows = ["12:00-13:00"]\n', "schedules[0].categories", "is legal"),
    ('[[groups]]\nid = "g"\n[[schedules]]\ngroups = ["g"]\ncategories = ["gambling"]\n'
     'windows = ["12:00-13:00"]\n', "schedules[0].categories", "'gambling' is legal"),
    ('[[lists]]\nid = "x"\npath = "x"\nkind = "allow"\ncategory = "csam"\n',
     "lists[4].category", "është ligjore"),
    ('[[lists]]\nid = "x"\npath = "x"\nkind = "deny"\ncategory = "csam"\n',
     "lists[4].category", 'kind = "legal"'),
    ('[[profiles]]\nid = "p"\nblock = ["kittens"]\n', "profiles[0].block", "not a category"),
    ('[[groups]]\nid = "g"\nprofile = "none"\n', "groups[0].profile", "no [[profiles]]"),
    ('[[profiles]]\nid = "p"\n[[groups]]\nid = "g"\nprofile = "p"\nsafe_search = "off"\n',
     "groups[0].safe_search", "in profile"),
    ('[[groups]]\nid = "g"\nmacs = ["zz"]\n', "groups[0].macs", "not a MAC"),
    ('[[groups]]\nid = "g"\naddresses = ["10.0.0.0/8"]\n', "groups[0].addresses",
     "not an address"),
    ('[[groups]]\nid = "g"\naddresses = ["10.1.1.1"]\n[[groups]]\nid = "h"\n'
     'addresses = ["10.1.1.1"]\n', "groups[1].addresses", "already in group"),
    ('[[groups]]\nid = "g"\n[[schedules]]\ngroups = ["g"]\ncategories = ["drugs"]\n'
     'windows = ["13:00-12:00"]\n', "schedules[0].windows", "before the end"),
    ('[[groups]]\nid = "g"\n[[schedules]]\ngroups = ["g"]\ncategories = ["drugs"]\n'
     'windows = ["12:00-13:00"]\ndays = ["sunday", "funday"]\n', "schedules[0].days",
     "not a day"),
    ('[[schedules]]\ngroups = ["nobody"]\ncategories = ["drugs"]\nwindows = ["1:00-2:00"]\n',
     "schedules[0].groups", "no group"),
    ('[policy]\nholidays = ["2026-13-01"]\n', "policy.holidays", "YYYY-MM-DD"),
])
def test_bad_configs_are_refused_with_file_line_and_key(extra: str, key: str,
                                                         words: str) -> None:
    text = LISTS + extra
    err = error_of(text)
    assert err.file == NAME and err.key == key and words in str(err), str(err)
    assert err.line is not None
    # The line points into the table the key belongs to.
    table = re.sub(r"\[\d+\]", "", key.split(".")[0])
    assert text.splitlines()[err.line - 1].strip() == f"[[{table}]]" or "=" in \
        text.splitlines()[err.line - 1]


def test_a_legal_schedule_refusal_names_the_line_of_the_key() -> None:
    text = LISTS + ('[[groups]]\nid = "g"\n\n[[schedules]]\ngroups = ["g"]\n'
                    'categories = ["csam"]\nwindows = ["12:00-13:00"]\n')
    err = error_of(text)
    assert text.splitlines()[err.line - 1] == 'categories = ["csam"]'  # type: ignore[index]


def test_block_schedules_may_name_legal_categories() -> None:
    s = parse_text(LISTS + '[[groups]]\nid = "g"\n[[schedules]]\ngroups = ["g"]\n'
                   'categories = ["csam"]\naction = "block"\nwindows = ["00:00-24:00"]\n')
    assert s.schedules[0].action == "block"


def test_v1_configs_still_load() -> None:
    s = parse_text(LISTS + '[[groups]]\nid = "g"\nnetworks = ["10.0.0.0/8"]\nlists = ["social"]\n'
                   'safe_search = "off"\n')
    assert s.groups[0].profile == "" and s.groups[0].safe_search == "off"
    assert s.profiles == {} and s.schedules == ()


def _accepted_keys(section_text: str) -> set[str]:
    with pytest.raises(ConfigError) as info:
        parse_config_text(section_text, Path("/tmp/probe.toml"))
    message = str(info.value)
    assert "unknown key" in message, message
    return set(message.split("accepted keys here:", 1)[1].replace(" ", "").split(","))


@pytest.mark.parametrize("probe", [
    '[[profiles]]\nid = "p"\nblock = []\nallow_lists = []\nzzz_unknown = 1\n',
    '[[groups]]\nid = "g"\n[[schedules]]\ngroups = ["g"]\ncategories = ["drugs"]\n'
    'windows = ["1:00-2:00"]\nzzz_unknown = 1\n',
    '[[profiles]]\nid = "p"\n[[groups]]\nid = "g"\nprofile = "p"\nzzz_unknown = 1\n',
    '[[groups]]\nid = "g"\nzzz_unknown = 1\n',
])
def test_example_config_shows_the_policy_v2_keys(probe: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    shown = set(re.findall(r"^#?\s*\[*([a-z0-9_.]+)\]*\s*(?:=|$)", text, re.MULTILINE))
    missing = _accepted_keys(probe) - shown
    assert not missing, f"roja.toml.example does not show: {sorted(missing)}"
