"""Tests for reporting.offices and the report's recipient: the shipped table covers the 12
qarqe and 61 bashki exactly once, a bad table names file, line and key, and a real report build
from a `[report]` table addresses the PDF (read back with pdftotext) and the JSON to the right
DRAP and ZVA, or DAR/ZVA where a region still says DAR."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from peers.nsd import require_peer
from report_db import TIRANE, sample

from configkit import ConfigError, Section, parse_toml_text
from filterd.config import School
from reporting import delivery, delivery_config, report_json
from reporting.inbox.qarqe import QARQE
from reporting.inbox.schema_check import first_problem
from reporting.offices import GENERIC, load, parse, recipient


def test_the_shipped_table_covers_every_qark_and_bashki_once() -> None:
    offices = load()
    assert offices.ministry == "Ministria e Arsimit dhe Sportit"
    assert [d.label for d in offices.draps.values()] == [
        "DRAP Durrës", "DRAP Fier", "DRAP Korçë", "DRAP Lezhë"]
    qarqe = [q for d in offices.draps.values() for q in d.qarqe]
    assert sorted(qarqe) == sorted(QARQE)
    assert len(offices.by_bashki) == 61  # law 115/2014
    for zva in offices.zvas.values():
        assert zva.id.isascii() and zva.id == zva.id.lower(), zva
        assert offices.drap_of_qark(zva.qark) is not None
    # what no source confirmed is marked as such, not silently guessed
    assert {q for d in offices.draps.values() for q in d.unconfirmed} == {
        "berat", "vlore", "kukes"}


@pytest.mark.parametrize(("qark", "municipality", "zva", "office_type", "line"), [
    ("Tiranë", "Kavajë", "", "drap", "Drejtuar: DRAP Durrës / ZVA Kavajë"),
    ("Dibër", "Klos", "", "drap", "Drejtuar: DRAP Durrës / ZVA Klos"),
    ("Shkodër", "Vau i Dejës", "", "drap", "Drejtuar: DRAP Lezhë / ZVA Vau i Dejës"),
    ("Elbasan", "Librazhd", "", "drap", "Drejtuar: DRAP Korçë / ZVA Librazhd"),
    ("Gjirokastër", "Dropull", "", "drap", "Drejtuar: DRAP Fier / ZVA Finiq"),
    ("Tiranë", "Kavajë", "rrogozhine", "drap", "Drejtuar: DRAP Durrës / ZVA Rrogozhinë"),
    ("Tirana", "Kavaja", "", "drap", "Drejtuar: DRAP Durrës"),  # definite forms: qark only
    ("Berat", "Kuçovë", "", "dar", "Drejtuar: DAR Berat / ZVA Kuçovë"),
    ("", "Pogradec", "", "drap", "Drejtuar: DRAP Korçë / ZVA Pogradec"),
    ("", "", "", "drap", GENERIC),
])
def test_recipient_line(qark: str, municipality: str, zva: str, office_type: str,
                        line: str) -> None:
    assert recipient(load(), qark, municipality, zva, office_type).line == line


@pytest.mark.parametrize(("change", "key", "words"), [
    (('"shkoder", "kukes"]\nunconfirmed = ["kukes"]', '"shkoder"]\nunconfirmed = []'),
     "drap", "no DRAP covers kukes"),
    (('"shkoder", "kukes"]', '"shkoder"]'), "drap.lezhe.unconfirmed", "not in qarqe"),
    (('["korce", "elbasan"]', '["korce", "elbasan", "tirane"]'), "drap.korce.qarqe",
     "already in drap.durres"),
    (('qark = "vlore" }', 'qark = "vlora" }'), "zva.delvine.qark", "not a qark"),
    (('kavaje = { name = "Kavajë"', 'kavaje = { name = "Kamëz"'), "zva.kavaje.bashki",
     "already in zva.kamez"),
    (("ministry = ", 'minister = "MASR"\nministry = '), "minister", "unknown key"),
])
def test_a_bad_table_names_the_key(change: tuple[str, str], key: str, words: str) -> None:
    text = (Path(__file__).parents[2] / "reporting" / "offices.toml").read_text("utf-8")
    assert change[0] in text
    with pytest.raises(ConfigError) as caught:
        parse(text.replace(change[0], change[1], 1), "offices.toml")
    assert caught.value.key == key and words in str(caught.value), str(caught.value)


def _settings(text: str) -> delivery_config.ReportSettings:
    data, source = parse_toml_text(text, "roja.toml")
    return delivery_config.parse(Section(data, "", source).section("report"))


def test_an_unknown_zva_in_roja_toml_names_the_line() -> None:
    with pytest.raises(ConfigError) as caught:
        _settings('[report]\nqark = "Tiranë"\nzva = "Atlantis"\n')
    assert (caught.value.line, caught.value.key) == (3, "report.zva")
    with pytest.raises(ConfigError) as caught:
        _settings('[report]\noffice_type = "zyra"\n')
    assert caught.value.key == "report.office_type" and "drap, dar" in str(caught.value)


@pytest.mark.parametrize(("table", "expected"), [
    ('qark = "Tiranë"\nmunicipality = "Kavajë"', "Drejtuar: DRAP Durrës / ZVA Kavajë"),
    ('qark = "Tiranë"\nmunicipality = "Kavajë"\nzva = "Rrogozhinë"',
     "Drejtuar: DRAP Durrës / ZVA Rrogozhinë"),
    ('qark = "Berat"\nmunicipality = "Kuçovë"\noffice_type = "dar"',
     "Drejtuar: DAR Berat / ZVA Kuçovë"),
])
def test_a_real_report_build_is_addressed_to_the_office(tmp_path: Path, table: str,
                                                        expected: str) -> None:
    settings = _settings(f'[report]\n{table}\nict_teacher = "Drita Çela"\n')
    sample(tmp_path / "incidents.sqlite")
    bundle = delivery.ensure_bundle(tmp_path, "2026-10", School("Shkolla Çajupi", "K7"),
                                    settings, datetime(2026, 11, 2, tzinfo=TIRANE))
    document = json.loads(bundle.files["json"].read_bytes())
    assert document["report"]["header"]["recipient"] == expected
    assert first_problem(document, report_json.json_schema()) is None
    assert report_json.verify(bundle.files["json"].read_bytes())
    require_peer("pdftotext")
    text = subprocess.run(["pdftotext", "-l", "1", str(bundle.files["pdf"]), "-"], check=True,
                          capture_output=True, text=True).stdout
    first_lines = " ".join(text.split()[:40])
    assert expected in first_lines, first_lines


def test_a_report_from_before_the_recipient_still_validates() -> None:
    schema = report_json.json_schema()
    header = schema["properties"]["report"]["properties"]["header"]
    assert "recipient" in header["properties"] and "recipient" not in header["required"]
