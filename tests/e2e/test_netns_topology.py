"""The end-to-end test's network: the client reaches the internet only through the gateway."""

from __future__ import annotations

import subprocess
import sys
import time

from e2e.netns import (
    CLIENT_IP,
    CLIENT_IP6,
    INTERNET_IP,
    INTERNET_IP6,
    OUTSIDE_RESOLVER_IP,
    WEB_IP6,
    topology,
)

SERVE = """
import socket, sys
family = socket.AF_INET6 if sys.argv[1:] == ["6"] else socket.AF_INET
s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 7007)); s.listen()
while True:
    c, peer = s.accept(); c.sendall(peer[0].encode()); c.close()
"""
ASK = """
import socket, sys
for _ in range(50):
    try:
        c = socket.create_connection((sys.argv[1], 7007), timeout=2); break
    except OSError:
        import time; time.sleep(0.1)
print(c.recv(100).decode())
"""


def test_client_reaches_the_internet_through_the_gateway_and_it_is_all_removed() -> None:
    with topology() as net:
        server = net.internet.popen([sys.executable, "-c", SERVE])
        try:
            time.sleep(0.2)
            for target in (INTERNET_IP, OUTSIDE_RESOLVER_IP):
                seen = net.client.run(sys.executable, "-c", ASK, target).stdout.decode().strip()
                assert seen == CLIENT_IP  # routed, not masqueraded
        finally:
            server.kill()
            server.wait()
        names = [net.client.name, net.gateway.name, net.internet.name]
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(n in listed for n in names)


def test_with_ipv6_the_client_reaches_the_internet_over_ipv6_through_the_gateway() -> None:
    with topology(ipv6=True) as net:
        server = net.internet.popen([sys.executable, "-c", SERVE, "6"])
        try:
            for target in (INTERNET_IP6, WEB_IP6):
                seen = net.client.run(sys.executable, "-c", ASK, target).stdout.decode().strip()
                assert seen == CLIENT_IP6  # routed by the gateway, no NAT
        finally:
            server.kill()
            server.wait()
