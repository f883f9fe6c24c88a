"""Grupet dhe oraret / Groups and schedules: the groups (address ranges), their profiles,
the schedules and the holidays as roja.toml has them, and (the teacher only) their forms.

    GET  /grupet                          the page (the director reads it, without forms)
    POST /grupet/{kind}/{target}          a form (`filterd.console.groups_edit`): checked like
                                          `roja config check`; 400 naming the key, or the diff
    POST ... with `confirm` = the digest  write it, reload, audit

A change is shown as the unified diff of roja.toml before anything is written. The
confirmation carries the form again and the digest of the diff it saw: if the file changed
meanwhile, the new diff is shown instead. Then the file is replaced atomically (a backup
`roja.toml.bak-…` kept, `filterd.install.update.replace_config`), the running appliance
reloads it the way `roja reload` asks it (`filterd.reload_request`), and the audit log
records the change and its diff under the teacher's name. When the reload fails (or the
appliance does not answer), the previous file is put back and the teacher is told.
"""

from __future__ import annotations

import asyncio
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from filterd import audit
from filterd.config import RojaConfig
from filterd.console.app import render, settings, use_settings
from filterd.console.groups_edit import (
    KINDS,
    SCHOOL_DAYS,
    FormError,
    build,
    check,
    diff,
    legal_categories,
    summary,
)
from filterd.console.guards import form_of, signed_in, teacher
from filterd.install.update import replace_config
from filterd.reload_request import request_reload
from policy.categories import CATEGORIES, label
from policy.schedule import DAYS, DAYS_SQ, TIRANE
from reporting.inbox.app import now

RELOAD_WAIT = 30.0
NOT_SENT = ("csrf", "confirm")
Values = dict[str, list[str]]


@dataclass
class Page:
    """What the page shows: the parsed config (None when the file does not check) and the
    raw tables, with each form's values (the file's, or what was just submitted)."""
    cfg: RojaConfig | None
    data: dict[str, Any]
    problem: str = ""
    forms: dict[str, Values] = field(default_factory=dict)


def _day(text: str) -> str:
    return str(text).strip().lower()[:3]


def _forms(data: dict[str, Any], cfg: RojaConfig) -> dict[str, Values]:
    forms: dict[str, Values] = {}
    for g in cfg.policy.groups:
        forms[f"grupi/{g.id}"] = {"profile": [g.profile], "safe_search": [g.safe_search],
                                  "ip_literals": [g.ip_literals]}
    for p in cfg.policy.profiles.values():
        forms[f"profili/{p.id}"] = {
            "block": list(CATEGORIES) if p.block is None else sorted(p.block),
            "safe_search": [p.safe_search]}
    for i, s in enumerate(data.get("schedules") or ()):
        windows = s.get("windows", [])
        forms[f"orari/{i}"] = {
            "name": [str(s.get("name", ""))], "groups": list(s.get("groups", [])),
            "categories": list(s.get("categories", [])),
            "action": [str(s.get("action", "allow"))],
            "windows": [", ".join(windows) if isinstance(windows, list) else str(windows)],
            "days": [_day(d) for d in s.get("days", SCHOOL_DAYS)],
            "on_holidays": ["1"] if s.get("on_holidays") else []}
    forms["orari/i-ri"] = {"action": ["allow"], "days": list(SCHOOL_DAYS)}
    holidays = (data.get("policy") or {}).get("holidays", [])
    forms["pushimet/-"] = {"holidays": ["\n".join(holidays) if isinstance(holidays, list)
                                        else str(holidays)]}
    return forms


def _read(path: Path) -> tuple[str, Page]:
    """The file's text and what the page shows of it (blocking)."""
    text = path.read_text(encoding="utf-8")
    try:
        cfg = check(text, path)
    except FormError as exc:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            data = {}
        return text, Page(None, data, str(exc))
    data = tomllib.loads(text)
    return text, Page(cfg, data, forms=_forms(data, cfg))


