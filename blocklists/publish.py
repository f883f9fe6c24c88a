"""Hotline side of the signed feed: `keygen` and `publish` (the CSV of confirmed cases → files).

The CSV has a header row with the columns `url` or `host` (either or both), `category` (a
hotline taxonomy id such as `hate_speech`, or its Albanian label such as `Gjuha e urrejtjes`),
`confirmed_at` (`2024-11-20`, `20.11.2024` or an ISO-8601 date-time; Europe/Tirane when no
offset is given), `case_id` and `confidential` (`po`/`jo`, `true`/`false`, `1`/`0`). `,`, `;`
or tab separate the cells. A bad row is reported with its line number and skipped; its URL is
never echoed, since it may be confidential. `csam` rows are always confidential.

Hosts and URLs are canonicalised by the Safe Browsing rules of `blocklists.urls` (through
`blocklists.confidential.entry_expression`): a URL keeps `host/path[?query]`, a URL whose path
is `/` is a host entry. Confidential rows become SHA-256 of that expression, `host/` or
`host/path`, exactly what `blocklists.confidential` matches; their cleartext is never written
anywhere.

`publish` signs a full snapshot, a delta from the previous serial and a new `index.json`. The
new files are written beside the old ones under temporary names and renamed into place, the
index last, so a web server serving the directory never shows a half-written feed.

Removals are explicit (see `blocklists.feed`): every entry the new CSV no longer has is named
in a signed removal record, with its count and reason, in the delta and in every later
snapshot. An empty list is never published. A publish that removes more than `max_removals`
(default 10 %) of the previous serial is refused unless `allow_removals` gives the reason,
which is signed into the record (`roja lists publish --allow-removals "..."`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from blocklists.confidential import entry_expression
from blocklists.feed import (
    DELTA_NAME,
    MAX_REASON,
    REASONLESS_LIMIT,
    SNAPSHOT_NAME,
    TAXONOMY,
    Entry,
    FeedError,
    check_entry,
    confidential_digest,
    entries_digest,
    envelope_bytes,
    generate_keypair,
    identity,
    load_private_key,
    sign,
    utc_text,
    verify,
    write_atomic,
)

TIRANE = ZoneInfo("Europe/Tirane")
KEY_NAME, PUB_NAME, INDEX_NAME = "feed.key", "feed.pub", "index.json"
KEEP_DELTAS = 30  # a gateway more than this many publishes behind fetches the snapshot
MAX_REMOVALS = 0.10  # share of the previous serial a publish may remove without a reason
ALBANIAN_LABELS = {
    "hate_speech": "Gjuha e urrejtjes",
    "account_theft": "Vjedhje llogarie / postim fotosh",
    "csam": "Pornografi me të mitur",
    "nudity": "Nuditet",
    "sexual_harassment": "Ngacmim seksual",
    "violence_denigration": "Dhunë / denigrim imazhi",
    "stalking_threats": "Përndjekje / kërcënim / shantazh",
    "dangerous_games": "Lojëra të rrezikshme",
    "grooming": "Grooming (përgatitje për abuzim)",
    "sexting": "Sexting",
    "other": "Tjetër",
}
_YES, _NO = {"po", "true", "1", "yes", "p"}, {"jo", "false", "0", "no", "j"}


def _fold(text: str) -> str:
    """`Dhunë / Denigrim  imazhi` → `dhune / denigrim imazhi` (case, accents, spaces)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text)
                    if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


CATEGORIES = {_fold(c): c for c in TAXONOMY} | {_fold(v): k for k, v in ALBANIAN_LABELS.items()}


@dataclass(frozen=True)
class RowError:
    """A CSV row that was skipped: its line number and why (never its URL)."""

    lineno: int
    why: str

    def __str__(self) -> str:
        return f"rreshti {self.lineno} / line {self.lineno}: {self.why}"


@dataclass
class PublishResult:
    serial: int
    index: Path
    snapshot: Path
    delta: Path | None
    entries: int
    added: int
    removed: int
    errors: list[RowError] = field(default_factory=list)


def canonical_target(text: str) -> tuple[str, str] | None:
    """`HTTP://WWW.Ex.com/a/./b/../c` → (`www.ex.com`, `/a/c`); a bare host → (host, `/`).

    The Safe Browsing expression of `blocklists.confidential.entry_expression`, split at the
    first `/`, so a confidential digest here is exactly what the matcher looks up."""
    try:
        expression = entry_expression(text)
    except ValueError:
        return None
    host, slash, rest = expression.partition("/")
    return host, slash + rest


def _confirmed_at(text: str) -> str | None:
    value = text.strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TIRANE)
    return utc_text(moment)


