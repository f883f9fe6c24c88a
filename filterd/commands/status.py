"""`roja status [--json]`: one screen for the teacher, Albanian first.

Each line is marked ✓ (fine), ! (a warning: the filter works but something it should do is
missing or late) or ✗ (a problem: the filter is not doing its job); `filterd.status` says
which is which. Exit status: 0 only when HEALTHY (no problem, no warning), 1 otherwise (the
marked lines say what), 2 config error. `--json` prints the same facts for monitoring
(`healthy`, `state`, `problems`, `warnings`, ...).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import datetime

import click

from filterd.commands.lists import enforced_lines, held_lines
from filterd.config import RojaConfig
from filterd.status import SELFTEST_MAX_AGE, TIRANE, Health, ago, collect
from reporting.plural import count

SERVICE = {"active": "punon / running", "answering": "përgjigjet / answering",
           "inactive": "i ndalur / stopped", "failed": "dështoi / failed",
           "down": "nuk përgjigjet / not answering"}
Mark = Callable[..., str]  # ids → "✓", "!" or "✗"
# What each id means for the school, Albanian first (the overall line lists them).
MEANING = {
    "service": "shërbimi nuk punon / the service is not running",
    "dns_not_answering": "DNS-i nuk përgjigjet / DNS does not answer",
    "encrypted_dns_down": "DNS-i i enkriptuar (DoT/DoH) nuk përgjigjet / encrypted DNS (DoT/DoH) "
                          "does not answer",
    "no_block_lists": "asnjë listë bllokimi / no block list",
    "list_file_missing": "mungon një skedar liste / a list file is missing",
    "list_missing": "lista e linjës ende pa u sinkronizuar / hotline list not synced yet",
    "list_expired": "lista e linjës ka skaduar / hotline list expired",
    "selftest_failed": "vetëkontrolli dështoi / self-test failed",
    "report_failed": "raporti nuk u dorëzua / report delivery failed",
    "incidents_unreadable": "incidentet nuk lexohen / incidents cannot be read",
    "disk_full": "disku është plot / the disk is full",
    "list_not_configured": "pa listën e linjës / no hotline list",
    "list_stale": "lista e linjës e vjetër / hotline list stale",
    "list_sync_failed": "sinkronizimi i listës dështoi / hotline list sync failed",
    "lists_held_back": "lista të mbajtura mbrapa / lists held back",
    "list_refused": "seriali i ri u refuzua / new serial refused",
    "lists_not_loaded": "listat e reja pa u ngarkuar / new lists not loaded",
    "selftest_missing": "asnjë vetëkontroll / no self-test",
    "selftest_old": "vetëkontrolli i vjetër / self-test too old",
    "report_no_recipients": "raporti pa marrës / report has no recipient",
    "report_overdue": "raporti me vonesë / report overdue",
    "incidents_dropped": "incidente të humbura / incidents lost",
    "dns_workers_missing": "një proces DNS ka ndalur / a DNS worker stopped",
}


def _when(at: float) -> str:
    stamp = datetime.fromtimestamp(at, TIRANE).strftime("%d.%m.%Y %H:%M")
    return f"{stamp} (para / ago {ago(time.time() - at)})"


def render(cfg: RojaConfig, h: Health) -> list[str]:
    def mark(*ids: str) -> str:
        if any(i in h.problems for i in ids):
            return "✗"
        return "!" if any(i in h.warnings for i in ids) else "✓"

    lines = [f"Roja: {cfg.school.name or '-'} ({cfg.school.code or '-'})",
             f"{mark('service')} Shërbimi / service: {SERVICE.get(h.service, h.service)} "
             f"[{h.service_how}]"]
    if h.service_how == "systemd" and h.dns_answering is not None:
        where = f"{cfg.dns.listen[0][0]}:{cfg.dns.listen[0][1]}"
        lines.append(f"{mark('dns_not_answering')} DNS {where}: " + (
            "përgjigjet / answering" if h.dns_answering else "NUK përgjigjet / NOT answering"))
    for where, ok in h.encrypted.items():
        lines.append(f"{'✓' if ok else '✗'} {where}: " + (
            "pranon lidhje TLS / accepts TLS" if ok else "NUK pranon lidhje TLS / NOT accepting "
            "TLS (pajisjet që e përdorin mbeten pa DNS / devices using it have no DNS)"))
    lines += _workers(cfg, h, mark)
    lines += _hotline(cfg, h, mark)
    lines += [f"  {line}" for line in enforced_lines(h.lists, held=False)]
    lines += _lists(h, mark) + _selftest(h, mark) + _report(h, mark)
    lines.append(f"{'✗' if 'incidents_unreadable' in h.problems else '·'} Incidente sot / "
                 "incidents today: "
                 + (f"baza e të dhënave nuk lexohet / the database cannot be read "
                    f"({h.incidents_error})" if "incidents_unreadable" in h.problems
                    else str(h.incidents_today)))
    if h.bypass_today:
        lines.append(f"· Përpjekje për të anashkaluar filtrin sot / filter bypass attempts "
                     f"today: {h.bypass_today} nga / from {h.bypass_clients_today} pajisje / "
                     "devices (roja incidents list)")
    if h.incidents_dropped:
        lines.append(f"! Filtri humbi {h.incidents_dropped} incidente që kur nisi (radha plot "
                     f"ose disk) / the filter lost {h.incidents_dropped} incidents since it "
                     "started (queue full or disk)")
    if "disk_full" in h.problems:
        lines.append(f"✗ Disku / disk: vetëm / only {(h.disk_free_bytes or 0) // 2**20} MiB të "
                     f"lira / free në / in {cfg.state_dir}: incidentet dhe listat nuk "
                     "shkruhen dot / incidents and lists cannot be written")
    ids = h.problems + h.warnings
    lines.append("Gjendja / overall: " + (
        "NË RREGULL / HEALTHY" if h.healthy else
        ("KA PROBLEME / NEEDS ATTENTION" if h.problems else "KUJDES / WARNING") + ": "
        + "; ".join(f"{MEANING.get(i, i)} ({i})" for i in ids)))
    return lines


def _workers(cfg: RojaConfig, h: Health, mark: Mark) -> list[str]:
    """How many DNS processes answer (`dns.workers`), when /metrics says so."""
    if h.dns_workers is None:
        return []
    wanted = cfg.dns.workers
    how = (f"auto: {count(wanted, ('bërthamë', 'bërthama'))} / "
           f"{count(wanted, ('core', 'cores'))}" if cfg.dns.workers_auto
           else f"dns.workers = {wanted}")
    return [f"{mark('dns_workers_missing')} Procese DNS / DNS workers: {h.dns_workers} nga / "
            f"of {wanted} ({how})"]


def _hotline(cfg: RojaConfig, h: Health, mark: Mark) -> list[str]:
    label = f"{mark('list_not_configured', 'list_missing', 'list_expired', 'list_stale')} " \
        "Lista e linjës / hotline list: "
    if not cfg.feed.enabled:
        out = [label + "nuk është konfiguruar ([feed]): faqet e konfirmuara nga linja nuk "
               "bllokohen / not configured ([feed]): pages the hotline confirmed are not blocked"]
    elif h.lists.get("serial") is None:
        out = [label + "ende pa u sinkronizuar / not synced yet"]
    else:
        out = [label + f"seriali / serial {h.lists['serial']}, {h.lists['entries']} hyrje / "
               f"entries, e krijuar para / created {ago(h.lists['age_seconds'])}"
               + (" — SKADUAR / EXPIRED" if h.lists.get("expired") else "")
               + (f" — E VJETËR / STALE (> {cfg.feed.stale_hours} orë / h)"
                  if "list_stale" in h.warnings else "")]
    if "list_sync_failed" in h.warnings and h.last_sync is not None:
        out.append(f"! Sinkronizimi i fundit dështoi / last sync failed "
                   f"{_when(h.last_sync['at'])}: {h.last_sync['detail']}")
    return out


def _lists(h: Health, mark: Mark) -> list[str]:
    a = h.active_lists
    text = {
        "loaded": f"{a.get('lists', 0)} lista të ngarkuara në filtër / lists loaded in the "
                  "filter",
        "held_back": f"MBAJTUR MBRAPA / HELD BACK ({a.get('detail')}): një listë u tkurr "
                     "shumë, filtri mban hyrjet e saj të mëparshme / a list shrank too much, "
                     "the filter keeps its previous entries",
        "not_loaded": "skedarët e listave ndryshuan, filtri nuk i ka ngarkuar ende (roja "
                      "reload) / the list files changed, the filter has not loaded them yet "
                      "(roja reload)",
        "not_compiled": "ende pa u përpiluar: filtri nuk ka nisur ndonjëherë / not compiled "
                        "yet: the filter has never started",
        "file_missing": f"MUNGON / MISSING {a.get('detail')}: rinisja ose ringarkimi do të "
                        "dështonte / a restart or reload would fail",
        "unknown": f"nuk u kontrolluan / could not be checked ({a.get('detail')})",
    }.get(str(a.get("state")), str(a.get("state")))
    ids = ("lists_held_back", "list_refused", "lists_not_loaded", "list_file_missing",
           "no_block_lists")
    out = [f"{mark(*ids)} Listat / lists: {text}"]
    out += [f"  {line}" for line in held_lines(h.lists.get("enforced") or {})]
    if "no_block_lists" in h.problems:
        out.append("✗ Asnjë listë bllokimi (deny/legal) dhe pa listë linje: filtri nuk bllokon "
                   "asgjë / no deny or legal list and no hotline list: the filter blocks nothing")
    return out


def _selftest(h: Health, mark: Mark) -> list[str]:
    if h.selftest is None:
        return ["! Vetëkontrolli / self-test: asnjë ende, askush nuk ka provuar që filtri punon "
                "(roja selftest) / none yet, nothing has checked that the filter works"]
    result = "kaloi / passed" if h.selftest["ok"] else \
        f"DËSHTOI / FAILED: {h.selftest['detail']}"
    old = f" — më i vjetër se / older than {int(SELFTEST_MAX_AGE.total_seconds() // 3600)} " \
        "orë / h" if "selftest_old" in h.warnings else ""
    return [f"{mark('selftest_failed', 'selftest_old')} Vetëkontrolli i fundit / last "
            f"self-test: {result}, {_when(h.selftest['at'])}{old}"]


def _report(h: Health, mark: Mark) -> list[str]:
    out = []
    if h.report is None:
        out.append("· Raporti i fundit / last report: asnjë ende / none yet")
    else:
        r = h.report
        state = {"sent": "u dërgua / sent", "queued": "në pritje / queued",
                 "sending": "po dërgohet / sending",
                 "failed_permanent": f"dështoi / failed: {r['error']}"}[r["status"]]
        out.append(f"{mark('report_failed')} Raporti i fundit / last report: {r['period']} → "
                   f"{r['recipient']}: {state}, {_when(r['at'])}")
    if "report_no_recipients" in h.warnings:
        out.append("! Raporti / report: pa marrës ([report.smtp] ose [report.https]), raporti "
                   "vetëm ndërtohet / no recipient ([report.smtp] or [report.https]), the "
                   "report is only built")
    if "report_overdue" in h.warnings and h.report_due is not None:
        d = h.report_due
        out.append(f"! Raporti i {d['period']} me vonesë / the {d['period']} report is overdue: "
                   f"pa dorëzuar te / not delivered to {', '.join(d['missing'])}")
    return out


@click.command("status", short_help="Gjendja e Rojës / Roja's state at a glance.")
@click.option("--json", "as_json", is_flag=True, help="Në JSON / as JSON")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Gjendja e Rojës në një ekran / Roja's state on one screen."""
    cfg: RojaConfig = ctx.obj["config"]
    health = collect(cfg)
    if as_json:
        click.echo(json.dumps(health.as_json(), ensure_ascii=False, indent=2))
    else:
        for line in render(cfg, health):
            click.echo(line)
    sys.exit(0 if health.healthy else 1)
