"""Child process of the lists benchmark: compile the lists of one Roja config, as ``roja serve``
would at startup (``blocklists.store.build_active`` on the config's sources and state dir).

    python -m bench.lists.compile CONFIG

Prints one JSON line: ``wall_s`` and ``cpu_s`` of the ``build_active`` call alone (CPU time of
this process plus the waited-for compiler child it spawns, from ``os.times()``), the entry
count and whether an existing compile was reused, and ``peak_kib``: the larger of this
process's ``VmHWM`` and its compiler child's ``ru_maxrss`` (``RUSAGE_CHILDREN``). Not the
parent's ``wait4`` figure: ``ru_maxrss`` carries the peak of the image an ``execve`` replaces,
so a child of the benchmark would report the benchmark's own peak (see
``bench.lists.real_child``); the compiler child's figure carries this small process's peak at
the time it was spawned, tens of MiB at most. Interpreter start-up and imports are outside the
times; the parent also measures the whole process with ``wait4``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main(argv: list[str]) -> int:
    from blocklists.store import build_active
    from filterd.app import list_sources
    from filterd.config import load_config

    cfg = load_config(Path(argv[0]))
    sources = list_sources(cfg)
    cpu0, wall0 = _cpu(), time.monotonic()
    result = build_active(sources, cfg.state_dir)
    wall, cpu = time.monotonic() - wall0, _cpu() - cpu0
    out = {
        "wall_s": wall,
        "cpu_s": cpu,
        "entries": result.compiled.count,
        "reused": result.reused,
        "file_bytes": result.compiled.path.stat().st_size,
        "errors": sum(r.error_count for r in result.reports),
    }
    result.compiled.close()
    from bench.lists.real_child import vm_hwm_kib

    out["peak_kib"] = max(vm_hwm_kib(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
