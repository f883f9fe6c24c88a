"""The fleet monitor's bookkeeping (`blocklists.rpz_fleet.Fleet`), with the clock passed in: lag
counts from the first serial a secondary lacks, a down secondary keeps its last serial and its
lag keeps growing, and `max_lag` separates a secondary still transferring from one behind. The
probes run against real unbound and named secondaries of an `RpzServer`; the whole monitor in a
running appliance is in tests/filterd/test_rpz_fleet.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from peers.nsd import HOST, NsdServer, free_port, start_nsd
from rpz_kit import KEY_NAME, NSD_ZONES, ORIGIN, SECRET, start_secondary

from blocklists.rpz import RpzZone, ZoneHistory
from blocklists.rpz_fleet import Fleet, Probe, probe, target_text
from blocklists.rpz_server import RpzServer

A, B = ("192.0.2.1", 53), ("2001:db8::1", 5353)


def fleet() -> Fleet:
    f = Fleet((A, B), max_lag=300)
    f.publish(1, at=1000)
    f.publish(2, at=2000)
    f.publish(3, at=2500)
    return f


@pytest.mark.parametrize(("serial", "lag"), [
    (3, 0),       # current
    (2, 500),     # lacks 3, published at 2500
    (1, 1000),    # lacks 2 (2000) and 3
    (None, 2000),  # never reported a serial: since the oldest one Roja remembers
])
def test_lag_counts_from_the_first_serial_missing(serial: int | None, lag: float) -> None:
    f = fleet()
    f.record(Probe(A, True, serial, serial == 3), at=3000)
    assert f.lag(A, 3000) == lag


def test_a_down_secondary_keeps_its_serial_and_falls_behind() -> None:
    f = fleet()
    f.record(Probe(A, True, 3, True), at=2600)
    assert not f.behind(A, 2600)
    f.record(Probe(A, False, None, False, "timeout"), at=2700)
    assert f.states[A].serial == 3 and f.behind(A, 2700)  # down is behind, whatever the lag
    f.publish(4, at=2800)
    assert f.lag(A, 2900) == 100


def test_max_lag_gives_a_secondary_time_to_transfer() -> None:
    f = fleet()
    f.record(Probe(A, True, 2, False), at=2600)
    assert not f.behind(A, 2500 + 300)
    assert f.behind(A, 2500 + 301)


def test_the_newest_serial_not_applied_is_behind_even_with_its_soa() -> None:
    f = fleet()
    f.record(Probe(A, True, 3, False), at=2600)  # SOA says 3, the canary of 3 is not blocked
    assert f.lag(A, 2600) == 0 and not f.behind(A, 2500 + 300)
    assert f.behind(A, 2500 + 301)


def test_up_without_the_zone_is_said_so() -> None:
    f = fleet()
    f.record(Probe(B, True, None, False), at=3000)
    assert f.behind(B, 3000) and "not loaded" in f.states[B].error


def test_snapshot_names_secondaries_as_address_and_port() -> None:
    f = fleet()
    f.record(Probe(A, True, 3, True), at=3000)
    snap = f.snapshot(3000)
    assert snap["serial"] == 3
    assert [s["target"] for s in snap["secondaries"]] == ["192.0.2.1:53", "[2001:db8::1]:5353"]
    assert target_text(B) == "[2001:db8::1]:5353"


def test_a_restart_keeps_publication_times_and_last_serials() -> None:
    before = fleet()
    before.record(Probe(A, True, 2, False), at=3000)
    after = Fleet((A, B), max_lag=300)  # restarted at 9000, serving 3
    after.publish(3, at=9000)
    after.restore(before.snapshot(3000))
    assert list(after.published) == [1, 2, 3] and after.current == 3
    assert after.published[3] == 2500  # the earlier time wins
    assert after.states[A].serial == 2 and after.lag(A, 9000) == 6500
    after.restore({"secondaries": "damaged"})  # a damaged file changes nothing
    assert after.current == 3


def test_each_serial_a_secondary_applies_is_named_once() -> None:
    """The history `roja isp report` reads: a serial skipped (1 → 3) is reached with the newer
    one; the newest only with its canary blocked; a secondary down names nothing."""
    f = fleet()
    f.record(Probe(A, True, 1, False), at=1010)
    f.record(Probe(B, False, None, False), at=1010)
    assert f.newly_reached() == [(A, 1)]
    assert f.newly_reached() == []  # once
    f.record(Probe(A, True, 3, False), at=2510)  # its SOA says 3, the canary not yet
    assert f.newly_reached() == []
    f.record(Probe(A, True, 3, True), at=2570)
    assert f.newly_reached() == [(A, 2), (A, 3)]
    f.record(Probe(B, True, 3, True), at=2600)
    assert f.newly_reached() == [(B, 1), (B, 2), (B, 3)]


def test_a_restart_does_not_name_again_what_the_last_run_named() -> None:
    before = fleet()
    before.record(Probe(A, True, 3, True), at=2600)
    assert before.newly_reached() == [(A, 1), (A, 2), (A, 3)]
    after = Fleet((A, B), max_lag=300)
    after.publish(3, at=9000)
    after.restore(before.snapshot(2600))
    after.record(Probe(A, True, 3, True), at=9060)
    assert after.newly_reached() == []


def test_published_serials_are_bounded() -> None:
    f = Fleet((A,), max_lag=0, keep=3)
    for serial in range(1, 10):
        f.publish(serial, at=serial)
    assert list(f.published) == [7, 8, 9] and f.current == 9


@pytest.fixture
def nsd(tmp_path: Path) -> Iterator[NsdServer]:
    server = start_nsd(tmp_path / "nsd", NSD_ZONES)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.peer
@pytest.mark.parametrize("kind", ["unbound", "named"])
async def test_probe_finds_the_serial_a_real_secondary_applies(kind: str, tmp_path: Path,
                                                               nsd: NsdServer) -> None:
    keys = {KEY_NAME: SECRET} if kind == "named" else None  # unbound cannot sign transfers
    server = RpzServer(ZoneHistory(RpzZone(ORIGIN, 5, frozenset({"bad.example"}))),
                       listen=(HOST, 0), allow=["127.0.0.1/32"], tsig_keys=keys)
    await server.start()
    try:
        secondary = await start_secondary(kind, tmp_path / kind, server, nsd)
        try:
            target = (HOST, secondary.port)
            assert await probe(target, ORIGIN, [3, 4, 5]) == Probe(target, True, 5, True)
            # Roja has published 6 (and 7) that this secondary has not seen: it is behind at 5
            # (named says so in its SOA; unbound serves no SOA, and answers the canary of 5).
            assert await probe(target, ORIGIN, [4, 5, 6, 7]) == Probe(target, True, 5, False)
        finally:
            secondary.stop()
        down = await probe(target, ORIGIN, [5], wait=0.5)
        assert not down.up and down.serial is None and down.error
    finally:
        await server.stop()


async def test_a_port_where_nothing_answers_is_down() -> None:
    target = (HOST, free_port())
    result = await probe(target, ORIGIN, [1], wait=0.3)
    assert (result.up, result.serial, result.canary) == (False, None, False)
