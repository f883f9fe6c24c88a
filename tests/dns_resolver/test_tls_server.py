"""Encrypted DNS served by Roja: DNS over TLS (kdig +tls) and DNS over HTTPS (dnspython's DoH
client over HTTP/2 and HTTP/1.1, curl --doh-url), through the same chain, ACL and incidents as
UDP, and the DDR answer (`_dns.resolver.arpa` SVCB) naming the endpoints."""

from __future__ import annotations

import asyncio
import base64
import ssl
import subprocess
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import httpx
import pytest
from cert_kit import self_signed
from peers.programs import require_peer

from filterd.testing import dns_address, running_appliance, write_lists
from reporting.incidents import IncidentStore

LISTS = {"deny.txt": "blocked.test\nbet365.com\n", "hosts.txt": "0.0.0.0 porn.example\n"}

ROJA_TOML = """
[state]
dir = "{{state}}"
[dns]
listen = ["127.0.0.1:0"]
upstreams = ["{upstream}"]
upstream_timeout = 0.3
[dns.acl]
allow = [{allow}]
[dns.tls]
listen = ["127.0.0.1:0"]
{cert}
[dns.https]
listen = ["127.0.0.1:0"]
[[lists]]
id = "deny"
path = "{lists}/deny.txt"
category = "gambling"
[[lists]]
id = "hosts"
path = "{lists}/hosts.txt"
format = "hosts"
category = "pornography"
"""


@pytest.fixture
def lists_dir(tmp_path: Path) -> Path:
    write_lists(tmp_path / "lists", LISTS)
    return tmp_path / "lists"


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


def roja_toml(upstream: tuple[str, int] | None, lists_dir: Path, cert: tuple[Path, Path] | None,
              allow: str = '"127.0.0.1/32", "127.0.0.3/32"') -> str:
    lines = f'cert = "{cert[0]}"\nkey = "{cert[1]}"' if cert else ""
    up = f"{upstream[0]}:{upstream[1]}" if upstream else "127.0.0.1:9"
    return ROJA_TOML.format(upstream=up, allow=allow, cert=lines, lists=lists_dir)


def dq(addr: tuple[str, int], name: str, rdtype: str = "A",
       source: str | None = None) -> dns.message.Message:
    return dns.query.udp(dns.message.make_query(name, rdtype), addr[0], port=addr[1],
                         timeout=3, source=source)


def endpoints(app: object) -> tuple[int, str]:
    enc = app.encrypted   # type: ignore[attr-defined]
    assert enc is not None
    dot_port = enc.bound_tls[0][1]
    return dot_port, f"https://127.0.0.1:{enc.bound_https[0][1]}/dns-query"


def kdig(port: int, ca: Path, name: str,
         source: str = "127.0.0.1") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_peer("kdig"), "@127.0.0.1", "-p", str(port), "-b", source, "+tls",
         f"+tls-ca={ca}", "+tls-hostname=127.0.0.1", "+time=3", "+retry=0", name, "A"],
        capture_output=True, text=True, timeout=20)


def doh(url: str, ca: Path, name: str, *, post: bool, h2: bool,
        source: str | None = None) -> dns.message.Message:
    """A DoH query the way dnspython's `dns.query.https` makes it (its 2.9 client needs
    `httpx2` and h2>=4.4, which the lock does not have): httpx, HTTP/2 or HTTP/1.1, the
    message as the POST body or base64url in GET's `dns=`."""
    wire = dns.message.make_query(name, "A", use_edns=0).to_wire()
    transport = httpx.HTTPTransport(local_address=source, http2=h2, http1=not h2,
                                    verify=ssl.create_default_context(cafile=ca))
    with httpx.Client(transport=transport, timeout=5) as client:
        if post:
            r = client.post(url, content=wire,
                            headers={"content-type": "application/dns-message"})
        else:
            r = client.get(url, params={"dns": base64.urlsafe_b64encode(wire).decode().rstrip("=")})
    r.raise_for_status()
    assert r.http_version == ("HTTP/2" if h2 else "HTTP/1.1")
    assert r.headers["content-type"] == "application/dns-message"
    return dns.message.from_wire(r.content)


