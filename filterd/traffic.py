"""Per-hour DNS counts for the console's 24-hour chart: `<state_dir>/traffic.json`.

The DNS counters live in memory (`dns_resolver.metrics.DnsStats`, summed over the workers by
`filterd.workers.CombinedStats`) and restart at zero with the service, so nothing could say
how many queries came at 10:00 yesterday. The main process samples the summed counters once
a minute and adds what grew since the last sample to the current hour:

    traffic = HourlyTraffic(state_dir, combined.results)   # the summed counters, by result
    asyncio.create_task(traffic.run())                       # a sample every minute
    traffic.sample_now()                                     # and one at stop
    hours(state_dir, now, 24)                                      # what the console draws

Only counts per hour (all queries, blocked ones), never names or clients. A counter that went
down (a worker restarted) restarts the baseline and adds nothing, so a restart never counts
twice; what a crash loses is at most the last minute. The file keeps 48 hours and is replaced
atomically, so a reader never sees half of it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("roja.traffic")
FILE = "traffic.json"
SAMPLE_SECONDS = 60.0
KEEP_HOURS = 48
HOUR = 3600
BLOCKED_RESULTS = frozenset({"blocked"})


@dataclass(frozen=True)
class Hour:
    start: int  # Unix time of the hour's start (Tirana is a whole number of hours from UTC)
    queries: int
    blocked: int


def _read(path: Path) -> dict[int, tuple[int, int]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[int, tuple[int, int]] = {}
    if isinstance(data, dict) and isinstance(data.get("hours"), list):
        for item in data["hours"]:
            try:
                out[int(item["start"])] = (int(item["queries"]), int(item["blocked"]))
            except (KeyError, TypeError, ValueError):
                continue
    return out


class HourlyTraffic:
    """The main process's sampler; one per running appliance."""

    def __init__(self, state_dir: Path,
                 counters: Callable[[], Mapping[str, int]] = dict) -> None:
        self.path = state_dir / FILE
        self.counters = counters
        self.hours = _read(self.path)
        self.last: tuple[int, int] = (0, 0)  # the counters start at zero with the service

    async def run(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_SECONDS)
            await asyncio.to_thread(self.sample_now)

    def sample_now(self) -> None:
        """Never raises: the chart must not stop the filter."""
        try:
            self.sample(self.counters(), time.time())
        except OSError as err:
            log.warning("could not write %s: %s", self.path, err)

    def sample(self, results: Mapping[str, int], moment: float) -> None:
        total = sum(results.values())
        blocked = sum(n for kind, n in results.items() if kind in BLOCKED_RESULTS)
        grew = (total - self.last[0], blocked - self.last[1])
        self.last = (total, blocked)
        if grew[0] < 0 or grew[1] < 0:  # a worker restarted: new baseline, nothing added
            return
        if grew == (0, 0) and self.path.exists():
            return
        start = int(moment) // HOUR * HOUR
        queries, blocks = self.hours.get(start, (0, 0))
        self.hours[start] = (queries + grew[0], blocks + grew[1])
        for old in [h for h in self.hours if h <= start - KEEP_HOURS * HOUR]:
            del self.hours[old]
        self._save()

    def _save(self) -> None:
        data = {"hours": [{"start": h, "queries": q, "blocked": b}
                          for h, (q, b) in sorted(self.hours.items())]}
        fd, tmp = tempfile.mkstemp(prefix=".traffic.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            raise


def hours(state_dir: Path, moment: float, count: int = 24) -> list[Hour]:
    """The last `count` hours up to and including the current one, oldest first; an hour
    without a sample is 0 (the service was stopped or nothing asked)."""
    stored = _read(state_dir / FILE)
    current = int(moment) // HOUR * HOUR
    starts = [current - (count - 1 - i) * HOUR for i in range(count)]
    return [Hour(s, *stored.get(s, (0, 0))) for s in starts]


def recorded(state_dir: Path) -> bool:
    """Has the running filter written any hour yet (an older appliance never did)?"""
    return (state_dir / FILE).is_file()
