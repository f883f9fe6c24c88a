"""`blocklists.rpz_triggers`: addresses and networks as RPZ IP triggers (`rpz-ip`), in the
zone file, the AXFR/IXFR wire and the feed export; URL entries are left out of the zone."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import dns.message
import dns.rdatatype
import dns.zone
import pytest

from blocklists.formats.common import ReadReport
from blocklists.readers import read_entries
from blocklists.rpz import RpzZone, ZoneHistory, axfr_rrs, messages, name_wire
from blocklists.rpz_config import RpzSettings
from blocklists.rpz_triggers import rpz_ip_owner
from filterd.rpz_export import feed_zone

ORIGIN = "rpz.roja."


@pytest.mark.parametrize(("text", "owner"), [
    ("192.0.2.7", "32.7.2.0.192.rpz-ip"),
    ("10.1.2.3/8", "8.0.0.0.10.rpz-ip"),               # host bits cleared
    ("198.51.100.0/24", "24.0.100.51.198.rpz-ip"),
    ("2001:db8::1", "128.1.zz.db8.2001.rpz-ip"),
    ("2001:db8:bad::/48", "48.zz.bad.db8.2001.rpz-ip"),
    ("2001:db8:0:1:1:1:1:1", "128.1.1.1.1.1.0.db8.2001.rpz-ip"),  # one zero group: no zz
    ("1:0:0:1:0:0:0:1", "128.1.zz.1.0.0.1.rpz-ip"),     # the longest run is the `::`
    ("::ffff:192.0.2.0/120", "24.0.2.0.192.rpz-ip"),     # IPv4-mapped: the IPv4 network
    ("bad.example", None),
])
def test_owner_names(text: str, owner: str | None) -> None:
    assert rpz_ip_owner(text) == owner


def test_zone_holds_ip_triggers_without_wildcards() -> None:
    zone, rejected = RpzZone.from_hosts(ORIGIN, 7, ["bad.example", "x.rpz-ip", "a.rpz-nsdname"],
                                        addresses=["192.0.2.99", "2001:db8::/32", "nope"])
    assert rejected == ("x.rpz-ip", "a.rpz-nsdname", "nope")
    text = zone.zone_text()
    assert "32.99.2.0.192.rpz-ip CNAME .\n" in text
    assert "32.zz.db8.2001.rpz-ip CNAME .\n" in text
    assert "*.32.99.2.0.192.rpz-ip" not in text and "*.bad.example CNAME ." in text
    loaded = dns.zone.from_text(text, origin=ORIGIN, relativize=False)
    question = name_wire(ORIGIN) + struct.pack(">HH", dns.rdatatype.AXFR, 1)
    wires = list(messages(axfr_rrs(zone), 1, 0x8400, question, name_wire(ORIGIN), 16000))
    received = {str(rr.name) for w in wires
                for rr in dns.message.from_wire(w, xfr=True).answer}
    assert received == {str(n) for n in loaded.nodes}
    history = ZoneHistory(zone)
    history.apply(8, added=[rpz_ip_owner("203.0.113.5") or ""])
    ixfr = history.ixfr_records(7)
    assert ixfr is not None
    assert [r.owner for r in ixfr if "203" in r.owner] == ["32.5.113.0.203.rpz-ip.rpz.roja."]


def test_feed_export_takes_addresses_and_leaves_urls_out(tmp_path: Path) -> None:
    current = tmp_path / "current.json"
    current.write_text(json.dumps({"serial": 12, "entries": [
        {"value": "bad.example", "category": "csam"},
        {"value": "203.0.113.9", "category": "csam"},
        {"value": "198.51.100.0/24", "category": "csam"},
        {"value": "files.example/abuse/1", "category": "csam"},
        {"sha256": "00" * 32, "category": "csam"}]}))
    zone = feed_zone(RpzSettings(origin=ORIGIN), current)
    assert zone is not None
    assert zone.names == {"bad.example", "32.9.113.0.203.rpz-ip", "24.0.100.51.198.rpz-ip"}
    # the appliance's own reading of the same feed: addresses are address entries, not hosts
    report = ReadReport(str(current))
    entries = list(read_entries(current, "feed", report))
    assert [(e.host, e.path) for e in entries] == [("bad.example", ""),
                                                   ("files.example", "/abuse/1")]
    assert report.addresses == ["203.0.113.9", "198.51.100.0/24"]
