"""Test kit for the Code of Conduct report: a provider's year 2026 in a real incident store.

`year_store(state_dir)` writes, with the real schema (`report_db.make_db`) and the real writers
(`reporting.events.record_event`; the RPZ history through `filterd.rpz_export.RpzExport`'s
own `record_history`, driven by a real `Fleet` with the times given here):

- blocks: gambling 3 (February), pornography 5 (July), self-harm 2 (November); 100 gambling
  in December 2025 and 50 in January 2027 that the year must not count;
- three hotline serials: S0 (in force since 01.12.2025), S1 (15.03.2026 10:00: A after 60 s,
  B after 180 s), S2 (10.06.2026 08:00: A after 120 s; B down since, so no data);
- good syncs every six hours, except two outages: 02.04.2026 12:00 – 03.04.2026 06:00 (two
  failed syncs, 18 h) and 01.08 – 05.08.2026 (nothing recorded: stale from 02.08 18:00, 54 h);
- self-tests: one passed on the 10th of every month, one failed on 20.09.2026.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from report_db import PSEUDONYM, TIRANE, at, incident, make_db

from blocklists.rpz_config import RpzSettings
from blocklists.rpz_fleet import Probe
from filterd.rpz_export import RpzExport
from reporting.events import record_event

A, B = ("127.0.0.53", 53), ("127.0.0.54", 53)
S0, S1, S2 = 2025120101, 2026031501, 2026061001
NIPT = "L12345678A"
CLIENT = PSEUDONYM
CONFIG = """
[state]
dir = "{state}"
[feed]
url = "https://feed.example.al/roja/"
public_key = "{key}"
stale_hours = 48
[rpz]
listen = "127.0.0.1:0"
allow = ["127.0.0.1/32"]
secondaries = ["127.0.0.53:53", "127.0.0.54:53"]
check_interval = 60
[isp]
name = "Rrjeti Shëmbull sh.p.k."
nipt = "l12345678a"
contact = "abuse@rrjeti.example, +355 4 222 0000"
signatory = "Elira Hoxha"
signatory_role = "Administratore"
[[lists]]
id = "bixhoz"
path = "{lists}/bixhoz.txt"
format = "domains"
kind = "deny"
category = "gambling"
[[groups]]
id = "familje"
name = "Familjet / Families"
networks = ["100.64.0.0/16", "100.65.0.0/16", "2001:db8::/48"]
addresses = ["198.51.100.7"]
family = true
[[groups]]
id = "biznes"
networks = ["100.70.0.0/16", "100.71.0.0/16"]
"""


def write_config(tmp_path: Path, extra: str = "") -> Path:
    state, lists = tmp_path / "state", tmp_path / "lists"
    state.mkdir(exist_ok=True)
    lists.mkdir(exist_ok=True)
    (lists / "bixhoz.txt").write_text("bixhoz.example\n", encoding="utf-8")
    key = tmp_path / "hotline.pub"
    key.write_bytes(b"\x00" * 32)
    config = tmp_path / "roja.toml"
    config.write_text(CONFIG.format(state=state, key=key, lists=lists) + extra,
                      encoding="utf-8")
    return config


def _syncs(db: Path, until: datetime) -> None:
    """A good sync every six hours from 01.12.2025 and when each serial came, but for the two
    outages (one transaction: a year of them)."""
    moment = datetime(2025, 12, 1, 0, 0, tzinfo=TIRANE)
    fails = {datetime(2026, 4, 2, 12, tzinfo=TIRANE), datetime(2026, 4, 2, 18, tzinfo=TIRANE)}
    quiet = (datetime(2026, 4, 2, 12, tzinfo=TIRANE), datetime(2026, 4, 3, 6, tzinfo=TIRANE))
    down = (datetime(2026, 8, 1, tzinfo=TIRANE), datetime(2026, 8, 5, tzinfo=TIRANE))
    rows = [(at("15.03.2026 10:00"), "sync_ok", f"serial {S1}"),
            (at("10.06.2026 08:00"), "sync_ok", f"serial {S2}")]
    while moment < until:
        stamp = moment.timestamp()
        if moment in fails:
            rows.append((stamp, "sync_fail", "feed.example.al: timeout"))
        elif not (quiet[0] <= moment < quiet[1] or down[0] <= moment < down[1]):
            serial = S2 if stamp >= at("10.06.2026 08:00") else (
                S1 if stamp >= at("15.03.2026 10:00") else S0)
            rows.append((stamp, "sync_ok", f"serial {serial}"))
        moment += timedelta(hours=6)
    with sqlite3.connect(db) as con:
        con.executemany("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)", sorted(rows))


def _propagation(state_dir: Path) -> None:
    export = RpzExport(RpzSettings(secondaries=(A, B)), state_dir / "feed" / "current.json")
    fleet = export.fleet

    def round_at(when: str, *probes: Probe) -> None:
        for probe in probes:
            fleet.record(probe, at(when))
        export.record_history(state_dir, at(when))

    fleet.publish(S0, at("01.12.2025 00:00"))
    round_at("01.12.2025 00:01", Probe(A, True, S0, True), Probe(B, True, S0, True))
    fleet.publish(S1, at("15.03.2026 10:00"))
    round_at("15.03.2026 10:01", Probe(A, True, S1, True), Probe(B, True, S0, False))
    round_at("15.03.2026 10:03", Probe(A, True, S1, True), Probe(B, True, S1, True))
    fleet.publish(S2, at("10.06.2026 08:00"))
    round_at("10.06.2026 08:01", Probe(A, True, S2, False), Probe(B, False, None, False))
    round_at("10.06.2026 08:02", Probe(A, True, S2, True), Probe(B, False, None, False))


def year_store(state_dir: Path, until: datetime) -> Path:
    """The incident database of the module docstring, events up to `until`."""
    db = make_db(state_dir / "incidents.sqlite")
    incident(db, "20.12.2025 10:00", "gambling", count=100)
    incident(db, "10.02.2026 09:00", "gambling", count=3)
    incident(db, "14.07.2026 21:00", "pornography", count=5)
    incident(db, "03.11.2026 16:00", "self_harm", count=2)
    incident(db, "05.01.2027 10:00", "gambling", count=50)
    record_event(db, "start", "", at("01.12.2025 00:00"))
    _syncs(db, until)
    for month in range(1, 13):
        when = datetime(2026, month, 10, 9, tzinfo=TIRANE)
        if when < until:
            record_event(db, "selftest_pass", "12/12", when.timestamp())
    record_event(db, "selftest_fail", "11/12; hotline canary not blocked", at("20.09.2026 09:00"))
    _propagation(state_dir)
    return db
