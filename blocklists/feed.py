"""The signed hotline feed: file format and Ed25519 signatures (no network; no clock but `now`).

A feed is a directory of static files that any web server can serve:

    index.json               the entry point, re-signed on every publish
    snapshot-<serial>.json   the full entry set at <serial>
    delta-<from>-<to>.json   what changed from serial <from> to <to>

Each file is a signed envelope `{"payload": {...}, "signature": "<base64>", "key_id": "<hex>"}`.
The signature is Ed25519 over `SIGNED_PREFIX + canonical(payload)`, where `canonical` is JSON with
sorted keys, separators `(",", ":")`, `ensure_ascii=False`, UTF-8; the prefix keeps a feed
signature from ever being valid for anything else. `key_id` is the first 16 hex digits of the
SHA-256 of the raw public key (a hint for the reader; the signature decides).

Every payload has `feed_id`, `serial` (whole number ≥ 1, one more on every publish), `created`,
`expires` (ISO-8601 UTC, `2024-11-20T12:00:00Z`) and `kind`:

- `snapshot`: `entries`, a list of entries sorted by identity, and `entries_sha256`;
- `delta`: `from_serial`, `added` (new or changed entries), `removed` (identities:
  `{"value": ...}` or `{"sha256": ...}`) and `entries_sha256` of the set after applying it;
- `index`: `snapshot` `{"file", "sha256"}` (the file's bytes) and `deltas`, a list of
  `{"from", "to", "file", "sha256"}`; `entries_sha256` of the set at this serial.

An entry is `{"value": "host" or "host/path", "category", "case_id", "confirmed_at",
"confidential": false}` or, when confidential, `"sha256"` (hex of `host/` or `host/path`)
instead of `"value"`, so the cleartext never appears in any file.

Removals are explicit and signed. Snapshots and deltas carry `removals`, one record per publish
that removed entries: `{"serial", "before" (entries at serial - 1), "count", "reason",
"removed": [identities]}` (`count` is the number of names). A snapshot keeps every record of
the feed's life, a delta the one of its own serial. `blocklists.removals` is what a gateway
asks before it accepts a new entry set: every entry that is gone must be named by a record of a
serial after its own, the set must not be empty, and a record without a `reason` may not remove
more than `REASONLESS_LIMIT` of the list (the publisher's own limit is lower: see
`blocklists.publish`). A feed without `removals` may not remove anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNED_PREFIX = b"roja-hotline-feed/1\n"
KINDS = ("snapshot", "delta", "index")
TAXONOMY = ("hate_speech", "account_theft", "csam", "nudity", "sexual_harassment",
            "violence_denigration", "stalking_threats", "dangerous_games", "grooming",
            "sexting", "other")
SNAPSHOT_NAME = re.compile(r"snapshot-[1-9][0-9]{0,17}\.json")
DELTA_NAME = re.compile(r"delta-(?:0|[1-9][0-9]{0,17})-[1-9][0-9]{0,17}\.json")
_HEX64 = re.compile(r"[0-9a-f]{64}")
REASONLESS_LIMIT = 0.5  # a gateway refuses a removal of more than this share without a reason
MAX_REASON = 500

Entry = dict[str, Any]


class FeedError(Exception):
    """A feed that must not be used; the message is Albanian first, then English."""


class BadSignature(FeedError):  # noqa: N818 - the names the feed's callers match on
    """Unsigned, badly signed, signed by another key, or a file that differs from the index."""


class WrongFeed(FeedError):  # noqa: N818 - the names the feed's callers match on
    """Correctly signed, but for another feed id."""


class Expired(FeedError):  # noqa: N818 - the names the feed's callers match on
    """The feed's validity ran out (or it is older than allowed): the publisher is frozen."""


class Rollback(FeedError):  # noqa: N818 - the names the feed's callers match on
    """A serial that is not newer than the one already active (a replayed old feed)."""


class Malformed(FeedError):  # noqa: N818 - the names the feed's callers match on
    """Not a feed file: broken JSON, missing or mistyped fields."""


class ShrinkRefused(FeedError):  # noqa: N818 - the names the feed's callers match on
    """Correctly signed, but its entries shrink without removals named in the signed metadata
    (or to nothing): the last-known-good list stays and the teacher is told."""


