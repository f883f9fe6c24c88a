"""Pse u bllokua? / Why was it blocked?: the policy's explanation for a name or URL, a group
or a client address, and a time, step by step (the code behind `roja policy explain`,
`filterd.policy_explain`).

    GET /pse?emri=tiktok.com&grupi=nxenesit&koha=2026-11-05T10:00
    GET /pse?emri=https://example.com/shembull/&klienti=10.0.3.17

`emri` is a host name or a URL (a value with a `/` or a scheme is a URL; `http://` is assumed);
`klienti`, when given, wins over `grupi`; `koha` is Europe/Tirane wall-clock time (default:
now). Read-only: the teacher and the director may ask; nothing is recorded.
"""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import datetime

from aiohttp import web

from blocklists.canonical import canonical_host
from blocklists.urls import canonical_url
from filterd.console.app import render, settings
from filterd.console.guards import signed_in
from filterd.policy_explain import (
    ListsNotLoadedError,
    NoAddressForGroupError,
    explain_request,
    group_ids,
)
from policy.explain import Explanation
from policy.schedule import TIRANE, aware
from reporting.inbox.app import now


class AskError(ValueError):
    """A form value that cannot be explained; the message is Albanian, then English."""


def _target(text: str) -> tuple[str | None, str | None]:
    """(host, url): a value with a `/` or a scheme is a URL."""
    if "://" in text or "/" in text:
        url = text if "://" in text else f"http://{text}"
        found = canonical_url(url)
        if found is not None and canonical_host(found.host) == found.host:
            return None, url
    host = canonical_host(text)
    if not host or "/" in text:
        raise AskError(f"«{text}» nuk është emër faqeje as URL. / «{text}» is not a host name "
                    "or a URL.")
    return host, None


def _time(text: str, default: float) -> datetime:
    if not text:
        return datetime.fromtimestamp(default, TIRANE)
    try:
        return aware(datetime.fromisoformat(text))
    except ValueError:
        raise AskError(f"«{text}»: koha duhet VVVV-MM-DD OO:MM. / the time must be YYYY-MM-DD "
                    "HH:MM.") from None


def _ask(request: web.Request, groups: dict[str, str]) -> tuple[str, Explanation] | None:
    """(what was asked, the explanation), or None when no name was given. Blocking."""
    q = request.query
    text = q.get("emri", "").strip()
    if not text:
        return None
    host, url = _target(text)
    at = _time(q.get("koha", "").strip(), now(request))
    client, group = q.get("klienti", "").strip(), q.get("grupi", "").strip()
    if client:
        try:
            ipaddress.ip_address(client)
        except ValueError:
            raise AskError(f"«{client}» nuk është adresë IP. / «{client}» is not an IP "
                        "address.") from None
    elif group not in groups:
        raise AskError("Zgjidhni grupin ose shkruani adresën e klientit. / Choose a group or "
                    "give a client address.")
    try:
        found = explain_request(settings(request), client or None, host=host, url=url, at=at,
                                group_id=None if client else group)
    except NoAddressForGroupError:
        raise AskError(f"Grupi {group} njihet vetëm nga MAC-u: shkruani adresën e një klienti. / "
                    f"Group {group} is known by MAC only: give a client's address.") from None
    return f"{url or host} · {at:%Y-%m-%d %H:%M}", found


async def page(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    groups = dict(group_ids(settings(request)))
    error, status, asked, found = "", 200, "", None
    try:
        result = await asyncio.to_thread(_ask, request, groups)
    except AskError as exc:
        error, status = str(exc), 400
    except ListsNotLoadedError as exc:
        error, status = (f"Listat nuk u ngarkuan, s'ka shpjegim. / The lists did not load, "
                         f"nothing can be explained: {exc}"), 503
    else:
        if result is not None:
            asked, found = result
    at = datetime.fromtimestamp(now(request), TIRANE)
    return render(request, "explain.html", status=status, groups=groups, error=error,
                  asked=asked, found=found, q=request.query,
                  default_time=f"{at:%Y-%m-%dT%H:%M}")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/pse", page)
