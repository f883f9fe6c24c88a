"""Network namespaces for the end-to-end test: a school LAN behind a gateway, and an "internet".

```
 client ns            gateway ns                         internet ns
 10.77.1.2  ──veth──  10.77.1.1 (LAN)   10.77.2.1 ──veth──  10.77.2.2 (upstream DNS, web)
                      ip_forward = 1                        10.77.2.53 (an outside resolver)
                                                            10.77.2.80 (a web origin)
 with topology(ipv6=True) also (no DAD, usable at once; IPv6 forwarding on the gateway):
 fd77:1::2            fd77:1::1         fd77:2::1           fd77:2::2, fd77:2::80 (web)
```

`topology()` creates the three namespaces with unique names, veth pairs, addresses and
routes (the internet routes the LAN back through the gateway, no NAT), and deletes them all
on exit, also after a failure. `Namespace.run()/popen()` run a command inside one;
`Topology.counters()` reads the gateway's nft counters. Nothing here touches the host's own
interfaces: every interface lives in a namespace made here. Needs root and `ip` (iproute2);
`require_netns()` fails under CI=true, skips otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

LAN_NET, WAN_NET = "10.77.1", "10.77.2"
CLIENT_IP, GATEWAY_LAN_IP = f"{LAN_NET}.2", f"{LAN_NET}.1"
GATEWAY_WAN_IP, INTERNET_IP, OUTSIDE_RESOLVER_IP = f"{WAN_NET}.1", f"{WAN_NET}.2", f"{WAN_NET}.53"
WEB_IP = f"{WAN_NET}.80"
LAN6_NET, WAN6_NET = "fd77:1::", "fd77:2::"
CLIENT_IP6, GATEWAY_LAN_IP6 = f"{LAN6_NET}2", f"{LAN6_NET}1"
GATEWAY_WAN_IP6, INTERNET_IP6, WEB_IP6 = f"{WAN6_NET}1", f"{WAN6_NET}2", f"{WAN6_NET}80"


def require_netns() -> None:
    problem = ""
    if os.geteuid() != 0:
        problem = "network namespaces need root"
    elif shutil.which("ip") is None:
        problem = "`ip` (iproute2) is missing"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)


@dataclass(frozen=True)
class Namespace:
    name: str

    def argv(self, command: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *command]

    def run(self, *command: str, check: bool = True, timeout: float = 30,
            input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        result = subprocess.run(self.argv(command), capture_output=True, timeout=timeout,
                                input=input)
        if check and result.returncode != 0:
            raise RuntimeError(f"in {self.name}: {' '.join(command)} -> {result.returncode}\n"
                               f"{result.stdout.decode(errors='replace')}"
                               f"{result.stderr.decode(errors='replace')}")
        return result

    def popen(self, command: Sequence[str], **kwargs: object) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.argv(command), **kwargs)  # type: ignore[call-overload,no-any-return]


@dataclass(frozen=True)
class Topology:
    client: Namespace
    gateway: Namespace
    internet: Namespace
    lan_interface: str      # the gateway's LAN-side interface
    wan_interface: str

    def counters(self) -> dict[str, int]:
        """Packets per counter of the gateway's `table inet roja`."""
        listing = self.gateway.run("nft", "-j", "list", "counters", "table", "inet",
                                   "roja").stdout.decode()
        return {c["counter"]["name"]: int(c["counter"]["packets"])
                for c in json.loads(listing)["nftables"] if "counter" in c}


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def topology(ipv6: bool = False) -> Iterator[Topology]:
    """The three namespaces; `ipv6` adds the fd77:1::/64 LAN and the fd77:2::/64 internet."""
    require_netns()
    tag = uuid.uuid4().hex[:6]
    client, gateway, internet = (Namespace(f"roja-{kind}-{tag}") for kind in "cgi")
    made: list[Namespace] = []
    try:
        for ns in (client, gateway, internet):
            _ip("netns", "add", ns.name)
            made.append(ns)
            ns.run("ip", "link", "set", "lo", "up")
        lan_c, lan_g, wan_g, wan_i = (f"r{tag}{x}" for x in ("c", "gl", "gw", "i"))
        _ip("link", "add", lan_c, "netns", client.name, "type", "veth", "peer", "name", lan_g,
            "netns", gateway.name)
        _ip("link", "add", wan_g, "netns", gateway.name, "type", "veth", "peer", "name", wan_i,
            "netns", internet.name)
        for ns, dev, addr in ((client, lan_c, CLIENT_IP), (gateway, lan_g, GATEWAY_LAN_IP),
                              (gateway, wan_g, GATEWAY_WAN_IP), (internet, wan_i, INTERNET_IP)):
            ns.run("ip", "addr", "add", f"{addr}/24", "dev", dev)
            ns.run("ip", "link", "set", dev, "up")
        internet.run("ip", "addr", "add", f"{OUTSIDE_RESOLVER_IP}/24", "dev", wan_i)
        internet.run("ip", "addr", "add", f"{WEB_IP}/24", "dev", wan_i)
        client.run("ip", "route", "add", "default", "via", GATEWAY_LAN_IP)
        internet.run("ip", "route", "add", f"{LAN_NET}.0/24", "via", GATEWAY_WAN_IP)
        gateway.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
        if ipv6:
            for ns, dev, addr in ((client, lan_c, CLIENT_IP6),
                                  (gateway, lan_g, GATEWAY_LAN_IP6),
                                  (gateway, wan_g, GATEWAY_WAN_IP6),
                                  (internet, wan_i, INTERNET_IP6), (internet, wan_i, WEB_IP6)):
                ns.run("ip", "-6", "addr", "add", f"{addr}/64", "dev", dev, "nodad")
            client.run("ip", "-6", "route", "add", "default", "via", GATEWAY_LAN_IP6)
            internet.run("ip", "-6", "route", "add", f"{LAN6_NET}/64", "via", GATEWAY_WAN_IP6)
            gateway.run("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        yield Topology(client, gateway, internet, lan_g, wan_g)
    finally:
        for ns in reversed(made):
            pids = subprocess.run(["ip", "netns", "pids", ns.name], capture_output=True,
                                  text=True).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            subprocess.run(["ip", "netns", "del", ns.name], capture_output=True)
