"""The real filter lists Debian ships with uBlock Origin (`webext-ublock-origin-chromium`), for
tests that read what filter authors actually publish."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.lists.real import ASSETS, REAL_LISTS

LISTS: dict[str, Path] = REAL_LISTS  # the benchmark's paths: one copy (bench.lists.real)
__all__ = ["ASSETS", "LISTS", "require_lists"]


def require_lists() -> None:
    """Skip when the package is not installed (fail when CI=true)."""
    missing = [str(p) for p in LISTS.values() if not p.is_file()]
    if missing:
        message = (f"real lists missing: {missing} (Debian: apt-get install "
                   "webext-ublock-origin-chromium; ./run tests does)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
