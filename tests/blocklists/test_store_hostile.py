"""Hostile list files cost bounded memory, log and time: a bad line is quoted in at most 200
bytes, a line longer than 4 KiB is rejected without being held whole, a 200 MB list of long
lines compiles in bounded memory (measured in a real process), and the compile child dies with
its parent while leftovers are removed at the next start."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blocklists.readers import ReadReport, read_entries, read_list
from blocklists.store import ACTIVE_NAME, LOCK_NAME

MAX_LINE = 4096  # blocklists.formats.common.MAX_LINE

ROOT = Path(__file__).resolve().parents[2]
HUGE = 10 * 1024 * 1024


@pytest.mark.parametrize("fmt,prefix,suffix", [
    ("domains", "", ""), ("hosts", "0.0.0.0 ", ""), ("adblock", "||", "^"),
    ("urls", "http://", "/a"), ("rpz", "", " CNAME .")])
def test_a_10_mb_line_is_quoted_in_at_most_200_bytes(tmp_path: Path, fmt: str, prefix: str,
                                                     suffix: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    listed = tmp_path / "list.txt"
    with listed.open("w") as f:
        for name in ("ok.example", "a" * HUGE + ".example", "also-ok.example"):
            f.write(f"{prefix}{name}{suffix}\n")
    report = ReadReport(str(listed))
    with caplog.at_level(logging.WARNING):
        hosts = [e.host for e in read_entries(listed, fmt, report)]
    assert "ok.example" in hosts and "also-ok.example" in hosts
    assert report.error_count == 1 and report.errors[0].lineno == 2
    assert len(report.errors[0].text.encode()) <= 200
    assert len(report.errors[0].why.encode()) <= 200
    assert caplog.records and max(len(r.getMessage()) for r in caplog.records) < 1000


def test_lines_just_under_and_over_the_limit(tmp_path: Path) -> None:
    listed = tmp_path / "list.txt"
    name = "||" + "a" * (MAX_LINE - 3)  # not a valid host, but within the limit
    listed.write_text(f"{name}\n{'b' * (MAX_LINE + 1)}\nok.example\n")
    report = ReadReport(str(listed))
    assert list(read_list(listed, "adblock", report)) == ["ok.example"]
    assert [e.lineno for e in report.errors] == [1, 2]
    assert "longer than 4096" in report.errors[1].why


MEASURE = """
import json, resource, sys
from pathlib import Path
from blocklists.store import ListSource, build_active
src = ListSource("x", Path(sys.argv[1]), sys.argv[2], "other")
result = build_active([src], Path(sys.argv[3]))
# VmHWM, not RUSAGE_SELF: Linux carries ru_maxrss across fork and exec, so RUSAGE_SELF would
# report the peak of the pytest process that started this one (~390 MB late in a full run)
peak = next(int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmHWM:"))
print(json.dumps({"self_kib": peak,
                  "child_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "entries": result.compiled.count}))
"""


@pytest.mark.parametrize("fmt", ["domains", "adblock"])
def test_a_200_mb_list_of_long_lines_compiles_in_bounded_memory(tmp_path: Path,
                                                                fmt: str) -> None:
    listed = tmp_path / "long.txt"
    line = "x" * (5 * 1024 * 1024 - 1) + "\n"
    with listed.open("w") as f:
        f.write("ok.example\n")
        for _ in range(40):
            f.write(line)
    assert listed.stat().st_size > 200 * 1024 * 1024
    out = subprocess.run([sys.executable, "-c", MEASURE, str(listed), fmt,
                          str(tmp_path / "state")], capture_output=True, text=True, cwd=ROOT,
                         timeout=300, check=True)
    used = json.loads(out.stdout)
    print(f"{fmt}: DNS process {used['self_kib'] // 1024} MiB, compile child "
          f"{used['child_kib'] // 1024} MiB max RSS")
    assert used["entries"] == 1  # ok.example; every long line was refused
    assert used["self_kib"] < 200 * 1024 and used["child_kib"] < 200 * 1024


SLOW = """
import sys
from pathlib import Path
from blocklists.store import ListSource, build_active
build_active([ListSource("x", Path(sys.argv[1]), "adblock", "other")], Path(sys.argv[2]))
"""


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_compile_child_dies_with_its_parent_and_leftovers_go(tmp_path: Path) -> None:
    listed = tmp_path / "big.txt"
    with listed.open("w") as f:
        for i in range(1_500_000):
            f.write(f"||site{i}.example^$third-party\n")
    state = tmp_path / "state"
    parent = subprocess.Popen([sys.executable, "-c", SLOW, str(listed), str(state)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not (kids := _children(parent.pid)):
            assert time.monotonic() < deadline and parent.poll() is None
            time.sleep(0.05)
        time.sleep(1.0)  # the child is compiling now
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while any(_alive(k) for k in kids):
            assert time.monotonic() < deadline, "the compile child outlived its parent"
            time.sleep(0.05)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    (state / (ACTIVE_NAME + ".new")).write_bytes(b"half a compile")
    (state / (ACTIVE_NAME + ".new.tmp123")).write_bytes(b"half a compile")
    small = tmp_path / "small.txt"
    small.write_text("||ok.example^\n")
    subprocess.run([sys.executable, "-c", SLOW, str(small), str(state)], cwd=ROOT, check=True,
                   timeout=120)
    assert sorted(p.name for p in state.iterdir()) == [ACTIVE_NAME, LOCK_NAME]
