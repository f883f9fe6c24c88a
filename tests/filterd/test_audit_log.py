"""The hash-chained audit log: appends chain, and any edit, deletion, reordering or cut is
found, naming the first bad entry (property tests over the real file)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from filterd import audit
from filterd.cli import main


def _fill(state: Path, n: int) -> list[str]:
    for i in range(n):
        audit.append(state, who=f"mësues {i}", what=f"unblock add #{i}", why="arsye ë ç")
    return (state / audit.LOG_NAME).read_text(encoding="utf-8").splitlines(keepends=True)


def _write(state: Path, lines: list[str]) -> None:
    (state / audit.LOG_NAME).write_text("".join(lines), encoding="utf-8")


def test_entries_chain_and_verify(tmp_path: Path) -> None:
    _fill(tmp_path, 3)
    entries = audit.read(tmp_path)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev == audit.GENESIS and entries[1].prev == entries[0].hash
    assert entries[2].who == "mësues 2" and entries[2].why == "arsye ë ç"
    v = audit.verify(tmp_path)
    assert v.ok and v.count == 3 and "i paprekur" in v.message and "intact" in v.message


N = 6


@settings(max_examples=60, deadline=None)
@given(data=st.data(), kind=st.sampled_from(["edit", "delete", "swap", "cut", "truncate_end"]))
def test_tampering_is_detected(data: st.DataObject, kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        lines = _fill(state, N)
        i = data.draw(st.integers(0, N - 2), label="index")
        if kind == "edit":
            entry = json.loads(lines[i])
            field = data.draw(st.sampled_from(["who", "what", "why", "time"]))
            entry[field] = entry[field] + "x"
            lines[i] = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
            first_bad = i + 1
        elif kind == "delete":
            del lines[i]
            first_bad = i + 1
        elif kind == "swap":
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
            first_bad = i + 1
        elif kind == "cut":  # bytes cut out of the middle, across a line boundary
            text = "".join(lines)
            start = sum(len(x) for x in lines[:i]) + data.draw(st.integers(1, 20))
            end = start + data.draw(st.integers(5, 200))
            lines = [text[:start] + text[end:]]
            first_bad = i + 1
        else:
            lines = lines[:i + 1]
            first_bad = i + 2
        _write(state, lines)
        v = audit.verify(state)
        assert not v.ok
        assert v.bad_seq == first_bad, (kind, v)
        assert f"hyrja {first_bad}" in v.message and f"entry {first_bad}" in v.message


def test_recomputed_hashes_still_break_the_head(tmp_path: Path) -> None:
    """Rewriting the tail consistently is caught by the head (last seq and hash)."""
    lines = _fill(tmp_path, 3)
    _write(tmp_path, lines[:2])
    assert audit.verify(tmp_path).bad_seq == 3


def test_cli_list_and_verify(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cfg = tmp_path / "roja.toml"
    cfg.write_text(f'[state]\ndir = "{state}"\n', encoding="utf-8")
    lines = _fill(state, 2)
    runner = CliRunner()
    out = runner.invoke(main, ["--config", str(cfg), "audit", "list"])
    assert out.exit_code == 0 and "mësues 1: unblock add #1" in out.output
    ok = runner.invoke(main, ["--config", str(cfg), "audit", "verify"])
    assert ok.exit_code == 0 and "intact: 2 entries" in ok.output
    _write(state, [lines[0].replace("mësues 0", "dikush tjetër"), lines[1]])
    bad = runner.invoke(main, ["--config", str(cfg), "audit", "verify"])
    assert bad.exit_code == 1
    assert "hyrja 1" in bad.output and "entry 1: its content was changed" in bad.output
