"""The hotline feed inside the appliance: its lists, its hashed set, its sync loop, its metrics.

After a sync, `state_dir/feed/current.json` holds the confirmed entries. The non-confidential
ones become the `hotline` list (kind `legal`: nothing can open it), read with the `feed`
format; the confidential ones (SHA-256 only) become `state_dir/confidential.hashed`, which the
policy checks by hashing the queried name's suffixes. The sync loop runs every `interval`
seconds plus jitter; a new serial triggers a reload; a failed sync keeps the last-known-good
list. A serial refused because entries vanish without signed removals is an alarm: the event
`list_held_back` (the monthly report counts it), `roja_list_refused 1` and a red `roja status`
until a good serial arrives. Metrics: `roja_list_serial`, `roja_list_age_seconds`,
`roja_list_stale`, `roja_list_refused`, `roja_feed_sync_failures_total`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from blocklists.confidential import ConfidentialSet
from blocklists.feed import FeedError, ShrinkRefused, parse_utc
from blocklists.feed_config import FeedSettings
from blocklists.formats.feed import confidential_digests
from blocklists.store import ListSource
from blocklists.sync import CURRENT_NAME, SyncResult, feed_dir, status, sync
from policy import ListRule
from reporting.events import record_event

log = logging.getLogger("roja.feed")
LIST_ID = "hotline"
HASHED_NAME = "confidential.hashed"


def current_file(state_dir: Path) -> Path:
    return feed_dir(state_dir) / CURRENT_NAME


def hotline_source(settings: FeedSettings, state_dir: Path) -> tuple[ListSource, ListRule] | None:
    """The synced feed as a legal list, once a first sync has happened."""
    current = current_file(state_dir)
    if not settings.enabled or not current.is_file():
        return None
    return (ListSource(LIST_ID, current, "feed", "other", max_shrink=1.0),
            ListRule(LIST_ID, "legal", "other"))


def confidential_set(settings: FeedSettings, state_dir: Path) -> ConfidentialSet | None:
    """The hashed set of the synced feed, rebuilt only when the feed file changed."""
    current = current_file(state_dir)
    if not settings.enabled or not current.is_file():
        return None
    fingerprint = hashlib.sha256(current.read_bytes()).hexdigest()
    path = state_dir / HASHED_NAME
    existing: ConfidentialSet | None = None
    if path.is_file():
        try:
            existing = ConfidentialSet.open(path)
            if existing.meta.get("source") == fingerprint:
                return existing
        except ValueError:
            log.warning("%s is damaged; rebuilding it", path)
    try:
        digests = confidential_digests(current)
    except ValueError as exc:  # never drop the CSAM hashes for a damaged file: keep the last set
        log.error("lista e linjës është e dëmtuar, mbeten hash-et e fundit / the hotline list "
                  "is damaged, the last hashed set stays: %s", exc)
        return existing
    if existing is not None:
        existing.close()
    built = ConfidentialSet(((d, LIST_ID, cat) for d, cat in digests),
                            meta={"source": fingerprint})
    built.write(path)
    return ConfidentialSet.open(path)


class FeedMetrics(Collector):
    """The hotline feed's metrics; the serial and its age are those DNS enforces (from
    `enforced`, the daemon's record), not those of the file a sync wrote a moment ago."""

    def __init__(self, settings: FeedSettings, state_dir: Path,
                 enforced: Callable[[], dict[str, Any] | None] = lambda: None) -> None:
        self.settings = settings
        self.state_dir = state_dir
        self.enforced = enforced
        self.failures = 0

    def collect(self) -> Iterator[Metric]:
        if not self.settings.enabled:
            return
        info = status(self.state_dir)
        record = self.enforced()
        serial = record.get("serial") if record else None
        yield GaugeMetricFamily("roja_list_serial", "Serial of the hotline feed DNS enforces",
                                value=serial or 0)
        yield GaugeMetricFamily("roja_list_synced_serial", "Serial of the synced hotline feed "
                                "(enforced within seconds)", value=info.get("serial") or 0)
        if serial is not None and record is not None:
            created = parse_utc(record["created"], "created")
            age = max(0, int((datetime.now(UTC) - created).total_seconds()))
            yield GaugeMetricFamily("roja_list_age_seconds",
                                    "Age of the active hotline feed (since it was created)",
                                    value=age)
            expired = parse_utc(record["expires"], "expires") <= datetime.now(UTC)
            yield GaugeMetricFamily("roja_list_stale", "1 when the hotline feed is too old",
                                    value=int(age > self.settings.stale_hours * 3600
                                              or expired))
        yield GaugeMetricFamily("roja_list_refused", "1 while the newest hotline serial is "
                                "refused for removals it did not sign",
                                value=int(info.get("refused") is not None))
        yield CounterMetricFamily("roja_feed_sync_failures", "Failed hotline feed syncs",
                                  value=self.failures)


