"""A web app of Roja's (the teacher's console, the office inbox) served for a benchmark in its
own thread and event loop, so the benchmark's client can time it from the main thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any


def serve_in_thread(start: Callable[[], Awaitable[tuple[Any, str]]],
                    wait: float = 60.0) -> str:
    """Run `start()` (an app's `start`, answering (runner, url)) in a new thread's event loop,
    which then runs for the rest of the process; the URL it serves on."""
    loop = asyncio.new_event_loop()
    box: list[str] = []
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        _runner, url = loop.run_until_complete(start())
        box.append(url)
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait(wait)
    return box[0]