def incidents(tmp_path: Path) -> dict[str, str]:
    """name → pseudonymous client of the recorded incidents."""
    rows = IncidentStore(tmp_path / "state" / "incidents.sqlite").list_since(0)
    return {r.name: r.client for r in rows}


async def wait_incidents(tmp_path: Path, names: set[str]) -> dict[str, str]:
    for _ in range(50):
        found = incidents(tmp_path)
        if names <= found.keys():
            return found
        await asyncio.sleep(0.1)
    return incidents(tmp_path)


async def test_dot_answers_blocks_and_records_the_client(tmp_path, lists_dir, cert,
                                                         upstream_dns):
    require_peer("kdig")
    async with running_appliance(tmp_path, roja_toml(upstream_dns.address, lists_dir,
                                                     cert)) as app:
        port, _ = endpoints(app)
        ok = await asyncio.to_thread(kdig, port, cert[0], "www.allowed.test")
        assert "status: NOERROR" in ok.stdout and "192.0.2.10" in ok.stdout, ok.stdout
        assert "TLS" in ok.stdout   # kdig names the TLS session it used
        blocked = await asyncio.to_thread(kdig, port, cert[0], "www.bet365.com", "127.0.0.3")
        assert "status: NXDOMAIN" in blocked.stdout, blocked.stdout
        await asyncio.to_thread(dq, dns_address(app), "porn.example", source="127.0.0.3")
        await asyncio.to_thread(dq, dns_address(app), "bad.blocked.test")
        found = await wait_incidents(tmp_path, {"www.bet365.com", "porn.example",
                                                "bad.blocked.test"})
    # the DoT incident has the DoT client's pseudonym: the same as its UDP query's, not another's
    assert found["www.bet365.com"] == found["porn.example"]
    assert found["www.bet365.com"] != found["bad.blocked.test"]


async def test_dot_refuses_a_client_outside_the_acl(tmp_path, lists_dir, cert, upstream_dns):
    require_peer("kdig")
    async with running_appliance(tmp_path, roja_toml(upstream_dns.address, lists_dir,
                                                     cert)) as app:
        port, _ = endpoints(app)
        refused = await asyncio.to_thread(kdig, port, cert[0], "www.allowed.test", "127.0.0.9")
        assert "192.0.2.10" not in refused.stdout
        assert "NOERROR" not in refused.stdout
        assert app.stats.tcp_closed.get("acl") == 1


@pytest.mark.parametrize("h2", [True, False], ids=["http2", "http1.1"])
@pytest.mark.parametrize("post", [True, False], ids=["POST", "GET"])
async def test_doh_answers_and_blocks(tmp_path, lists_dir, cert, upstream_dns, h2, post):
    async with running_appliance(tmp_path, roja_toml(upstream_dns.address, lists_dir,
                                                     cert)) as app:
        _, url = endpoints(app)
        ok = await asyncio.to_thread(doh, url, cert[0], "www.allowed.test", post=post, h2=h2)
        assert [rr.to_text() for rr in ok.answer[0]] == ["192.0.2.10"]
        blocked = await asyncio.to_thread(doh, url, cert[0], "www.bet365.com", post=post, h2=h2,
                                          source="127.0.0.3")
        assert blocked.rcode() == dns.rcode.NXDOMAIN
        assert blocked.options and blocked.options[0].code == 17   # EDE Filtered
        await asyncio.to_thread(dq, dns_address(app), "porn.example", source="127.0.0.3")
        found = await wait_incidents(tmp_path, {"www.bet365.com", "porn.example"})
    assert found["www.bet365.com"] == found["porn.example"]


