"""Child process of ``python -m bench lists --real``: one compile of some lists, in a fresh
process, as the daemon's compiler child does it (``blocklists.store.compile_sources``).

    python -m bench.lists.real_child OUT LOOKUPS FORMAT ID=PATH [ID=PATH ...]

Prints one JSON line: ``wall_s`` and ``cpu_s`` of the ``compile_sources`` call, the peak RSS
of this process (``VmHWM`` of ``/proc/self/status``) before and after it, the per-list summary
the compile stores (domains, URL entries, addresses, skipped by kind), the hosts each list
steers to the proxy, and, when ``LOOKUPS`` > 0, the in-process cost of the lookups the resolver
makes: ``CompiledList.lookup`` for listed names and for unlisted names, and
``AddressLists.lists_of`` for listed and unlisted addresses (best of 3 passes).

Why ``VmHWM`` and not ``ru_maxrss`` from ``wait4``: Linux carries the memory high-water mark of
the process image an ``execve`` replaces into the new program's ``ru_maxrss``, and after a
``fork`` (or ``vfork``) that image is the parent's: the benchmark's own peak would be reported
as the compile's. ``VmHWM`` belongs to the address space made by ``execve``, so it is this
process's alone. The compile runs in this process (no compiler grandchild) for that reason.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import sys
import time
from pathlib import Path


def vm_hwm_kib() -> int:
    """Peak resident memory of this process's own address space, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _best_us(fn: object, items: list[object]) -> float:
    """Best of 3 passes, microseconds per call of ``fn(item)``."""
    assert callable(fn)
    if not items:
        return 0.0
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        best = min(best, time.perf_counter() - t0)
    return 1e6 * best / len(items)


def lookups(compiled_path: Path, n: int) -> dict[str, float]:
    """µs per lookup: listed names (a sample of the hosts the lists name, 1/5 of them as a
    subdomain), unlisted names, listed addresses (inside the lists' networks) and others."""
    from blocklists.compiled import CompiledList
    from policy.address_lists import AddressLists, network

    rng = random.Random(1)
    compiled = CompiledList(compiled_path)
    try:
        hosts = sorted({host for host, _, _ in compiled.items()})
        listed = rng.sample(hosts, min(n, len(hosts))) if hosts else []
        listed = [f"www.{h}" if i % 5 == 0 else h for i, h in enumerate(listed)]
        unlisted = [f"{rng.getrandbits(40):x}.example-{i % 97}.al" for i in range(n)]
        hit_share = (sum(1 for h in listed if compiled.lookup(h)) / len(listed)) if listed \
            else 0.0
        name_hit = _best_us(compiled.lookup, list(listed))
        name_miss = _best_us(compiled.lookup, list(unlisted))
        addresses = AddressLists.build(compiled.addresses)
        nets = [net for found in compiled.addresses.values() for text in found
                if (net := network(text)) is not None]
    finally:
        compiled.close()
    in_lists = [(net.network_address + rng.randrange(net.num_addresses)).packed
                for net in rng.choices(nets, k=n)] if nets else []
    others = [ipaddress.IPv4Address(rng.getrandbits(32)).packed for _ in range(n)]
    return {"names": len(listed), "name_hit_share": hit_share, "name_listed_us": name_hit,
            "name_unlisted_us": name_miss, "address_entries": addresses.count(),
            "address_listed_us": _best_us(addresses.lists_of, list(in_lists)),
            "address_unlisted_us": _best_us(addresses.lists_of, list(others))}


def steered(compiled_path: Path) -> dict[str, dict[str, int]]:
    """List id → {host: URL entries} of the hosts its URL entries steer to the proxy."""
    from blocklists.compiled import CompiledList
    from blocklists.store import ALLOW_SUFFIX

    out: dict[str, dict[str, int]] = {}
    compiled = CompiledList(compiled_path)
    try:
        for host, _, tags in compiled.items(urls=True):
            for tag in tags:
                per = out.setdefault(tag.list_id.removesuffix(ALLOW_SUFFIX), {})
                per[host] = per.get(host, 0) + 1
    finally:
        compiled.close()
    return out


def main(argv: list[str]) -> int:
    from blocklists.store import ListSource, compile_sources

    out, n_lookups, fmt = Path(argv[0]), int(argv[1]), argv[2]
    sources = [ListSource(spec.split("=", 1)[0], Path(spec.split("=", 1)[1]), fmt, "malware")
               for spec in argv[3:]]
    hwm_before = vm_hwm_kib()
    cpu0, wall0 = _cpu(), time.monotonic()
    compile_sources(sources, out, "bench")
    wall, cpu = time.monotonic() - wall0, _cpu() - cpu0
    hwm_after = vm_hwm_kib()  # before the lookups below allocate anything

    from blocklists.summary import read_summaries

    result: dict[str, object] = {
        "wall_s": wall, "cpu_s": cpu, "hwm_before_kib": hwm_before, "hwm_kib": hwm_after,
        "file_bytes": out.stat().st_size, "summary": read_summaries(out),
        "steered": steered(out)}
    if n_lookups > 0:
        result["lookups"] = lookups(out, n_lookups)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
