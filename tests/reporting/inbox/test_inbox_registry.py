"""The inbox's pure parts: the school CSV with line-numbered errors, qark names, the config file
and its TLS rule, and the JSON Schema checker against the real report schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from inbox_kit import report_doc

from configkit import ConfigError
from reporting.inbox import config, registry
from reporting.inbox.qarqe import QARQE, qark_id
from reporting.inbox.schema_check import first_problem
from reporting.report_json import json_schema


def test_twelve_qarqe_with_their_albanian_names() -> None:
    assert len(QARQE) == 12
    assert QARQE["vlore"] == "Vlorë" and QARQE["korce"] == "Korçë" and QARQE["diber"] == "Dibër"


@pytest.mark.parametrize(("text", "qid"), [("Vlorë", "vlore"), ("vlore", "vlore"),
                                           ("KORÇË", "korce"), ("Qarku Gjirokastër", "gjirokaster"),
                                           ("Shkodra", "shkoder"), ("Prishtinë", None), ("", None)])
def test_qark_names_are_matched_leniently(text: str, qid: str | None) -> None:
    assert qark_id(text) == qid


def test_school_csv_with_header_bom_and_semicolons() -> None:
    text = ("\ufeffcode;name;qark;municipality;email\n"
            "BR-001;Shkolla \"Naim Frashëri\";Berat;Berat;naim@example.al\n"
            "\n"
            "VL-001;Gjimnazi \"Halim Xhelo\";Vlore;Vlorë;\n")
    schools = registry.parse(text)
    assert [(s.code, s.qark, s.email) for s in schools] == [
        ("BR-001", "berat", "naim@example.al"), ("VL-001", "vlore", "")]


def test_school_csv_errors_name_every_bad_line_and_import_nothing() -> None:
    text = ("code,name,qark,municipality,email\n"
            "BR-001,Shkolla A,Berat,Berat,a@example.al\n"
            "BR-001,Shkolla B,Berat,Berat,b@example.al\n"
            "XX 9,Shkolla C,Kosovë,Prizren,not-an-email\n"
            "TR-001,Shkolla D,Tiranë\n")
    with pytest.raises(registry.RegistryError) as caught:
        registry.parse(text)
    problems = caught.value.problems
    assert any(p.startswith("rreshti / line 3:") and "përsëritet" in p for p in problems)
    assert any(p.startswith("rreshti / line 4:") and "kodi" in p for p in problems)
    assert any(p.startswith("rreshti / line 4:") and "'Kosovë'" in p and "Vlorë" in p
               for p in problems)
    assert any(p.startswith("rreshti / line 4:") and "e-mail" in p for p in problems)
    assert any(p.startswith("rreshti / line 5:") and "5 ose 6 kolona" in p for p in problems)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inbox.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_parses() -> None:
    example = Path(config.__file__).with_name("inbox.toml.example")
    cfg = config.load(example)
    assert (cfg.host, cfg.port, cfg.late_day) == ("0.0.0.0", 8443, 10)
    assert cfg.tls and cfg.base_url == "https://inbox.example.al"


def test_config_errors_name_file_line_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, '[inbox]\nlisten = "127.0.0.1:8470"\nlate_day = 31\n')
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert (caught.value.line, caught.value.key) == (3, "inbox.late_day")
    path = _write(tmp_path, '[inbox]\nlisten = "everywhere"\n')
    with pytest.raises(ConfigError, match=r"inbox\.listen"):
        config.load(path)
    path = _write(tmp_path, '[inbox]\nport = 1\n')
    with pytest.raises(ConfigError, match="unknown key"):
        config.load(path)


def test_tls_is_required_off_loopback(tmp_path: Path) -> None:
    cfg = config.load(_write(tmp_path, '[inbox]\nlisten = "0.0.0.0:8443"\n'))
    with pytest.raises(config.InboxConfigError, match="TLS is required"):
        config.check_serving(cfg)
    config.check_serving(config.override(cfg, listen="127.0.0.1:8470"))
    config.check_serving(config.override(cfg, listen="[::1]:8470"))
    with pytest.raises(config.InboxConfigError, match="not found"):
        config.check_serving(config.override(cfg, tls_cert=tmp_path / "c.pem",
                                             tls_key=tmp_path / "k.pem"))


def test_schema_checker_accepts_real_reports_and_names_the_problem() -> None:
    schema = json_schema()
    doc = report_doc("BR-001", blocked={"gambling": 2})
    assert first_problem(doc, schema) is None
    doc["report"]["filter_status"]["uptime_percent"] = 101
    assert first_problem(doc, schema) == "report.filter_status.uptime_percent: must be at most 100"
    doc = report_doc("BR-001")
    doc["report"]["filter_status"]["last_sync"] = "yesterday"
    assert "does not match exactly one" in str(first_problem(doc, schema))
    doc = report_doc("BR-001")
    doc["report"]["blocked"]["by_category"] = [{"key": "x", "label": "x", "count": True}]
    assert first_problem(doc, schema) == \
        "report.blocked.by_category[0].count: must be integer, not bool"
    with pytest.raises(ValueError, match="not supported"):
        first_problem({}, {"anyOf": []})


def test_school_csv_zva_column_or_the_municipalitys() -> None:
    schools = registry.parse("code,name,qark,municipality,email,zva\n"
                             "KV-1,Shkolla A,Tiranë,Kavajë,,\n"
                             "KV-2,Shkolla B,Tiranë,Kavajë,,Rrogozhinë\n"
                             "DP-1,Shkolla C,Gjirokastër,Dropull,,\n"
                             "XX-1,Shkolla D,Berat,Fshati Ri,,\n")
    assert [(s.code, s.zva) for s in schools] == [
        ("KV-1", "kavaje"), ("KV-2", "rrogozhine"), ("DP-1", "finiq"), ("XX-1", "")]
    with pytest.raises(registry.RegistryError) as caught:
        registry.parse("KV-3,Shkolla E,Tiranë,Kavajë,,Atlantis\n"
                       "KV-4,Shkolla F,Tiranë,Kavajë,,Shkodër\n")
    first, second = caught.value.problems
    assert first.startswith("rreshti / line 1:") and "'Atlantis'" in first
    assert second.startswith("rreshti / line 2:") and "ZVA Shkodër është nën DRAP Lezhë" in second
