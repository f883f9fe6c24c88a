"""`roja rpz fleet` when it cannot say that every resolver is current: no secondaries in the
config, no check yet (Roja not running), a check too old, a resolver down or behind, each an
Albanian-first sentence and exit 1, never a traceback. With real secondaries, see
tests/filterd/test_rpz_fleet.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROJA = str(Path(sys.executable).parent / "roja")
SERVED = 'listen = "127.0.0.1:5300"\nallow = ["127.0.0.1/32"]\n'


def fleet(tmp_path: Path, rpz: str, snapshot: dict[str, object] | None = None,
          *args: str) -> subprocess.CompletedProcess[str]:
    state = tmp_path / "state"
    state.mkdir()
    if snapshot is not None:
        (state / "rpz-fleet.json").write_text(json.dumps(dated(snapshot)), encoding="utf-8")
    config = tmp_path / "roja.toml"
    config.write_text(f'[state]\ndir = "{state}"\n[rpz]\n{rpz}', encoding="utf-8")
    return subprocess.run([ROJA, "--config", str(config), "rpz", "fleet", *args],
                          capture_output=True, text=True, timeout=60, check=False)


def entry(target: str, up: bool = True, serial: int = 9,
          behind: bool = False) -> dict[str, object]:
    return {"target": target, "up": up, "serial": serial, "canary": up and not behind,
            "lag": 700 if behind or not up else 0, "behind": behind or not up, "error": ""}


def snapshot(*entries: dict[str, object], age: float = 5) -> dict[str, object]:
    """The daemon's `rpz-fleet.json`, its times relative: `fleet()` dates it when the test runs
    (parametrize builds it at collection, minutes earlier in a full run)."""
    return {"age": age, "serial": 9, "max_lag": 300, "interval": 60,
            "published_age": {"9": 800}, "secondaries": list(entries)}


def dated(snap: dict[str, object]) -> dict[str, object]:
    now, out = time.time(), dict(snap)
    out["checked"] = now - float(out.pop("age"))  # type: ignore[arg-type]
    out["published"] = {k: now - v for k, v in out.pop("published_age").items()}  # type: ignore[attr-defined]
    return out


WATCHED = SERVED + 'secondaries = ["127.0.0.53:53", "127.0.0.54:53"]\n'


@pytest.mark.parametrize(("rpz", "snap", "sq", "en"), [
    (SERVED, None, "asnjë sekondar", "no secondaries listed"),
    (WATCHED, None, "nuk ka punuar ende", "have not been checked yet"),
    (WATCHED, snapshot(entry("127.0.0.53:53"), entry("127.0.0.54:53"), age=600),
     "kontrolli i fundit është", "the last check is"),
    (WATCHED, snapshot(entry("127.0.0.53:53"), entry("127.0.0.54:53", behind=True, serial=8)),
     "1 sekondarë poshtë ose prapa: 127.0.0.54:53", "1 secondaries down or behind"),
])
def test_fleet_fails_loudly(tmp_path: Path, rpz: str, snap: dict[str, object] | None, sq: str,
                            en: str) -> None:
    done = fleet(tmp_path, rpz, snap)
    assert done.returncode == 1, done.stdout + done.stderr
    assert sq in done.stderr and en in done.stderr
    assert done.stderr.index(sq) < done.stderr.index(en)
    assert "Traceback" not in done.stderr


def test_fleet_all_current_exits_0_and_json_is_the_check(tmp_path: Path) -> None:
    snap = snapshot(entry("127.0.0.53:53"), entry("127.0.0.54:53"))
    done = fleet(tmp_path, WATCHED, snap)
    assert done.returncode == 0, done.stderr
    line = "✓ 127.0.0.54:53: serial 9, kanarina bllokohet / canary blocked, vonesa / lag 0 s"
    assert line in done.stdout
    as_json = subprocess.run([ROJA, "--config", str(tmp_path / "roja.toml"), "rpz", "fleet",
                              "--json"], capture_output=True, text=True, timeout=60, check=False)
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout)["secondaries"] == snap["secondaries"]
