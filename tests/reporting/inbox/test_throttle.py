"""The login throttle's rules, with the clock passed in (the HTTP behaviour is in
test_inbox_abuse.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.inbox import throttle
from reporting.inbox.store import DB_FILE, Store
from reporting.inbox.throttle import FORGET, PAIR_FREE, Throttle


def fail(gate: Throttle, address: str, name: str, now: float, times: int) -> None:
    for _ in range(times):
        assert gate.attempt(address, name, now) == 0.0


@pytest.mark.parametrize(("address", "neighbour", "same"), [
    ("2001:db8:1:2::5", "2001:db8:1:2:ffff::9", True),  # one /64: one household or office
    ("2001:db8:1:2::5", "2001:db8:1:3::5", False),
    ("::ffff:192.0.2.7", "192.0.2.7", True),
    ("192.0.2.7", "192.0.2.8", False),
])
def test_addresses_are_counted_by_ipv4_address_or_ipv6_64(address: str, neighbour: str,
                                                          same: bool) -> None:
    assert (throttle.network(address) == throttle.network(neighbour)) is same


def test_backoff_doubles_up_to_the_cap_and_is_forgotten() -> None:
    gate = Throttle()
    fail(gate, "192.0.2.1", "berat", 0.0, throttle.PAIR_FREE)
    waits = []
    now = 0.0
    for _ in range(14):
        wait = gate.wait("192.0.2.1", "berat", now)
        waits.append(wait)
        now += wait
        assert gate.attempt("192.0.2.1", "berat", now) == 0.0
    assert waits[:4] == [1.0, 2.0, 4.0, 8.0] and max(waits) == throttle.CAP
    assert gate.wait("192.0.2.1", "berat", now + throttle.FORGET + 1) == 0.0


def test_a_success_clears_the_pair_but_not_the_address() -> None:
    gate = Throttle()
    for i in range(throttle.ADDRESS_FREE - 1):
        fail(gate, "192.0.2.1", f"emer{i}", 0.0, 1)
    assert gate.attempt("192.0.2.1", "berat", 0.0) == 0.0
    gate.succeeded("192.0.2.1", "berat")  # a right password does not reset the address
    assert gate.attempt("192.0.2.1", "tjeter", 0.0) == 0.0
    assert gate.wait("192.0.2.1", "berat", 0.0) > 0


def test_an_account_under_attack_gives_each_new_address_one_guess() -> None:
    gate = Throttle()
    for i in range(throttle.ATTACKED // throttle.PAIR_FREE):
        fail(gate, f"198.51.100.{i}", "berat", 0.0, throttle.PAIR_FREE)
    assert gate.attempt("203.0.113.9", "berat", 0.0) == 0.0  # the real user's first try
    assert gate.wait("203.0.113.9", "berat", 0.0) > 0  # a botnet gets no more from it
    assert gate.wait("203.0.113.9", "vlora", 0.0) == 0.0  # other names: unaffected


def test_undo_takes_an_unchecked_attempt_back() -> None:
    gate = Throttle()
    fail(gate, "192.0.2.1", "berat", 0.0, throttle.PAIR_FREE - 1)
    assert gate.attempt("192.0.2.1", "berat", 0.0) == 0.0
    gate.undo("192.0.2.1", "berat")
    assert gate.wait("192.0.2.1", "berat", 0.0) == 0.0


def test_the_counts_are_bounded_and_keep_the_busiest() -> None:
    gate = Throttle(max_keys=30)
    fail(gate, "192.0.2.1", "berat", 0.0, throttle.PAIR_FREE)
    for i in range(100):  # many names from elsewhere push out the quiet keys
        gate.attempt(f"198.51.100.{i % 200}", f"emer{i}", 1.0)
        assert gate.attempt("192.0.2.1", "berat", 1.0 + i * 10_000) >= 0
    assert len(gate._counts) <= 30


def test_saved_counts_come_back_and_an_older_change_never_overwrites_a_newer(
        tmp_path: Path) -> None:
    with Store(tmp_path / DB_FILE) as store:
        gate = Throttle(save=store.save_throttle)
        for _ in range(PAIR_FREE):
            gate.attempt("203.0.113.7", "zyra.berat", 1000.0)
        assert gate.wait("203.0.113.7", "zyra.berat", 1000.0) > 0
        store.save_throttle("a 203.0.113.7", 1, 1000.0, 1)  # a late, older write: ignored
        again = Throttle(saved=store.load_throttle(1000.0 - FORGET, 100),
                         save=store.save_throttle)
        assert again.wait("203.0.113.7", "zyra.berat", 1000.0) == gate.wait(
            "203.0.113.7", "zyra.berat", 1000.0)
        again.succeeded("203.0.113.7", "zyra.berat")  # the pair is forgotten, saved so
        third = Throttle(saved=store.load_throttle(1000.0 - FORGET, 100))
        assert third.wait("203.0.113.2", "zyra.berat", 1000.0) == 0.0
        assert third.wait("203.0.113.7", "zyra.berat", 1000.0) == 0.0
        # an hour later nothing is loaded at all
        assert store.load_throttle(1001.0, 100)[:-1] == []