def _day_names(days: frozenset[int]) -> str:
    return ", ".join(DAYS_SQ[d] for d in sorted(days))


def _show(request: web.Request, shown: Page, status: int = 200, error: str = "",
          error_for: str = "", done: str = "") -> web.Response:
    cfg = shown.cfg
    legal = legal_categories(shown.data)
    legal_lists = [lc for lc in cfg.policy.lists if lc.rule.kind == "legal"] if cfg else []
    return render(request, "groups.html", status=status, page=shown, error=error,
                  error_for=error_for, done=done, label=label, categories=list(CATEGORIES),
                  legal=legal, legal_lists=legal_lists,
                  days=list(zip(DAYS, DAYS_SQ, strict=True)), day_names=_day_names,
                  config_path=str(settings(request).path))


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    _text, shown = await asyncio.to_thread(_read, settings(request).path)
    return _show(request, shown, done=request.query.get("u", ""))


def _submitted(form: MultiDictProxy[Any]) -> Values:
    out: Values = {}
    for key, value in form.items():
        if key not in NOT_SENT and isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def _apply(cfg: RojaConfig, text: str, new: str, new_cfg: RojaConfig, who: str, what: str,
           lines: list[str], at: float) -> str:
    """Write, reload, audit (blocking). Returns "" when applied, else what went wrong."""
    path = cfg.path
    when = datetime.fromtimestamp(at, TIRANE)
    try:
        backup = replace_config(path, text, new, when)
    except OSError as exc:  # e.g. /etc/roja is not writable by the console's user
        return (f"{path} nuk u shkrua, asgjë nuk ndryshoi / was not written, nothing changed: "
                f"{exc.strerror or exc}")
    outcome = request_reload(new_cfg, RELOAD_WAIT, by=who)
    if outcome.ok:
        held = len(outcome.held_back)
        audit.append(cfg.state_dir, who=who, what=f"config changed (console): {what} ({path})",
                     why=summary(lines) + (f"; {held} list(s) held back" if held else ""))
        return ""
    replace_config(path, new, text, when)  # the old file back; the failed one kept as .bak
    audit.append(cfg.state_dir, who=who, what=f"config change not applied, restored "
                 f"(console): {what} ({path})", why=f"{outcome.message()}; backup {backup}")
    return outcome.message()


async def change(request: web.Request) -> web.StreamResponse:
    me = teacher(request)
    form = await form_of(request)
    kind, target = request.match_info["kind"], request.match_info["target"]
    if kind not in KINDS:
        raise web.HTTPNotFound()
    cfg = settings(request)
    text, shown = await asyncio.to_thread(_read, cfg.path)
    key = f"{kind}/{target}"
    try:
        edit = build(text, kind, target, form)
        new_cfg = await asyncio.to_thread(check, edit.new, cfg.path)
    except FormError as exc:
        shown.forms[key] = _submitted(form)
        return _show(request, shown, 400, str(exc), key)
    lines, digest = diff(text, edit.new, cfg.path)
    confirm = str(form.get("confirm", ""))
    if confirm != digest:
        return render(request, "groups_confirm.html", what=edit.what, lines=lines,
                      digest=digest, action=f"/grupet/{key}", fields=_submitted(form),
                      moved=bool(confirm), config_path=str(cfg.path))
    failed = await asyncio.to_thread(_apply, cfg, text, edit.new, new_cfg, me.name, edit.what,
                                     lines, now(request))
    if failed:
        _text, shown = await asyncio.to_thread(_read, cfg.path)
        return _show(request, shown, 503, "Ndryshimi nuk u zbatua; konfigurimi i mëparshëm u "
                     f"rikthye. / The change was not applied; the previous config was "
                     f"restored. {failed}", key)
    use_settings(request, new_cfg)
    raise web.HTTPSeeOther("/grupet?u=1")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/grupet", page)
    app.router.add_post("/grupet/{kind}/{target}", change)
