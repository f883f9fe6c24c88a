"""Tests for reporting.report_pdf: pdftotext reads the Albanian title (ë, ç) and the figures
back; pdftoppm renders page 1."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from peers.programs import require_peer
from report_db import TIRANE, event, incident, make_db, manual, sample

from filterd.config import School
from reporting import report_pdf
from reporting.report_data import collect


def text_of(pdf: Path) -> str:
    return subprocess.run([require_peer("pdftotext"), "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_month_pdf_reads_back_in_albanian(tmp_path: Path) -> None:
    data = collect(sample(tmp_path / "i.sqlite"), "2026-10", School("Shkolla Çajupi", "K7"),
                   "Korçë", "Korçë", "Drita Çela", datetime(2026, 11, 2, tzinfo=TIRANE))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(report_pdf.render(data))
    text = text_of(pdf)
    flat = " ".join(text.split())
    assert "Raport mujor për incidentet e sigurisë së fëmijëve në internet" in flat
    for expected in ("Shkolla Çajupi", "Drita Çela", "Kontrollet e vlefshmërisë së filtrit",
                     "Mësuesi i TIK-ut", "Drejtori i shkollës", "Bixhoz dhe lojëra fati",
                     "Përndjekje / kërcënim / shantazh", "Gjithsej u bllokuan 12 kërkesa",
                     "96,8 %", "Java 44 (26.10–31.10)", "01.10.2026 – 31.10.2026"):
        assert expected in flat, expected
    pages = flat.count("Faqja ")
    assert pages >= 2 and f"Faqja {pages} nga {pages}" in flat
    subprocess.run([require_peer("pdftoppm"), "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes().startswith(b"\x89PNG")


def test_annual_pdf_and_missing_checks(tmp_path: Path) -> None:
    data = collect(tmp_path / "none.sqlite", "2026", School(), "", "", "",
                   datetime(2026, 6, 1, tzinfo=TIRANE))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(report_pdf.render(data))
    flat = " ".join(text_of(pdf).split())
    assert "Raport vjetor për incidentet e sigurisë së fëmijëve në internet" in flat
    assert "nuk u krye asnjë kontroll i vlefshmërisë së filtrit" in flat
    assert "Prirja muaj pas muaji" in flat and "Periudha nuk ka përfunduar" in flat


def test_counts_agree_with_their_nouns(tmp_path: Path) -> None:
    """One of each: "1 kërkesë", "1 incident", "1 kontroll", never "1 kërkesa"."""
    db = make_db(tmp_path / "i.sqlite")
    incident(db, "07.10.2026 10:00", "gambling")
    manual(db, "2026-10-03", "stalking_threats")
    event(db, "10.10.2026 08:00", "selftest_pass")
    data = collect(db, "2026-10", School("Shkolla Çajupi", "K7"), "Korçë", "Korçë", "",
                   datetime(2026, 11, 2, tzinfo=TIRANE))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(report_pdf.render(data))
    flat = " ".join(text_of(pdf).split())
    for expected in ("Gjithsej u bllokua 1 kërkesë (1 incident i regjistruar;",
                     "filtri bllokoi 1 kërkesë, ku përfshihen 0 përpjekje anashkalimi",
                     "stafi regjistroi 1 incident;",
                     "u krye 1 kontroll i vlefshmërisë së filtrit (1 i kaluar, 0 të dështuara)"):
        assert expected in flat, expected
    for wrong in ("1 kërkesa", "1 incidente", "1 kontrolle", "u bllokuan 1 ", "u kryen 1 "):
        assert wrong not in flat, wrong


def test_creation_date_is_the_build_time_and_group_names_show(tmp_path: Path) -> None:
    """Not reportlab's invariant 2000-01-01: the report's own build time (Tirane)."""
    db = sample(tmp_path / "i.sqlite")
    manual(db, "2026-10-08", "cyberbullying")
    data = collect(db, "2026-10", School("Shkolla Çajupi", "K7"), "Korçë", "Korçë", "",
                   datetime(2026, 11, 2, 9, 30, tzinfo=TIRANE), groups={"nxënësit": "Klasat"})
    raw = report_pdf.render(data)
    assert raw.count(b"(D:20261102093000+01'00')") == 2  # CreationDate and ModDate
    assert b"D:2000" not in raw
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(raw)
    flat = " ".join(text_of(pdf).split())
    assert "Klasat" in flat and "Mësuesit" in flat and "nxënësit" not in flat
    assert "Bullizëm online" in flat


def test_a_year_of_daily_list_updates_fits_the_page(tmp_path: Path) -> None:
    """365 list serials once made a table row taller than the page (LayoutError)."""
    db = make_db(tmp_path / "i.sqlite")
    for day in range(365):
        at = datetime(2026, 1, 1, 3, 0, tzinfo=TIRANE).timestamp() + day * 86400
        with sqlite3.connect(db) as c:
            c.execute("INSERT INTO events (at, kind, detail) VALUES (?, 'sync_ok', ?)",
                      (at, f"serial {1000 + day}"))
    data = collect(db, "2026", School("Shkolla", "K1"), "", "", "",
                   datetime(2027, 1, 2, tzinfo=TIRANE))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(report_pdf.render(data))
    flat = " ".join(text_of(pdf).split())
    assert "365 seri, nga 1000 (01.01.2026" in flat and "deri te 1364 (31.12.2026" in flat


def test_many_categories_and_groups_fit_the_pages(tmp_path: Path) -> None:
    """A list with dozens of its own category ids: the chart shows the largest and sums the
    rest, the table lists them all."""
    db = make_db(tmp_path / "i.sqlite")
    for i in range(60):
        incident(db, "07.10.2026 10:00", f"kategoria_{i:02d}", count=100 - i, grp=f"klasa_{i}")
    data = collect(db, "2026-10", School("Shkolla", "K1"), "", "", "",
                   datetime(2026, 11, 2, tzinfo=TIRANE))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(report_pdf.render(data))
    flat = " ".join(text_of(pdf).split())
    assert "kategoria_59" in flat and "Klasa 59" in flat
    assert "Të tjera (36 kategori)" in flat


def test_a_long_footer_is_cut_before_the_page_number() -> None:
    report_pdf.register_fonts()
    long = "Shkolla 9-vjeçare " * 20
    cut = report_pdf.fit(long, 200, 7.5)
    assert cut.endswith("…") and len(cut) < len(long)
    assert report_pdf.stringWidth(cut, report_pdf.REGULAR, 7.5) <= 200
    assert report_pdf.fit("Shkolla Çajupi", 200, 7.5) == "Shkolla Çajupi"