class FetchError(FeedError):
    """The feed could not be downloaded (network, HTTP status, size limit)."""


def canonical_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def utc_text(moment: datetime) -> str:
    """An aware datetime → `2024-11-20T12:00:00Z` (whole seconds)."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: object, field: str = "time") -> datetime:
    if not isinstance(text, str):
        raise Malformed(f"Fusha {field!r} nuk është kohë / field {field!r} is not a time")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Malformed(f"Kohë e pavlefshme te {field!r} / invalid time in {field!r}: "
                        f"{text[:40]!r}") from None
    if moment.tzinfo is None or moment.utcoffset():
        raise Malformed(f"Koha te {field!r} duhet në UTC / {field!r} must be UTC: {text[:40]!r}")
    return moment


def identity(entry: Mapping[str, Any]) -> str:
    """The key that names an entry across snapshots and deltas."""
    return f"sha256:{entry['sha256']}" if "sha256" in entry else f"value:{entry['value']}"


def entries_digest(entries: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of the entries sorted by identity."""
    ordered = sorted(entries, key=identity)
    return hashlib.sha256(canonical_bytes({"entries": ordered})).hexdigest()


def confidential_digest(text: str) -> str:
    """Hex SHA-256 of a canonical `host/` or `host/path` (what the matcher hashes)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- keys -------------------------------------------------------------------------------------

def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_pem


def load_private_key(key: bytes | Ed25519PrivateKey) -> Ed25519PrivateKey:
    if isinstance(key, Ed25519PrivateKey):
        return key
    try:
        loaded = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError):
        raise FeedError("Çelësi privat nuk lexohet / the private key cannot be read "
                        "(expected an unencrypted Ed25519 PEM)") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise FeedError("Çelësi privat nuk është Ed25519 / the private key is not Ed25519")
    return loaded


def load_public_key(key: bytes | Ed25519PublicKey) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PublicKey):
        return key
    try:
        loaded = serialization.load_pem_public_key(key)
    except (ValueError, TypeError):
        raise FeedError("Çelësi publik nuk lexohet / the public key cannot be read "
                        "(expected an Ed25519 PEM)") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise FeedError("Çelësi publik nuk është Ed25519 / the public key is not Ed25519")
    return loaded


def key_id(public_key: bytes | Ed25519PublicKey) -> str:
    raw = load_public_key(public_key).public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# --- signing and checking ---------------------------------------------------------------------

def sign(payload: Mapping[str, Any], private_key: bytes | Ed25519PrivateKey) -> dict[str, Any]:
    """The signed envelope of `payload` (which is checked first, so we never sign junk)."""
    check_payload(payload)
    key = load_private_key(private_key)
    signature = key.sign(SIGNED_PREFIX + canonical_bytes(payload))
    return {"payload": dict(payload), "signature": base64.b64encode(signature).decode("ascii"),
            "key_id": key_id(key.public_key())}


def verify(envelope: object, public_key: bytes | Ed25519PublicKey, feed_id: str, *,
           now: datetime | None = None, current_serial: int | None = None,
           check_expiry: bool = True) -> dict[str, Any]:
    """The payload of a correctly signed envelope of feed `feed_id`, or a FeedError.

    With `check_expiry` (the default), a payload whose `expires` is not after `now` (default:
    the current time) is Expired; with `current_serial`, a serial not above it is a Rollback."""
    key = load_public_key(public_key)
    if not isinstance(envelope, Mapping):
        raise Malformed("Skedari nuk është zarf i nënshkruar / not a signed envelope")
    payload = envelope.get("payload")
    signature_text = envelope.get("signature")
    if not isinstance(payload, Mapping) or not isinstance(signature_text, str):
        raise BadSignature("Skedari nuk ka nënshkrim / the file is not signed "
                           "(missing payload or signature)")
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("Nënshkrimi nuk lexohet / the signature is not base64") from None
    try:
        key.verify(signature, SIGNED_PREFIX + canonical_bytes(payload))
    except InvalidSignature:
        ours, theirs = key_id(key), envelope.get("key_id")
        if isinstance(theirs, str) and theirs != ours:
            raise BadSignature(
                f"Nënshkruar me një çelës tjetër ({theirs[:16]}), jo me çelësin e besuar "
                f"({ours}) / signed with another key ({theirs[:16]}), not the pinned key "
                f"({ours})") from None
        raise BadSignature("Nënshkrimi nuk përputhet: skedari është ndryshuar ose dëmtuar / "
                           "bad signature: the file was altered or damaged") from None
    check_payload(payload)
    data = dict(payload)
    if data["feed_id"] != feed_id:
        raise WrongFeed(f"Burim tjetër ({data['feed_id']!r}), pritej {feed_id!r} / "
                        f"another feed ({data['feed_id']!r}), expected {feed_id!r}")
    if check_expiry:
        moment = now or datetime.now(UTC)
        if parse_utc(data["expires"], "expires") <= moment:
            raise Expired(f"Lista e linjës ka skaduar më {data['expires']} (seriali "
                          f"{data['serial']}): publikuesi nuk e ka rinovuar / the hotline feed "
                          f"expired at {data['expires']} (serial {data['serial']}): the "
                          "publisher has not renewed it")
    if current_serial is not None:
        check_serial(data, current_serial)
    return data


def check_serial(payload: Mapping[str, Any], current_serial: int) -> None:
    """Raise Rollback unless the payload's serial is above `current_serial`."""
    if payload["serial"] <= current_serial:
        raise Rollback(f"Seriali {payload['serial']} nuk është më i ri se {current_serial} që "
                       f"është aktiv (skedar i vjetër i përsëritur?) / serial "
                       f"{payload['serial']} is not newer than the active {current_serial} "
                       "(a replayed old feed?)")


