"""The RPZ zone model: its zone file, the IXFR differences kept by ZoneHistory, and the wire
messages of a transfer, read back with dnspython's own zone-transfer code (no network)."""

from __future__ import annotations

import struct

import dns.message
import dns.name
import dns.rdatatype
import dns.xfr
import dns.zone
import pytest

from blocklists.rpz import (
    Record,
    RpzZone,
    ZoneHistory,
    axfr_rrs,
    messages,
    name_wire,
    rr_wire,
    serial_newer,
)

ORIGIN = "rpz.roja."


def zone(serial: int, *names: str) -> RpzZone:
    return RpzZone(ORIGIN, serial, frozenset(names))


def parsed(text: str) -> dns.zone.Zone:
    return dns.zone.from_text(text, origin=ORIGIN, relativize=False)


def as_set(z: dns.zone.Zone) -> set[str]:
    """Every record of a dnspython zone as text, for comparing zones."""
    return {f"{name} {rdataset.ttl} {rdata}"
            for name, rdataset in z.iterate_rdatasets() for rdata in rdataset}


def wire_messages(records: list[Record], rdtype: dns.rdatatype.RdataType,
                  limit: int = 16000) -> list[bytes]:
    question = name_wire(ORIGIN) + struct.pack(">HH", rdtype, 1)
    rrs = [rr_wire(r, ORIGIN) for r in records]
    return list(messages(rrs, 4242, 0x8400, question, name_wire(ORIGIN), limit))


def apply_wire(target: dns.zone.Zone, wires: list[bytes], rdtype: dns.rdatatype.RdataType,
               serial: int | None) -> None:
    """Feed transfer messages to dnspython's dns.xfr.Inbound, as dns.query.inbound_xfr does."""
    with dns.xfr.Inbound(target, rdtype, serial) as inbound:
        done = False
        for wire in wires:
            assert not done, "messages after the final SOA"
            message = dns.message.from_wire(wire, xfr=True, origin=target.from_wire_origin(),
                                            one_rr_per_rrset=rdtype == dns.rdatatype.IXFR)
            done = inbound.process_message(message)
        assert done, "transfer did not end with the SOA"


def test_zone_text_has_soa_ns_canary_and_two_triggers_per_name() -> None:
    z = zone(7, "bad.example", "evil.test")
    text = z.zone_text()
    assert "$ORIGIN rpz.roja.\n" in text
    loaded = parsed(text)
    soa = loaded.get_soa()
    assert soa.serial == 7
    assert (soa.refresh, soa.retry, soa.expire, soa.minimum) == (3600, 600, 1_209_600, 60)
    assert as_set(loaded) == {
        "rpz.roja. 300 localhost. hostmaster.localhost. 7 3600 600 1209600 60",
        "rpz.roja. 300 localhost.",
        "s7.canary.roja.rpz.roja. 300 127.0.0.2",
        "bad.example.rpz.roja. 300 .",
        "*.bad.example.rpz.roja. 300 .",
        "evil.test.rpz.roja. 300 .",
        "*.evil.test.rpz.roja. 300 .",
    }
    cname = loaded.find_rdataset("*.bad.example.rpz.roja.", dns.rdatatype.CNAME)
    assert str(cname[0].target) == "."


def test_zone_text_is_sorted_and_deterministic() -> None:
    a = zone(1, "b.example", "a.example", "c.example")
    b = zone(1, "c.example", "b.example", "a.example")
    assert a.zone_text() == b.zone_text()
    lines = [line.split()[0] for line in a.zone_text().splitlines() if "CNAME" in line]
    assert lines == ["a.example", "*.a.example", "b.example", "*.b.example", "c.example",
                     "*.c.example"]


def test_records_match_zone_text() -> None:
    z = zone(3, "x.example", "y.example")
    from_records = parsed("\n".join(r.text() for r in z.records()) + "\n")
    assert as_set(from_records) == as_set(parsed(z.zone_text()))


@pytest.mark.parametrize(("origin", "serial", "names"), [
    ("rpz.roja", 1, set()),  # not absolute
    ("RPZ.roja.", 1, set()),  # not canonical
    (ORIGIN, -1, set()),
    (ORIGIN, 1 << 32, set()),
    (ORIGIN, 1, {"Bad.Example"}),
    (ORIGIN, 1, {"bad.example."}),
    (ORIGIN, 1, {"bad example"}),
    (ORIGIN, 1, {".".join(["a" * 60] * 4)}),  # fits alone, not as *.name.rpz.roja.
])
def test_bad_zone_is_refused(origin: str, serial: int, names: set[str]) -> None:
    with pytest.raises(ValueError):
        RpzZone(origin, serial, frozenset(names))


def test_from_hosts_canonicalises_and_reports_what_cannot_be_a_trigger() -> None:
    long_name = ".".join(["a" * 60] * 4)
    z, rejected = RpzZone.from_hosts(ORIGIN, 5, ["WWW.Example.COM.", "shqipëri.al", "bad host",
                                                long_name, "www.example.com"])
    assert z.names == {"www.example.com", "xn--shqipri-vya.al"}
    assert rejected == ("bad host", long_name)


