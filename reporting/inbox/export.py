"""The month's data for the ministry: CSV for Excel and the same data as JSON (the API).

    export.csv_bytes(view)    # UTF-8 with BOM, one row per school, then totals by category
    export.json_data(view)    # {"period": ..., "qarqe": [...], "schools": [...], ...}

CSV cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR, also
after leading spaces) get a leading `'` (reporting.report_csv.neutralise); every school-provided
text (name, municipality, e-mail, category ids) passes through it.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from reporting import offices
from reporting.inbox.dashboard import MonthView, SchoolMonth
from reporting.inbox.qarqe import qark_name
from reporting.inbox.submissions import TIRANE
from reporting.report_csv import neutralise

COLUMNS = ("periudha", "kodi", "shkolla", "qarku", "bashkia", "email", "gjendja", "dorëzuar_më",
           "rishikimi", "kërkesa_të_bllokuara", "përpjekje_anashkalimi", "incidente_manuale",
           "kontrolle_të_vlefshmërisë", "kontrolle_të_dështuara", "drap", "zva")
# drap and zva came last (2026-12) so that the earlier columns keep their places in sheets.


def safe(value: object) -> str:
    """The cell's text, neutralised against formula injection."""
    text = "" if value is None else str(value)
    stripped = text.lstrip(" ")
    return "'" + text if stripped != text and neutralise(stripped) != stripped else \
        neutralise(text)


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at, TIRANE).strftime("%d.%m.%Y %H:%M") if at else ""


def _row(view: MonthView, s: SchoolMonth) -> list[object]:
    reported = s.status != "missing"
    drap = offices.load().drap_of_qark(s.school.qark)
    zva = offices.load().zvas.get(s.school.zva)
    return [view.period, s.school.code, s.school.name, qark_name(s.school.qark),
            s.school.municipality, s.school.email, s.status_label, _when(s.received_at),
            s.revision or "", s.blocked if reported else "", s.circumvention if reported else "",
            s.manual if reported else "", s.selftest_runs if reported else "",
            s.selftest_fail if reported else "", drap.label if drap else "",
            zva.label if zva else ""]


def csv_bytes(view: MonthView) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for s in view.schools:
        writer.writerow([safe(v) for v in _row(view, s)])
    writer.writerow([])
    writer.writerow(["seksioni", "kodi", "emërtimi", "numri"])
    for section, counts in (("Aksesi i bllokuar sipas kategorisë", view.blocked),
                            ("Incidente sipas kategorisë", view.manual),
                            ("Referime", view.referrals), ("Statusi i rasteve", view.statuses)):
        for c in counts:
            writer.writerow([safe(section), safe(c.key), safe(c.label), c.count])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def json_data(view: MonthView) -> dict[str, Any]:
    def counts(items: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [{"key": c.key, "label": c.label, "count": c.count} for c in items]

    return {
        "period": view.period, "label": view.label, "deadline": view.deadline,
        "scope": {"drap": view.scope.drap, "qark": view.scope.qark,
                  "municipality": view.scope.municipality, "zva": view.scope.zva},
        "qarqe": [{"id": q.qid, "name": q.name, "schools": q.schools,
                   "submitted": q.submitted, "late": q.late, "missing": q.missing}
                  for q in view.qarqe],
        "offices": [{"drap": d.did, "name": d.name, "schools": d.schools,
                     "submitted": d.submitted, "late": d.late, "missing": d.missing,
                     "qarqe": [{"id": g.qark.qid, "zvas": [
                         {"id": z.zid, "name": z.name, "schools": z.schools,
                          "submitted": z.submitted, "late": z.late, "missing": z.missing}
                         for z in g.zvas]} for g in d.qarqe]}
                    for d in view.offices],
        "schools": [{"code": s.school.code, "name": s.school.name, "qark": s.school.qark,
                     "municipality": s.school.municipality, "zva": s.school.zva,
                     "email": s.school.email,
                     "status": s.status, "received_at": _when(s.received_at) or None,
                     "revision": s.revision or None,
                     **({"blocked": s.blocked, "circumvention": s.circumvention,
                         "manual": s.manual, "selftest_runs": s.selftest_runs,
                         "selftest_fail": s.selftest_fail, "no_validity_checks": s.no_checks}
                        if s.status != "missing" else {})}
                    for s in view.schools],
        "blocked_by_category": counts(view.blocked),
        "manual_by_category": counts(view.manual),
        "manual_by_referral": counts(view.referrals),
        "manual_by_status": counts(view.statuses),
        "circumvention_total": view.circumvention,
        "trend": [{"period": t.period, "submitted": t.submitted, "blocked": t.blocked,
                   "circumvention": t.circumvention, "manual": t.manual,
                   "selftest_failed_schools": t.selftest_failed} for t in view.trend],
    }
