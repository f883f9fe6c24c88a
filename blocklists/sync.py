"""Gateway side of the signed hotline feed: fetch, verify, apply, swap; keep the last good list.

`sync(state_dir, url, public_key_pem, feed_id, max_age)` fetches `index.json` (with
If-None-Match; a 304 means nothing changed), checks its signature against the pinned key, its
feed id, its expiry and age (a frozen feed is refused) and that its serial is newer than the
active one (a replayed old feed is refused). It then applies the chain of deltas from the active
serial when the index lists one, or else fetches the full snapshot; every file must match the
SHA-256 the signed index gives for it and carry a valid signature itself, and the resulting
entry set must match the index's `entries_sha256`.

Only then are the files in `state_dir/feed/` replaced, each by atomic rename, the serial last:

    hotline.txt         non-confidential host entries, one per line (a `legal` domains list)
    hotline-urls.txt    non-confidential `host/path` entries, one per line
    hotline.sha256      SHA-256 (hex) of confidential `host/` or `host/path`, one per line
    current.json        the active serial, times, `entries_sha256` and every entry
    highest.json        the signed index of the highest serial ever accepted: a second
                        record, so that damaging or losing current.json (or this file) never
                        lets a replayed older serial in; with both gone the next sync is
                        accepted on trust (`SyncResult.first_use`, an event for the report)
    etag                the index's ETag, for the next If-None-Match
    refused.json        why the last serial was refused for shrinking without signed
                        removals (an alarm: `roja status` is red); removed by a good sync
    .lock               held (flock) while a sync runs; a second sync meanwhile is refused

On any failure nothing there changes and a FeedError says why (Albanian, then English).
Downloads are limited in size (MAX_BYTES) and time (TIMEOUT per read; see `blocklists.fetch`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from blocklists.feed import (
    BadSignature,
    Entry,
    Expired,
    FeedError,
    FetchError,
    Malformed,
    Rollback,
    ShrinkRefused,
    apply_delta,
    check_entry,
    check_serial,
    entries_digest,
    identity,
    load_public_key,
    parse_utc,
    utc_text,
    verify,
    write_atomic,
)
from blocklists.fetch import Fetcher, Progress
from blocklists.removals import check_removals

__all__ = ["Progress", "SyncResult", "feed_dir", "index_url", "status", "sync"]
log = logging.getLogger("roja.lists.feed")
MAX_BYTES = 64 * 1024 * 1024
MAX_INDEX_BYTES = 1024 * 1024
TIMEOUT = 30.0
HOSTS_NAME, URLS_NAME, HASHES_NAME = "hotline.txt", "hotline-urls.txt", "hotline.sha256"
CURRENT_NAME, ETAG_NAME = "current.json", "etag"
HIGHEST_NAME = "highest.json"  # the signed index of the highest serial ever accepted
REFUSED_NAME = "refused.json"  # the last serial refused for removals it did not sign


@dataclass(frozen=True)
class SyncResult:
    """What a sync did: `mode` is `unchanged`, `delta` or `snapshot`."""

    mode: str
    serial: int
    previous_serial: int | None
    entries: int
    added: int
    removed: int
    created: str
    expires: str
    downloaded: int
    first_use: bool = False  # no earlier state at all: accepted on trust (see `highest.json`)

    @property
    def changed(self) -> bool:
        return self.mode != "unchanged"


@dataclass(frozen=True)
class _State:
    serial: int
    header: dict[str, Any]
    entries: dict[str, Entry]


def feed_dir(state_dir: Path) -> Path:
    return state_dir / "feed"


def index_url(url: str) -> str:
    """The feed's base URL (or the URL of its index.json) → the URL of index.json."""
    if url.endswith(".json"):
        return url
    return url if url.endswith("/index.json") else url.rstrip("/") + "/index.json"


def _load(data: bytes, name: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise Malformed(f"{name} nuk është JSON i plotë (i cunguar ose i dëmtuar?) / {name} is "
                        "not complete JSON (truncated or damaged?)") from None


def _check_age(payload: Mapping[str, Any], now: datetime, max_age: timedelta) -> None:
    created = parse_utc(payload["created"], "created")
    if now - created > max_age:
        raise Expired(f"Lista e linjës u krijua më {payload['created']}, më e vjetër se "
                      f"{max_age.days} ditë: publikuesi ka ngecur / the hotline feed was created "
                      f"at {payload['created']}, older than {max_age.days} days: the publisher "
                      "is frozen")
    if parse_utc(payload["expires"], "expires") <= now:
        raise Expired(f"Lista aktive e linjës ka skaduar më {payload['expires']} / the active "
                      f"hotline feed expired at {payload['expires']}")


def _load_state(fdir: Path, feed_id: str | None) -> _State | None:
    """The active state if it is intact (and of `feed_id`), else None (fetch a snapshot)."""
    try:
        data = json.loads((fdir / CURRENT_NAME).read_bytes())
        entries = {}
        for i, entry in enumerate(data["entries"]):
            check_entry(entry, f"entries[{i}]")
            entries[identity(entry)] = entry
        serial = data["serial"]
        if (feed_id is not None and data["feed_id"] != feed_id) or not isinstance(serial, int) \
                or entries_digest(entries.values()) != data["entries_sha256"]:
            return None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, FeedError) as exc:
        log.warning("hotline feed state %s is damaged (%s); fetching a full snapshot",
                    fdir / CURRENT_NAME, exc)
        return None
    header = {k: v for k, v in data.items() if k != "entries"}
    return _State(serial, header, entries)


