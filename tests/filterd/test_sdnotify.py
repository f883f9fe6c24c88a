"""filterd.sdnotify: READY=1 reaches a real notify socket (path and abstract)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from filterd.sdnotify import notify


def test_notify_path_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        assert notify("READY=1", {"NOTIFY_SOCKET": str(path)})
        assert server.recv(1024) == b"READY=1"


def test_notify_abstract_socket() -> None:
    name = f"roja-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        assert notify("STOPPING=1", {"NOTIFY_SOCKET": "@" + name})
        assert server.recv(1024) == b"STOPPING=1"


def test_no_socket_sends_nothing(tmp_path: Path) -> None:
    assert not notify("READY=1", {})
    assert not notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