@pytest.mark.parametrize(("new", "old", "newer"), [
    (2, 1, True), (1, 2, False), (1, 1, False),
    (0, 0xFFFFFFFF, True), (5, 0xFFFFFFF0, True), (0xFFFFFFFF, 0, False),
    (0x80000000, 0, False),  # exactly half the space apart: undefined, so not newer
])
def test_serial_arithmetic_follows_rfc_1982(new: int, old: int, newer: bool) -> None:
    assert serial_newer(new, old) is newer


def test_history_records_differences_and_refuses_old_serials() -> None:
    history = ZoneHistory(zone(1, "a.example", "b.example"))
    delta = history.record(zone(2, "b.example", "c.example", "d.example"))
    assert delta is not None
    assert (delta.old_serial, delta.new_serial) == (1, 2)
    assert delta.removed == ("a.example",)
    assert delta.added == ("c.example", "d.example")
    assert history.record(zone(2, "b.example", "c.example", "d.example")) is None
    with pytest.raises(ValueError, match="current already"):
        history.record(zone(2, "other.example"))
    with pytest.raises(ValueError, match="not newer"):
        history.record(zone(1, "a.example"))
    with pytest.raises(ValueError, match="origin"):
        history.record(RpzZone("other.roja.", 3, frozenset()))
    assert history.serials == (1, 2)


def test_ixfr_steps_from_each_known_serial() -> None:
    history = ZoneHistory(zone(1, "a.example"))
    history.record(zone(2, "a.example", "b.example"))
    history.apply(3, added=["c.example"], removed=["a.example"])
    assert history.current.names == {"b.example", "c.example"}
    assert history.steps(3) == []
    steps = history.steps(1)
    assert steps is not None
    assert [(s.old_serial, s.new_serial) for s in steps] == [(1, 2), (2, 3)]
    assert history.steps(2) == steps[1:]
    assert history.steps(99) is None
    assert history.ixfr_records(99) is None
    assert history.ixfr_records(3) == [history.current.soa()]


def test_ixfr_records_follow_rfc_1995() -> None:
    z1, z2, z3 = zone(1, "a.example"), zone(2, "a.example", "b.example"), zone(3, "b.example")
    history = ZoneHistory(z1)
    history.record(z2)
    history.record(z3)
    records = history.ixfr_records(1)
    assert records == [
        z3.soa(),
        # 1 → 2: the canary of 1 deleted; the canary of 2 and b added
        z1.soa(), z1.canary(), z2.soa(), z2.canary(), *z2.triggers("b.example"),
        # 2 → 3: the canary of 2 and a deleted; the canary of 3 added
        z2.soa(), z2.canary(), *z2.triggers("a.example"), z3.soa(), z3.canary(),
        z3.soa(),
    ]


def test_history_forgets_versions_beyond_keep_and_after_a_ttl_change() -> None:
    history = ZoneHistory(zone(1), keep=2)
    for serial in (2, 3, 4):
        history.record(zone(serial, f"n{serial}.example"))
    assert history.serials == (2, 3, 4)
    assert history.steps(1) is None
    assert history.steps(2) is not None
    history.record(RpzZone(ORIGIN, 5, frozenset({"n4.example"}), ttl=60))
    assert list(history.serials) == [4, 5]  # only the step that carries the new TTL itself
    assert history.steps(3) is None


def test_axfr_wire_splits_big_zones_and_reads_back_whole() -> None:
    names = {f"host{i}.example" for i in range(800)}
    z = RpzZone(ORIGIN, 9, frozenset(names))
    question = name_wire(ORIGIN) + struct.pack(">HH", dns.rdatatype.AXFR, 1)
    wires = list(messages(axfr_rrs(z), 1, 0x8400, question, name_wire(ORIGIN), 2048))
    assert len(wires) > 10
    assert all(len(w) <= 2048 for w in wires)
    assert [struct.unpack(">H", w[4:6])[0] for w in wires[:2]] == [1, 0]  # question once
    received = dns.zone.Zone(ORIGIN, relativize=False)
    apply_wire(received, wires, dns.rdatatype.AXFR, None)
    assert as_set(received) == as_set(parsed(z.zone_text()))


def test_ixfr_wire_brings_an_old_copy_up_to_date() -> None:
    z1 = zone(1, "a.example", "b.example", "c.example")
    history = ZoneHistory(z1)
    history.apply(2, added=["d.example"], removed=["a.example"])
    history.apply(3, added=["a.example", "e.example"], removed=["c.example"])
    copy = parsed(z1.zone_text())
    records = history.ixfr_records(1)
    assert records is not None
    apply_wire(copy, wire_messages(records, dns.rdatatype.IXFR, limit=1024),
               dns.rdatatype.IXFR, 1)
    assert as_set(copy) == as_set(parsed(history.current.zone_text()))


def test_the_longest_trigger_is_exactly_255_octets() -> None:
    longest = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 50
    assert len(dns.name.from_text(f"*.{longest}.{ORIGIN}").to_digestable()) == 255
    assert RpzZone(ORIGIN, 1, frozenset({longest})).names == {longest}
    with pytest.raises(ValueError):
        RpzZone(ORIGIN, 1, frozenset({longest + "d"}))
