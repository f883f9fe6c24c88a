"""`[firewall]` of roja.toml: what the gateway's nftables table does.

    [firewall]
    lan_interface = "enp2s0"     # the school LAN's card; "" = no firewall
    redirect_dns = true          # LAN DNS (udp/tcp 53) → Roja's DNS port
    dns_port = 0                 # 0: the port of the first [dns] listen address
    block_outside_dns = true     # drop LAN DNS (53), DoT/DoQ (853) to anything else
    block_doh = true             # drop LAN 443/853 to known DoH resolvers' addresses
    block_vpn = true             # drop the VPN handshake ports (OpenVPN, WireGuard, IKE...)
    transparent_proxy = "off"    # "off" or "all" (every tcp 80/443 from the LAN, IPv4 and
                                 # IPv6 → the proxy; [proxy] transparent_host must then be
                                 # "", listening on both: a config error says so otherwise)
    proxy_http_port = 8080       # where the proxy takes redirected port-80 traffic
    proxy_https_port = 8443      # ... and port-443 traffic
    listed_addresses = "legal"   # drop LAN traffic to the addresses of: "legal" lists,
                                 # "deny" (legal and deny lists, for every client whatever
                                 # its group), or "off" (the resolver and proxy still check)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from configkit import Section

IFACE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
PROXY_MODES = ("off", "all")
LISTED_ADDRESSES = ("off", "legal", "deny")


@dataclass(frozen=True)
class FirewallSettings:
    lan_interface: str = ""
    redirect_dns: bool = True
    dns_port: int = 0
    block_outside_dns: bool = True
    block_doh: bool = True
    block_vpn: bool = True
    transparent_proxy: str = "off"
    proxy_http_port: int = 8080
    proxy_https_port: int = 8443
    listed_addresses: str = "legal"

    @property
    def enabled(self) -> bool:
        return bool(self.lan_interface)

    @property
    def redirected_families(self) -> tuple[int, ...]:
        """IP versions whose LAN tcp 80/443 the table redirects to the proxy: the `inet`
        table's redirect takes IPv4 and IPv6 alike, so the proxy must listen on both."""
        return (4, 6) if self.enabled and self.transparent_proxy == "all" else ()


def parse(s: Section) -> FirewallSettings:
    iface = s.str("lan_interface", "")
    if iface and not IFACE.match(iface):
        raise s.error("lan_interface", f"{iface!r} is not a network interface name "
                                       "(letters, digits, '.', '_', '-', at most 15)")
    if s.has("transparent_proxy") and s.str("transparent_proxy") == "steered":
        raise s.error("transparent_proxy", '"steered" is no longer accepted: use "off" with '
                      '[proxy] mode = "steering" (DNS sends only hosts with URL entries to the '
                      'proxy) or "all"')
    settings = FirewallSettings(
        lan_interface=iface,
        redirect_dns=s.bool("redirect_dns", True),
        dns_port=s.int("dns_port", 0, min=0, max=65535),
        block_outside_dns=s.bool("block_outside_dns", True),
        block_doh=s.bool("block_doh", True),
        block_vpn=s.bool("block_vpn", True),
        transparent_proxy=s.choice("transparent_proxy", PROXY_MODES, "off"),
        proxy_http_port=s.int("proxy_http_port", 8080, min=1, max=65535),
        proxy_https_port=s.int("proxy_https_port", 8443, min=1, max=65535),
        listed_addresses=s.choice("listed_addresses", LISTED_ADDRESSES, "legal"),
    )
    s.done()
    return settings
