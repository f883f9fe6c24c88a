"""Dispatch ``python -m bench NAME [options]`` to the benchmark ``bench.NAME.run.main``."""

from __future__ import annotations

import importlib
import sys

#: Benchmark name -> one-line description. Add a subpackage with ``run.main(argv)`` and a line.
BENCHMARKS: dict[str, str] = {
    "dns": "dnsperf against Roja, dnsmasq and unbound with the same blocklist",
    "lists": ("Roja's compiled list at 5M domains: compile, startup, RSS, lookups vs peers; "
              "--real: the four real filter lists (uBlock's Debian package)"),
    "reporting": "incident ingest rate and monthly report build time at 1M incidents",
    "policy": "resolver with 6 groups, profiles, schedules and 1M entries vs one group",
    "proxy": "Roja proxy vs squid+squidGuard, e2guardian, mitmdump; whole-filter CPU",
    "inbox": "education-office inbox: dashboard and upload times (1,800 schools × 24 months); "
             "--attack: /healthz and dashboard while 4 clients guess passwords",
    "propagation": "hotline publish → blocked at the gateway and at an unbound RPZ secondary",
    "console": "the teacher's console: median page time, 1M incidents and 2,000 manual ones",
}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark named by the first argument with the remaining arguments."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in BENCHMARKS:
        print("usage: python -m bench NAME [options]   (NAME --help for its options)")
        for name, what in BENCHMARKS.items():
            print(f"  {name:<8} {what}")
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    module = importlib.import_module(f"bench.{args[0]}.run")
    return int(module.main(args[1:]))


if __name__ == "__main__":
    sys.exit(main())
