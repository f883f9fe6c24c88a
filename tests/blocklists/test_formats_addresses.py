"""`format = "addresses"`: one IP address or network a line, compiled into the list's address
entries; bad lines reported with file and line; a mistyped format named with the accepted
values (file, line, key)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from blocklists.store import ListSource, build_active
from filterd.cli import main

TEXT = """# adresa keqdashëse / malicious addresses
192.0.2.7
10.1.2.3/8   # host bits cleared
2001:DB8::/32
not-an-address
198.51.100.300
::ffff:203.0.113.9
"""


def test_addresses_list_compiles_to_address_entries(tmp_path: Path) -> None:
    (tmp_path / "ip.txt").write_text(TEXT, encoding="utf-8")
    result = build_active([ListSource("ip", tmp_path / "ip.txt", "addresses", "malware")],
                          tmp_path / "state")
    report = result.reports[0]
    assert sorted(result.compiled.addresses["ip"]) == sorted(
        ["192.0.2.7", "10.0.0.0/8", "2001:db8::/32", "::ffff:203.0.113.9"])
    assert report.entries == 0 and report.error_count == 2
    assert [(e.lineno, e.text) for e in report.errors] == [(5, "not-an-address"),
                                                          (6, "198.51.100.300")]
    assert all(e.source == str(tmp_path / "ip.txt") for e in report.errors)
    assert "not an IP address or network" in report.errors[0].why
    result.compiled.close()


def test_mistyped_format_names_the_accepted_values(tmp_path: Path) -> None:
    (tmp_path / "ip.txt").write_text("192.0.2.7\n", encoding="utf-8")
    path = tmp_path / "roja.toml"
    path.write_text(f'[[lists]]\nid = "ip"\npath = "{tmp_path}/ip.txt"\n'
                    'format = "adresses"\ncategory = "malware"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["config", "check", str(path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert f"{path}:4: lists[0].format" in result.stderr, result.stderr
    assert "addresses" in result.stderr.split("lists[0].format")[1]
    path.write_text(path.read_text().replace("adresses", "addresses"))
    ok = CliRunner().invoke(main, ["config", "check", str(path)], catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
