"""One owner of "apply": the lists the running appliance enforces, and the one record of it.

`build_policy(cfg)` compiles (or reuses) the configured lists and the synced hotline feed into
one compile and makes the policy that DNS, the proxy and (for the feed's hosts) the RPZ zone
answer from. A list that shrank too much is held back with its last-known-good entries while
every other list's change applies (`blocklists.store`).

The daemon's main process is the only writer of `state_dir/enforced.json`, after every start,
reload and feed change: the hotline serial that is enforced (with its created time, so its
age), the lists held back and why, and the entries per list. `roja status`, `roja lists
status` and `/metrics` read what is enforced from there (or from the daemon's memory, which
holds the same), never from `feed/current.json`, which a manual `roja lists sync` may have
replaced a moment ago. Whoever writes a new `current.json` (the daemon's sync loop or `roja
lists sync`), the daemon notices it by `feed_stamp` within `WATCH_INTERVAL` seconds and applies
it; a change of the enforced serial is the `sync_ok` event ("serial N") of the monthly report.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from blocklists.compiled import CompiledList
from blocklists.store import ListSource, build_active, changed_lists, held_back_in
from filterd.config import RojaConfig
from filterd.hotline import LIST_ID, confidential_set, current_file, hotline_source
from filterd.policy_runtime import PID_NAME
from policy import Policy
from reporting.events import record_event

log = logging.getLogger("roja")
TIRANE = ZoneInfo("Europe/Tirane")
ENFORCED_NAME = "enforced.json"
WATCH_INTERVAL = 1.0  # seconds between looks at feed/current.json


LEGAL_MAX_SHRINK = 0.1  # a legal list that loses more is held back whatever its max_shrink


def list_sources(cfg: RojaConfig) -> list[ListSource]:
    # Deny and legal lists also carry their reserved self-test name (`roja selftest`).
    sources = [ListSource(lc.rule.id, lc.path, lc.format, lc.rule.category, lc.mapping,
                          min(lc.max_shrink, LEGAL_MAX_SHRINK) if lc.rule.kind == "legal"
                          else lc.max_shrink, selftest=lc.rule.kind != "allow",
                          # a legal list's URL entries are never capped
                          max_steered_hosts=(1 << 62) if lc.rule.kind == "legal"
                          else lc.max_steered_hosts, never_steer=lc.never_steer)
               for lc in cfg.policy.lists]
    hotline = hotline_source(cfg.feed, cfg.state_dir)
    if hotline:
        sources.append(dataclasses.replace(hotline[0], selftest=True))
    return sources


def entry_counts(compiled: CompiledList, cfg: RojaConfig) -> dict[str, int]:
    """Entries per list as the lists have them (without their self-test names)."""
    counts = compiled.counts_by_list()
    for source in list_sources(cfg):
        if source.selftest and counts.get(source.id):
            counts[source.id] -= 1
    return counts


def list_outcome(old: CompiledList | None, new: CompiledList, cfg: RojaConfig
                 ) -> dict[str, list[dict[str, Any]]]:
    """What a (re)load did to the lists, for `reload.json` and `roja reload`: `applied` (lists
    whose new files are now enforced, with old → new entry counts) and `held_back` (lists that
    keep their last-known-good entries, and why)."""
    held = held_back_in(new.meta)
    held_ids = {h.list_id for h in held}
    before = entry_counts(old, cfg) if old is not None else {}
    after = entry_counts(new, cfg)
    applied = [lid for lid in changed_lists(old.meta if old is not None else {}, new.meta)
               if lid not in held_ids]
    return {"applied": [{"list": lid, "old": before.get(lid, 0), "new": after.get(lid, 0)}
                        for lid in applied],
            "held_back": [{"list": h.list_id, "old": h.old, "new": h.new, "why": h.why}
                          for h in held]}


def build_policy(cfg: RojaConfig) -> tuple[Policy, CompiledList]:
    """Compile (or reuse) the lists and make the policy; raises on any problem. A list that
    shrank too much is held back with its last-known-good entries (an event and a warning say
    so) while every other list's change applies."""
    for lc in cfg.policy.lists:
        if not (lc.path.is_dir() if lc.format == "ut1" else lc.path.is_file()):
            raise FileNotFoundError(f"list {lc.rule.id!r}: file not found: {lc.path}")
        if lc.mapping is not None and not lc.mapping.is_file():
            raise FileNotFoundError(f"list {lc.rule.id!r}: mapping not found: {lc.mapping}")
    result = build_active(list_sources(cfg), cfg.state_dir)
    compiled = result.compiled
    if result.held_back and not result.reused:  # already logged by build_active
        record_event(cfg.state_dir / "incidents.sqlite", "list_held_back",
                     ", ".join(f"{h.list_id} {h.old}→{h.new}" for h in result.held_back))
    for report in result.reports:
        if report.error_count or report.unsupported or report.unmapped:
            log.warning("%s: %s", report.source, report.summary())
    rules = {lc.rule.id: lc.rule for lc in cfg.policy.lists}
    hotline = hotline_source(cfg.feed, cfg.state_dir)
    if hotline:
        rules[hotline[1].id] = hotline[1]
    policy = Policy(cfg.policy.groups, cfg.policy.default_group, rules, compiled,
                    confidential=confidential_set(cfg.feed, cfg.state_dir),
                    profiles=cfg.policy.profiles, schedules=cfg.policy.schedules,
                    holidays=cfg.policy.holidays, now=datetime.now(TIRANE),
                    addresses=cfg.policy.addresses)
    return policy, compiled


