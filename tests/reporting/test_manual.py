"""Tests for reporting.manual: vocabularies, PII masking and the manual-incident table."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from reporting import manual
from reporting.incidents import db_path
from reporting.manual import HIDDEN, ManualIncident, ManualIncidentError, mask_pii

T0 = 1_760_000_000.0


def incident(**changes: object) -> ManualIncident:
    fields: dict[str, object] = dict(
        occurred_on=date(2026, 10, 14), category="stalking_threats", platform="instagram",
        age_band="11_14", gender="female", referrals=("parents", "alo116"), status="open",
        description="Kërcënime në mesazhe private", recorded_by="A.H.")
    fields.update(changes)
    return ManualIncident(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "kinds"), [
    ("Më shkroi nga 069 123 4567.", ("phone",)),
    ("numri 0681234567", ("phone",)),
    ("+355 69 123 4567 ose 00355 68 765 4321", ("phone", "phone")),
    ("tel. fiks 04-222-3333", ("phone",)),
    ("shkruaj te ana.b12@gmail.com", ("email",)),
    ("nr. personal J01234567A", ("personal_number",)),
    ("viti shkollor 2025-2026, më 2026-10-14 dhe 14 10 2026, klasa 9", ()),
    ("Dhunë në klasë, pa numra", ()),
])
def test_mask_pii_hides_phones_emails_and_personal_numbers(
        text: str, kinds: tuple[str, ...]) -> None:
    masked, findings = mask_pii(text)
    assert findings == kinds
    assert masked.count(HIDDEN) == len(kinds)
    assert not kinds or not re.search(r"\d", masked)
    assert mask_pii(masked) == (masked, ())  # masking twice changes nothing


def test_findings_never_hold_the_value() -> None:
    masked, findings = mask_pii("J01234567A 069 123 4567 a@b.al")
    assert "J01234567A" not in masked and "4567" not in masked and "a@b.al" not in masked
    assert sorted(findings) == ["email", "personal_number", "phone"]


def test_vocabularies_use_the_reference_ids() -> None:
    assert list(manual.CATEGORIES) == [
        "hate_speech", "account_theft", "csam", "nudity", "sexual_harassment",
        "violence_denigration", "stalking_threats", "dangerous_games", "grooming", "sexting",
        "cyberbullying", "other"]
    assert manual.CATEGORIES["cyberbullying"] == ("Bullizëm online", "Cyberbullying")
    assert list(manual.REFERRALS) == ["alo116", "isigurt", "ashdmf", "njmf", "police_cyber",
                                      "platform", "parents"]
    assert manual.STATUSES["ongoing"] == ("Në proces", "Ongoing")
    assert manual.AGE_BANDS["under_11"] == ("nën 11 vjeç", "under 11")
    assert manual.GENDERS["female"] == ("vajzë", "girl")


@pytest.mark.parametrize(("field", "text", "value"), [
    ("category", "PERNDJEKJE/kercenim/shantazh", "stalking_threats"),
    ("category", "Dhunë / denigrim imazhi", "violence_denigration"),
    ("category", "hate speech", "hate_speech"),
    ("category", "cyberbullying", "cyberbullying"),
    ("category", "Bullizëm online", "cyberbullying"),
    ("category", "bulizëm", "cyberbullying"),  # the action plan's spelling (activity 2.3)
    ("category", "bullizem", "cyberbullying"),
    ("category", "online bullying", "cyberbullying"),
    ("age_band", "11-14", "11_14"),
    ("age_band", "nen 11 vjec", "under_11"),
    ("gender", "Vajze", "female"),
    ("referrals", "ALO 116 111", "alo116"),
    ("referrals", "isigurt.al", "isigurt"),
    ("status", "ne proces", "ongoing"),
    ("platform", "tiktok", "tiktok"),
])
def test_parse_choice_takes_ids_and_labels(field: str, text: str, value: str) -> None:
    assert manual.parse_choice(field, text) == value


def test_an_unknown_choice_lists_what_is_accepted() -> None:
    with pytest.raises(ManualIncidentError, match=r"Statusi / Status: 'closed' nuk njihet / "
                       r"is not known; pranohen / accepted: open \(E hapur\), ongoing"):
        manual.parse_choice("status", "closed")


def test_add_get_update_list_round_trip(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    first = manual.add(path, incident(description="Thirri 069 123 4567"), now=T0)
    second = manual.add(path, incident(occurred_on=date(2026, 9, 30), category="Sexting",
                                       status="E zgjidhur", referrals=()), now=T0)
    stored = manual.get(path, first)
    assert stored is not None
    assert stored.description == f"Thirri {HIDDEN}"
    assert stored.referrals == ("alo116", "parents")  # reference order
    assert (stored.created_at, stored.updated_at) == (T0, T0)
    changed = manual.update(path, first, now=T0 + 60, status="resolved",
                            referrals=("police_cyber", "alo116"))
    assert (changed.status, changed.referrals) == ("resolved", ("alo116", "police_cyber"))
    assert manual.get(path, first) == changed and changed.updated_at == T0 + 60
    assert [i.id for i in manual.list_(path)] == [second, first]  # by date
    assert [i.id for i in manual.list_(path, since=date(2026, 10, 1))] == [first]
    assert [i.id for i in manual.list_(path, until=date(2026, 9, 30))] == [second]
    assert manual.list_(path, status="open") == []
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT referrals FROM manual_incidents WHERE id = ?",
                          (first,)).fetchone() == ("alo116,police_cyber",)
    db.close()


def test_update_refuses_unknown_ids_fields_and_values(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    new = manual.add(path, incident())
    with pytest.raises(manual.NoSuchIncidentError, match=r"nr\. 99"):
        manual.update(path, 99, status="resolved")
    with pytest.raises(ManualIncidentError, match="unknown fields: name"):
        manual.update(path, new, name="Ana")
    with pytest.raises(ManualIncidentError, match="accepted"):
        manual.update(path, new, platform="myspace")
    assert manual.get(path, new) == manual.list_(path)[0]


def test_list_of_a_missing_database_is_empty_and_creates_nothing(tmp_path: Path) -> None:
    assert manual.list_(db_path(tmp_path)) == []
    assert manual.get(db_path(tmp_path), 1) is None
    assert list(tmp_path.iterdir()) == []


# The categories of the release before cyberbullying, as its stores hold them.
BEFORE_CYBERBULLYING = ("hate_speech", "account_theft", "csam", "nudity", "sexual_harassment",
                        "violence_denigration", "stalking_threats", "dangerous_games",
                        "grooming", "sexting", "other")


def test_a_store_from_before_cyberbullying_loses_nothing(tmp_path: Path) -> None:
    """No migration is needed (a category is stored as its id, and no id changed): a store
    written before reads back whole, reports the same counts and takes updates."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from reporting.report_data import collect

    path = db_path(tmp_path)
    manual.connect(path).close()  # schema v2, as the earlier release left it
    with sqlite3.connect(path) as db:
        for i, category in enumerate(BEFORE_CYBERBULLYING, start=1):
            db.execute("INSERT INTO manual_incidents (created_at, updated_at, occurred_on, "
                       "category, platform, age_band, gender, referrals, status, description, "
                       "recorded_by) VALUES (?, ?, ?, ?, 'tiktok', '11_14', 'male', "
                       "'alo116', 'open', ?, 'A.H.')",
                       (T0, T0, f"2026-10-{i:02d}", category, f"rasti {i}"))
        before = db.execute("SELECT * FROM manual_incidents ORDER BY id").fetchall()
    stored = manual.list_(path)  # opens (and would migrate) the store with this release
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT * FROM manual_incidents ORDER BY id").fetchall() == before
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
    assert [(s.category, s.description) for s in stored] == [
        (c, f"rasti {i}") for i, c in enumerate(BEFORE_CYBERBULLYING, start=1)]
    data = collect(path, "2026-10", _School(), "", "", "",
                   datetime(2026, 11, 2, tzinfo=ZoneInfo("Europe/Tirane")))
    counts = {c.key: c.count for c in data.manual.by_category}
    assert counts == {**dict.fromkeys(BEFORE_CYBERBULLYING, 1), "cyberbullying": 0}
    changed = manual.update(path, 11, category="Bullizëm online", now=T0 + 1)  # reclassified
    assert (changed.category, changed.description) == ("cyberbullying", "rasti 11")


class _School:
    name = "Shkolla"
    code = "K1"