def _row_entry(row: dict[str, str]) -> Entry | str:
    """One CSV row → a feed entry, or the reason it is skipped."""
    target_text = row.get("url", "").strip() or row.get("host", "").strip()
    if not target_text:
        return "mungon url ose host / url or host is empty"
    category = CATEGORIES.get(_fold(row.get("category", "")))
    if category is None:
        return (f"kategori e panjohur / unknown category {row.get('category', '')[:40]!r} "
                f"(accepted: {', '.join(TAXONOMY)})")
    confirmed = _confirmed_at(row.get("confirmed_at", ""))
    if confirmed is None:
        return "confirmed_at nuk është datë / is not a date (2024-11-20 or 20.11.2024)"
    case_id = row.get("case_id", "").strip()
    if not case_id:
        return "mungon case_id / case_id is empty"
    flag = row.get("confidential", "").strip().lower()
    if flag not in _YES | _NO:
        return "confidential duhet po/jo / must be po/jo, true/false or 1/0"
    target = canonical_target(target_text)
    if target is None:
        return "nuk është host ose URL i vlefshëm / not a valid host or http(s) URL"
    host, path = target
    confidential = flag in _YES or category == "csam"
    entry: Entry = {"category": category, "case_id": case_id, "confirmed_at": confirmed,
                    "confidential": confidential}
    if confidential:
        entry["sha256"] = confidential_digest(host + path)
    else:
        entry["value"] = host if path == "/" else host + path
    return entry


def read_cases(text: str) -> tuple[dict[str, Entry], list[RowError], int]:
    """Parse the hotline CSV: (entries by identity, skipped rows, data rows seen)."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise FeedError("Skedari CSV është bosh / the CSV file is empty") from None
    missing = [c for c in ("category", "confirmed_at", "case_id", "confidential")
               if c not in header]
    if "url" not in header and "host" not in header:
        missing.insert(0, "url/host")
    if missing:
        raise FeedError(f"Mungojnë kolonat / missing columns: {', '.join(missing)}")
    entries: dict[str, Entry] = {}
    errors: list[RowError] = []
    seen = 0
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        seen += 1
        if len(cells) != len(header):
            errors.append(RowError(reader.line_num, f"{len(cells)} qeliza, pritej "
                                   f"{len(header)} / {len(cells)} cells, expected {len(header)}"))
            continue
        result = _row_entry(dict(zip(header, cells, strict=True)))
        if isinstance(result, str):
            errors.append(RowError(reader.line_num, result))
        elif identity(result) in entries:
            errors.append(RowError(reader.line_num, "përsëritje e një rreshti më lart / "
                                   "duplicate of an earlier row"))
        else:
            check_entry(result, f"line {reader.line_num}")
            entries[identity(result)] = result
    return entries, errors, seen


def keygen(out_dir: Path) -> tuple[Path, Path]:
    """Write a new key pair: `feed.key` (mode 0600, keep it secret) and `feed.pub`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    key_path, pub_path = out_dir / KEY_NAME, out_dir / PUB_NAME
    if key_path.exists() or pub_path.exists():
        raise FeedError(f"Çelësi ekziston tashmë, nuk e mbishkruaj / a key already exists, "
                        f"not overwriting it: {key_path}")
    private_pem, public_pem = generate_keypair()
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    os.chmod(key_path, 0o600)
    write_atomic(pub_path, public_pem)
    return key_path, pub_path


def _previous(out_dir: Path, public: Ed25519PublicKey, feed_id: str
              ) -> tuple[dict[str, Any] | None, dict[str, Entry], list[dict[str, Any]]]:
    """The verified current index, entry set and removal records of the feed in `out_dir`."""
    index_path = out_dir / INDEX_NAME
    if not index_path.exists():
        return None, {}, []
    try:
        index = verify(json.loads(index_path.read_bytes()), public, feed_id, check_expiry=False)
        snap_bytes = (out_dir / index["snapshot"]["file"]).read_bytes()
        if hashlib.sha256(snap_bytes).hexdigest() != index["snapshot"]["sha256"]:
            raise FeedError("snapshot differs from the index")
        snapshot = verify(json.loads(snap_bytes), public, feed_id, check_expiry=False)
    except (OSError, ValueError, FeedError) as exc:
        raise FeedError(f"Burimi ekzistues në {out_dir} nuk verifikohet me këtë çelës, nuk "
                        f"vazhdoj mbi të / the existing feed in {out_dir} does not verify with "
                        f"this key, not publishing over it: {exc}") from None
    return (index, {identity(e): e for e in snapshot["entries"]},
            list(snapshot.get("removals", [])))


def _removal_record(serial: int, before: dict[str, Entry], after: dict[str, Entry],
                    allow_removals: str, max_removals: float) -> dict[str, Any] | None:
    """The signed record of what this publish removes, or a FeedError when it removes too much
    without a reason."""
    gone = [{"sha256": e["sha256"]} if "sha256" in e else {"value": e["value"]}
            for k, e in sorted(before.items()) if k not in after]
    if not gone:
        return None
    if len(gone) > max_removals * len(before) and not allow_removals:
        raise FeedError(
            f"Ky publikim heq {len(gone)} nga {len(before)} hyrje (më shumë se "
            f"{max_removals:.0%}); nëse është e qëllimshme, jepni arsyen me --allow-removals / "
            f"this publish removes {len(gone)} of {len(before)} entries (more than "
            f"{max_removals:.0%}); if that is intended, give the reason with --allow-removals")
    return {"serial": serial, "before": len(before), "count": len(gone),
            "reason": allow_removals, "removed": gone}


