"""`roja inbox demo`: an inbox on loopback with generated schools, staff and one real report.

    setup = prepare(data_dir, now)                 # schools, users, token, demo school's data
    rows = send_report(setup, url, now)            # the appliance's delivery path, for real

`prepare` (re)creates `data_dir` (only a directory it made before, marked by `.roja-inbox-demo`,
or an empty one) with sixteen schools in nine qarqe under all four DRAP, office users for
DRAP Durrës, for ZVA Kavajë and (the older, qark-only kind) for qark Berat, and a ministry user,
with fresh random passwords, and an upload token for the demo school BR-001. It writes the demo
school's own incident database (blocks in several categories, circumvention attempts, manual
incidents with referrals, list syncs and filter self-tests) for last month. `send_report` then
builds that month's report with the appliance's report builder (`reporting.delivery.
ensure_bundle`) and uploads it through the outbox and `reporting.delivery_https` (what
`roja report send` does), so the dashboard shows BR-001 as submitted and the rest as missing.
"""

from __future__ import annotations

import random
import secrets
import shutil
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from reporting import delivery, manual
from reporting.delivery_config import HttpsSettings, ReportSettings
from reporting.inbox import auth
from reporting.inbox.dashboard import last_month
from reporting.inbox.registry import School
from reporting.inbox.store import DB_FILE, Store, User, sha256
from reporting.inbox.submissions import TIRANE
from reporting.incidents import db_path
from reporting.outbox import Delivery

MARKER = ".roja-inbox-demo"
SCHOOLS = (
    School("BR-001", 'Shkolla 9-vjeçare "Naim Frashëri"', "berat", "Berat",
           "naimfrasheri.berat@example.al"),
    School("BR-002", 'Gjimnazi "Muhamet Kyçyku"', "berat", "Berat", "kycyku@example.al"),
    School("BR-003", 'Shkolla "Ismail Qemali"', "berat", "Kuçovë", "iqemali.kucove@example.al"),
    School("VL-001", 'Gjimnazi "Halim Xhelo"', "vlore", "Vlorë", "halimxhelo@example.al"),
    School("VL-002", 'Shkolla "Lef Sallata"', "vlore", "Himarë", "lefsallata@example.al"),
    School("TR-001", 'Shkolla 9-vjeçare "Sami Frashëri"', "tirane", "Tiranë",
           "samifrasheri@example.al"),
    School("TR-002", 'Gjimnazi "Petro Nini Luarasi"', "tirane", "Tiranë", "pnl@example.al"),
    School("KO-001", 'Shkolla "Themistokli Gërmenji"', "korce", "Korçë",
           "germenji@example.al"),
    School("KO-002", 'Shkolla "Asdreni"', "korce", "Pogradec", ""),
    School("SH-001", 'Gjimnazi "28 Nëntori"', "shkoder", "Shkodër", "28nentori@example.al"),
    School("KV-001", 'Shkolla 9-vjeçare "Hasan Koçi"', "tirane", "Kavajë",
           "hasankoci@example.al"),
    School("KV-002", 'Gjimnazi "Kavaja"', "tirane", "Kavajë", "gjkavaja@example.al"),
    School("DR-001", 'Shkolla "Naim Frashëri"', "durres", "Durrës", "nf.durres@example.al"),
    School("FR-001", 'Gjimnazi "Janaq Kilica"', "fier", "Fier", "kilica@example.al"),
    School("EL-001", 'Shkolla "Jani Bakalli"', "elbasan", "Elbasan", "bakalli@example.al"),
    School("LE-001", 'Gjimnazi "Hydajet Lezha"', "lezhe", "Lezhë", "hlezha@example.al"),
)
DEMO_SCHOOL = SCHOOLS[0]
CATEGORIES = ("pornography", "gambling", "social_media", "violence", "drugs", "malware",
              "ads_trackers", "self_harm")
GROUPS = ("nxënësit", "mësuesit")


@dataclass(frozen=True)
class Setup:
    data_dir: Path
    school_dir: Path  # the demo school's appliance state (incidents, reports, outbox)
    period: str
    token: str
    passwords: dict[str, str]  # user name -> password


def _fresh(data_dir: Path) -> None:
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).is_file():
            raise FileExistsError(f"{data_dir}: dosja nuk është bosh dhe nuk është e demos / "
                                  "the folder is not empty and not a demo folder")
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("roja inbox demo\n", encoding="utf-8")


LATE_DAY = 28  # the demo inbox's `late_day`: the highest a config allows


