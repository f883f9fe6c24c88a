"""Login throttling by source address and by account, with exponential backoff, that nobody
can use to lock a user out.

    gate = Throttle()
    wait = gate.attempt("203.0.113.7", "zyra.berat", now)   # 0.0: go ahead (counted as a
                                                            # failure until it succeeds)
    gate.succeeded("203.0.113.7", "zyra.berat")             # the password was right

Three counts of recent failures, each forgotten after `FORGET` seconds without a new one:
- per source address (IPv6 by its /64), whatever names it tries: `ADDRESS_FREE` failures, then
  the address waits 1 s, 2 s, 4 s ... (at most `CAP`) before each further attempt;
- per account *and* address: `PAIR_FREE` failures, then the same backoff for that pair;
- per account over all addresses: it slows nobody by itself (a name is never locked), but while
  an account has `ATTACKED` recent failures, a pair's free budget drops to one attempt, so many
  addresses cannot share out the guesses against one account either.
So an attacker hammering "zyra.berat" slows itself and its own address; the real user, from
another address, logs in as usual. An attempt that must wait is answered at once, without
hashing anything. The counts live in memory, at most `MAX_KEYS` entries, the least recently
failed dropped first, and each change is handed to `save` (the inbox writes it to its
database, `Store.save_throttle`, on a database thread); a new process starts from the saved
counts (`saved`), so a restart does not give an attacker a fresh budget. Each saved change
carries a sequence number, so changes written out of order by two threads keep the newest.
`attempt()` counts the attempt before the password is checked, so parallel requests cannot
all slip through one gap.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

ADDRESS_FREE = 10
PAIR_FREE = 5
ATTACKED = 20
BASE = 1.0
CAP = 900.0
FORGET = 3600.0
MAX_KEYS = 100_000


@dataclass
class _Count:
    failures: int
    last: float
    noted: bool = False  # a refusal in this backoff step was already reported


def network(address: str) -> str:
    """The unit an address is counted by: itself for IPv4, its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def delay(failures: int, free: int) -> float:
    """How long after the last failure the next attempt must wait."""
    if failures < free:
        return 0.0
    return min(BASE * 2.0 ** min(failures - free, 32), CAP)


Saved = tuple[str, int, float, int]  # (key, failures, last failure, sequence number)


class Throttle:
    """The counts; one per inbox process, used from the event loop thread only. `saved`: the
    counts a previous process left; `save(key, failures, last, seq)`: called after each
    change (failures 0: forgotten)."""

    def __init__(self, max_keys: int = MAX_KEYS, saved: Iterable[Saved] = (),
                 save: Callable[[str, int, float, int], None] | None = None) -> None:
        self._counts: OrderedDict[str, _Count] = OrderedDict()
        self._max_keys = max_keys
        self._save = save
        self._seq = 0
        for key, failures, last, seq in sorted(saved, key=lambda row: row[2]):
            self._seq = max(self._seq, seq)
            if failures > 0:
                self._counts[key] = _Count(failures, last)
        while len(self._counts) > self._max_keys:
            self._counts.popitem(last=False)

    def _saved(self, key: str) -> None:
        if self._save is not None:
            count = self._counts.get(key)
            self._seq += 1
            self._save(key, count.failures if count else 0, count.last if count else 0.0,
                       self._seq)

    def _get(self, key: str, now: float) -> _Count | None:
        count = self._counts.get(key)
        if count is not None and now - count.last > FORGET:
            del self._counts[key]
            return None
        return count

    def _bump(self, key: str, now: float) -> None:
        count = self._get(key, now)
        if count is None:
            self._counts[key] = _Count(1, now)
        else:
            count.failures, count.last, count.noted = count.failures + 1, now, False
            self._counts.move_to_end(key)
        self._saved(key)
        while len(self._counts) > self._max_keys:
            self._counts.popitem(last=False)

    def _keys(self, address: str, name: str) -> tuple[str, str, str]:
        net, who = network(address), name.strip().casefold()[:200]
        return f"a {net}", f"p {net} {who}", f"n {who}"

    def wait(self, address: str, name: str, now: float) -> float:
        """Seconds this address must still wait before trying `name` (0.0: it may try)."""
        by_address, by_pair, by_name = self._keys(address, name)
        account = self._get(by_name, now)
        free = 1 if account is not None and account.failures >= ATTACKED else PAIR_FREE
        longest = 0.0
        for key, allowance in ((by_address, ADDRESS_FREE), (by_pair, free)):
            count = self._get(key, now)
            if count is not None:
                longest = max(longest, count.last + delay(count.failures, allowance) - now)
        return longest

    def attempt(self, address: str, name: str, now: float) -> float:
        """0.0 and the attempt counted as a failure (until `succeeded`), or the wait."""
        wait = self.wait(address, name, now)
        if wait > 0:
            return wait
        for key in self._keys(address, name):
            self._bump(key, now)
        return 0.0

    def first_refusal(self, address: str, name: str, now: float) -> bool:
        """True once per backoff step of this address and name (for the access log)."""
        by_address, by_pair, _ = self._keys(address, name)
        first = False
        for key in (by_address, by_pair):
            count = self._get(key, now)
            if count is not None and not count.noted:
                count.noted, first = True, True
        return first

    def succeeded(self, address: str, name: str) -> None:
        """The password was right: forget the pair, and take back the counted attempt."""
        by_address, by_pair, by_name = self._keys(address, name)
        if self._counts.pop(by_pair, None) is not None:
            self._saved(by_pair)
        self._take_back((by_address, by_name))

    def undo(self, address: str, name: str) -> None:
        """The password could not be checked (the inbox was busy): take the attempt back."""
        self._take_back(self._keys(address, name))

    def _take_back(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            count = self._counts.get(key)
            if count is not None:
                count.failures -= 1
                if count.failures <= 0:
                    del self._counts[key]
                self._saved(key)