async def sync_loop(settings: FeedSettings, state_dir: Path, metrics: FeedMetrics,
                    on_change: Callable[[], Awaitable[bool]],
                    rng: random.Random | None = None) -> None:
    """Sync now, then every `interval` (+ jitter) seconds, until cancelled."""
    rng = rng or random.Random()
    while True:
        await sync_once(settings, state_dir, metrics, on_change)
        await asyncio.sleep(settings.interval + rng.uniform(0, settings.jitter))


async def sync_once(settings: FeedSettings, state_dir: Path, metrics: FeedMetrics,
                    on_change: Callable[[], Awaitable[bool]]) -> bool:
    try:
        key = settings.public_key.read_bytes()
        result = await asyncio.to_thread(sync, state_dir, settings.url, key, settings.feed_id,
                                         timedelta(days=settings.max_age_days))
    except (FeedError, OSError) as exc:
        metrics.failures += 1
        await asyncio.to_thread(record_sync_failure, state_dir, exc)
        log.warning("sinkronizimi i listës dështoi, mbetet lista e fundit e mirë / "
                    "hotline feed sync failed, the last good list stays active: %s", exc)
        _warn_if_stale(settings, state_dir)
        return False
    if result.first_use:
        await asyncio.to_thread(record_event, state_dir / "incidents.sqlite",
                                "list_trust_first_use", f"serial {result.serial}")
    if result.changed:
        log.info("hotline feed serial %s → %s", result.previous_serial, result.serial)
        if not await on_change():  # applied: the new enforced serial is the `sync_ok` event
            await asyncio.to_thread(
                record_event, state_dir / "incidents.sqlite", "sync_fail",
                f"serial {result.serial} synced but not enforced: the reload failed")
    else:
        await asyncio.to_thread(record_sync_ok, state_dir, result)
    _warn_if_stale(settings, state_dir)
    return result.changed


def record_sync_ok(state_dir: Path, result: SyncResult) -> None:
    """The event of a good sync that found nothing new: `sync_ok` ("serial N"). A new serial's
    `sync_ok` is written when it is enforced (`filterd.list_apply`)."""
    record_event(state_dir / "incidents.sqlite", "sync_ok", f"serial {result.serial}")


def record_sync_failure(state_dir: Path, exc: Exception) -> None:
    """The events of a failed sync (the daemon's or `roja lists sync`): `sync_fail`, and
    `list_held_back` when the serial was refused for removals it did not sign."""
    db = state_dir / "incidents.sqlite"
    record_event(db, "sync_fail", str(exc)[:300])
    if isinstance(exc, ShrinkRefused):
        record_event(db, "list_held_back", f"{LIST_ID}: {str(exc)[:300]}")


def _warn_if_stale(settings: FeedSettings, state_dir: Path) -> None:
    info = status(state_dir)
    if info.get("serial") is None:
        log.warning("asnjë listë nga linja ende / no hotline list synced yet")
    elif info["age_seconds"] > settings.stale_hours * 3600 or info["expired"]:
        log.warning("lista e linjës është e vjetër (%d orë) / the hotline list is stale "
                    "(%d hours old)", info["age_seconds"] // 3600, info["age_seconds"] // 3600)
