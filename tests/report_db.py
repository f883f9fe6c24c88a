"""Test kit for the reports: a real incident database with the real schema and sample rows.

The schema comes from `reporting.incidents.MIGRATIONS`; the v2 tables (`manual_incidents`,
`events`) are created here only when those migrations do not make them yet.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from reporting.incidents import MIGRATIONS

TIRANE = ZoneInfo("Europe/Tirane")
SECRET_NAME = "secret-csam-hash.example"
PUBLIC_NAME = "porn-site.example"
PSEUDONYM = "pseudoCLIENTx9"
DESCRIPTION = "Nxënësi Arbër Hoxha u kërcënua"
RECORDER = "mesuesi.drita"

_V2 = (
    """CREATE TABLE IF NOT EXISTS manual_incidents (
        id INTEGER PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL,
        occurred_on TEXT NOT NULL, category TEXT NOT NULL, platform TEXT NOT NULL,
        age_band TEXT NOT NULL, gender TEXT NOT NULL, referrals TEXT NOT NULL,
        status TEXT NOT NULL, description TEXT NOT NULL, recorded_by TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, at REAL NOT NULL, "
    "kind TEXT NOT NULL, detail TEXT NOT NULL)",
)


def at(text: str) -> float:
    """`DD.MM.YYYY HH:MM` in Tirane time → unix time."""
    return datetime.strptime(text, "%d.%m.%Y %H:%M").replace(tzinfo=TIRANE).timestamp()


def make_db(path: Path) -> Path:
    db = sqlite3.connect(path)
    with db:
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        for statements in MIGRATIONS:
            for statement in statements:
                db.execute(statement)
        for statement in _V2:
            db.execute(statement)
        db.execute("INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS),))
    db.close()
    return path


def incident(path: Path, when: str, category: str, *, count: int = 1, grp: str = "nxënësit",
             name: str = PUBLIC_NAME, source: str = "dns", action: str = "blocked") -> None:
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO incidents (first_at, last_at, count, client, grp, name, "
                   "category, list_id, action, source, reason) VALUES "
                   "(?, ?, ?, ?, ?, ?, ?, 'ut1', ?, ?, ?)",
                   (at(when), at(when), count, PSEUDONYM, grp, name, category, action, source,
                    f"listed: {name}"))


def manual(path: Path, day: str, category: str, *, platform: str = "instagram",
           age: str = "11_14", gender: str = "female", referrals: str = "alo116,parents",
           status: str = "open") -> None:
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO manual_incidents (created_at, updated_at, occurred_on, "
                   "category, platform, age_band, gender, referrals, status, description, "
                   "recorded_by) VALUES (0, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (day, category, platform, age, gender, referrals, status, DESCRIPTION,
                    RECORDER))


def event(path: Path, when: str, kind: str, detail: str = "") -> None:
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
                   (at(when), kind, detail))


def sample(path: Path) -> Path:
    """October 2026 (DST ends on 25.10) with a little of everything, plus rows just outside."""
    make_db(path)
    incident(path, "30.09.2026 23:59", "gambling", count=100)  # before the month
    incident(path, "01.10.2026 00:00", "pornography", count=3)
    incident(path, "01.10.2026 00:30", "pornography", count=2, name=SECRET_NAME)
    incident(path, "07.10.2026 10:00", "gambling", grp="mësuesit")
    incident(path, "14.10.2026 09:00", "malware", source="bypass", count=4)
    incident(path, "25.10.2026 02:30", "circumvention", action="circumvention")
    incident(path, "31.10.2026 23:59", "=cmd|' /C calc'!A0")  # a hostile category id
    incident(path, "01.11.2026 00:00", "gambling", count=50)  # after the month
    manual(path, "2026-10-03", "stalking_threats")
    manual(path, "2026-10-20", "dangerous_games", platform="tiktok", age="under_11", gender="male",
           referrals="njmf", status="resolved")
    manual(path, "2026-11-01", "sexting")
    event(path, "28.09.2026 08:00", "start")
    event(path, "28.09.2026 09:00", "sync_ok", "serial 11")
    event(path, "02.10.2026 03:00", "sync_ok", "serial 12")
    event(path, "05.10.2026 03:00", "sync_fail", "timeout")
    event(path, "10.10.2026 08:00", "selftest_pass")
    event(path, "11.10.2026 08:00", "selftest_fail")
    event(path, "16.10.2026 00:00", "stop")
    event(path, "17.10.2026 00:00", "start")
    event(path, "20.10.2026 03:00", "sync_ok", "serial 13")
    event(path, "21.10.2026 03:00", "list_held_back", "ut1 shrank 60%")
    return path
