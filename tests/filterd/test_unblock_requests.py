"""Unblock requests from the block page, in a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterd.unblock_requests import add_request, decide_request, list_requests


def test_requests_are_counted_listed_and_decided(tmp_path: Path) -> None:
    first = add_request(tmp_path, group_id="nxenes", host="tumblr.com", category="pornography",
                        list_id="ut1", client="c1", note="për detyrë", now=100.0)
    again = add_request(tmp_path, group_id="nxenes", host="tumblr.com", category="pornography",
                        list_id="ut1", client="c2", now=200.0)
    other = add_request(tmp_path, group_id="staff", host="tumblr.com", category="pornography",
                        list_id="ut1", now=150.0)
    assert first == again != other
    pending = list_requests(tmp_path)
    assert [(r.group_id, r.count, r.note) for r in pending] == [
        ("nxenes", 2, "për detyrë"), ("staff", 1, "")]
    decided = decide_request(tmp_path, first, "accepted", "Arta", now=300.0)
    assert decided is not None and (decided.status, decided.decided_by) == ("accepted", "Arta")
    assert decide_request(tmp_path, first, "refused", "Arta") is None  # no longer pending
    assert [r.id for r in list_requests(tmp_path)] == [other]
    with pytest.raises(ValueError):
        decide_request(tmp_path, other, "maybe", "Arta")


def test_a_confidential_block_never_stores_the_host(tmp_path: Path) -> None:
    add_request(tmp_path, group_id="g", host="secret.example", category="csam",
                list_id="hotline", confidential=True)
    (r,) = list_requests(tmp_path)
    assert r.host == "" and r.category == "csam"
    assert b"secret.example" not in (tmp_path / "overrides.sqlite").read_bytes()
