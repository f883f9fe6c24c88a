"""The teacher's console running beside the DNS benchmark: `python -m bench.console.alongside
SECONDS` serves the console (its own process, as `roja-console.service` does) over a store of
100,000 incidents and loads the overview every 2 seconds, as a teacher with the page open and
refreshing would, for SECONDS. Run `python -m bench dns` at the same time and compare its
q/CPU-s with a run without it (bench/RESULTS.md, issue 19)."""

from __future__ import annotations

import ssl
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.console.run import login, populate
from bench.serve import serve_in_thread
from filterd.console.app import start
from filterd.proxy.ca import BASENAME


def main(argv: list[str]) -> int:
    seconds = float(argv[0]) if argv else 300.0
    with tempfile.TemporaryDirectory(prefix="roja-bench-alongside-") as tmp:
        cfg = populate(Path(tmp), 100_000, 200)
        url = serve_in_thread(lambda: start(cfg))
        ca = cfg.proxy.ca_path(cfg.state_dir) / f"{BASENAME}-ca-cert.pem"
        print(f"console on {url}, loading /pasqyra every 2 s for {seconds:.0f} s", flush=True)
        loads, deadline = 0, time.monotonic() + seconds
        with httpx.Client(base_url=url, timeout=60,
                          verify=ssl.create_default_context(cafile=str(ca))) as client:
            login(client)
            while time.monotonic() < deadline:
                client.get("/pasqyra").raise_for_status()
                loads += 1
                time.sleep(2.0)
        print(f"{loads} overview loads", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
