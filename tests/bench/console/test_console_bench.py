"""`python -m bench console` runs end to end on a small store and prints one line per page
with its median, p95 and goal (the real run uses 1,000,000 incidents: bench/RESULTS.md)."""

from __future__ import annotations

import pytest

from bench.console.run import main


def test_the_console_benchmark_times_every_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--incidents", "3000", "--manual", "500", "--requests", "2"]) == 0
    out = capsys.readouterr().out
    assert "data: 3,000 incidents over 30 days + 500 manual" in out
    lines = [line for line in out.splitlines() if "≤ " in line]
    pages = ("Pasqyra", "Kërkesat", "Incidentet", "Incident i ri", "Rastet", "Raportet",
             "Listat", "Pse u bllokua?", "Grupet dhe oraret", "Vetëtestimi", "Llogaritë",
             "Auditimi")
    assert len(lines) == 14 and all(any(line.startswith(p) for line in lines) for p in pages)
    assert all(line.rstrip().endswith(("✔", "✘")) for line in lines), out
