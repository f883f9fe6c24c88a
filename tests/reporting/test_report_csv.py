"""Tests for reporting.report_csv: UTF-8 with BOM, Albanian header row, formula cells
neutralised."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from report_db import TIRANE, manual, sample

from filterd.config import School
from reporting import report_csv
from reporting.report_data import collect


@pytest.mark.parametrize(("cell", "safe"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Tiranë", "Tiranë"), ("12", "12"), ("", "")])
def test_neutralise(cell: str, safe: str) -> None:
    assert report_csv.neutralise(cell) == safe


def test_bom_header_and_hostile_cells(tmp_path: Path) -> None:
    data = collect(sample(tmp_path / "i.sqlite"), "2026-10",
                   School("=HYPERLINK(\"x\")", "K1"), "Korçë", "", "",
                   datetime(2026, 11, 2, tzinfo=TIRANE))
    raw = report_csv.render(data)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["seksioni", "kodi", "emërtimi", "vlera"]
    assert all(len(r) == 4 for r in rows)
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"x\")" in cells and "'=cmd|' /C calc'!A0" in cells
    assert ["Të dhënat e raportit", "qark", "Qarku", "Korçë"] in rows
    assert ["Aksesi i bllokuar sipas kategorisë", "pornography", "Pornografi", "5"] in rows


def test_cyberbullying_and_group_names(tmp_path: Path) -> None:
    db = sample(tmp_path / "i.sqlite")
    manual(db, "2026-10-08", "cyberbullying")
    data = collect(db, "2026-10", School("Shkolla", "K1"), "", "", "",
                   datetime(2026, 11, 2, tzinfo=TIRANE))
    rows = list(csv.reader(io.StringIO(report_csv.render(data).decode("utf-8-sig"))))
    assert ["Incidente sipas kategorisë", "cyberbullying", "Bullizëm online", "1"] in rows
    assert ["Aksesi i bllokuar sipas grupit", "nxënësit", "Nxënësit", "11"] in rows
    assert ["Të dhënat e raportit", "generated_at", "Hartuar më", "02.11.2026 00:00"] in rows
