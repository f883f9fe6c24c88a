"""groups_edit: a console form → only the keys that change; legal categories written in the
file stay although no checkbox shows them; a form that changes nothing says so."""

from __future__ import annotations

import tomllib

import pytest
from multidict import MultiDict, MultiDictProxy

from filterd.console.groups_edit import FormError, build
from policy.categories import CATEGORIES

TEXT = '''[[lists]]
id = "hotline"
path = "h.txt"
kind = "legal"
category = "csam"

[[profiles]]
id = "staf"
block = ["csam", "pornography"]  # csam shkruar me dorë / written by hand

[[schedules]]
groups = ["staf"]
categories = ["csam", "gambling"]
action = "block"
windows = ["08:00-14:00"]
'''


def form(**values: str | list[str]) -> MultiDictProxy[str]:
    pairs = [(k, x) for k, v in values.items() for x in ([v] if isinstance(v, str) else v)]
    return MultiDictProxy(MultiDict(pairs))


def test_a_legal_category_written_in_the_file_stays() -> None:
    edit = build(TEXT, "profili", "staf", form(block=["gambling", "pornography"]))
    assert tomllib.loads(edit.new)["profiles"][0]["block"] == ["gambling", "pornography", "csam"]
    assert "# csam shkruar me dorë" in edit.new
    edit = build(TEXT, "orari", "0", form(groups="staf", categories="gambling", action="block",
                                          windows="08:00-15:00", days=["mon", "tue", "wed",
                                                                       "thu", "fri"]))
    schedule = tomllib.loads(edit.new)["schedules"][0]
    assert sorted(schedule["categories"]) == ["csam", "gambling"]
    assert edit.new.count("\n") == TEXT.count("\n")  # one line changed, none added
    assert 'windows = ["08:00-15:00"]' in edit.new


def test_every_category_ticked_means_the_key_goes_and_no_change_is_said() -> None:
    edit = build(TEXT, "profili", "staf", form(block=list(CATEGORIES)))
    assert "block" not in tomllib.loads(edit.new)["profiles"][0]
    with pytest.raises(FormError, match="Asgjë nuk ndryshoi"):
        build(TEXT, "profili", "staf", form(block="pornography", safe_search="moderate"))
    with pytest.raises(FormError, match="Nuk ka \\[\\[profiles\\]\\]"):
        build(TEXT, "profili", "askush", form(block="pornography"))
