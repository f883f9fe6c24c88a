"""Tests for `roja lists keygen|publish|sync|status` (filterd.commands.lists) with click's
CliRunner, syncing over a real HTTP server that serves the published directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_kit import invoke
from click.testing import Result
from feed_kit import served_directory

from filterd.commands import lists as cmd

CASES = """url,category,confirmed_at,case_id,confidential
bad.example,Gjuha e urrejtjes,2024-11-01,C-1,jo
secret-abuse.example,csam,2024-11-02,C-2,po
nope.example,not-a-category,2024-11-01,C-3,jo
"""


@pytest.fixture
def www(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "www"
    root.mkdir()
    with served_directory(root) as url:
        yield root, url.rstrip("/")


def run(tmp: Path, *args: str) -> Result:
    return invoke(cmd.lists, tmp / "state", *args)


def test_keygen_publish_sync_status(tmp_path: Path, www: tuple[Path, str]) -> None:
    root, url = www
    result = run(tmp_path, "keygen", "--out", str(tmp_path / "keys"))
    assert result.exit_code == 0 and "Çelësi privat / private key" in result.output
    again = run(tmp_path, "keygen", "--out", str(tmp_path / "keys"))
    assert again.exit_code == 1 and "a key already exists" in again.output
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    publish = ["publish", "--cases", str(tmp_path / "cases.csv"), "--key",
               str(tmp_path / "keys" / "feed.key"), "--out", str(root), "--feed-id", "al"]
    result = run(tmp_path, *publish)
    assert result.exit_code == 0, result.output
    assert "U publikua seriali 1: 2 hyrje" in result.stdout
    assert "rreshti 4 / line 4: kategori e panjohur" in result.stderr
    sync = ["sync", "--url", url, "--pubkey", str(tmp_path / "keys" / "feed.pub"),
            "--feed-id", "al"]
    result = run(tmp_path, *sync)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Seriali - → 1 (lista e plotë / full snapshot): 2 hyrje")
    assert (tmp_path / "state" / "feed" / "hotline.txt").read_text() == "bad.example\n"
    assert "Pa ndryshime, seriali 1 / unchanged, serial 1" in run(tmp_path, *sync).output
    status = run(tmp_path, "status")
    assert status.exit_code == 0
    assert "seriali / serial 1, 2 hyrje / entries (1 konfidenciale" in status.output
    assert json.loads(run(tmp_path, "status", "--json").output)["serial"] == 1


def test_a_refused_sync_says_the_old_list_stays(tmp_path: Path, www: tuple[Path, str]) -> None:
    root, url = www
    run(tmp_path, "keygen", "--out", str(tmp_path / "keys"))
    (root / "index.json").write_text('{"payload": {}, "signature": ""}')
    result = run(tmp_path, "sync", "--url", url, "--pubkey",
                 str(tmp_path / "keys" / "feed.pub"), "--feed-id", "al")
    assert result.exit_code == 1
    assert "bad signature" in result.output
    assert "Lista e mëparshme mbetet aktive / the previous list stays active." in result.output


def test_status_before_any_sync(tmp_path: Path) -> None:
    result = run(tmp_path, "status")
    assert result.exit_code == 0
    assert result.output == "Nuk ka ende listë të linjës / no hotline feed synced yet.\n"


def test_download_bar_follows_each_large_file() -> None:
    bar = cmd.DownloadBar(min_bytes=10)
    for done, total in [(5, 5), (10, 20), (20, 20), (4, 40), (40, 40), (3, None)]:
        bar(done, total)
    assert bar.bar is not None and bar.done == 40
    bar.close()
    assert bar.bar is None


def test_publish_refuses_an_empty_list_and_an_unexplained_drop(tmp_path: Path) -> None:
    run(tmp_path, "keygen", "--out", str(tmp_path / "keys"))
    cases = tmp_path / "cases.csv"
    publish = ["publish", "--cases", str(cases), "--key", str(tmp_path / "keys" / "feed.key"),
               "--out", str(tmp_path / "www"), "--feed-id", "al"]
    cases.write_text(CASES.splitlines()[0] + "\n", encoding="utf-8")
    result = run(tmp_path, *publish)
    assert result.exit_code == 1
    assert "nuk publikoj listë bosh / no valid row" in result.output
    cases.write_text(CASES, encoding="utf-8")
    assert run(tmp_path, *publish).exit_code == 0
    cases.write_text("\n".join(CASES.splitlines()[:2]) + "\n", encoding="utf-8")  # 1 of 2
    result = run(tmp_path, *publish)
    assert result.exit_code == 1 and "Ky publikim heq 1 nga 2 hyrje" in result.output
    result = run(tmp_path, *publish, "--allow-removals", "rasti C-2 u mbyll / case C-2 closed")
    assert result.exit_code == 0, result.output
    assert "U publikua seriali 2: 1 hyrje (+0 −1)" in result.output
