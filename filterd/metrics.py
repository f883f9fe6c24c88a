"""The appliance's own gauges, computed when `/metrics` is scraped (nothing on the DNS path).

- `roja_lists_entries{list}`: entries of each list in the active compile.
- `roja_lists_info{list,category,kind}`: always 1; joins `roja_dns_blocked_total{list}` to the
  list's category in a query (`* on(list) group_left(category) roja_lists_info`), so blocks by
  category need no second counter per answer.
- `roja_selftest_ok`: 1 when the last `roja selftest` passed, 0 when it failed or none ran;
  `roja_selftest_age_seconds`: since the last one (absent before the first). Read from the
  `selftest_pass`/`selftest_fail` events, as `roja status` does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from filterd.config import RojaConfig
from filterd.hotline import hotline_source
from reporting.events import last_event


def list_rules(cfg: RojaConfig) -> dict[str, tuple[str, str]]:
    """list id → (category, kind) for every configured list and the synced hotline list."""
    rules = {lc.rule.id: (lc.rule.category, str(lc.rule.kind)) for lc in cfg.policy.lists}
    hotline = hotline_source(cfg.feed, cfg.state_dir)
    if hotline is not None:
        rules[hotline[1].id] = (hotline[1].category, str(hotline[1].kind))
    return rules


class ListGauge(Collector):
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.rules: dict[str, tuple[str, str]] = {}  # list → (category, kind)

    def collect(self) -> Iterator[Metric]:
        g = GaugeMetricFamily("roja_lists_entries", "Entries per active list", labels=["list"])
        for list_id, n in sorted(self.counts.items()):
            g.add_metric([list_id], n)
        yield g
        info = GaugeMetricFamily("roja_lists_info", "Each list's category and kind (always 1)",
                                 labels=["list", "category", "kind"])
        for list_id, (category, kind) in sorted(self.rules.items()):
            info.add_metric([list_id, category, kind], 1)
        yield info


class SelftestGauge(Collector):
    def __init__(self, db: Path) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        last = last_event(self.db, ("selftest_pass", "selftest_fail"))
        yield GaugeMetricFamily("roja_selftest_ok", "1 when the last self-test passed",
                                value=int(last is not None and last["kind"] == "selftest_pass"))
        if last is not None:
            yield GaugeMetricFamily("roja_selftest_age_seconds", "Seconds since the last "
                                    "self-test", value=max(0.0, time.time() - last["at"]))
