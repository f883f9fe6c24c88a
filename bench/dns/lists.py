"""Deterministic test data for the DNS benchmark: blocklist, allowed zone and query mix.

Everything is derived from one seed, so two runs with the same ``--domains`` and ``--seed`` use
byte-identical files. Generated files are cached in the data directory and reused.

* Blocked names look like ``<label>.<label>.<tld>`` with random lowercase/digit labels; all have
  three labels, so none is a suffix of another and every system blocks exactly the same set.
* Allowed names are ``<label>.bench.test.`` with A records, served by the upstream NSD.
* The query mix is shuffled: half blocked (mostly listed names, some subdomains of listed names,
  which every system must block by suffix) and half allowed names, which are few enough to be
  cached after the first pass.
* The miss mix (`--mix misses`): distinct names under ``miss.test.``, whose wildcard NSD answers
  with TTL 0, so every query is answered from upstream by every system, every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path

ZONE = "bench.test."
MISS_ZONE = "miss.test."
TLDS = ("com", "net", "org", "al", "info", "io", "de", "it", "gr", "xyz", "top", "ru")
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
TTL = 3600


@dataclass(frozen=True)
class DataSet:
    """Paths of one generated data set and the numbers it was built from."""

    dir: Path
    domains: Path  # one domain per line (Roja's ``format = "domains"``)
    dnsmasq_conf: Path  # ``address=/d/`` lines
    unbound_conf: Path  # ``local-zone: "d." always_nxdomain`` lines
    zone_file: Path  # bench.test. zone for NSD
    queries: Path  # dnsperf input: ``name A`` per line
    miss_zone_file: Path  # miss.test. zone for NSD: a wildcard with TTL 0
    miss_queries: Path  # dnsperf input for --mix misses: distinct names under miss.test.
    blocked_probe: str  # a listed name, used to detect that a server has loaded the list
    allowed_probe: str  # an allowed name
    n_domains: int
    n_allowed: int
    n_queries: int


def _label(rng: random.Random, lo: int, hi: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(lo, hi)))


def generate_domains(n: int, seed: int) -> list[str]:
    """Return ``n`` distinct pseudo-random three-label domains, deterministic for ``seed``."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        name = f"{_label(rng, 3, 10)}.{_label(rng, 4, 12)}.{rng.choice(TLDS)}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def allowed_names(n: int) -> list[str]:
    """Return ``n`` distinct names under :data:`ZONE` (absolute, with the trailing dot)."""
    return [f"h{i:05d}.{ZONE}" for i in range(n)]


def _zone_text(names: list[str]) -> str:
    lines = [
        f"$ORIGIN {ZONE}",
        f"$TTL {TTL}",
        f"@ IN SOA ns1.{ZONE} hostmaster.{ZONE} 1 3600 600 86400 {TTL}",
        f"@ IN NS ns1.{ZONE}",
        "ns1 IN A 127.0.0.1",
    ]
    for i, name in enumerate(names):
        lines.append(f"{name} IN A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}")
    return "\n".join(lines) + "\n"


def _miss_zone_text() -> str:
    return "\n".join([
        f"$ORIGIN {MISS_ZONE}",
        "$TTL 0",
        f"@ IN SOA ns1.{ZONE} hostmaster.{ZONE} 1 3600 600 86400 0",
        f"@ IN NS ns1.{ZONE}",
        "* IN A 192.0.2.7",
    ]) + "\n"


def _miss_queries(n_queries: int, seed: int) -> list[str]:
    """`n_queries` distinct names under :data:`MISS_ZONE`, shuffled by `seed`."""
    rng = random.Random(seed + 2)
    numbers = rng.sample(range(10**9), n_queries)
    return [f"m{n}.{MISS_ZONE} A" for n in numbers]


def _query_mix(blocked: list[str], allowed: list[str], n_queries: int, seed: int) -> list[str]:
    """Half blocked (4/5 listed names, 1/5 subdomains of them), half allowed, shuffled."""
    rng = random.Random(seed + 1)
    n_blocked = n_queries // 2
    n_sub = n_blocked // 5
    sample = rng.sample(blocked, min(n_blocked, len(blocked)))
    while len(sample) < n_blocked:
        sample.append(rng.choice(blocked))
    names = [f"{name}." for name in sample[: n_blocked - n_sub]]
    names += [f"{_label(rng, 1, 6)}.{name}." for name in sample[n_blocked - n_sub :]]
    names += [allowed[i % len(allowed)] for i in range(n_queries - n_blocked)]
    rng.shuffle(names)
    return [f"{name} A" for name in names]


def build(root: Path, n_domains: int, seed: int, n_allowed: int, n_queries: int) -> DataSet:
    """Generate (or reuse) the data set for these parameters under ``root``."""
    d = root / f"data-n{n_domains}-s{seed}-a{n_allowed}-q{n_queries}"
    ds = DataSet(
        dir=d,
        domains=d / "domains.txt",
        dnsmasq_conf=d / "dnsmasq-blocklist.conf",
        unbound_conf=d / "unbound-blocklist.conf",
        zone_file=d / "bench.test.zone",
        queries=d / "queries.txt",
        miss_zone_file=d / "miss.test.zone",
        miss_queries=d / "misses.txt",
        blocked_probe="",
        allowed_probe=allowed_names(1)[0],
        n_domains=n_domains,
        n_allowed=n_allowed,
        n_queries=n_queries,
    )
    d.mkdir(parents=True, exist_ok=True)
    if not ds.miss_queries.exists():  # added later than the rest: also for older data sets
        ds.miss_zone_file.write_text(_miss_zone_text())
        ds.miss_queries.write_text("\n".join(_miss_queries(n_queries, seed)) + "\n")
    done = d / ".complete"
    if done.exists():
        return replace(ds, blocked_probe=done.read_text().strip())
    blocked = generate_domains(n_domains, seed)
    allowed = allowed_names(n_allowed)
    ds.domains.write_text("".join(f"{name}\n" for name in blocked))
    ds.dnsmasq_conf.write_text("".join(f"address=/{name}/\n" for name in blocked))
    ds.unbound_conf.write_text(
        "server:\n" + "".join(f'local-zone: "{name}." always_nxdomain\n' for name in blocked)
    )
    ds.zone_file.write_text(_zone_text(allowed))
    queries = _query_mix(blocked, allowed, n_queries, seed)
    ds.queries.write_text("\n".join(queries) + "\n")
    probe = blocked[len(blocked) // 2]
    done.write_text(probe + "\n")
    return replace(ds, blocked_probe=probe)
