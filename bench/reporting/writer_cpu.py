"""CPU per incident of `IncidentWriter` (submit, batching, SQLite), measured alone.

    python -m bench.reporting.writer_cpu NAMES TOTAL RATE

One client blocked on NAMES distinct names in a shuffled loop, TOTAL incidents stamped RATE a
second apart (simulated time), default `[incidents]` settings, the queue kept below 2000 so
nothing is dropped. Prints process CPU (the writer's SQLite thread included) per incident. To
compare trees, run it with another checkout first on `PYTHONPATH` and `python -S -P` (so the
editable install does not redirect the import); bench/RESULTS.md, issue 21.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import reporting.incidents as module
from reporting.config import IncidentSettings
from reporting.incidents import Incident, IncidentWriter


async def measure(n_names: int, total: int, rate: float) -> str:
    """Submit `total` incidents and return one line with the CPU per incident."""
    rng = random.Random(1)
    names = [f"n{i}.{rng.randrange(10**9)}.example" for i in range(n_names)]
    rng.shuffle(names)
    with tempfile.TemporaryDirectory() as tmp:
        writer = IncidentWriter(Path(tmp) / "incidents.sqlite", bytes(32), IncidentSettings())
        await writer.start()
        t0 = 1_765_000_000.0
        cpu0 = time.process_time()
        for i in range(total):
            writer.submit(Incident(t0 + i / rate, "127.0.0.1", "default", names[i % n_names],
                                   "malware", "bench", "blocked", "dns", "listed in bench"))
            if i % 250 == 249:
                await asyncio.sleep(0)
                while writer.queued > 2000:  # noqa: ASYNC110 (as bench/reporting/run.py)
                    await asyncio.sleep(0.001)
        await writer.stop()
        cpu = time.process_time() - cpu0
    return (f"{module.__file__}: {total:,} incidents on {n_names:,} names: "
            f"{cpu / total * 1e6:.1f} µs CPU each (written {writer.written:,}, "
            f"dropped {writer.dropped:,})")


if __name__ == "__main__":
    print(asyncio.run(measure(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))))