async def test_doh_refuses_a_client_outside_the_acl(tmp_path, lists_dir, cert, upstream_dns):
    async with running_appliance(tmp_path, roja_toml(upstream_dns.address, lists_dir, cert,
                                                     allow='"127.0.0.3/32"')) as app:
        _, url = endpoints(app)
        with pytest.raises(httpx.ConnectError):   # reset before the handshake
            await asyncio.to_thread(doh, url, cert[0], "www.allowed.test", post=True, h2=True)
        ok = await asyncio.to_thread(doh, url, cert[0], "www.allowed.test", post=True, h2=True,
                                     source="127.0.0.3")
        assert [rr.to_text() for rr in ok.answer[0]] == ["192.0.2.10"]
        assert app.stats.tcp_closed.get("acl") == 1


async def test_doh_bad_requests_get_http_errors(tmp_path, lists_dir, cert):
    async with running_appliance(tmp_path, roja_toml(None, lists_dir, cert)) as app:
        _, url = endpoints(app)
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=cert[0]),
                                     http2=True) as client:
            assert (await client.get(url)).status_code == 400                     # no dns=
            assert (await client.get(url + "?dns=!!!")).status_code == 400
            assert (await client.post(url, content=b"x" * 20,
                                      headers={"content-type": "text/plain"})).status_code == 415
            assert (await client.put(url, content=b"")).status_code == 405
            assert (await client.get(url.replace("/dns-query", "/other"))).status_code == 404


async def test_curl_doh_url_resolves_allowed_and_not_blocked(tmp_path, lists_dir, cert,
                                                            upstream_dns):
    curl = require_peer("curl")
    async with running_appliance(tmp_path, roja_toml(upstream_dns.address, lists_dir,
                                                     cert)) as app:
        _, url = endpoints(app)

        def fetch(name: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [curl, "-sS", "--doh-url", url, "--cacert", str(cert[0]), "--connect-timeout",
                 "1", "-o", "/dev/null", f"http://{name}/"],
                capture_output=True, text=True, timeout=20)
        blocked = await asyncio.to_thread(fetch, "www.bet365.com")
        assert blocked.returncode == 6, blocked.stderr          # could not resolve host
        allowed = await asyncio.to_thread(fetch, "www.allowed.test")
        assert allowed.returncode != 6, allowed.stderr           # resolved (192.0.2.10)
        found = await wait_incidents(tmp_path, {"www.bet365.com"})
    assert "www.bet365.com" in found


async def test_ddr_names_the_encrypted_endpoints(tmp_path, lists_dir, cert):
    async with running_appliance(tmp_path, roja_toml(None, lists_dir, cert)) as app:
        dot_port, url = endpoints(app)
        doh_port = int(url.split(":")[2].split("/")[0])
        r = await asyncio.to_thread(dq, dns_address(app), "_dns.resolver.arpa", "SVCB")
        other = await asyncio.to_thread(dq, dns_address(app), "_dns.resolver.arpa", "A")
    assert r.rcode() == dns.rcode.NOERROR
    texts = sorted(rr.to_text() for rr in r.answer[0])
    assert texts == [
        f'1 dns.roja.lan. alpn="dot" port="{dot_port}" ipv4hint="127.0.0.1"',
        f'2 dns.roja.lan. alpn="h2,http/1.1" port="{doh_port}" ipv4hint="127.0.0.1" '
        f'dohpath="/dns-query{{?dns}}"']
    assert other.answer == [] and other.rcode() == dns.rcode.NOERROR


async def test_school_ca_issues_the_certificate(tmp_path, lists_dir):
    async with running_appliance(tmp_path, roja_toml(None, lists_dir, None)) as app:
        _, url = endpoints(app)
        ca = tmp_path / "state" / "ca" / "mitmproxy-ca-cert.pem"
        r = await asyncio.to_thread(doh, url, ca, "use-application-dns.net", post=False, h2=True)
    assert r.rcode() == dns.rcode.NXDOMAIN