def demo_period(now: float) -> str:
    """Last month, as a school sends it; after the 28th that report would be late, so the
    demo then shows this month's report instead (days 1-28 of it have already passed)."""
    today = datetime.fromtimestamp(now, TIRANE)
    return last_month(now) if today.day <= LATE_DAY else today.strftime("%Y-%m")


def prepare(data_dir: Path, now: float) -> Setup:
    _fresh(data_dir)
    period = demo_period(now)
    users = (User("zyra.berat", "office", "berat", "", ""),
             User("drap.durres", "office", "", "", "", drap="durres"),
             User("zva.kavaje", "office", "", "", "", zva="kavaje"),
             User("ministria", "ministry", "", "", ""))
    passwords = {u.name: secrets.token_urlsafe(9) for u in users}
    with Store(data_dir / DB_FILE) as store:
        store.put_schools(SCHOOLS, now)
        for u in users:
            store.put_user(replace(u, password_hash=auth.hash_password(passwords[u.name])), now)
        token = store.issue_token(DEMO_SCHOOL.code, now)
        store.audit("demo", "token_issue", DEMO_SCHOOL.code, "", now)
    school_dir = data_dir / f"shkolla-{DEMO_SCHOOL.code}"
    school_dir.mkdir()
    generate_incidents(db_path(school_dir), period, random.Random(2026))
    return Setup(data_dir, school_dir, period, token, passwords)


def _at(period: str, rng: random.Random) -> float:
    year, month = int(period[:4]), int(period[5:7])
    day = rng.randint(1, 28)
    return datetime(year, month, day, rng.randint(8, 15), rng.randint(0, 59),
                    tzinfo=TIRANE).timestamp()


def generate_incidents(path: Path, period: str, rng: random.Random) -> None:
    """A month of a school's filter: blocks, bypass attempts, manual incidents, events."""
    year, month = int(period[:4]), int(period[5:7])
    db = manual.connect(path)  # the appliance's schema (incidents, manual_incidents, events)
    db.execute("BEGIN")
    try:
        rows = []
        for i in range(180):
            category = CATEGORIES[min(int(rng.expovariate(0.6)), len(CATEGORIES) - 1)]
            at = _at(period, rng)
            client = sha256(f"demo-client-{i % 23}")[:16]  # stands in for an HMAC pseudonym
            source = "bypass" if i % 17 == 0 else "dns"
            rows.append((at, at, rng.randint(1, 6), client, GROUPS[i % 5 == 0],
                         f"site{i}.{category}.example", category, "ut1", "blocked", source,
                         f"listed: {category}"))
        db.executemany("INSERT INTO incidents (first_at, last_at, count, client, grp, name, "
                       "category, list_id, action, source, reason) VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        for day, kind, detail in ((1, "start", ""), (2, "sync_ok", "serial 41"),
                                  (7, "selftest_pass", ""), (14, "selftest_pass", ""),
                                  (15, "sync_ok", "serial 42"), (21, "selftest_fail", "dns"),
                                  (22, "sync_fail", "timeout"), (28, "selftest_pass", "")):
            db.execute("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)",
                       (datetime(year, month, day, 6, 0, tzinfo=TIRANE).timestamp(), kind,
                        detail))
        db.execute("COMMIT")
    finally:
        db.close()
    for day, category, platform, referrals, status in (
            (3, "stalking_threats", "instagram", ("alo116", "parents"), "ongoing"),
            (9, "account_theft", "facebook", ("platform",), "resolved"),
            (17, "dangerous_games", "tiktok", ("njmf", "parents"), "open")):
        manual.add(path, manual.ManualIncident(
            date(year, month, day), category, platform, "11_14", "female", referrals, status,
            "Rast demo", "mesuesi.tik"))


def send_report(setup: Setup, base_url: str, now: float) -> list[Delivery]:
    """Build the demo school's report and upload it through the appliance's outbox."""
    settings = ReportSettings(
        qark="Berat", municipality=DEMO_SCHOOL.municipality, ict_teacher="Arta Kola",
        https=HttpsSettings(f"{base_url}/api/reports", setup.token, timeout=30.0))
    when = datetime.fromtimestamp(now, TIRANE)
    bundle = delivery.ensure_bundle(setup.school_dir, setup.period, DEMO_SCHOOL, settings, when,
                                    allow_running=True)  # late in a month: this month's
    return delivery.send(setup.school_dir, bundle, settings, when)

