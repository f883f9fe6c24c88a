"""`python -m bench lists --real --quick` runs on the real lists of Debian's uBlock package and
prints what each list gave, the compile's time and peak memory, and the lookup cost; the peak
memory is the compile's own, not the benchmark's (bench/RESULTS.md has the full run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from real_lists_kit import LISTS, require_lists

from bench.lists import real
from bench.lists.run import main


def test_the_quick_real_lists_benchmark_reports_every_list(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    require_lists()
    out_file = tmp_path / "real.md"
    assert main(["--real", "--quick", "--out", str(out_file)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split()[:1]
            and line.split()[0] in LISTS}
    assert set(rows) == set(LISTS), out
    # URLhaus: URL entries on shared hosts go to the proxy, its bare IPs are addresses.
    assert re.search(r"urlhaus\s+[\d,]+\s+[1-9][\d,]*\s+[1-9][\d,]*\s", rows["urlhaus"])
    assert "github.com" in rows["urlhaus"] and "%)" in rows["urlhaus"]
    assert "cosmetic" in rows["easylist"]  # skipped, counted by kind
    assert "synthetic 5,000,000 domains" in out and "VmHWM" in out
    assert re.search(r"together\s+1\s+[\d.]+ \([\d.-]+\)\s+[\d.]+\s+\d+ MiB", out), out
    assert "| urlhaus |" in out_file.read_text(encoding="utf-8")


def test_the_peak_memory_is_the_compiles_own_not_the_parents() -> None:
    """The parent holds 300 MiB when it starts the compile: a figure from ru_maxrss would
    carry that over fork and exec; VmHWM of the fresh process does not."""
    require_lists()
    ballast = b"r" * (300 << 20)
    got = real.compile_once({"badware": LISTS["badware"]}, 0)
    assert len(ballast) and int(got["hwm_kib"]) < 200 * 1024, got
    assert int(got["hwm_kib"]) >= int(got["hwm_before_kib"]) > 0
    assert got["summary"]["badware"]["domains"] > 2000
