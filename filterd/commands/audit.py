"""`roja audit list|verify`: the hash-chained log of every policy change, for the inspector.

    roja audit list --last 20
    roja audit verify      # exit 0: intact; exit 1: names the first entry that does not fit
    roja audit verify --against-report raport-K7-2026-10.json   # also the report's anchor
    roja audit verify --against-inbox https://inbox.example.al  # every report the inbox has

A consistent rewrite of the whole log and its head passes the plain check; against the anchors
that reports carried out of the school (their `report.audit`: length and head hash) it does
not. The inbox is asked with the school's upload token (`[report.https] token`, or --token).
"""

from __future__ import annotations

import json
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import click

from filterd import audit as log
from filterd.errors import RojaError
from reporting import report_json
from reporting.delivery_config import check_url


@click.group("audit")
def audit() -> None:
    """Regjistri i auditimit / the audit log."""


@audit.command("list")
@click.option("--last", type=int, default=0, help="Vetëm N të fundit / only the last N")
@click.pass_obj
def list_(obj: dict[str, Any], last: int) -> None:
    """Shfaq hyrjet / show the entries."""
    entries = log.read(obj["state_dir"])
    if last > 0:
        entries = entries[-last:]
    if not entries:
        click.echo("Regjistri është bosh / the log is empty")
    for e in entries:
        why = f" — {e.why}" if e.why else ""
        click.echo(f"{e.seq:>5}  {e.time}  {e.who}: {e.what}{why}  [{e.hash[:12]}]")


def report_anchor(path: Path) -> log.Anchor:
    """The anchor a saved report JSON carries (RojaError when unreadable or without one)."""
    try:
        document = report_json.verify(path.read_bytes())
        header = document["report"]["header"]
        found = document["report"].get("audit")
    except OSError as exc:
        raise RojaError("Raporti nuk lexohet", "cannot read the report",
                        f"{path}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise RojaError("Ky nuk është një raport i paprekur roja.report/1",
                        "this is not an intact roja.report/1 file", f"{path}: {exc}") from None
    if not isinstance(found, dict):
        raise RojaError("Raporti nuk mbart ankorim të regjistrit të auditimit (u hartua para "
                        "se të kishte)", "the report carries no audit anchor (it was built "
                        "before reports had one, or with an empty log)", str(path))
    return log.Anchor(int(found["length"]), str(found["head"]),
                      f"raporti {header['period']} / report {header['period']} ({path.name})")


def inbox_anchors(url: str, token: str, ca_file: str = "") -> list[log.Anchor]:
    """Every anchor the inbox at `url` keeps for the school whose token this is."""
    base = url.rstrip("/").removesuffix("/api/reports")
    if (why := check_url(base)) is not None:
        raise RojaError("Adresa e kutisë postare nuk vlen", "invalid inbox address",
                        f"{url}: {why}")
    if not token:
        raise RojaError("Mungon tokeni i shkollës", "the school's token is missing",
                        "[report.https] token te roja.toml, ose / or --token")
    request = urllib.request.Request(f"{base}/api/v1/anchors",
                                     headers={"Authorization": f"Bearer {token}"})
    context = ssl.create_default_context(cafile=ca_file or None)
    try:
        with urllib.request.urlopen(request, timeout=60, context=context) as response:
            body = json.loads(response.read())
        rows = body["anchors"]
        if not rows:
            raise RojaError("Kutia postare nuk ka asnjë raport me ankorim për këtë shkollë",
                            "the inbox holds no report with an audit anchor for this school",
                            base)
        return [log.Anchor(int(r["length"]), str(r["head"]),
                           f"raporti {r['period']} r{r['revision']} te kutia postare / report "
                           f"{r['period']} r{r['revision']} in the inbox ({r['receipt']})")
                for r in rows]
    except urllib.error.HTTPError as exc:
        raise RojaError("Kutia postare nuk i dha ankorimet", "the inbox did not give the "
                        "anchors", f"{base}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RojaError("Kutia postare nuk arrihet", "cannot reach the inbox",
                        f"{base}: {reason}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise RojaError("Kutia postare u përgjigj me diçka të palexueshme",
                        "the inbox's answer is unreadable", f"{base}: {exc}") from None


@audit.command("verify")
@click.option("--against-report", "reports", type=click.Path(path_type=Path), multiple=True,
              metavar="FILE.json", help="Krahaso me ankorimin e këtij raporti / also check "
              "the anchor this saved report carries (repeatable)")
@click.option("--against-inbox", "inbox", metavar="URL", help="Krahaso me ankorimet që ruan "
              "kutia postare / also check every anchor the education office's inbox keeps")
@click.option("--token", default=None, help="Tokeni i shkollës / the school's upload token "
              "(default: [report.https] token)")
@click.pass_obj
def verify(obj: dict[str, Any], reports: tuple[Path, ...], inbox: str | None,
           token: str | None) -> None:
    """Kontrollo zinxhirin / check the hash chain."""
    anchors = [report_anchor(path) for path in reports]
    if inbox is not None:
        https = getattr(getattr(obj.get("config"), "report", None), "https", None)
        anchors += inbox_anchors(inbox, token if token is not None
                                 else getattr(https, "token", ""),
                                 getattr(https, "ca_file", ""))
    state_dir = Path(obj["state_dir"])
    verdict = (log.verify_against(state_dir, anchors) if reports or inbox is not None
               else log.verify(state_dir))
    click.echo(verdict.message, err=not verdict.ok)
    if not verdict.ok:
        sys.exit(1)
