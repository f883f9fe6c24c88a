"""Tests for blocklists.publish: the hotline CSV, canonical entries, hashing of confidential
cases, serials and deltas, and the files a web server will serve."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from blocklists import feed
from blocklists.confidential import entry_expression, hash_entry
from blocklists.publish import canonical_target, keygen, publish, read_cases

NOW = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)
CASES = """url,category,confirmed_at,case_id,confidential
bad.example,hate_speech,2024-11-01,C-1,jo
http://WWW.Lojera.example/sfida/../blue-whale,Lojëra të rrezikshme,01.11.2024,C-2,JO
secret-abuse.example,csam,2024-11-02T10:00,C-3,no
https://hidden.example/album/7,grooming,2024-11-03,C-4,po
nope.example,unknown_cat,2024-11-01,C-5,jo
ok.example,other,yesterday,C-6,jo
ok2.example,Tjeter,2024-11-01,C-7,maybe
,other,2024-11-01,C-8,jo
bad host!,other,2024-11-01,C-9,jo
BAD.example.,other,2024-11-01,C-10,jo
short.example,other
"""
SECRETS = ("secret-abuse.example", "hidden.example/album/7")


@pytest.mark.parametrize(("text", "expected"), [
    ("Example.COM", ("example.com", "/")),
    ("http://www.Example.com:80/", ("www.example.com", "/")),
    ("https://user@shqipëri.al/a/./b/../c//d/", ("xn--shqipri-vya.al", "/a/c/d/")),
    ("example.com/%2541%62?q=1#frag", ("example.com", "/Ab?q=1")),
    ("example.com/a b", ("example.com", "/a%20b")),
    ("ftp://example.com/", None),
    ("bad host!", None),
    ("", None),
])
def test_canonical_target(text: str, expected: tuple[str, str] | None) -> None:
    assert canonical_target(text) == expected


def test_bad_rows_are_reported_with_line_numbers_and_skipped() -> None:
    entries, errors, seen = read_cases(CASES)
    assert seen == 11
    assert [(e.lineno, e.why.split(" / ")[-1].split(" ")[0]) for e in errors] == [
        (6, "unknown"), (7, "is"), (8, "must"), (9, "url"), (10, "not"), (11, "duplicate"),
        (12, "2")]
    assert str(errors[0]).startswith("rreshti 6 / line 6: kategori e panjohur")
    assert not any(s in str(e) for e in errors for s in ("nope.example", "bad host"))
    values = {e.get("value") or e["sha256"]: e for e in entries.values()}
    assert values["www.lojera.example/blue-whale"]["category"] == "dangerous_games"
    assert values["bad.example"]["confirmed_at"] == "2024-11-01"
    secret = values[hashlib.sha256(b"secret-abuse.example/").hexdigest()]
    assert secret["confidential"] is True  # csam is always confidential
    assert secret["confirmed_at"] == "2024-11-02T09:00:00Z"  # Tirane (UTC+1) → UTC
    assert hashlib.sha256(b"hidden.example/album/7").hexdigest() in values
    for url in SECRETS:  # the digest is what the matcher (blocklists.confidential) looks up
        host, _, path = url.partition("/")
        assert hash_entry(entry_expression(f"HTTP://{host.upper()}/{path}")).hex() in values


def test_semicolons_and_albanian_labels() -> None:
    entries, errors, _ = read_cases("host;category;confirmed_at;case_id;confidential\n"
                                    "a.example;Dhune / denigrim  IMAZHI;20.11.2024;K1;0\n")
    assert not errors
    assert [e["category"] for e in entries.values()] == ["violence_denigration"]


def test_missing_columns_fail_the_whole_file() -> None:
    with pytest.raises(feed.FeedError, match="missing columns: url/host, confidential"):
        read_cases("site,category,confirmed_at,case_id\n")


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return keygen(tmp_path / "keys")


def test_keygen_writes_a_private_key_only_we_can_read(keys: tuple[Path, Path]) -> None:
    key_path, pub_path = keys
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert b"PUBLIC KEY" in pub_path.read_bytes()
    with pytest.raises(feed.FeedError, match="already exists"):
        keygen(key_path.parent)


def read(path: Path) -> dict[str, Any]:
    return feed.verify(json.loads(path.read_bytes()), path.parent.parent.joinpath(
        "keys", "feed.pub").read_bytes(), "isigurt-al", check_expiry=False)


def test_publish_snapshot_then_delta(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    cases, out = tmp_path / "cases.csv", tmp_path / "feed"
    cases.write_text(CASES, encoding="utf-8")
    first = publish(cases, keys[0], out, "isigurt-al", now=NOW)
    assert (first.serial, first.entries, first.delta, len(first.errors)) == (1, 4, None, 7)
    index = read(out / "index.json")
    assert index["serial"] == 1 and index["deltas"] == []
    assert index["expires"] == "2024-11-27T12:00:00Z"
    cases.write_text(CASES.replace("bad.example,hate", "new.example,hate")
                     .replace("BAD.example.", "NEW.example."), encoding="utf-8")
    second = publish(cases, keys[0], out, "isigurt-al", validity_days=2, now=NOW,
                     allow_removals="rasti C-1 u mbyll / case C-1 closed")
    assert (second.serial, second.added, second.removed) == (2, 1, 1)
    delta = read(out / "delta-1-2.json")
    assert delta["removed"] == [{"value": "bad.example"}]
    record = {"serial": 2, "before": 4, "count": 1, "reason": "rasti C-1 u mbyll / case C-1 "
              "closed", "removed": [{"value": "bad.example"}]}
    assert delta["removals"] == [record]
    assert read(out / "snapshot-2.json")["removals"] == [record]
    assert [e["value"] for e in delta["added"]] == ["new.example"]
    assert read(out / "index.json")["deltas"] == [{
        "from": 1, "to": 2, "file": "delta-1-2.json",
        "sha256": hashlib.sha256((out / "delta-1-2.json").read_bytes()).hexdigest()}]
    assert sorted(p.name for p in out.iterdir()) == [
        "delta-1-2.json", "index.json", "snapshot-1.json", "snapshot-2.json"]
    published = b"".join(p.read_bytes() for p in out.iterdir())
    for secret in SECRETS:  # not even in the deltas or the index
        assert secret.split("/")[0].encode() not in published


def test_publish_refuses_a_feed_signed_by_another_key(tmp_path: Path,
                                                      keys: tuple[Path, Path]) -> None:
    cases, out = tmp_path / "cases.csv", tmp_path / "feed"
    cases.write_text(CASES, encoding="utf-8")
    publish(cases, keys[0], out, "isigurt-al", now=NOW)
    other = keygen(tmp_path / "other")
    before = (out / "index.json").read_bytes()
    with pytest.raises(feed.FeedError, match="does not verify with this key"):
        publish(cases, other[0], out, "isigurt-al", now=NOW)
    assert (out / "index.json").read_bytes() == before


def test_nothing_is_published_when_every_row_is_bad(tmp_path: Path,
                                                    keys: tuple[Path, Path]) -> None:
    cases, out = tmp_path / "cases.csv", tmp_path / "feed"
    cases.write_text("url,category,confirmed_at,case_id,confidential\nx.example,?,,,\n")
    with pytest.raises(feed.FeedError, match="no valid row"):
        publish(cases, keys[0], out, "isigurt-al", now=NOW)
    assert not out.exists()


def test_a_header_only_csv_is_never_published(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    cases, out = tmp_path / "cases.csv", tmp_path / "feed"
    cases.write_text("url,category,confirmed_at,case_id,confidential\n")
    with pytest.raises(feed.FeedError, match="not publishing an empty list"):
        publish(cases, keys[0], out, "isigurt-al", now=NOW)
    cases.write_text(CASES, encoding="utf-8")
    publish(cases, keys[0], out, "isigurt-al", now=NOW)
    before = (out / "index.json").read_bytes()
    cases.write_text("url,category,confirmed_at,case_id,confidential\n")
    with pytest.raises(feed.FeedError, match="not publishing an empty list"):
        publish(cases, keys[0], out, "isigurt-al", now=NOW, allow_removals="gabim / oops")
    assert (out / "index.json").read_bytes() == before


MANY = "url,category,confirmed_at,case_id,confidential\n" + "".join(
    f"site{i}.example,hate_speech,2024-11-01,C-{i},jo\n" for i in range(20))


def test_a_large_drop_needs_allow_removals_and_its_reason_is_signed(
        tmp_path: Path, keys: tuple[Path, Path]) -> None:
    cases, out = tmp_path / "cases.csv", tmp_path / "feed"
    cases.write_text(MANY, encoding="utf-8")
    publish(cases, keys[0], out, "isigurt-al", now=NOW)
    lines = MANY.splitlines(keepends=True)
    cases.write_text("".join(lines[:-2]), encoding="utf-8")  # 2 of 20: 10 %, allowed
    assert publish(cases, keys[0], out, "isigurt-al", now=NOW).removed == 2
    before = (out / "index.json").read_bytes()
    cases.write_text("".join(lines[:-5]), encoding="utf-8")  # 3 more of 18: 17 %
    with pytest.raises(feed.FeedError, match=r"3 of 18 entries.*--allow-removals"):
        publish(cases, keys[0], out, "isigurt-al", now=NOW)
    assert (out / "index.json").read_bytes() == before
    assert publish(cases, keys[0], out, "isigurt-al", now=NOW, max_removals=0.2).removed == 3
    snapshot = read(out / "snapshot-3.json")
    assert [(r["serial"], r["count"], r["reason"]) for r in snapshot["removals"]] == [
        (2, 2, ""), (3, 3, "")]
