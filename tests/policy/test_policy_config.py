"""The `[[lists]]`, `[[groups]]` and `[policy]` tables: what they become, and located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from configkit import ConfigError, Section, parse_toml_text
from policy.config import DEFAULT_GROUP, PolicySettings, parse

NAME = "/etc/roja/roja.toml"


def parse_text(text: str, base: Path = Path("/etc/roja")) -> PolicySettings:
    data, source = parse_toml_text(text, NAME)
    return parse(Section(data, "", source), base)


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_text(text)
    return str(info.value)


def test_lists_groups_and_default_group() -> None:
    settings = parse_text("""\
[[lists]]
id = "hotline"
path = "/var/lib/roja/lists/hotline.txt"
kind = "legal"
category = "csam"

[[lists]]
id = "porn"
path = "lists/porn.hosts"
format = "hosts"

[[groups]]
id = "mesuesit"
name = "Mësuesit"
networks = ["10.0.5.0/24", "fd00:5::/64"]
lists = ["porn"]
safe_search = "off"

[[groups]]
id = "nxenesit"
networks = "10.0.0.0/16"

[policy]
default_group = "nxenesit"
""")
    hotline, porn = settings.lists
    assert (hotline.rule.id, hotline.rule.kind, hotline.rule.category) == ("hotline", "legal",
                                                                           "csam")
    assert hotline.path == Path("/var/lib/roja/lists/hotline.txt")
    assert (porn.rule.kind, porn.format, porn.rule.category) == ("deny", "hosts", "")
    assert porn.path == Path("/etc/roja/lists/porn.hosts")  # relative to the config file
    teachers, pupils = settings.groups
    assert teachers.lists == frozenset({"porn"}) and teachers.safe_search == "off"
    assert [str(n) for n in teachers.networks] == ["10.0.5.0/24", "fd00:5::/64"]
    assert pupils.lists is None and pupils.name == "Nxënësit"  # derived from the id
    assert pupils.safe_search == "moderate"
    assert settings.default_group is pupils


def test_no_groups_means_the_built_in_default_group() -> None:
    settings = parse_text("")
    assert settings.lists == () and settings.groups == ()
    assert settings.default_group == DEFAULT_GROUP
    assert DEFAULT_GROUP.lists is None


def test_duplicate_list_id() -> None:
    message = error_of("""\
[[lists]]
id = "ads"
path = "a.txt"

[[lists]]
id = "ads"
path = "b.txt"
""")
    assert message == f"{NAME}:6: lists[1].id: list id 'ads' is used twice"


def test_duplicate_group_id() -> None:
    message = error_of('[[groups]]\nid = "g"\n\n[[groups]]\nid = "g"\n')
    assert message.startswith(f"{NAME}:5: groups[1].id: group id 'g' is used twice")


def test_unknown_list_in_a_group() -> None:
    message = error_of("""\
[[lists]]
id = "ads"
path = "a.txt"

[[groups]]
id = "nxenesit"
networks = ["10.0.0.0/8"]
lists = ["ads", "bixhoz"]
""")
    assert message == f"{NAME}:8: groups[0].lists: no [[lists]] entry has id 'bixhoz'"


def test_unknown_default_group() -> None:
    message = error_of("""\
[[groups]]
id = "nxenesit"

[policy]
default_group = "mesuesit"
""")
    assert message == f"{NAME}:5: policy.default_group: no [[groups]] entry has id 'mesuesit'"


def test_ut1_list_with_mapping_and_max_shrink() -> None:
    settings = parse_text("""\
[[lists]]
id = "ut1"
path = "lists/ut1"
format = "ut1"
mapping = "lists/ut1.map"
category = "pornography"
max_shrink = 0.2
""")
    (ut1,) = settings.lists
    assert (ut1.format, ut1.mapping, ut1.max_shrink) == ("ut1", Path("/etc/roja/lists/ut1.map"),
                                                         0.2)


@pytest.mark.parametrize("text,line,key,says", [
    ('[[lists]]\nid = "has space"\npath = "a"\n', 2, "lists[0].id", "use letters, digits"),
    ('[[lists]]\nid = "a"\npath = "a"\nkind = "block"\n', 4, "lists[0].kind",
     "deny, allow, legal"),
    ('[[lists]]\nid = "a"\npath = "a"\nformat = "squid"\n', 4, "lists[0].format",
     "domains, hosts, adblock, rpz, ut1, urls"),
    ('[[lists]]\nid = "a"\npath = "a"\nformat = "ut1"\n', 1, "lists[0].mapping",
     "is required"),
    ('[[lists]]\nid = "a"\npath = "a"\nmapping = "m"\n', 4, "lists[0].mapping",
     "only a list with format"),
    ('[[lists]]\nid = "a"\npath = "a"\nmax_shrink = 1.5\n', 4, "lists[0].max_shrink",
     "must be at most 1.0"),
    ('[[lists]]\npath = "a"\n', 1, "lists[0].id", "is required"),
    ('[[groups]]\nid = "g"\nsafe_search = "on"\n', 3, "groups[0].safe_search",
     "off, moderate, strict"),
    ('[[groups]]\nid = "g"\nnetworks = ["10.0.0.300/8"]\n', 3, "groups[0].networks",
     "is not a network"),
    ('[[groups]]\nid = "g"\nmac = ["aa:bb"]\n', 3, "groups[0].mac", "unknown key"),
    ('[policy]\ndefault = "g"\n', 2, "policy.default", "unknown key"),
    ('lists = "a.txt"\n', 1, "lists", "must be an array of tables"),
])
def test_bad_values_name_line_and_key(text: str, line: int, key: str, says: str) -> None:
    message = error_of(text)
    assert message.startswith(f"{NAME}:{line}: {key}: "), message
    assert says in message