def publish(cases_csv: Path, key_pem: Path, out_dir: Path, feed_id: str,
            validity_days: int = 7, now: datetime | None = None, *, allow_removals: str = "",
            max_removals: float = MAX_REMOVALS) -> PublishResult:
    """Publish the cases in `cases_csv` as the next serial of feed `feed_id` in `out_dir`.

    Refuses an empty list, and a removal of more than `max_removals` of the previous serial
    unless `allow_removals` says why (signed into the feed)."""
    if validity_days < 1:
        raise FeedError("Vlefshmëria duhet ≥ 1 ditë / validity must be at least one day")
    if not 0.0 <= max_removals <= REASONLESS_LIMIT:
        raise FeedError(f"max_removals duhet 0–{REASONLESS_LIMIT} / must be 0 to "
                        f"{REASONLESS_LIMIT} (gateways refuse more without a reason)")
    if len(allow_removals) > MAX_REASON:
        raise FeedError(f"Arsyeja është më e gjatë se {MAX_REASON} shkronja / the reason is "
                        f"longer than {MAX_REASON} characters")
    key = load_private_key(key_pem.read_bytes())
    try:
        text = cases_csv.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FeedError(f"{cases_csv} nuk është UTF-8 / is not UTF-8") from None
    entries, errors, seen = read_cases(text)
    if not entries:
        which = "Asnjë rresht i vlefshëm" if seen else "Asnjë rresht"
        raise FeedError(f"{which} në {cases_csv}, nuk publikoj listë bosh / no valid row in "
                        f"{cases_csv}, not publishing an empty list")
    out_dir.mkdir(parents=True, exist_ok=True)
    prev_index, prev_entries, removals = _previous(out_dir, key.public_key(), feed_id)
    serial = prev_index["serial"] + 1 if prev_index else 1
    record = _removal_record(serial, prev_entries, entries, allow_removals, max_removals)
    removals = [*removals, record] if record else removals
    moment = now or datetime.now(UTC)
    ordered = [entries[k] for k in sorted(entries)]
    digest = entries_digest(ordered)
    common = {"feed_id": feed_id, "serial": serial, "created": utc_text(moment),
              "expires": utc_text(moment + timedelta(days=validity_days)),
              "entries_sha256": digest}
    snap_path = out_dir / f"snapshot-{serial}.json"
    snap_bytes = envelope_bytes(sign({**common, "kind": "snapshot", "entries": ordered,
                                      "removals": removals}, key))
    deltas: list[dict[str, Any]] = list(prev_index["deltas"]) if prev_index else []
    delta_path, added, removed = None, len(ordered), 0
    files = [(snap_path, snap_bytes)]
    if prev_index:
        added_entries = [e for k, e in sorted(entries.items()) if prev_entries.get(k) != e]
        gone = record["removed"] if record else []
        added, removed = len(added_entries), len(gone)
        delta_path = out_dir / f"delta-{prev_index['serial']}-{serial}.json"
        delta_bytes = envelope_bytes(sign({**common, "kind": "delta",
                                           "from_serial": prev_index["serial"],
                                           "added": added_entries, "removed": gone,
                                           "removals": [record] if record else []}, key))
        files.append((delta_path, delta_bytes))
        deltas.append({"from": prev_index["serial"], "to": serial, "file": delta_path.name,
                       "sha256": hashlib.sha256(delta_bytes).hexdigest()})
    deltas = deltas[-KEEP_DELTAS:]
    index = sign({**common, "kind": "index", "deltas": deltas,
                  "snapshot": {"file": snap_path.name,
                               "sha256": hashlib.sha256(snap_bytes).hexdigest()}}, key)
    for path, data in files:
        write_atomic(path, data)
    write_atomic(out_dir / INDEX_NAME, envelope_bytes(index))  # the publish happens here
    _prune(out_dir, keep={snap_path.name, f"snapshot-{serial - 1}.json",
                          *(d["file"] for d in deltas)})
    return PublishResult(serial, out_dir / INDEX_NAME, snap_path, delta_path, len(ordered),
                         added, removed, errors)


def _prune(out_dir: Path, keep: set[str]) -> None:
    """Remove feed files no index refers to any more (the previous snapshot stays a while, for
    gateways that read the old index a moment ago)."""
    for path in out_dir.iterdir():
        name = path.name
        if (SNAPSHOT_NAME.fullmatch(name) or DELTA_NAME.fullmatch(name)) and name not in keep:
            path.unlink(missing_ok=True)


__all__ = ["ALBANIAN_LABELS", "PublishResult", "RowError", "canonical_target", "keygen",
           "publish", "read_cases"]
