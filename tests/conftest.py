"""Shared fixtures: `upstream_dns`, a real NSD serving the fixture zones on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from peers.nsd import NsdServer, start_nsd
from peers.zones import ZONES


@pytest.fixture(scope="session")
def upstream_dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NsdServer]:
    """NSD authoritative for tests/peers/zones.py's zones on 127.0.0.1:<port> (`.host`, `.port`)."""
    server = start_nsd(tmp_path_factory.mktemp("nsd"), ZONES)
    try:
        yield server
    finally:
        server.stop()
