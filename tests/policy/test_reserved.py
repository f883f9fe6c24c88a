"""Reserved names: canaries, resolver.arpa NODATA, and the DDR answer when Roja serves
encrypted DNS itself."""

from __future__ import annotations

import pytest

from policy.reserved import SVCB, Ddr, Designated, reserved

DDR = Ddr("dns.roja.lan", (Designated(("dot",), 853),))
A, AAAA = 1, 28


@pytest.mark.parametrize("name", ["use-application-dns.net", "mask.icloud.com",
                                  "mask-h2.icloud.com", "mask-canary.icloud.com"])
def test_canaries_are_nxdomain_with_or_without_ddr(name: str) -> None:
    for ddr in (None, DDR):
        found = reserved(name, A, ddr)
        assert found is not None and found.kind == "nxdomain" and found.zone == name


@pytest.mark.parametrize(("name", "qtype", "ddr", "kind"), [
    ("_dns.resolver.arpa", SVCB, DDR, "designated"),
    ("_dns.resolver.arpa", SVCB, None, "nodata"),
    ("_dns.resolver.arpa", SVCB, Ddr("dns.roja.lan", ()), "nodata"),
    ("_dns.resolver.arpa", A, DDR, "nodata"),
    ("_dns.resolver.arpa", AAAA, DDR, "nodata"),
    ("resolver.arpa", SVCB, DDR, "nodata"),
    ("x._dns.resolver.arpa", SVCB, DDR, "nodata"),   # per-resolver names: not announced
])
def test_resolver_arpa(name: str, qtype: int, ddr: Ddr | None, kind: str) -> None:
    found = reserved(name, qtype, ddr)
    assert found is not None and found.kind == kind and found.zone == "resolver.arpa"
    assert (found.ddr is DDR) == (kind == "designated")


@pytest.mark.parametrize("name", ["xresolver.arpa", "arpa", "resolver.arpa.example",
                                  "www.example.com", "icloud.com"])
def test_other_names_are_not_reserved(name: str) -> None:
    assert reserved(name, SVCB, DDR) is None
