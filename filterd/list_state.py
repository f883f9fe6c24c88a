"""The lists' state and the manual sync, shared by `roja lists status|sync` and the console's
Listat page (`filterd.console.lists`), so both show and do the same thing.

    info = lists_status(state_dir)     # `roja lists status --json`
    result = sync_now(state_dir, url, public_key_path, feed_id, max_age)   # raises RojaError

`lists_status` is the synced hotline feed (`blocklists.sync.status`: serial, created, expiry,
a refused serial and why), what the running filter enforces (`enforced.json`, written by the
daemon: `filterd.list_apply`; the enforced serial, its age, the lists held back and why, the
entries per list), what each list gave at the last compile (`blocklists.summary`: domains,
URL entries, addresses, bad lines, skipped rules by kind) and the last sync's result (the
newest `sync_ok`/`sync_fail` event).

`sync_now` is the manual sync: it fetches and verifies the feed and replaces
`state_dir/feed/current.json`; the running daemon notices the new file within
`filterd.list_apply.WATCH_INTERVAL` and enforces it (the path that made a manual sync count).
A failure records the `sync_fail` (and, for a refused serial, `list_held_back`) event and
raises `RojaError` (Albanian, then English) saying that the previous list stays active.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from blocklists.feed import FeedError
from blocklists.store import ACTIVE_NAME
from blocklists.summary import read_summaries
from blocklists.sync import Progress, SyncResult, status, sync
from filterd.errors import RojaError, describe
from filterd.hotline import record_sync_failure
from filterd.list_apply import read_enforced
from reporting.events import last_event, record_event

STAYS = "Lista e mëparshme mbetet aktive / the previous list stays active."


def lists_status(state_dir: Path) -> dict[str, Any]:
    """What `roja lists status --json` prints (see the module docstring)."""
    info = status(state_dir)
    info["enforced"] = read_enforced(state_dir)
    info["lists"] = read_summaries(state_dir / ACTIVE_NAME)
    info["last_sync"] = last_event(state_dir / "incidents.sqlite", ("sync_ok", "sync_fail"))
    return info


def sync_now(state_dir: Path, url: str, public_key: Path, feed_id: str, max_age: timedelta,
             progress: Progress | None = None) -> SyncResult:
    """Fetch, verify and swap in the hotline feed (the daemon then enforces it)."""
    try:
        pinned = public_key.read_bytes()
    except OSError as exc:
        raise RojaError("Çelësi publik i linjës nuk lexohet ([feed] public_key ose --pubkey)",
                        "the hotline's public key cannot be read ([feed] public_key or "
                        "--pubkey)", f"{describe(exc)}\n  {STAYS}") from None
    try:
        result = sync(state_dir, url, pinned, feed_id, max_age, progress=progress)
    except (FeedError, OSError) as exc:
        record_sync_failure(state_dir, exc)
        cause = describe(exc) if isinstance(exc, OSError) else str(exc)
        raise RojaError("Lista e linjës nuk u sinkronizua", "the hotline feed was not synced",
                        f"{cause if url in cause else f'{url}: {cause}'}\n  {STAYS}") from None
    if result.first_use:
        record_event(state_dir / "incidents.sqlite", "list_trust_first_use",
                     f"serial {result.serial}")
    return result
