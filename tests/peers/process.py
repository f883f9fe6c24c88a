"""Ending a peer or a `roja` process a test started: politely, then for sure."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM and up to `timeout` seconds to exit, then SIGKILL (and as long again to be
    reaped); nothing when it has already exited."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
