"""`policy.categories`: the shared reference's ids and labels, and the other units agree."""

from __future__ import annotations

from blocklists.feed import TAXONOMY
from blocklists.formats.ut1 import ROJA_CATEGORIES
from blocklists.publish import ALBANIAN_LABELS
from policy.categories import ALIASES, CATEGORIES, HOTLINE, UKSIC, canonical_category, label
from reporting import manual
from reporting.report_labels import BLOCK_CATEGORIES


def test_the_nine_uksic_categories_and_the_extras() -> None:
    assert UKSIC == ("discrimination", "drugs", "extremism", "gambling", "malware",
                     "pornography", "piracy", "self_harm", "violence")
    assert {"social_media", "ads_trackers"} <= set(CATEGORIES)
    assert CATEGORIES["malware"].en == "Malware, hacking and filter bypass"


def test_the_other_units_use_the_same_ids() -> None:
    assert set(ROJA_CATEGORIES) <= set(CATEGORIES)
    # The signed feed's taxonomy is the hotline's minus cyberbullying, a manual-incident
    # category only: gateways of earlier releases refuse a feed entry whose id they do not know.
    assert tuple(TAXONOMY) == tuple(c for c in HOTLINE if c != "cyberbullying")
    assert {k: CATEGORIES[k].sq for k in ALBANIAN_LABELS} == ALBANIAN_LABELS
    assert {k: (CATEGORIES[k].sq, CATEGORIES[k].en) for k in HOTLINE} == manual.CATEGORIES
    assert BLOCK_CATEGORIES["adult"] == BLOCK_CATEGORIES["pornography"] == "Pornografi"
    assert BLOCK_CATEGORIES["circumvention"] == "Anashkalim i filtrit"
    assert all(BLOCK_CATEGORIES[k] == CATEGORIES[k].sq for k in UKSIC)


def test_aliases_and_labels() -> None:
    assert canonical_category("adult") == "pornography"
    assert canonical_category("filter_bypass") == "malware"
    assert canonical_category("kittens") == "kittens"
    assert set(ALIASES.values()) <= set(CATEGORIES)
    assert label("self_harm") == "Vetëdëmtim dhe vetëvrasje / Self-harm and suicide"
    assert label("sexting") == "Sexting" and label("") == "—"
