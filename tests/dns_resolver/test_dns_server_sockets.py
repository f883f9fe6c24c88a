"""The listeners' sockets: UDP and TCP always share one port."""

from __future__ import annotations

import errno
import socket

import pytest

from dns_resolver.server import open_pair


def test_port_zero_gives_one_port_for_udp_and_tcp() -> None:
    for _ in range(20):
        udp, tcp = open_pair("127.0.0.1", 0)
        with udp, tcp:
            assert udp.getsockname() == tcp.getsockname()
            assert udp.type == socket.SOCK_DGRAM and tcp.type == socket.SOCK_STREAM


def test_a_configured_port_is_never_changed() -> None:
    with socket.socket() as taken:          # a TCP listener without SO_REUSEPORT holds the port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError) as info:
            open_pair("127.0.0.1", port)
        assert info.value.errno == errno.EADDRINUSE