def _malformed(why: str) -> Malformed:
    return Malformed(f"Skedar i pavlefshëm i listës / malformed feed file: {why}")


def _is_int(value: object, low: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def check_entry(entry: object, where: str, *, identity_only: bool = False) -> None:
    if not isinstance(entry, Mapping):
        raise _malformed(f"{where} is not an object")
    has_value, has_hash = "value" in entry, "sha256" in entry
    if has_value == has_hash:
        raise _malformed(f"{where} needs exactly one of 'value' or 'sha256'")
    if has_hash and not (isinstance(entry["sha256"], str) and _HEX64.fullmatch(entry["sha256"])):
        raise _malformed(f"{where}.sha256 is not 64 lower-case hex digits")
    if has_value and not (isinstance(entry["value"], str) and 0 < len(entry["value"]) <= 2048):
        raise _malformed(f"{where}.value is not a host or host/path")
    if identity_only:
        if len(entry) != 1:
            raise _malformed(f"{where} must hold only 'value' or 'sha256'")
        return
    if entry.get("category") not in TAXONOMY:
        raise _malformed(f"{where}.category is not a hotline taxonomy id")
    for name in ("case_id", "confirmed_at"):
        if not isinstance(entry.get(name), str):
            raise _malformed(f"{where}.{name} is not a string")
    if entry.get("confidential") is not has_hash:
        raise _malformed(f"{where}: confidential entries carry 'sha256', others 'value'")
    extra = set(entry) - {"value", "sha256", "category", "case_id", "confirmed_at",
                          "confidential"}
    if extra:
        raise _malformed(f"{where} has unknown fields {sorted(extra)}")


def check_payload(payload: object) -> None:
    """Raise Malformed unless `payload` has every field of its kind with the right types."""
    if not isinstance(payload, Mapping):
        raise _malformed("payload is not an object")
    if not isinstance(payload.get("feed_id"), str) or not payload["feed_id"]:
        raise _malformed("feed_id missing")
    if not _is_int(payload.get("serial")):
        raise _malformed("serial is not a whole number ≥ 1")
    kind = payload.get("kind")
    if kind not in KINDS:
        raise _malformed(f"kind is not one of {', '.join(KINDS)}")
    created = parse_utc(payload.get("created"), "created")
    if parse_utc(payload.get("expires"), "expires") <= created:
        raise _malformed("expires is not after created")
    if not (isinstance(payload.get("entries_sha256"), str)
            and _HEX64.fullmatch(payload["entries_sha256"])):
        raise _malformed("entries_sha256 is not a SHA-256")
    lists = {"snapshot": ("entries",), "delta": ("added", "removed"), "index": ("deltas",)}
    for name in lists[kind]:
        if not isinstance(payload.get(name), list):
            raise _malformed(f"{name} is not a list")
    if kind in ("snapshot", "delta"):
        _check_removals_field(payload)
    if kind == "snapshot":
        for i, entry in enumerate(payload["entries"]):
            check_entry(entry, f"entries[{i}]")
    elif kind == "delta":
        if not _is_int(payload.get("from_serial"), 0) or payload["from_serial"] >= \
                payload["serial"]:
            raise _malformed("from_serial is not a serial before serial")
        for i, entry in enumerate(payload["added"]):
            check_entry(entry, f"added[{i}]")
        for i, entry in enumerate(payload["removed"]):
            check_entry(entry, f"removed[{i}]", identity_only=True)
    else:
        _check_index(payload)


def _check_removals_field(payload: Mapping[str, Any]) -> None:
    records = payload.get("removals", [])
    if not isinstance(records, list):
        raise _malformed("removals is not a list")
    for i, record in enumerate(records):
        where = f"removals[{i}]"
        if not isinstance(record, Mapping) or set(record) != {"serial", "before", "count",
                                                              "reason", "removed"}:
            raise _malformed(f"{where} needs serial, before, count, reason and removed")
        if not (_is_int(record["serial"]) and record["serial"] <= payload["serial"]
                and _is_int(record["before"], 0) and _is_int(record["count"], 0)):
            raise _malformed(f"{where}: serial, before or count is not a whole number in range")
        if not isinstance(record["reason"], str) or len(record["reason"]) > MAX_REASON:
            raise _malformed(f"{where}.reason is not a text of at most {MAX_REASON} characters")
        if not isinstance(record["removed"], list) or len(record["removed"]) != record["count"]:
            raise _malformed(f"{where}: count is not the number of removed names")
        for j, gone in enumerate(record["removed"]):
            check_entry(gone, f"{where}.removed[{j}]", identity_only=True)


def _check_file_ref(ref: object, where: str, pattern: re.Pattern[str]) -> None:
    if not isinstance(ref, Mapping) or not isinstance(ref.get("file"), str) \
            or not pattern.fullmatch(ref["file"]):
        raise _malformed(f"{where}.file is not a feed file name")
    if not isinstance(ref.get("sha256"), str) or not _HEX64.fullmatch(ref["sha256"]):
        raise _malformed(f"{where}.sha256 is not a SHA-256")


def _check_index(payload: Mapping[str, Any]) -> None:
    _check_file_ref(payload.get("snapshot"), "snapshot", SNAPSHOT_NAME)
    if payload["snapshot"]["file"] != f"snapshot-{payload['serial']}.json":
        raise _malformed("the snapshot named in the index is not of the index's serial")
    for i, ref in enumerate(payload["deltas"]):
        _check_file_ref(ref, f"deltas[{i}]", DELTA_NAME)
        if not (_is_int(ref.get("from"), 0) and _is_int(ref.get("to"))
                and ref["file"] == f"delta-{ref['from']}-{ref['to']}.json"):
            raise _malformed(f"deltas[{i}] has from/to that do not match its file name")


def apply_delta(entries: Mapping[str, Entry], delta: Mapping[str, Any]) -> dict[str, Entry]:
    """The entry set (by identity) after a checked delta payload; the input is not changed."""
    out = dict(entries)
    for gone in delta["removed"]:
        out.pop(identity(gone), None)
    for entry in delta["added"]:
        out[identity(entry)] = dict(entry)
    if entries_digest(out.values()) != delta["entries_sha256"]:
        raise BadSignature(
            f"Pas ndryshimeve {delta['from_serial']}→{delta['serial']} lista nuk përputhet me "
            "atë të nënshkruar / after applying delta "
            f"{delta['from_serial']}→{delta['serial']} the list differs from the signed one")
    return out


def envelope_bytes(envelope: Mapping[str, Any]) -> bytes:
    """How an envelope is stored in a feed file (compact JSON, UTF-8, one line)."""
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8") + b"\n"


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `path` through a temporary file beside it and rename it over: all or nothing."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
