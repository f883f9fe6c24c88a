"""Roja's RPZ server against real secondaries, all on 127.0.0.1.

- Debian's `unbound` as an RPZ secondary (`rpz:` with `primary:` and `allow-notify:`): it takes
  the zone by AXFR, blocks the listed names and everything below them, and after a new serial
  and NOTIFY follows by IXFR. Unbound 1.17 (and every release so far) cannot sign transfers
  with TSIG, so this server admits it by address only.
- Debian's BIND `named` as the same secondary with TSIG hmac-sha256 (the set-up the ISP
  documentation recommends): signed SOA probes, AXFR, IXFR and a signed NOTIFY.
- dnspython as a client: transfers without TSIG, with a wrong or unknown key, or from an
  address that is not allowed (127.0.0.2) are refused; a big zone comes in many signed messages.

The names resolve without the Internet: unbound and named forward everything to an NSD
(tests/peers/nsd.py) serving `example.` and `test.`, so an unblocked name has a real answer.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.xfr
import dns.zone
import pytest
from peers.nsd import HOST, NsdServer, free_port, start_nsd
from rpz_kit import (
    KEY_NAME,
    NSD_ZONES,
    ORIGIN,
    SECRET,
    Secondary,
    eventually,
    rcode_and_answer,
    start_secondary,
)

from blocklists.rpz import RpzZone, ZoneHistory
from blocklists.rpz_server import RpzServer

WRONG_SECRET = base64.b64encode(bytes(range(1, 33))).decode()
FIRST = frozenset({"bad.example", "evil.test"})
SECOND = frozenset({"bad.example", "new.example"})  # evil.test removed, new.example added


def keyring(secret: str = SECRET, name: str = KEY_NAME) -> dict[dns.name.Name, dns.tsig.Key]:
    key = dns.tsig.Key(name, secret, dns.tsig.HMAC_SHA256)
    return {key.name: key}


@pytest.fixture(scope="module")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NsdServer]:
    server = start_nsd(tmp_path_factory.mktemp("rpz-nsd"), NSD_ZONES)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def rpz_tsig() -> AsyncIterator[RpzServer]:
    """A TSIG-only server: keys required, 127.0.0.1 allowed (127.0.0.2 is not)."""
    server = RpzServer(ZoneHistory(RpzZone(ORIGIN, 1, FIRST)), listen=(HOST, 0),
                       allow=["127.0.0.1/32"], tsig_keys={KEY_NAME: SECRET})
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def follow_the_feed(kind: str, server: RpzServer, secondary: Secondary) -> None:
    """The common scenario: blocked, not blocked, then serial 2 by NOTIFY and IXFR."""
    port = secondary.port
    assert await rcode_and_answer(port, "sub.bad.example") == ("NXDOMAIN", [])
    assert await rcode_and_answer(port, "evil.test") == ("NXDOMAIN", [])
    assert await rcode_and_answer(port, "good.example") == ("NOERROR", ["192.0.2.10"])
    assert await rcode_and_answer(port, "new.example") == ("NOERROR", ["192.0.2.11"])
    assert server.counters["axfr"] == 1

    await server.publish(RpzZone(ORIGIN, 2, SECOND))
    assert await server.wait_notified() == {(HOST, port): True}

    async def updated() -> bool:
        return (await rcode_and_answer(port, "new.example"))[0] == "NXDOMAIN"
    await eventually(updated, "the IXFR after NOTIFY", secondary)
    assert await rcode_and_answer(port, "evil.test") == ("NOERROR", ["192.0.2.99"])
    assert await rcode_and_answer(port, "sub.bad.example") == ("NXDOMAIN", [])
    assert server.counters["ixfr"] == 1, server.counters
    assert server.counters["axfr"] == 1, f"{kind} fell back to AXFR: {server.counters}"
    assert server.counters["ixfr_axfr"] == 0


@pytest.mark.peer
async def test_unbound_follows_the_feed_by_axfr_notify_and_ixfr(
        nsd: NsdServer, tmp_path: Path) -> None:
    server = RpzServer(ZoneHistory(RpzZone(ORIGIN, 1, FIRST)), listen=(HOST, 0),
                       allow=["127.0.0.1/32"])  # no TSIG: unbound cannot sign transfers
    await server.start()
    try:
        secondary = await start_secondary("unbound", tmp_path / "unbound", server, nsd)
        try:
            await follow_the_feed("unbound", server, secondary)
            assert "rpz: applied [roja] *.bad.example. rpz-nxdomain" in secondary.log()
        finally:
            secondary.stop()
    finally:
        await server.stop()


@pytest.mark.peer
async def test_bind_follows_the_feed_with_tsig(nsd: NsdServer, tmp_path: Path,
                                               rpz_tsig: RpzServer) -> None:
    rpz_tsig.notify_key = rpz_tsig.keys[dns.name.from_text(KEY_NAME)]
    secondary = await start_secondary("named", tmp_path / "named", rpz_tsig, nsd)
    try:
        await follow_the_feed("named", rpz_tsig, secondary)
        log = secondary.log()
        assert "transferred serial 2: TSIG 'roja-xfr'" in log
        assert "received notify for zone 'rpz.roja': TSIG 'roja-xfr'" in log
        assert rpz_tsig.counters["refused"] == rpz_tsig.counters["notauth"] == 0
    finally:
        secondary.stop()


@pytest.mark.peer
@pytest.mark.parametrize("kind", ["unbound", "named"])
async def test_secondaries_block_answers_with_listed_addresses(nsd: NsdServer, tmp_path: Path,
                                                               kind: str) -> None:
    """Addresses and networks in the zone are `rpz-ip` triggers: a real unbound and a real
    BIND answer NXDOMAIN for a name whose answer holds a listed address."""
    zone, rejected = RpzZone.from_hosts(ORIGIN, 1, ["bad.example"],
                                        addresses=["192.0.2.99", "192.0.2.64/28"])
    assert not rejected
    keys = {KEY_NAME: SECRET} if kind == "named" else None
    server = RpzServer(ZoneHistory(zone), listen=(HOST, 0), allow=["127.0.0.1/32"],
                       tsig_keys=keys)
    if keys:
        server.notify_key = server.keys[dns.name.from_text(KEY_NAME)]
    await server.start()
    try:
        secondary = await start_secondary(kind, tmp_path / kind, server, nsd)
        try:
            port = secondary.port
            assert await rcode_and_answer(port, "evil.test") == ("NXDOMAIN", [])  # 192.0.2.99
            assert await rcode_and_answer(port, "netted.example") == ("NXDOMAIN", [])  # in /28
            assert await rcode_and_answer(port, "good.example") == ("NOERROR", ["192.0.2.10"])
        finally:
            secondary.stop()
    finally:
        await server.stop()


async def axfr(server: RpzServer, keys: dict[dns.name.Name, dns.tsig.Key] | None,
               source: str = HOST) -> dns.zone.Zone:
    received = dns.zone.Zone(ORIGIN)
    query, _ = dns.xfr.make_query(received, keyring=keys)
    await dns.asyncquery.inbound_xfr(HOST, received, query, port=server.bound[1], timeout=2,
                                     source=source)
    return received


async def test_signed_transfer_of_a_big_zone_in_many_messages(rpz_tsig: RpzServer) -> None:
    names = frozenset(f"host{i}.example" for i in range(3000))
    await rpz_tsig.publish(RpzZone(ORIGIN, 2, names))

    def transfer() -> list[dns.message.Message]:
        return list(dns.query.xfr(HOST, ORIGIN, port=rpz_tsig.bound[1], keyring=keyring(),
                                  keyname=KEY_NAME, keyalgorithm=dns.tsig.HMAC_SHA256,
                                  timeout=5))
    replies = await asyncio.to_thread(transfer)  # dnspython checks every message's TSIG
    assert len(replies) > 5
    assert all(reply.had_tsig for reply in replies)
    received = dns.zone.from_xfr(iter(replies))
    assert len(received.nodes) == 2 + 2 * len(names)  # apex, canary, two triggers per name
    assert received.get_soa().serial == 2


async def test_ixfr_by_dnspython_and_udp_ixfr_says_use_tcp(rpz_tsig: RpzServer) -> None:
    copy = await axfr(rpz_tsig, keyring())
    await rpz_tsig.publish(RpzZone(ORIGIN, 2, SECOND))
    query, serial = dns.xfr.make_query(copy, keyring=keyring())
    assert serial == 1
    with pytest.raises(dns.xfr.UseTCP):
        await dns.asyncquery.inbound_xfr(HOST, copy, query, port=rpz_tsig.bound[1], timeout=2,
                                         udp_mode=dns.query.UDPMode.ONLY)
    query, _ = dns.xfr.make_query(copy, keyring=keyring())
    await dns.asyncquery.inbound_xfr(HOST, copy, query, port=rpz_tsig.bound[1], timeout=2)
    assert copy.get_soa().serial == 2
    assert copy.get_node("new.example") is not None and copy.get_node("evil.test") is None
    assert rpz_tsig.counters["ixfr"] == 1 and rpz_tsig.counters["ixfr_udp"] == 1


async def test_transfer_without_valid_tsig_is_refused(rpz_tsig: RpzServer) -> None:
    with pytest.raises(dns.xfr.TransferError) as refused:
        await axfr(rpz_tsig, None)
    assert refused.value.rcode == dns.rcode.REFUSED
    with pytest.raises(dns.tsig.PeerBadSignature):  # NOTAUTH, TSIG error BADSIG
        await axfr(rpz_tsig, keyring(WRONG_SECRET))
    with pytest.raises(dns.tsig.PeerBadKey):  # NOTAUTH, TSIG error BADKEY
        await axfr(rpz_tsig, keyring(SECRET, "someone-else."))
    soa = dns.message.make_query(ORIGIN, dns.rdatatype.SOA)  # even the SOA probe
    response = await dns.asyncquery.udp(soa, HOST, port=rpz_tsig.bound[1], timeout=2)
    assert response.rcode() == dns.rcode.REFUSED and not response.answer
    assert rpz_tsig.counters["axfr"] == 0
    assert rpz_tsig.counters["refused"] == 2 and rpz_tsig.counters["notauth"] == 2


async def test_transfer_from_an_address_not_allowed_is_refused(rpz_tsig: RpzServer) -> None:
    with pytest.raises(dns.xfr.TransferError) as refused:  # a valid key does not help
        await axfr(rpz_tsig, keyring(), source="127.0.0.2")
    assert refused.value.rcode == dns.rcode.REFUSED
    open_server = RpzServer(ZoneHistory(RpzZone(ORIGIN, 1, FIRST)), listen=(HOST, 0),
                            allow=["127.0.0.1/32"])
    await open_server.start()
    try:
        with pytest.raises(dns.xfr.TransferError) as refused:
            await axfr(open_server, None, source="127.0.0.2")
        assert refused.value.rcode == dns.rcode.REFUSED
        received = await axfr(open_server, None)  # the allowed address gets it
        assert received.get_node("evil.test") is not None
    finally:
        await open_server.stop()
    received = await axfr(rpz_tsig, keyring())
    assert received.get_node("*.bad.example") is not None
    assert rpz_tsig.counters["axfr"] == 1


async def test_notify_to_a_silent_secondary_gives_up(rpz_tsig: RpzServer) -> None:
    silent = (HOST, free_port())
    rpz_tsig.notify, rpz_tsig.notify_attempts, rpz_tsig.notify_timeout = (silent,), 3, 0.05
    await rpz_tsig.publish(RpzZone(ORIGIN, 1, FIRST))  # the same version: nothing to say
    assert await rpz_tsig.wait_notified() == {}
    await rpz_tsig.publish(RpzZone(ORIGIN, 2, SECOND))
    assert await rpz_tsig.wait_notified() == {silent: False}
    assert rpz_tsig.counters["notify_sent"] == 3 and rpz_tsig.counters["notify_failed"] == 1