def _load_highest(fdir: Path, key: Ed25519PublicKey, feed_id: str) -> dict[str, Any] | None:
    """The signed index of the highest serial ever accepted here, if it is intact."""
    try:
        return verify(json.loads((fdir / HIGHEST_NAME).read_bytes()), key, feed_id,
                      check_expiry=False)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, FeedError) as exc:
        log.warning("hotline feed state %s is damaged (%s); %s still guards against a "
                    "rollback", fdir / HIGHEST_NAME, exc, CURRENT_NAME)
        return None


def _check_floor(index: Mapping[str, Any], state: _State | None,
                 highest: Mapping[str, Any] | None) -> None:
    """Raise Rollback unless `index` is at least the highest serial either record holds (the
    same serial only with the same signed entries: a repair of damaged state)."""
    floor, digest = 0, None
    for serial, entries_sha256 in ((state.serial, state.header["entries_sha256"])
                                   if state else (0, None),
                                   (highest["serial"], highest["entries_sha256"])
                                   if highest else (0, None)):
        if serial > floor:
            floor, digest = serial, entries_sha256
    if index["serial"] < floor or (index["serial"] == floor
                                   and index["entries_sha256"] != digest):
        check_serial(index, floor)
        raise Rollback(f"Seriali {floor} me një listë tjetër / serial {floor} with another "
                       "list than the one accepted here (a replayed or forked feed?)")


def _checked_file(fetch: Fetcher, base: str, ref: Mapping[str, Any], key: Ed25519PublicKey,
                  feed_id: str, kind: str, serial: int) -> dict[str, Any]:
    body = fetch.get(urljoin(base, ref["file"]), MAX_BYTES)[1]
    if hashlib.sha256(body).hexdigest() != ref["sha256"]:
        raise BadSignature(f"{ref['file']} nuk përputhet me indeksin e nënshkruar (i ndryshuar "
                           f"ose i cunguar) / {ref['file']} does not match the signed index "
                           "(altered or truncated)")
    payload = verify(_load(body, ref["file"]), key, feed_id, check_expiry=False)
    if payload["kind"] != kind or payload["serial"] != serial:
        raise Malformed(f"{ref['file']} nuk është {kind} {serial} / is not {kind} {serial}")
    return payload


def _delta_chain(index: Mapping[str, Any], serial: int) -> list[dict[str, Any]] | None:
    by_from = {d["from"]: d for d in index["deltas"]}
    chain = []
    while serial != index["serial"]:
        step = by_from.get(serial)
        if step is None or step["to"] <= serial:
            return None
        chain.append(step)
        serial = step["to"]
    return chain


def sync(state_dir: Path, url: str, public_key_pem: bytes, feed_id: str, max_age: timedelta,
         now: datetime | None = None, progress: Progress | None = None, *,
         timeout: float = TIMEOUT) -> SyncResult:
    """Bring `state_dir/feed/` to the feed's newest serial, or raise FeedError and change
    nothing."""
    key = load_public_key(public_key_pem)
    fdir = feed_dir(state_dir)
    fdir.mkdir(parents=True, exist_ok=True)
    moment = now or datetime.now(UTC)
    with _locked(fdir):
        try:
            result = _sync(fdir, url, key, feed_id, max_age, moment, progress, timeout)
        except ShrinkRefused as exc:  # an alarm until a good serial arrives (`status`)
            write_atomic(fdir / REFUSED_NAME, json.dumps(
                {"at": utc_text(moment), "why": str(exc)}, ensure_ascii=False).encode() + b"\n")
            raise
        (fdir / REFUSED_NAME).unlink(missing_ok=True)
        return result