def feed_stamp(state_dir: Path) -> tuple[int, int, int] | None:
    """(inode, size, mtime) of the synced feed file: a new one, whoever wrote it, differs."""
    try:
        st = current_file(state_dir).stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def enforced_record(cfg: RojaConfig, compiled: CompiledList, feed: dict[str, Any],
                    previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """What is enforced now: `feed` is the synced feed's `status` read before the compile;
    while the hotline list is held back (its file damaged) its `previous` serial stays."""
    held = list_outcome(None, compiled, cfg)["held_back"]
    source: dict[str, Any] = feed
    if previous and any(h["list"] == LIST_ID for h in held):
        source = previous
    serial = source.get("serial") if cfg.feed.enabled else None
    return {"at": time.time(), "pid": os.getpid(),
            "serial": serial, "created": source.get("created") if serial else None,
            "expires": source.get("expires") if serial else None,
            "held_back": held, "lists": entry_counts(compiled, cfg)}


def write_enforced(state_dir: Path, record: dict[str, Any]) -> None:
    tmp = state_dir / (ENFORCED_NAME + ".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, state_dir / ENFORCED_NAME)


def read_enforced(state_dir: Path, now: float | None = None) -> dict[str, Any] | None:
    """The record of the running (or last) daemon, with `age_seconds` of its hotline serial
    (since the feed was created); None before the first start."""
    try:
        data = json.loads((state_dir / ENFORCED_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    pid = data.get("pid")
    try:  # the daemon removes roja.pid when it stops
        running = int((state_dir / PID_NAME).read_text(encoding="ascii")) == pid
    except (OSError, ValueError):
        running = False
    data["running"] = running and isinstance(pid, int) and _alive(pid)
    created = data.get("created")
    if isinstance(created, str):
        moment = datetime.fromisoformat(created).timestamp()
        data["age_seconds"] = max(0, int((now or time.time()) - moment))
    return data


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process (roja runs as its own user): alive
        return True
    return True


def record_serial_change(state_dir: Path, old: object, new: object) -> None:
    """The `sync_ok` event of a newly enforced hotline serial (whoever synced it)."""
    if new is not None and new != old:
        record_event(state_dir / "incidents.sqlite", "sync_ok", f"serial {new}")

