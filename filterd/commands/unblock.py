"""`roja unblock add|list|remove|requests`: time-boxed unblocks for one group, with an audit trail.

    roja unblock add --group nxenesit --host example.org --for 45m --by "A. Hoxha" \\
        --reason "Projekt në klasë"
    roja unblock list
    roja unblock remove 3 --by "A. Hoxha"
    roja unblock requests                      # pending requests from the block page
    roja unblock requests accept 7 --for 45m --by "A. Hoxha"
    roja unblock requests refuse 8 --by "A. Hoxha" --reason "Bixhoz"

An unblock opens the host and its subdomains for the group until it expires; the running
appliance picks it up within seconds (no restart). A host that a legal list blocks is refused:
nothing opens the legal layer. Every change goes into the audit log (`roja audit list`).
"""

from __future__ import annotations

import re
import sys
import time
from datetime import datetime
from typing import Any, NoReturn

import click

from blocklists.canonical import canonical_host
from filterd import audit, overrides
from filterd.unblock_requests import (
    DecisionError,
    accept_request,
    check_openable,
    list_requests,
    refuse_request,
)
from policy.categories import label

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
MAX_SECONDS = 31 * 86400


def parse_duration(text: str) -> int:
    """`45m`, `2h`, `1h30m`, `1d`, `90s` → seconds. click.BadParameter otherwise."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found or not any(found.groups()):
        raise click.BadParameter(f"{text!r}: p.sh. / e.g. 45m, 2h, 1h30m, 1d")
    d, h, m, s = (int(x or 0) for x in found.groups())
    seconds = ((d * 24 + h) * 60 + m) * 60 + s
    if not 0 < seconds <= MAX_SECONDS:
        raise click.BadParameter(f"{text!r}: 1s … 31d")
    return seconds


def _local(ts: float) -> str:
    return datetime.fromtimestamp(ts, audit.TIRANE).strftime("%d.%m.%Y %H:%M")


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


def _check(obj: dict[str, Any], group_id: str, host_text: str) -> str:
    """The canonical host, after checking the group exists and no legal list blocks it."""
    host = canonical_host(host_text)
    if not host:
        _fail(f"{host_text!r} nuk është emër hosti / is not a host name")
    try:
        check_openable(obj["config"], group_id, host)
    except DecisionError as exc:
        _fail(str(exc))
    return host


@click.group()
def unblock() -> None:
    """Zhbllokime të përkohshme / time-boxed unblocks."""


@unblock.command("add", short_help="Zhblloko një host / unblock a host for a while.")
@click.option("--group", "group_id", required=True, help="Grupi / group id")
@click.option("--host", required=True, help="p.sh. / e.g. example.org (edhe nëndomenet)")
@click.option("--for", "duration", required=True, help="45m, 2h, 1d")
@click.option("--by", "by", required=True, help="Kush / who (emri / name)")
@click.option("--reason", required=True, help="Pse / why")
@click.pass_obj
def add(obj: dict[str, Any], group_id: str, host: str, duration: str, by: str,
        reason: str) -> None:
    """Zhblloko një host për një grup / unblock a host for one group, for a while."""
    seconds = parse_duration(duration)
    canonical = _check(obj, group_id, host)
    row = overrides.add(obj["state_dir"], group_id=group_id, host=canonical, seconds=seconds,
                        by=by, reason=reason, now=time.time())
    click.echo(f"Zhbllokimi #{row.id}: {canonical} për / for {group_id} deri më / until "
               f"{_local(row.expires)}")


@unblock.command("list")
@click.option("--all", "everything", is_flag=True, help="Edhe të mbaruarat / also ended ones")
@click.pass_obj
def list_(obj: dict[str, Any], everything: bool) -> None:
    """Zhbllokimet në fuqi / the unblocks in force."""
    now = time.time()
    overrides.sweep_expired(obj["state_dir"], now)
    rows = overrides.list_rows(obj["state_dir"], now, everything)
    if not rows:
        click.echo("Asnjë zhbllokim / no unblocks")
    for r in rows:
        state = ("në fuqi / active" if r.active(now) else
                 "hequr / removed" if r.removed is not None else "mbaroi / expired")
        click.echo(f"#{r.id}  {r.group_id}  {r.host}  deri / until {_local(r.expires)}  "
                   f"{state}  {r.by}: {r.reason}")


@unblock.command("remove")
@click.argument("unblock_id", type=int)
@click.option("--by", "by", default="", help="Kush / who")
@click.option("--reason", default="", help="Pse / why")
@click.pass_obj
def remove(obj: dict[str, Any], unblock_id: int, by: str, reason: str) -> None:
    """Hiq një zhbllokim / end an unblock now."""
    who = by or _user()
    if not overrides.remove(obj["state_dir"], unblock_id, who, time.time(), reason):
        _fail(f"Nuk ka zhbllokim në fuqi #{unblock_id} / no active unblock #{unblock_id}")
    click.echo(f"Zhbllokimi #{unblock_id} u hoq / removed")


def _user() -> str:
    import getpass
    import os

    return os.environ.get("SUDO_USER") or getpass.getuser()


@unblock.group("requests", invoke_without_command=True,
               short_help="Kërkesat për zhbllokim / unblock requests.")
@click.option("--all", "everything", is_flag=True, help="Edhe të vendosurat / also decided")
@click.pass_context
def requests(ctx: click.Context, everything: bool) -> None:
    """Kërkesat nga faqja e bllokimit / requests from the block page."""
    if ctx.invoked_subcommand is not None:
        return
    rows = list_requests(ctx.obj["state_dir"], None if everything else "pending")
    if not rows:
        click.echo("Asnjë kërkesë / no requests")
    for r in rows:
        host = r.host or "(konfidenciale / confidential)"
        click.echo(f"#{r.id}  {_local(r.created)}  {r.group_id}  {host}  {label(r.category)}  "
                   f"×{r.count}  {r.status}" + (f"  «{r.note}»" if r.note else ""))


@requests.command("accept", short_help="Prano kërkesën / accept: unblock for a while.")
@click.argument("request_id", type=int)
@click.option("--for", "duration", required=True, help="45m, 2h, 1d")
@click.option("--by", "by", required=True, help="Kush / who")
@click.option("--reason", default="", help="Pse / why")
@click.pass_obj
def accept(obj: dict[str, Any], request_id: int, duration: str, by: str, reason: str) -> None:
    """Prano: krijon një zhbllokim / accept: creates a time-boxed unblock."""
    seconds = parse_duration(duration)
    state_dir = obj["state_dir"]
    note = {r.id: r.note for r in list_requests(state_dir, "pending")}.get(request_id, "")
    why = reason or note or "kërkesë nga faqja e bllokimit / block-page request"
    try:
        _request, row = accept_request(obj["config"], request_id, seconds=seconds, by=by,
                                       reason=why, now=time.time())
    except DecisionError as exc:
        _fail(str(exc))
    click.echo(f"Kërkesa #{request_id} u pranua; zhbllokimi #{row.id} deri më / until "
               f"{_local(row.expires)} / request accepted")


@requests.command("refuse")
@click.argument("request_id", type=int)
@click.option("--by", "by", required=True, help="Kush / who")
@click.option("--reason", default="", help="Pse / why")
@click.pass_obj
def refuse(obj: dict[str, Any], request_id: int, by: str, reason: str) -> None:
    """Refuzo / refuse a request."""
    try:
        refuse_request(obj["state_dir"], request_id, by=by, reason=reason, now=time.time())
    except DecisionError as exc:
        _fail(str(exc))
    click.echo(f"Kërkesa #{request_id} u refuzua / request refused")
