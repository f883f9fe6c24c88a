"""Render `table inet roja` from `[firewall]`: pure text, checked by `nft -c -f` in tests.

The file replaces the table atomically (`table` + `delete table` + the new table in one
`nft -f` transaction), so other tables (the host's own firewall, Docker, libvirt) are never
touched. What it contains, for traffic arriving on `lan_interface`:

- nat `prerouting`: udp/tcp 53 redirected to Roja's DNS port on the gateway (counter
  `dns_redirected`); with `transparent_proxy = "all"` every tcp 80/443 to elsewhere (not to
  the gateway itself: its block-page and CA pages stay direct) goes to the proxy's ports
  (counter `proxy_redirected`), where mitmproxy's transparent mode reads the original
  destination (SO_ORIGINAL_DST). The `inet` table redirects IPv4 and IPv6 alike, so the
  proxy must listen on both (`[proxy] transparent_host = ""`, the default); a config whose
  transparent listeners take one family only is refused when it is loaded (`roja config
  check`, `roja firewall ...`, `roja serve`: `filterd.proxy.config`), never rendered into a
  table that would send the other family's web nowhere. Schools without it use DNS steering,
  which sends only the hosts with URL entries to the proxy (architecture decision 1);
- filter `forward`: what would leave the LAN for outside DNS (53), DoT/DoQ (853), a known DoH
  address (`doh4`/`doh6` on 443 and 853, tcp and udp), or a VPN handshake port is dropped and
  counted (`outside_dns_dropped`, `dot_dropped`, `doh_dropped`, `vpn_dropped`); with
  `transparent_proxy = "all"` also udp 443 (QUIC, HTTP/3: the proxy runs without HTTP/3 and
  cannot see inside it), so browsers fall back to TCP, which is redirected (`quic_dropped`);
- filter `forward`, the lists' addresses (`listed_addresses`: "legal" lists, or "deny" and
  "legal" ones): one interval set per list and family (`list_<id>_4`, `list_<id>_6`) and a
  counter per list (`list_<id>`); LAN traffic to them is dropped. The sets come from the
  compiled lists the daemon enforces, so `roja firewall apply` after a list change
  (roja-firewall-lists.path runs it) refreshes them in the same one-transaction replace;
  `apply` passes the loaded table's counters as `carried`, so the new table's counters start
  where the old ones were (a refresh never resets "dropped so far"; only the packets counted
  in the milliseconds between reading and loading are lost);
- filter `input`, with `transparent_proxy = "all"`: new connections to the proxy's ports from
  anywhere but the LAN card and loopback are dropped (`proxy_port_dropped`). The transparent
  listeners bind every address (IPv4 and IPv6) so that redirected LAN traffic arrives; this
  keeps the WAN side from using them as an open relay.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence

from filterd.firewall.config import FirewallSettings
from policy.address_lists import network

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
TABLE = "roja"
COUNTERS = ("dns_redirected", "proxy_redirected", "outside_dns_dropped", "dot_dropped",
            "doh_dropped", "vpn_dropped", "quic_dropped", "proxy_port_dropped")


def _ports(ports: Iterable[int]) -> str:
    unique = sorted(set(ports))
    return str(unique[0]) if len(unique) == 1 else "{ " + ", ".join(map(str, unique)) + " }"


def _set(name: str, kind: str, elements: list[str]) -> list[str]:
    lines = [f"\tset {name} {{", f"\t\ttype {kind}"]
    if elements:
        lines.append("\t\telements = { " + ", ".join(elements) + " }")
    lines.append("\t}")
    return lines


def list_name(list_id: str, taken: Iterable[str] = ()) -> str:
    """`list_<id>` as an nft name (`-` → `_`; a number added if two ids meet)."""
    base = "list_" + list_id.replace("-", "_")
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


Carried = Mapping[str, tuple[int, int]]  # counter name → (packets, bytes) to start from


def _counter(name: str, carried: Carried) -> str:
    packets, octets = carried.get(name, (0, 0))
    return (f"\tcounter {name} {{ packets {packets} bytes {octets} }}" if packets or octets
            else f"\tcounter {name} {{ }}")


def _listed(fw: FirewallSettings, listed: Mapping[str, Sequence[str]], carried: Carried
            ) -> tuple[list[str], list[str]]:
    """The counters and sets of the lists' addresses, and their forward-chain drop rules."""
    lan = f'iifname "{fw.lan_interface}"'
    decl: list[str] = []
    rules: list[str] = []
    names: list[str] = []
    for list_id in sorted(listed):
        name = list_name(list_id, names)
        names.append(name)
        nets = {network(text) for text in listed[list_id]} - {None}
        decl.append(_counter(name, carried))
        for version, family, kind in ((4, "ip", "ipv4_addr"), (6, "ip6", "ipv6_addr")):
            found = sorted((n for n in nets if n is not None and n.version == version),
                           key=lambda n: (int(n.network_address), n.prefixlen))
            decl += [f"\tset {name}_{version} {{", f"\t\ttype {kind}",
                     "\t\tflags interval", "\t\tauto-merge"]
            if found:
                decl.append("\t\telements = {")
                for i in range(0, len(found), 500):
                    chunk = ", ".join(str(n) for n in found[i:i + 500])
                    decl.append(f"\t\t\t{chunk}" + ("," if i + 500 < len(found) else ""))
                decl.append("\t\t}")
            decl.append("\t}")
            rules.append(f'\t\t{lan} {family} daddr @{name}_{version} counter name '
                         f'"{name}" drop')
    return decl, rules


