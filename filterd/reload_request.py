"""Ask the running appliance to reload its config and wait for the outcome: the path both
`roja reload` and the console's Grupet dhe oraret page take.

    outcome = request_reload(cfg, wait=60.0, by="mesuesi")
    outcome.kind      # "ok" | "failed" | "not_running" | "no_answer" | "missing_list"
    outcome.status    # <state_dir>/reload.json as the appliance wrote it (ok: lists applied,
                      # held back, tables that need a restart; failed: the error)

The appliance writes its pid to `<state_dir>/roja.pid`; SIGHUP makes it re-read the config
and write `<state_dir>/reload.json` with the time, `ok` and the error. A reload that fails in
the appliance keeps the old policy in force. Blocking (sleeps while it waits).
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from filterd import audit
from filterd.config import RojaConfig, missing_lists
from filterd.policy_runtime import PID_NAME, RELOAD_NAME

Kind = Literal["ok", "failed", "not_running", "no_answer", "missing_list"]


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    status: dict[str, Any] = field(default_factory=dict)
    detail: str = ""  # the missing list's id and path, or the pid file that is absent

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    @property
    def held_back(self) -> list[dict[str, Any]]:
        return [h for h in self.status.get("held_back") or () if isinstance(h, dict)]

    def message(self) -> str:
        """One sentence, Albanian first, for what went wrong (empty when ok)."""
        if self.kind == "failed":
            return ("Ringarkimi dështoi, politika e vjetër mbetet / reload failed, the old "
                    f"policy stays: {self.status.get('error', '')}")
        if self.kind == "not_running":
            return (f"Shërbimi nuk punon (s'ka {self.detail}) / the appliance is not running")
        if self.kind == "no_answer":
            return "Pa përgjigje nga shërbimi / no answer from the appliance"
        if self.kind == "missing_list":
            return f"Nuk ringarkohet: mungon skedari i listës {self.detail}"
        return ""


def reload_status(state_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((state_dir / RELOAD_NAME).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def request_reload(cfg: RojaConfig, wait: float = 60.0, by: str = "") -> Outcome:
    """SIGHUP the appliance serving `cfg` and wait up to `wait` seconds for its answer."""
    missing = missing_lists(cfg)
    if missing:
        return Outcome("missing_list", detail=f"{missing[0].rule.id!r} / not reloaded: list "
                                              f"file missing: {missing[0].path}")
    state_dir: Path = cfg.state_dir
    try:
        pid = int((state_dir / PID_NAME).read_text(encoding="ascii").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return Outcome("not_running", detail=str(state_dir / PID_NAME))
    before = float(reload_status(state_dir).get("at", 0.0))
    if by:
        audit.append(state_dir, who=by, what=f"reload requested ({cfg.path})")
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        status = reload_status(state_dir)
        if float(status.get("at", 0.0)) > before:
            return Outcome("ok" if status.get("ok") else "failed", status)
        time.sleep(0.1)
    return Outcome("no_answer")
