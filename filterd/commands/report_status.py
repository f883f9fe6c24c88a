"""The text of `roja report status`: each period's revisions and where each went.

    Periudha / period  Rishikimi / revision  Kanali / channel  Marrësi / recipient ...
    2026-10            r2                    https             https://zyra.al/api dërguar ...
    2026-10            r1                    https             https://zyra.al/api dërguar ...

    Rishikimet / revisions:
    2026-10 r2, hartuar / built 03.11.2026 09:12: Incidente nga mësuesit / ...: 2 → 3
    2026-10 r1, hartuar / built 01.11.2026 00:05

One row per delivery (newest period and revision first) with its receipt: the inbox's receipt
number for HTTPS, the Message-ID for e-mail. The revisions come from the bundle store
(`reporting.bundles`); a delivery whose revision is no longer there shows `?`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from reporting import delivery
from reporting.bundles import BundleStore, Revision
from reporting.outbox import Delivery, Outbox
from reporting.report_data import TIRANE

STATUS_LABELS = {"queued": "në pritje / queued", "sending": "po dërgohet / sending",
                 "sent": "dërguar / sent", "failed_permanent": "dështoi / failed",
                 "superseded": "zëvendësuar / superseded"}
LEGACY = re.compile(r"-(\d{4}-\d{2})\.json$")
HEADER = ("Periudha / period", "Rishikimi / revision", "Kanali / channel",
          "Marrësi / recipient", "Gjendja / status", "Prova / attempts",
          "Dërguar / sent (Tiranë)", "Dëftesa ose gabimi / receipt or last error")


def when(timestamp: float | None) -> str:
    if timestamp is None:
        return "—"
    return datetime.fromtimestamp(timestamp, TIRANE).strftime("%d.%m.%Y %H:%M")


def receipt(row: Delivery) -> str:
    """The inbox's receipt number, or the e-mail's Message-ID, or the last error."""
    if row.status != "sent":
        return row.last_error[:80] or "—"
    try:
        return str(json.loads(row.receipt)["receipt"])
    except (ValueError, KeyError, TypeError):
        return row.receipt.rsplit(" ", 1)[-1][:80] or "—"


def _periods(store: BundleStore, rows: list[Delivery], month: str | None) -> list[str]:
    found = {r.period for r in rows}
    if store.root.is_dir():
        found |= {p.name for p in store.root.iterdir() if p.is_dir()}
        found |= {m[1] for p in store.root.glob("raport-*.json")  # built before revisions
                  if (m := LEGACY.search(p.name))}
    return sorted((p for p in found if month is None or p == month), reverse=True)


def collect(state_dir: Path, code: str, month: str | None
            ) -> tuple[list[Delivery], dict[str, list[Revision]]]:
    """Every delivery (of `month`, or all) and each period's revisions, oldest first, newest
    period first: what `roja report status` and the console's Raportet page show."""
    store = BundleStore(state_dir)
    path = delivery.outbox_path(state_dir)
    rows: list[Delivery] = []
    if path.is_file():
        with Outbox(path) as outbox:
            rows = outbox.deliveries(period=month)
    return rows, {period: store.revisions(code, period)
                  for period in _periods(store, rows, month)}


def lines(state_dir: Path, code: str, month: str | None) -> list[str]:
    """The status text, line by line."""
    rows, revisions = collect(state_dir, code, month)
    number = {r.bundle.key: r.number for rs in revisions.values() for r in rs}
    if not rows and not any(revisions.values()):
        return ["Asnjë raport i hartuar ose i dërguar ende. / No report has been built or "
                "sent yet." if month is None else
                "Asnjë raport për këtë periudhë. / No report for this period."]
    out: list[str] = []
    if rows:
        rows.sort(key=lambda r: (r.period, number.get(r.key, 0), r.channel, r.recipient),
                  reverse=True)
        table = [HEADER] + [
            (r.period, f"r{number[r.key]}" if r.key in number else "?", r.channel, r.recipient,
             STATUS_LABELS.get(r.status, r.status), str(r.attempts), when(r.sent_at),
             receipt(r)) for r in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
        out += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                for row in table]
    else:
        out.append("Asnjë dërgim ende. / Nothing sent yet.")
    out += ["", "Rishikimet / revisions:"]
    for period, found in revisions.items():
        for r in reversed(found):
            changed = f": {'; '.join(r.changes)}" if r.changes else ""
            out.append(f"{period} r{r.number}, hartuar / built {when(r.built_at)}{changed}")
    return out
