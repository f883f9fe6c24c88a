"""Child process of the lists benchmark: raw ``CompiledList.lookup`` speed, without DNS.

    python -m bench.lists.probe COMPILED QUERIES [ROUNDS]

Looks up every name of a dnsperf query file (``name A`` lines) in the compiled file,
``ROUNDS`` times (3), and prints one JSON line with the best round's microseconds per lookup
and the share of names that matched. Pinned by the parent like the servers.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    from blocklists.compiled import CompiledList

    compiled = CompiledList(Path(argv[0]))
    names = [line.split()[0].rstrip(".") for line in Path(argv[1]).read_text().splitlines()
             if line.strip()]
    rounds = int(argv[2]) if len(argv) > 2 else 3
    lookup = compiled.lookup
    best, hits = float("inf"), 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        hits = sum(1 for name in names if lookup(name))
        best = min(best, time.perf_counter() - t0)
    compiled.close()
    print(json.dumps({"lookups": len(names), "us_per_lookup": 1e6 * best / len(names),
                      "hit_share": hits / len(names)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
