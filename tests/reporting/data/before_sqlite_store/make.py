"""Writes the databases in this folder with the code of the release before
`reporting.sqlite_store` (main at ad7ff5b): run from a checkout of that commit,

    python tests/reporting/data/before_sqlite_store/make.py <this folder>

Each store gets a few rows; tests/reporting/test_sqlite_store.py opens every file with the
current code and checks the rows are all still there. Kept as written: the files are the
evidence of what that release left on disk.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from datetime import date
from pathlib import Path

from filterd import overrides, unblock_requests
from filterd.console.accounts import Accounts
from reporting import manual
from reporting.config import IncidentSettings
from reporting.events import record_event
from reporting.inbox.registry import School
from reporting.inbox.store import Store, User
from reporting.incidents import Incident, IncidentWriter, db_path
from reporting.outbox import Bundle, Outbox

T0 = 1_760_000_000.0


async def incidents(state: Path) -> None:
    writer = IncidentWriter(db_path(state), bytes(range(32)),
                            IncidentSettings(flush_interval=0.01))
    await writer.start()
    for i in range(3):
        writer.submit(Incident(T0 + i, f"10.0.0.{i}", "pupils", f"bad{i}.example", "adult",
                               "ut1-adult", "blocked", "dns", "listed"))
    await writer.stop()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(incidents(out))
    manual.add(db_path(out), manual.ManualIncident(
        date(2026, 10, 14), "stalking_threats", "instagram", "11_14", "female",
        ("alo116",), "resolved", "Kërcënime", "A.H."), now=T0)
    record_event(db_path(out), "start", "", at=T0)
    with Outbox(out / "outbox.sqlite") as box:
        box.enqueue(Bundle("BR-001", "2026-10", "ab" * 32, {"json": out / "r.json"}),
                    [("https", "https://inbox.example/api")], T0)
    with Store(out / "inbox.sqlite") as store:
        store.put_schools([School("BR-001", "Shkolla 1", "Berat", "Berat", "")], now=T0)
        store.issue_token("BR-001", now=T0)
        store.put_user(User("zyra.berat", "office", "Berat", "", "$argon2id$x"), now=T0)
        store.audit("zyra.berat", "login", "ok", "10.0.0.5", now=T0)
    with Accounts(out) as accounts:
        accounts.add("a.hoxha", "teacher", "një fjalëkalim i gjatë", T0)
        accounts.login("a.hoxha", "gabim gabim gabim", T0, "10.0.0.9")
    unblock_requests.add_request(out, group_id="pupils", host="wiki.example",
                                 category="adult", list_id="ut1-adult", now=T0)
    overrides.add(out, group_id="pupils", host="wiki.example", seconds=3600, by="a.hoxha",
                  reason="mësim", now=T0)
    for name in ("incidents.sqlite", "outbox.sqlite", "inbox.sqlite", "console.sqlite",
                 "overrides.sqlite"):
        db = sqlite3.connect(out / name)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode = DELETE")  # one self-contained file each
        db.close()
    for extra in out.iterdir():
        if extra.suffix != ".sqlite" and extra.suffix != ".py":
            extra.unlink()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
