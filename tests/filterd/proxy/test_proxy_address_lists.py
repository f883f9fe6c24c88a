"""Address lists in the proxy: an IP-literal host, or the address a name resolves to, that a
deny list names gets that list's block page and incident, even for a group allowed to type
addresses (`ip_literals = "allow"`). Real curl through `proxy_kit`'s rig."""

from __future__ import annotations

import asyncio
from pathlib import Path

from proxy_kit import ORIGIN_IP, curl, rig, wait_for_incidents

from reporting.incidents import IncidentStore

PAGE_TEXT = "Kjo faqe u bllokua"
H = "roja-proxy.test"
EXTRA = """
[[lists]]
id = "ipbad"
path = "{lists}/ipbad.txt"
category = "malware"
"""


def counts(state: Path) -> dict[str, int]:
    return {row.name: row.count for row in IncidentStore(state / "incidents.sqlite")
            .list_since(0)}


async def test_listed_address_is_blocked_by_its_list(tmp_path: Path) -> None:
    async with rig(tmp_path, "explicit", lists_extra={"ipbad.txt": f"{ORIGIN_IP}/32\n"},
                   group_keys='ip_literals = "allow"', extra=EXTRA) as r:
        typed = await curl("-x", r.proxy_url, r.url(ORIGIN_IP, "/x"))
        named = await curl("-x", r.proxy_url, r.url(f"origin.{H}", "/x"))
        for res in (typed, named):
            assert res.status == 403 and PAGE_TEXT in res.body and "origin:" not in res.body
            assert "Programe keqdashëse" in res.body  # the list's category, not filter_bypass
        # a TLS tunnel that is not decrypted: refused at connect time, still an incident
        tunnel = await curl("-x", r.proxy_url, "--cacert", str(r.certs.ca), "-p",
                            r.url(f"origin.{H}", "/salut", tls=True))
        assert tunnel.status != 200 and "origin:" not in tunnel.body, tunnel
        found = await wait_for_incidents(r, 2)
        for _ in range(100):  # the tunnel's incident repeats the name's: its count goes up
            if counts(r.state).get(f"origin.{H}") == 2:
                break
            await asyncio.sleep(0.05)
    assert counts(r.state)[f"origin.{H}"] == 2
    assert (f"http://{ORIGIN_IP}/x", "malware", "ipbad", "blocked", "proxy") in found, found
    assert (f"origin.{H}", "malware", "ipbad", "blocked", "proxy") in found, found


async def test_unlisted_address_passes_where_ip_literals_are_allowed(tmp_path: Path) -> None:
    async with rig(tmp_path, "explicit", lists_extra={"ipbad.txt": "192.0.2.1\n"},
                   group_keys='ip_literals = "allow"', extra=EXTRA) as r:
        typed = await curl("-x", r.proxy_url, r.url(ORIGIN_IP, "/x"))
        assert typed.status == 200 and "origin:" in typed.body, typed
        named = await curl("-x", r.proxy_url, r.url(f"origin.{H}", "/x"))
        assert named.status == 200, named


ALLOW_EXTRA = EXTRA + """
[[lists]]
id = "ok"
kind = "allow"
path = "{lists}/ok.txt"
category = ""
"""


async def test_allow_lists_open_listed_addresses_as_the_resolver_does(tmp_path: Path) -> None:
    """An allow list's address exempts it from deny address lists at the proxy, and a name an
    allow list opens meets only legal address lists there, exactly as at the resolver."""
    async with rig(tmp_path, "explicit",
                   lists_extra={"ipbad.txt": f"{ORIGIN_IP}/32\n",
                                "ok.txt": f"{ORIGIN_IP}\n"},
                   group_keys='ip_literals = "allow"', extra=ALLOW_EXTRA) as r:
        typed = await curl("-x", r.proxy_url, r.url(ORIGIN_IP, "/x"))
        named = await curl("-x", r.proxy_url, r.url(f"origin.{H}", "/x"))
        for res in (typed, named):
            assert res.status == 200 and "origin:" in res.body, res
    (tmp_path / "by-name").mkdir()
    async with rig(tmp_path / "by-name", "explicit",
                   lists_extra={"ipbad.txt": f"{ORIGIN_IP}/32\n", "ok.txt": f"origin.{H}\n"},
                   group_keys='ip_literals = "allow"', extra=ALLOW_EXTRA) as r:
        named = await curl("-x", r.proxy_url, r.url(f"origin.{H}", "/x"))
        assert named.status == 200 and "origin:" in named.body, named
        typed = await curl("-x", r.proxy_url, r.url(ORIGIN_IP, "/x"))
        assert typed.status == 403, typed  # the address itself is not opened
