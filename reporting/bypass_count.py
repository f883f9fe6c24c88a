"""How many filter bypass attempts: the one definition behind `roja status`, the monthly report
(its headline, per week or month, the annual trend) and so the education office's inbox.

An incident row is a bypass attempt when its category is `filter_bypass` (a DNS-over-HTTPS name
the proxy or the resolver refused, a name of a school's own bypass list, what the bypass watch
saw) or the older id `circumvention` (as category or action), or when the bypass watch wrote
it (source `bypass`). Attempts are the rows' counts (repeats folded into a row included);
devices are distinct pseudonymous clients. A row belongs to the period of its `first_at`.

    with sqlite3.connect(db) as conn:
        bypass_count(conn, start, end)   # BypassCount(attempts=4, devices=2)

Before this module the report counted only the bypass watch's rows while `roja status` counted
the `filter_bypass` category, so the two disagreed about a refused DoH name (issue 16).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BYPASS_CATEGORIES = ("filter_bypass", "circumvention")
IS_BYPASS = ("(category IN ('filter_bypass', 'circumvention') OR source = 'bypass' "
             "OR action = 'circumvention')")
IN_PERIOD = "first_at >= ? AND first_at < ?"


@dataclass(frozen=True)
class BypassCount:
    attempts: int  # the rows' counts, summed
    devices: int  # distinct pseudonymous clients behind them


def bypass_count(conn: sqlite3.Connection, start: float, end: float) -> BypassCount:
    """The bypass attempts first seen in [start, end) (unix times) in the `incidents` table."""
    row = conn.execute(f"SELECT COALESCE(SUM(count), 0), COUNT(DISTINCT client) FROM incidents "
                       f"WHERE {IN_PERIOD} AND {IS_BYPASS}", (start, end)).fetchone()
    return BypassCount(int(row[0]), int(row[1]))


def reported_attempts(blocked: Mapping[str, Any]) -> int:
    """The bypass attempts of a report's (roja.report/1 or /2) `blocked` section: its headline
    (`circumvention_total`, made by `bypass_count`), but never fewer than its own
    `filter_bypass` and `circumvention` rows, which reports of gateways from before this
    module left out of the headline."""
    rows = sum(int(c["count"]) for c in blocked.get("by_category", ())
               if c.get("key") in BYPASS_CATEGORIES)
    return max(int(blocked["circumvention_total"]), rows)
