"""The incident store: every block becomes a row, written in batches, clients pseudonymous.

Servers (the DNS resolver, later the proxy) call `IncidentWriter.submit(Incident(...))`, which
never blocks or awaits: it appends to a bounded in-memory queue, or drops and counts when the
queue is full (decision 6). One writer task takes up to `batch_size` incidents, or whatever
arrived within `flush_interval`, and writes them in one SQLite transaction (WAL,
`synchronous=NORMAL`).

Nothing is given up while the process lives (issue 22): other programs write to the same file
(the daily purge, `roja incident add`, bypass-watch, events), so a transaction waits up to
`BUSY_TIMEOUT_MS` for the lock and, when that is not enough (or any other error), the batch goes
back to the head of the queue and is tried again after a backoff (0.05 s doubling to 5 s). Only
the queue's bound can drop: while the store is unwritable the queue fills, and what arrives
beyond `queue_size` is dropped and counted. Those drops are written to the store as an
`incidents_dropped` event (detail: how many) with the next batch that gets through, so the
monthly report's filter-status section shows them; `roja status` shows the running count.
`stop(patience)` keeps trying for `patience` seconds; what is still queued then is dropped.

Before anything is stored, the client address is replaced by its `reporting.pseudonym` HMAC;
the raw address never reaches the disk. With `key_for_year=yearly_keys(state_dir)` the key is
that of the incident's Europe/Tirane year, so pseudonyms cannot be linked across years (the
`key` argument is then unused).

Deduplication: an incident with the same (pseudonymous client, name) as a row whose `last_at` is
at most `dedup_seconds` older is not a new row; that row's `count` goes up and its `last_at`
moves on (so a pupil retrying every few seconds stays one incident), but never across the end
of a Europe/Tirane month: reports count a row in the month of its `first_at`, so a repeat after
midnight starts a row of the new month (a sent report stays true). Recent rows are remembered
in a bounded map; on a miss the writer looks in the database, so the window holds across a
restart and across several writer processes.

Modules: `schema` (migrations, row types, `connect` for synchronous writers such as
`reporting.manual`), `writer` (`IncidentWriter`: the bounded queue, batches, retry with
backoff; repeats folded at submit and held for written rows), `rows` (`RowStore`: which row a
batch entry goes into, recent rows, pseudonyms), `batch` (what a batch writes: queued entries,
new rows, the SQL and the lookup of repeated rows), `queries` (`IncidentStore`, the read-only
view for `roja incidents list|tail` and the console), `health` (its error log and metrics). Every
program opens the file through `reporting.sqlite_store`, the stores' one migration runner and
connection policy.

Config: `[incidents]` (see `reporting.config`). Metrics (if a registry is given):
`roja_incidents_written_total` (incidents stored, repeats included) and
`roja_incidents_dropped_total` (queue full, or still unwritten when the writer stopped).

Example:

    writer = IncidentWriter(db_path(state_dir), load_or_create_key(state_dir), settings)
    await writer.start()
    writer.submit(Incident(time.time(), "10.0.0.17", "pupils", "bad.example", "adult",
                           "ut1-adult", "blocked", "dns", "listed in ut1-adult"))
    await writer.stop()
"""

from reporting.incidents.queries import IncidentStore
from reporting.incidents.schema import (
    BUSY_TIMEOUT_MS,
    DB_FILENAME,
    DROPPED_EVENT,
    MIGRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    Incident,
    IncidentRow,
    IncidentSink,
    IncidentStoreError,
    NoIncidentStoreError,
    connect,
    db_path,
)
from reporting.incidents.writer import IncidentWriter

__all__ = ["BUSY_TIMEOUT_MS", "DB_FILENAME", "DROPPED_EVENT", "MIGRATIONS", "SCHEMA",
           "SCHEMA_VERSION", "Incident", "IncidentRow", "IncidentSink", "IncidentStore",
           "IncidentStoreError", "IncidentWriter", "NoIncidentStoreError", "connect", "db_path"]
