"""Tests for blocklists.feed: canonical bytes, Ed25519 envelopes, and each refusal."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blocklists import feed

NOW = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)
PRIVATE, PUBLIC = feed.generate_keypair()
ENTRY = {"value": "bad.example", "category": "hate_speech", "case_id": "C-1",
         "confirmed_at": "2024-11-01", "confidential": False}
SECRET = {"sha256": hashlib.sha256(b"hidden.example/").hexdigest(), "category": "csam",
          "case_id": "C-2", "confirmed_at": "2024-11-02", "confidential": True}


def snapshot(serial: int = 3, **extra: Any) -> dict[str, Any]:
    entries = [ENTRY, SECRET]
    payload = {"feed_id": "isigurt-al", "serial": serial, "kind": "snapshot",
               "created": feed.utc_text(NOW), "expires": feed.utc_text(NOW + timedelta(days=7)),
               "entries": entries, "entries_sha256": feed.entries_digest(entries)}
    return payload | extra


def test_sign_and_verify_round_trip() -> None:
    envelope = feed.sign(snapshot(), PRIVATE)
    assert envelope["key_id"] == feed.key_id(PUBLIC)
    assert feed.verify(envelope, PUBLIC, "isigurt-al", now=NOW) == snapshot()


def test_canonical_bytes_are_sorted_compact_utf8() -> None:
    assert feed.canonical_bytes({"b": 1, "a": "ë"}) == '{"a":"ë","b":1}'.encode()


def both_languages(exc: pytest.ExceptionInfo[feed.FeedError]) -> str:
    assert " / " in str(exc.value)
    return str(exc.value)


@pytest.mark.parametrize(("change", "error", "words"), [
    (lambda e: e["payload"].update(serial=4), feed.BadSignature, "altered"),
    (lambda e: e["payload"]["entries"].pop(), feed.BadSignature, "altered"),
    (lambda e: e.update(signature="AAAA"), feed.BadSignature, "altered"),
    (lambda e: e.update(signature="not base64!"), feed.BadSignature, "not base64"),
    (lambda e: e.pop("signature"), feed.BadSignature, "not signed"),
])
def test_tampering_is_refused(change: Any, error: type[feed.FeedError], words: str) -> None:
    envelope = copy.deepcopy(feed.sign(snapshot(), PRIVATE))
    change(envelope)
    with pytest.raises(error) as exc:
        feed.verify(envelope, PUBLIC, "isigurt-al", now=NOW)
    assert words in both_languages(exc)


def test_another_key_is_named() -> None:
    other_private, _ = feed.generate_keypair()
    with pytest.raises(feed.BadSignature) as exc:
        feed.verify(feed.sign(snapshot(), other_private), PUBLIC, "isigurt-al", now=NOW)
    assert "another key" in both_languages(exc) and feed.key_id(PUBLIC) in str(exc.value)


def test_wrong_feed_expired_and_rollback() -> None:
    envelope = feed.sign(snapshot(), PRIVATE)
    with pytest.raises(feed.WrongFeed) as wrong:
        feed.verify(envelope, PUBLIC, "other", now=NOW)
    assert "expected 'other'" in both_languages(wrong)
    with pytest.raises(feed.Expired) as expired:
        feed.verify(envelope, PUBLIC, "isigurt-al", now=NOW + timedelta(days=7))
    assert "expired at 2024-11-27T12:00:00Z" in both_languages(expired)
    assert feed.verify(envelope, PUBLIC, "isigurt-al", now=NOW + timedelta(days=8),
                       check_expiry=False)["serial"] == 3
    with pytest.raises(feed.Rollback) as rollback:
        feed.verify(envelope, PUBLIC, "isigurt-al", now=NOW, current_serial=3)
    assert "not newer than the active 3" in both_languages(rollback)


@pytest.mark.parametrize(("extra", "words"), [
    ({"serial": 0}, "serial"),
    ({"serial": True}, "serial"),
    ({"kind": "full"}, "kind"),
    ({"expires": "2024-11-27T12:00:00"}, "must be UTC"),
    ({"expires": "2024-11-19T12:00:00Z"}, "expires is not after created"),
    ({"entries": [ENTRY | {"sha256": SECRET["sha256"]}]}, "exactly one"),
    ({"entries": [ENTRY | {"category": "adult"}]}, "taxonomy"),
    ({"entries": [SECRET | {"confidential": False}]}, "confidential entries carry"),
    ({"entries": [SECRET | {"sha256": "ABC"}]}, "hex"),
])
def test_malformed_payloads_are_never_signed(extra: dict[str, Any], words: str) -> None:
    with pytest.raises(feed.Malformed) as exc:
        feed.sign(snapshot(**extra), PRIVATE)
    assert words in both_languages(exc)


def test_apply_delta_checks_the_signed_result() -> None:
    base = {feed.identity(ENTRY): ENTRY}
    after = [SECRET]
    delta = {"from_serial": 1, "serial": 2, "removed": [{"value": "bad.example"}],
             "added": [SECRET], "entries_sha256": feed.entries_digest(after)}
    assert list(feed.apply_delta(base, delta).values()) == after
    assert base == {feed.identity(ENTRY): ENTRY}  # unchanged
    with pytest.raises(feed.BadSignature, match="differs from the signed one"):
        feed.apply_delta(base, delta | {"removed": []})
