"""The `[incidents]` part of `roja.toml`: how the incident writer batches and deduplicates.

Keys (all optional):

    [incidents]
    dedup_seconds = 60     # the same client asking for the same blocked name within this many
                           # seconds of the previous one is one incident with a counter
    queue_size = 10000     # incidents waiting for the writer; beyond this they are dropped
                           # (and counted in roja_incidents_dropped_total), never waited for
    batch_size = 500       # at most this many incidents per SQLite transaction
    flush_interval = 0.5   # seconds the writer waits for a batch to fill before writing it
    retention_days = 400   # incidents, manual incidents and events older than this are
                           # deleted once a day
    free_text_days = 30    # the description and teacher's name of a manual incident closed
                           # (resolved) this many days ago are blanked, in the same daily
                           # run, and the count recorded as a `free_text_purged` event
    recent_pairs = 16384   # (client, name) pairs kept in memory for deduplication, ~400
                           # bytes each; beyond this the writer asks the database (slower
                           # under a flood of distinct blocked names, e.g. ~10% at 200,000)
    repeat_flush_seconds = 60  # repeats of a row already written are counted in memory and
                           # written together this often (and at each month's end and at
                           # stop): one UPDATE per row, not one per blocked query. A kill -9
                           # or power cut loses at most this many seconds of repeat counts,
                           # never an incident; 0 writes them with the next batch
    repeat_pairs = 32768   # written rows whose repeats are counted in memory (~300 bytes
                           # each, measured ~20 MiB of RSS when full); beyond, a repeat is
                           # queued and written like a first block. An ISP resolver with
                           # memory to spare may raise it (131072: +8% queries per CPU-second
                           # on the benchmark's 100,000 blocked names, bench/RESULTS.md)
"""

from __future__ import annotations

from dataclasses import dataclass

import configkit


@dataclass(frozen=True)
class IncidentSettings:
    """How `reporting.incidents.IncidentWriter` queues, batches and deduplicates."""

    dedup_seconds: int = 60
    queue_size: int = 10000
    batch_size: int = 500
    flush_interval: float = 0.5
    retention_days: int = 400
    free_text_days: int = 30
    recent_pairs: int = 16384
    repeat_flush_seconds: float = 60.0
    repeat_pairs: int = 32768


def parse(section: configkit.Section) -> IncidentSettings:
    """Read an `[incidents]` table; unknown keys and out-of-range values raise ConfigError."""
    defaults = IncidentSettings()
    settings = IncidentSettings(
        dedup_seconds=section.int("dedup_seconds", defaults.dedup_seconds, min=0, max=86400),
        queue_size=section.int("queue_size", defaults.queue_size, min=1, max=10_000_000),
        batch_size=section.int("batch_size", defaults.batch_size, min=1, max=10_000),
        flush_interval=section.float("flush_interval", defaults.flush_interval, min=0.0,
                                     max=60.0),
        retention_days=section.int("retention_days", defaults.retention_days, min=1,
                                   max=36500),
        free_text_days=section.int("free_text_days", defaults.free_text_days, min=1,
                                   max=36500),
        recent_pairs=section.int("recent_pairs", defaults.recent_pairs, min=1,
                                 max=10_000_000),
        repeat_flush_seconds=section.float("repeat_flush_seconds",
                                           defaults.repeat_flush_seconds, min=0.0, max=3600.0),
        repeat_pairs=section.int("repeat_pairs", defaults.repeat_pairs, min=0,
                                 max=10_000_000),
    )
    section.done()
    return settings
