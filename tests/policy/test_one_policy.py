"""One policy decides for both servers: for a table of names, URLs, addresses and two groups,
the running resolver (real UDP queries), the running proxy (curl through the explicit proxy)
and `explain` give the same verdict, and `roja policy explain` names a DoH endpoint.

The resolver sees a name, so it is compared with `explain --host`; the proxy sees the URL, so
it is compared with `explain --url`. Verdicts: `block`, `safe` (safe search rewrites or
forces it), `pass`. A URL-listed host passes DNS (steered to the proxy), and the proxy
decides its paths. Peers: NSD and curl (tests/peers)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from dnslib import QTYPE
from peers.nsd import start_nsd
from proxy_kit import ORIGIN_IP, ZONES, Origin, curl, make_certs, origin

from dns_resolver.testing import ask_udp, ede_codes, free_port, make_query, parse
from filterd.app import Appliance
from filterd.cli import main
from filterd.testing import dns_address, running_appliance, write_lists
from policy.explain import explain
from policy.safesearch import tables

PUPILS, STAFF = "127.0.0.1", "127.0.0.8"   # nxenesit (127.0.0.0/8), stafi (127.0.0.8/32)
LISTS = {"urls.txt": "listed.roja-proxy.test/shembull/\n",
         "bixhoz.txt": "blocked.roja-proxy.test\n",
         "ligj.txt": "legal.roja-proxy.test\n"}
SAFE_TARGETS = frozenset(t for table in tables().values() for t in table.values())

# what, host, path, (pupils: DNS, proxy), (staff: DNS, proxy)
TABLE = [
    ("blocked name", "blocked.roja-proxy.test", "/", ("block", "block"), ("pass", "pass")),
    ("allowed name", "origin.roja-proxy.test", "/faqe", ("pass", "pass"), ("pass", "pass")),
    ("DoH endpoint", "dns.google", "/dns-query", ("block", "block"), ("block", "block")),
    ("safe-search host", "www.google.com", "/search?q=a", ("safe", "safe"),
     ("pass", "pass")),
    ("self-test reserved name", "bixhoz.selftest.roja.test", "/", ("block", "block"),
     ("pass", "pass")),
    ("URL-listed URL", "listed.roja-proxy.test", "/shembull/x", ("pass", "block"),
     ("pass", "block")),
    ("unlisted path on its host", "listed.roja-proxy.test", "/tjeter", ("pass", "pass"),
     ("pass", "pass")),
    ("IP literal", ORIGIN_IP, "/", ("block", "block"), ("pass", "pass")),
    ("private address", "192.168.1.1", "/", ("block", "block"), ("block", "block")),
    ("legal list entry", "legal.roja-proxy.test", "/", ("block", "block"),
     ("block", "block")),
]


def config(upstream: str, lists: Path, ports: dict[str, int]) -> str:
    return f"""
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:{ports['dns']}"]
upstreams = ["{upstream}"]
[[lists]]
id = "urls"
path = "{lists}/urls.txt"
format = "urls"
category = "pornography"
[[lists]]
id = "bixhoz"
path = "{lists}/bixhoz.txt"
category = "gambling"
[[lists]]
id = "ligj"
path = "{lists}/ligj.txt"
category = "extremism"
kind = "legal"
[[groups]]
id = "nxenesit"
name = "Nxënësit"
networks = ["127.0.0.0/8"]
safe_search = "strict"
[[groups]]
id = "stafi"
name = "Stafi"
networks = ["{STAFF}/32"]
safe_search = "off"
ip_literals = "allow"
lists = ["urls"]
[policy]
default_group = "nxenesit"
allow_private = ["{ORIGIN_IP}/32"]
[proxy]
enabled = true
listen = "127.0.0.1:{ports['explicit']}"
steer_ipv4 = "127.0.0.2"
steer_http_port = {ports['steer_http']}
steer_https_port = {ports['steer_https']}
blockpage_listen = "127.0.0.1:{ports['page']}"
blockpage_tls_listen = "127.0.0.1:{ports['page_tls']}"
"""


@contextlib.asynccontextmanager
async def appliance(tmp_path: Path) -> AsyncIterator[tuple[Appliance, Origin]]:
    certs = make_certs(tmp_path)
    nsd = await asyncio.to_thread(start_nsd, tmp_path / "nsd", ZONES)
    write_lists(tmp_path / "lists", LISTS)
    ports = {k: free_port() for k in ("dns", "explicit", "steer_http", "steer_https", "page",
                                      "page_tls")}
    text = config(f"{nsd.host}:{nsd.port}", tmp_path / "lists", ports)
    try:
        async with origin(certs) as org, running_appliance(tmp_path, text) as app:
            yield app, org
    finally:
        await asyncio.to_thread(nsd.stop)


def dns_verdict(app: Appliance, client: str, host: str) -> str:
    reply = parse(ask_udp(dns_address(app), make_query(host, "A", edns=True), source=client))
    if ede_codes(reply):  # 15 Blocked / 17 Filtered: only Roja's blocks carry them
        return "block"
    if any(rr.rtype == QTYPE.CNAME and str(rr.rdata.label).rstrip(".") in SAFE_TARGETS
           for rr in reply.rr):
        return "safe"
    return "pass"


async def proxy_verdict(app: Appliance, client: str, url: str) -> str:
    assert app.cfg.proxy.listen is not None
    host, port = app.cfg.proxy.listen
    res = await curl("--interface", client, "-x", f"http://{host}:{port}", url)
    assert res.status, res  # the proxy answered (a pass may still be 502: nothing there)
    if res.status == 403:
        return "block"
    return "safe" if "safe=active" in res.body else "pass"


def explain_verdict(app: Appliance, client: str, host: str | None = None,
                    url: str | None = None) -> str:
    assert app.policy_ref is not None
    result = explain(app.policy_ref.current, client, host=host, url=url)
    if result.decision.blocked:
        return "block"
    return "safe" if any(s.kind == "safe-search" for s in result.steps) else "pass"


async def test_dns_proxy_and_explain_agree(tmp_path: Path) -> None:
    async with appliance(tmp_path) as (app, org):
        for what, host, path, *expected in TABLE:
            for client, (dns_expected, proxy_expected) in zip((PUPILS, STAFF), expected,
                                                             strict=True):
                port = f":{org.http_port}" if host != "192.168.1.1" else ""
                url = f"http://{host}{port}{path}"
                dns = await asyncio.to_thread(dns_verdict, app, client, host)
                proxied = await proxy_verdict(app, client, url)
                said_host = explain_verdict(app, client, host=host)
                said_url = explain_verdict(app, client, url=url)
                row = (what, client)
                assert (dns, said_host) == (dns_expected, dns_expected), row
                assert (proxied, said_url) == (proxy_expected, proxy_expected), row
        await asyncio.sleep(1.0)  # incidents are written in the background
        found = await asyncio.to_thread(recorded, app.cfg.state_dir)
    assert ("http://dns.google/dns-query", "filter_bypass", "doh", "doh-refused",
            "proxy") in found
    assert ("dns.google", "filter_bypass", "doh", "blocked", "dns") in found
    assert not [f for f in found if "selftest.roja.test" in f[0]]  # checks, not incidents


def recorded(state: Path) -> list[tuple[str, str, str, str, str]]:
    db = sqlite3.connect(state / "incidents.sqlite")
    try:
        return db.execute("SELECT name, category, list_id, action, source FROM incidents"
                          ).fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("target", ["--url=https://dns.google/", "--host=x.dns.google"])
def test_roja_policy_explain_names_a_doh_endpoint(tmp_path: Path, target: str) -> None:
    write_lists(tmp_path / "lists", LISTS)
    ports = dict.fromkeys(("dns", "explicit", "steer_http", "steer_https", "page",
                           "page_tls"), 9)
    cfg = tmp_path / "roja.toml"
    cfg.write_text(config("127.0.0.1:9", tmp_path / "lists", ports).replace(
        "{state}", str(tmp_path / "state")), encoding="utf-8")
    out = CliRunner().invoke(main, ["--config", str(cfg), "policy", "explain", "--client",
                                    STAFF, target], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    doh = next(i for i, line in enumerate(lines) if "DoH endpoint" in line)
    assert "Pikë fundore DoH" in lines[doh - 1]  # Albanian first
    assert "nothing opens it" in lines[doh] and "Decision: BLOCKED" in out.output