def render(fw: FirewallSettings, dns_port: int, doh: Iterable[IPAddress],
           vpn_ports: Iterable[tuple[str, int, str]],
           listed: Mapping[str, Sequence[str]] | None = None,
           carried: Carried | None = None) -> str:
    """The whole nft script; `dns_port` is used when `fw.dns_port` is 0; `listed`: list id
    → the addresses and networks whose LAN traffic is dropped (chosen by the caller);
    `carried`: the values the counters start from (the loaded table's, `nft.counter_values`)."""
    if not fw.enabled:
        raise ValueError("[firewall] lan_interface is empty: no firewall to render")
    lan = f'iifname "{fw.lan_interface}"'
    port = fw.dns_port or dns_port
    doh = sorted(set(doh), key=lambda a: (a.version, int(a)))
    doh4 = [str(a) for a in doh if a.version == 4]
    doh6 = [str(a) for a in doh if a.version == 6]
    out = ["# Roja: rregullat e portës / the gateway's rules. Generated by `roja firewall "
           "render`; do not edit, change /etc/roja/roja.toml [firewall] instead.",
           f"table inet {TABLE}", f"delete table inet {TABLE}", "", f"table inet {TABLE} {{"]
    for name in COUNTERS:
        out.append(_counter(name, carried or {}))
    out += _set("doh4", "ipv4_addr", doh4) + _set("doh6", "ipv6_addr", doh6)
    declared, listed_rules = _listed(fw, listed or {}, carried or {})
    out += declared

    out += ["", "\tchain prerouting {", "\t\ttype nat hook prerouting priority dstnat; "
            "policy accept;"]
    if fw.redirect_dns:
        out.append(f'\t\t{lan} meta l4proto {{ tcp, udp }} th dport 53 counter name '
                   f'"dns_redirected" redirect to :{port}')
    if fw.transparent_proxy == "all":
        for web, proxy in ((80, fw.proxy_http_port), (443, fw.proxy_https_port)):
            out.append(f'\t\t{lan} fib daddr type != local tcp dport {web} counter name '
                       f'"proxy_redirected" redirect to :{proxy}')
    out.append("\t}")

    out += ["", "\tchain forward {", "\t\ttype filter hook forward priority filter; "
            "policy accept;"]
    if fw.block_outside_dns:
        out.append(f'\t\t{lan} meta l4proto {{ tcp, udp }} th dport 53 counter name '
                   '"outside_dns_dropped" drop')
        out.append(f'\t\t{lan} meta l4proto {{ tcp, udp }} th dport 853 counter name '
                   '"dot_dropped" drop')
    if fw.block_doh:
        for family, name in (("ip", "doh4"), ("ip6", "doh6")):
            out.append(f'\t\t{lan} {family} daddr @{name} meta l4proto {{ tcp, udp }} '
                       'th dport { 443, 853 } counter name "doh_dropped" drop')
    if fw.block_vpn:
        vpn = list(vpn_ports)
        for proto in ("udp", "tcp"):
            ports = [p for pr, p, _ in vpn if pr == proto]
            if ports:
                out.append(f'\t\t{lan} {proto} dport {_ports(ports)} counter name '
                           '"vpn_dropped" drop')
    if fw.transparent_proxy == "all":
        out.append(f'\t\t{lan} udp dport 443 counter name "quic_dropped" drop')
    out += listed_rules
    out.append("\t}")

    if fw.transparent_proxy == "all":
        out += ["", "\tchain input {", "\t\ttype filter hook input priority filter; "
                "policy accept;",
                f'\t\tiifname != {{ "lo", "{fw.lan_interface}" }} tcp dport '
                f"{_ports((fw.proxy_http_port, fw.proxy_https_port))} ct state new counter "
                'name "proxy_port_dropped" drop', "\t}"]
    out += ["}", ""]
    return "\n".join(out)
