"""The shipped lists of bypass endpoints load, are canonical and match as documented."""

from __future__ import annotations

from blocklists.bypass import VPN_PORTS, doh_addresses, doh_hosts, is_doh_host


def test_the_issue_s_doh_endpoints_are_listed() -> None:
    for host in ("dns.google", "cloudflare-dns.com", "mozilla.cloudflare-dns.com",
                 "dns.quad9.net", "doh.opendns.com"):
        assert host in doh_hosts() and is_doh_host(host)
    assert is_doh_host("x.dns.google") and not is_doh_host("google.com")
    assert not is_doh_host("quad9.net")


def test_addresses_and_ports() -> None:
    versions = {a.version for a in doh_addresses()}
    assert versions == {4, 6} and len(doh_addresses()) > 20
    assert ("udp", 51820, "WireGuard") in VPN_PORTS