@contextlib.contextmanager
def _locked(fdir: Path) -> Iterator[None]:
    """One sync at a time per state directory (the daemon's timer and a teacher's command)."""
    with open(fdir / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FeedError("Një sinkronizim tjetër po punon tani / another sync is running "
                            "right now") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sync(fdir: Path, url: str, key: Ed25519PublicKey, feed_id: str, max_age: timedelta,
          moment: datetime, progress: Progress | None, timeout: float) -> SyncResult:
    state = _load_state(fdir, feed_id)
    etag_path = fdir / ETAG_NAME
    etag = etag_path.read_text().strip() if state and etag_path.exists() else None
    fetch = Fetcher(progress, timeout)
    base = index_url(url)
    status, body, new_etag = fetch.get(base, MAX_INDEX_BYTES, etag)
    if status == 304:
        if state is None:
            raise FetchError("Serveri tha 304 pa pasur listë / the server answered 304 but "
                             "there is no active list")
        _check_age(state.header, moment, max_age)
        return _result("unchanged", state, state, 0, 0, fetch.downloaded)
    index = verify(_load(body, "index.json"), key, feed_id, now=moment)
    if index["kind"] != "index":
        raise Malformed("index.json nuk është indeks / index.json is not an index")
    _check_age(index, moment, max_age)
    if state and index["serial"] == state.serial \
            and index["entries_sha256"] == state.header["entries_sha256"]:
        if new_etag:
            write_atomic(etag_path, new_etag.encode() + b"\n")
        return _result("unchanged", state, state, 0, 0, fetch.downloaded)
    highest = _load_highest(fdir, key, feed_id)
    _check_floor(index, state, highest)
    first_use = state is None and highest is None
    if first_use and (fdir / CURRENT_NAME).exists():
        log.warning("hotline feed: all state is damaged; serial %s is accepted on trust",
                    index["serial"])
    chain = _delta_chain(index, state.serial) if state else None
    records: list[Mapping[str, Any]] = []
    if state and chain is not None:
        entries, mode = state.entries, "delta"
        for step in chain:
            delta = _checked_file(fetch, base, step, key, feed_id, "delta", step["to"])
            entries = apply_delta(entries, delta)
            records += delta.get("removals", [])
    else:
        snapshot = _checked_file(fetch, base, index["snapshot"], key, feed_id, "snapshot",
                                 index["serial"])
        entries, mode = {identity(e): e for e in snapshot["entries"]}, "snapshot"
        records += snapshot.get("removals", [])
    if entries_digest(entries.values()) != index["entries_sha256"]:
        raise BadSignature("Lista e marrë nuk përputhet me indeksin e nënshkruar / the list "
                           "received does not match the signed index")
    check_removals(state.entries if state else {}, state.serial if state else 0, entries,
                   index["serial"], records)
    header = {k: index[k] for k in ("feed_id", "serial", "created", "expires",
                                    "entries_sha256")}
    new = _State(index["serial"], {**header, "synced_at": utc_text(moment)}, entries)
    _activate(fdir, new)
    write_atomic(fdir / HIGHEST_NAME, body)  # the second record of the highest serial
    if new_etag:
        write_atomic(etag_path, new_etag.encode() + b"\n")
    else:
        etag_path.unlink(missing_ok=True)
    old = state.entries if state else {}
    added = sum(1 for k, e in entries.items() if old.get(k) != e)
    result = _result(mode, new, state, added, sum(1 for k in old if k not in entries),
                     fetch.downloaded, first_use)
    log.info("hotline feed %s: serial %s (%s, %d entries, +%d -%d)", feed_id, new.serial,
             mode, result.entries, result.added, result.removed)
    return result


def _activate(fdir: Path, state: _State) -> None:
    """Write the list files, then current.json (which carries the serial) last."""
    ordered = [state.entries[k] for k in sorted(state.entries)]
    hosts = sorted(e["value"] for e in ordered if "value" in e and "/" not in e["value"])
    urls = sorted(e["value"] for e in ordered if "value" in e and "/" in e["value"])
    hashes = sorted(e["sha256"] for e in ordered if "sha256" in e)
    for name, lines in ((HOSTS_NAME, hosts), (URLS_NAME, urls), (HASHES_NAME, hashes)):
        write_atomic(fdir / name, "".join(f"{line}\n" for line in lines).encode("utf-8"))
    current = {**state.header, "entries": ordered}
    write_atomic(fdir / CURRENT_NAME, json.dumps(current, sort_keys=True, ensure_ascii=False,
                                                 separators=(",", ":")).encode("utf-8") + b"\n")


def _result(mode: str, new: _State, old: _State | None, added: int, removed: int,
            downloaded: int, first_use: bool = False) -> SyncResult:
    return SyncResult(mode, new.serial, old.serial if old else None, len(new.entries), added,
                      removed, new.header["created"], new.header["expires"], downloaded,
                      first_use)


def status(state_dir: Path, now: datetime | None = None) -> dict[str, Any]:
    """The active feed: serial, created, expires, age_seconds, expired, entry counts; or
    `{"serial": None}` when nothing was synced yet."""
    fdir = feed_dir(state_dir)
    state = _load_state(fdir, None)
    refused = _refused(fdir)
    if state is None:
        return {"serial": None, "refused": refused}
    moment = now or datetime.now(UTC)
    created = parse_utc(state.header["created"], "created")
    expires = parse_utc(state.header["expires"], "expires")
    return {"feed_id": state.header["feed_id"], "serial": state.serial,
            "created": state.header["created"], "expires": state.header["expires"],
            "synced_at": state.header.get("synced_at"),
            "age_seconds": max(0, int((moment - created).total_seconds())),
            "expired": expires <= moment, "entries": len(state.entries),
            "confidential": sum(1 for e in state.entries.values() if "sha256" in e),
            "refused": refused}


def _refused(fdir: Path) -> dict[str, Any] | None:
    """`{"at", "why"}` of a serial refused for unsigned removals since the last good sync."""
    try:
        data = json.loads((fdir / REFUSED_NAME).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"at": "", "why": f"{REFUSED_NAME} is damaged"}
    return data if isinstance(data, dict) else {"at": "", "why": f"{REFUSED_NAME} is damaged"}
