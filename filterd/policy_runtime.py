"""Keeps the policy in force current while the appliance runs: unblocks, schedules, neighbours.

The policy itself is pure; this is the part that watches the world and hands it new data:
- the unblock store (`filterd.overrides`): a change seen through `PRAGMA data_version` on the
  next poll (every `poll` seconds) brings in a policy with the new set of unblocks;
- time: the policy says when its state stops being valid (`Policy.next_change()`: the next
  schedule boundary in Europe/Tirane, or the next unblock expiry); the loop sleeps until then
  (at most `poll`) and moves the policy there;
- the neighbour table (`filterd.neighbours`), only when some group has `macs`, every 30 s.
Each new policy goes to `on_change`, which swaps it in and clears the resolver's cached
decisions. Expired unblocks are written to the audit log once (`overrides.sweep_expired`).

Also here: the pid file (`<state_dir>/roja.pid`) and the last reload's outcome
(`<state_dir>/reload.json`) that `roja reload` reads, and the audit entries of config loads.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from filterd import audit, overrides
from filterd.neighbours import REFRESH_SECONDS, read_neighbours
from policy import Policy, Unblock

log = logging.getLogger("roja.policy")
PID_NAME, RELOAD_NAME = "roja.pid", "reload.json"


class PolicyRuntime:
    def __init__(self, state_dir: Path, base: Policy, on_change: Callable[[Policy], None], *,
                 main: bool = True, poll: float = 2.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.state_dir = state_dir
        self.base = base
        self.on_change = on_change
        self.main = main  # only the main process writes audit entries
        self.poll = poll
        self.clock = clock
        self.unblocks = overrides.active(state_dir, clock())
        self.neighbours: Mapping[str, str] = MappingProxyType({})
        self._watch = overrides.ChangeWatch(state_dir)
        self._neighbours_at = 0.0
        self.current = self.compose()

    @property
    def uses_macs(self) -> bool:
        return any(g.macs for g in self.base.groups)

    def compose(self) -> Policy:
        now = datetime.fromtimestamp(self.clock(), UTC)
        return replace(self.base, unblocks=self.unblocks, neighbours=self.neighbours, now=now)

    def _swap(self) -> None:
        self.current = self.compose()
        self.on_change(self.current)

    def set_base(self, base: Policy) -> Policy:
        """A reloaded policy: the same unblocks and neighbours, the state of now."""
        self.base = base
        self._swap()
        return self.current

    def _look(self, now: float, due: datetime | None) -> tuple[Unblock, ...] | None:
        """In a thread: the unblocks in force if the store changed or the state ran out."""
        if self._watch.changed() or (due is not None and now >= due.timestamp()):
            if self.main:
                overrides.sweep_expired(self.state_dir, now)
            return overrides.active(self.state_dir, now)
        return None

    def tick(self) -> bool:
        """One look at the store and the clock; True if a new policy was swapped in."""
        fresh = self._look(self.clock(), self.current.next_change())
        if fresh is None:
            return False
        self.unblocks = fresh
        self._swap()
        return True

    async def run(self) -> None:
        while True:
            try:
                fresh = await asyncio.to_thread(self._look, self.clock(),
                                                self.current.next_change())
                if fresh is not None:
                    self.unblocks = fresh
                    self._swap()  # on the loop: the resolver's caches are the loop's
                if self.uses_macs and self.clock() - self._neighbours_at >= REFRESH_SECONDS:
                    self._neighbours_at = self.clock()
                    table = await asyncio.to_thread(read_neighbours)
                    if dict(table) != dict(self.neighbours):
                        self.neighbours = table
                        self._swap()
            except asyncio.CancelledError:
                raise
            except Exception:  # the filter keeps its last policy; try again next time
                log.exception("policy refresh failed")
            due = self.current.next_change()
            wait = self.poll if due is None else min(self.poll, due.timestamp() - self.clock())
            await asyncio.sleep(max(0.05, wait))

    def close(self) -> None:
        self._watch.close()


def config_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "?"


def record_load(state_dir: Path, config_path: Path, old: Policy | None, new: Policy,
                why: str) -> None:
    """Audit entries for a (re)load: the config's digest, and every list added or removed."""
    what = f"config {'reload' if old else 'load'} {config_path} sha256:{config_digest(config_path)}"
    audit.append(state_dir, who="roja", what=what, why=why)
    if old is None:
        return
    before, after = set(old.rules), set(new.rules)
    for list_id in sorted(after - before):
        audit.append(state_dir, who="roja", what=f"list added {list_id} "
                     f"({new.rules[list_id].kind}, {new.rules[list_id].category})", why=why)
    for list_id in sorted(before - after):
        audit.append(state_dir, who="roja", what=f"list removed {list_id}", why=why)


def write_pid(state_dir: Path) -> None:
    (state_dir / PID_NAME).write_text(f"{os.getpid()}\n", encoding="ascii")


def remove_pid(state_dir: Path) -> None:
    path = state_dir / PID_NAME
    try:
        if path.read_text(encoding="ascii").strip() == str(os.getpid()):
            path.unlink()
    except OSError:
        pass


def write_reload_status(state_dir: Path, ok: bool, error: str = "",
                        restart: tuple[str, ...] = (),
                        lists: Mapping[str, object] | None = None) -> None:
    """`restart`: config tables that changed but apply only after a restart (e.g. "proxy");
    `lists`: `applied` and `held_back` lists (see `filterd.app.list_outcome`)."""
    tmp = state_dir / (RELOAD_NAME + ".tmp")
    tmp.write_text(json.dumps({"at": time.time(), "ok": ok, "error": error,
                               "restart": list(restart), **(lists or {})},
                              ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, state_dir / RELOAD_NAME)
