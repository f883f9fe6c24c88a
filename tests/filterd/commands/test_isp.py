"""`roja isp report` run as a subprocess on a provider's year in a real incident store
(tests/isp_kit.py): the PDF read back with pdftotext and rendered with pdftoppm, the CSV and
the JSON (schema, hash) checked figure by figure; counts only, no client pseudonym; a year
still running is a draft on every page; and the ways it refuses, each an Albanian-first
sentence and exit 1, never a traceback."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from isp_kit import CLIENT, NIPT, S0, S1, S2, write_config, year_store
from peers.programs import require_peer
from report_db import TIRANE

from filterd import audit
from reporting.inbox.schema_check import first_problem
from reporting.isp_json import json_schema
from reporting.report_json import content_hash

ROJA = str(Path(sys.executable).parent / "roja")


def roja(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ROJA, "--config", str(config), *args], capture_output=True,
                          text=True, timeout=120, check=False)


def flat_text(pdf: Path) -> str:
    text = subprocess.run([require_peer("pdftotext"), "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return " ".join(text.split())


def built(tmp_path: Path, date: str, until: datetime) -> tuple[Path, Path]:
    config = write_config(tmp_path)
    year_store(tmp_path / "state", until)
    done = roja(config, "isp", "report", "--year", "2026", "--out", str(tmp_path / "out"),
                "--date", date)
    assert done.returncode == 0, done.stdout + done.stderr
    return config, tmp_path / "out"


def test_the_year_in_pdf_csv_and_json(tmp_path: Path) -> None:
    _, out = built(tmp_path, "15.01.2027", datetime(2027, 1, 15, tzinfo=TIRANE))
    stem = out / f"kodi-sjelljes-{NIPT}-2026"
    pdf, table, doc = (stem.with_suffix(f".{x}") for x in ("pdf", "csv", "json"))
    flat = flat_text(pdf)
    for expected in (
            "Raport vjetor për zbatimin e Kodit të Sjelljes", "Rrjeti Shëmbull sh.p.k.",
            f"NIPT {NIPT}", "Viti 2026 (01.01.2026 – 31.12.2026)",
            "Administratore: Elira Hoxha", "bixhoz", "Bixhoz dhe lojëra fati",
            "ishin në fuqi 3 seri të listës së linjës",
            f"{S1} 15.03.2026 10:00 15.03.2026 10:00 3 min 60 s 3 min",
            f"{S2} 10.06.2026 08:00 10.06.2026 08:00 pa të dhëna 2 min pa të dhëna",
            "Gjithsej u bllokuan 10 kërkesa", "Pornografi", "Vetëdëmtim dhe vetëvrasje",
            "Rrjete abonentësh me filtrin familjar 3", "Adresa të veçanta me filtrin familjar 1",
            "Pjesa me filtrin familjar 66,7 %", "Kontrolle të kryera 13",
            "prej tyre të dështuara 1", "U regjistruan 2 ndërprerje",
            "02.04.2026 12:00 03.04.2026 06:00 18,0 2 jo",
            "02.08.2026 18:00 05.08.2026 00:00 54,0 0 po",
            "Për ofruesin: Rrjeti Shëmbull sh.p.k.", "Nënshkrimi:"):
        assert expected in flat, expected
    assert "PROJEKT" not in flat and CLIENT not in flat
    pages = flat.count("Faqja ")
    assert f"Faqja {pages} nga {pages}" in flat

    rows = list(csv.reader(io.StringIO(table.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == ["seksioni", "kodi", "emërtimi", "vlera"]
    cells = {(r[0], r[1]): r[3] for r in rows[1:]}
    assert cells[("Aksesi i bllokuar", "total")] == "10"
    assert cells[("Aksesi i bllokuar sipas kategorisë", "gambling")] == "3"
    assert cells[(f"Seria {S1}", "all_seconds")] == "180"
    assert cells[(f"Seria {S2}", "127.0.0.54:53")] == ""  # no data, never 0
    assert cells[("Filtri familjar", "networks")] == "3"
    assert cells[("Lista e linjës", "outage_hours")] == "72.0"
    assert CLIENT not in table.read_text(encoding="utf-8-sig")

    document = json.loads(doc.read_bytes())
    assert first_problem(document, json_schema()) is None
    assert document["content_sha256"] == content_hash(document)
    report = document["report"]
    assert report["header"]["complete"] is True
    assert [s["serial"] for s in report["propagation"]["serials"]] == [str(S0), str(S1),
                                                                         str(S2)]
    assert [s["max_seconds"] for s in report["propagation"]["by_secondary"]] == [120, 180]
    assert report["selftests"] == {"runs": 13, "passed": 12, "failed": 1,
                                   "uptime_percent": 100.0}
    assert CLIENT not in doc.read_text(encoding="utf-8")


def test_a_year_still_running_is_a_draft_on_every_page(tmp_path: Path) -> None:
    _, out = built(tmp_path, "07.12.2026", datetime(2026, 12, 7, 23, tzinfo=TIRANE))
    pdf = out / f"kodi-sjelljes-{NIPT}-2026-projekt.pdf"
    pages = int(flat_text(pdf).split("Faqja 1 nga ")[1].split()[0])
    assert pages >= 2
    for page in range(1, pages + 1):
        text = subprocess.run([require_peer("pdftotext"), "-f", str(page), "-l", str(page),
                               str(pdf), "-"], check=True, capture_output=True,
                              text=True).stdout
        assert "PROJEKT – viti 2026 nuk ka mbaruar" in " ".join(text.split()), page
    subprocess.run([require_peer("pdftoppm"), "-r", "60", "-png", str(pdf),
                    str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page*.png"))) == pages
    document = json.loads((out / f"kodi-sjelljes-{NIPT}-2026-projekt.json").read_bytes())
    assert document["report"]["header"]["complete"] is False


def test_config_check_accepts_the_isp_table(tmp_path: Path) -> None:
    done = roja(write_config(tmp_path), "config", "check", str(tmp_path / "roja.toml"))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("old", "new", "key", "why"), [
    ('nipt = "l12345678a"', 'nipt = "12345"', "isp.nipt", "NIPT"),
    ('signatory = "Elira Hoxha"', 'signatory = ""', "isp.signatory", "bosh"),
    ('contact = "abuse@rrjeti.example, +355 4 222 0000"\n', "", "isp.contact", "required"),
    ('signatory_role = "Administratore"', 'signatory_role = "x"\nseal = true', "isp.seal",
     "unknown key"),
    ("family = true", 'family = "po"', "groups[0].family", "must be true or false"),
])
def test_config_check_names_file_line_and_key(tmp_path: Path, old: str, new: str, key: str,
                                              why: str) -> None:
    config = write_config(tmp_path)
    text = config.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new)
    config.write_text(text, encoding="utf-8")
    done = roja(config, "config", "check", str(config))
    assert done.returncode != 0
    assert key in done.stderr and why in done.stderr, done.stderr
    name = key.rsplit(".", 1)[1].split("[")[0]
    lines = [i for i, line in enumerate(text.splitlines(), start=1)
             if line.startswith(f"{name} =")]
    where = f"{config}:{lines[0]}:" if lines else f"{config}:"  # a missing key: its table
    assert where in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_refusals_are_albanian_first_and_exit_1(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    text = config.read_text(encoding="utf-8")
    plain = tmp_path / "pa-isp.toml"
    plain.write_text(text[:text.index("[isp]")] + text[text.index("[[lists]]"):],
                     encoding="utf-8")
    (tmp_path / "state" / "incidents.sqlite").write_bytes(b"not a database, just bytes" * 40)
    cases = [
        (roja(plain, "isp", "report", "--year", "2026"), "mungon tabela [isp]",
         "has no [isp] table"),
        (roja(config, "isp", "report", "--year", "2999"), "nuk ka filluar ende",
         "has not begun"),
        (roja(config, "isp", "report", "--year", "2026", "--out", str(tmp_path / "o")),
         "nuk lexohet", "cannot be read"),
    ]
    for done, sq, en in cases:
        assert done.returncode == 1, done.stdout + done.stderr
        assert sq in done.stderr and en in done.stderr, done.stderr
        assert done.stderr.index(sq) < done.stderr.index(en)
        assert "Traceback" not in done.stderr
    out = tmp_path / "o"
    assert not out.exists() or not any(out.iterdir())  # nothing half-made


def test_the_store_is_only_read(tmp_path: Path) -> None:
    """Building the report changes nothing in the incident database."""
    config = write_config(tmp_path)
    db = year_store(tmp_path / "state", datetime(2027, 1, 15, tzinfo=TIRANE))
    with sqlite3.connect(db) as con:
        before = con.execute("SELECT COUNT(*) FROM events").fetchone()
    done = roja(config, "isp", "report", "--year", "2026", "--out", str(tmp_path / "o"),
                "--format", "json")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM events").fetchone() == before


def test_lists_added_and_removed_in_the_year_come_from_the_audit_log(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    state = tmp_path / "state"
    year_store(state, datetime(2027, 1, 15, tzinfo=TIRANE))
    for when, what in ((datetime(2025, 11, 2, 9, tzinfo=TIRANE), "list added ut1 (deny, adult)"),
                       (datetime(2026, 2, 3, 9, tzinfo=TIRANE), "list added bixhoz (deny, "
                                                                "gambling)"),
                       (datetime(2026, 5, 6, 9, tzinfo=TIRANE), "list removed ut1")):
        audit.append(state, who="roja", what=what, why="reload", now=when)
    done = roja(config, "isp", "report", "--year", "2026", "--out", str(tmp_path / "o"),
                "--date", "15.01.2027", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(next((tmp_path / "o").glob("*.json")).read_bytes())["report"]
    lists = {item["id"]: item for item in report["lists"]}
    assert set(lists) == {"bixhoz", "hotline", "ut1"}
    assert lists["bixhoz"]["added"] == "03.02.2026 09:00" and lists["bixhoz"]["removed"] is None
    assert lists["ut1"]["removed"] == "06.05.2026 09:00" and lists["ut1"]["added"] is None
    assert lists["ut1"]["category_label"] == "Pornografi"  # adult, from the 2025 addition
    assert lists["hotline"]["kind"] == "legal"
