"""`[proxy]` of roja.toml: the web filtering proxy, its steering address and the block page.

    [proxy]
    enabled = false
    mode = "steering"            # "steering" (DNS sends hosts with URL entries here),
                                 # "explicit" (browsers use listen / PAC / WPAD) or
                                 # "transparent" (the firewall redirects 80/443 here)
    listen = "127.0.0.1:3128"    # the explicit proxy (all modes); "" = none
    steer_ipv4 = ""              # the address the resolver answers for steered names
    steer_ipv6 = ""              # (no IPv6 address: steered names get no AAAA at all)
    steer_http_port = 80         # where the steering listener takes plain HTTP ...
    steer_https_port = 443       # ... and TLS, on the steer addresses
    steer_ttl = 30               # TTL of steered answers (s)
    transparent_host = ""        # transparent mode: listens here on [firewall]
                                 # proxy_http_port and proxy_https_port; "" = every
                                 # address, IPv4 and IPv6 (what the firewall's redirect
                                 # needs on a dual-stack LAN); one address = that one only
    blockpage_listen = "127.0.0.1:8081"   # block-page server, HTTP; "" = none
    blockpage_tls_listen = ""    # block-page server, HTTPS (certificates from the school CA)
    blockpage_url = ""           # how clients reach the block-page server (form, PAC);
                                 # "" = http://<blockpage_listen>
    ca_dir = ""                  # the school CA (mitmproxy's files); "" = <state>/ca
    ca_installed = false         # the CA is on the devices: blocked HTTPS hosts get the
                                 # block page instead of a refused connection
    upstream_ca_file = ""        # PEM bundle trusted for sites the proxy decrypts; "" = the
                                 # public roots shipped with mitmproxy (certifi)
    youtube_restrict = "group"   # "group" (from the group's safe_search), "off",
                                 # "moderate" or "strict"
    school_contact = ""          # shown on the block page (e.g. "Mësuesi i TIK, dhoma 12")
    stream_large_bodies = "1m"   # bodies larger than this stream through, never held whole
    max_connections = 2000       # client connections at once; more are closed at once
    idle_timeout = 60            # seconds a connection may stay silent
    connect_ports = [443]        # the ports an explicit CONNECT may reach; others get 403
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from configkit import Section, parse_hostport
from policy.steering import SteerSettings

MODES = ("steering", "explicit", "transparent")
YOUTUBE = ("group", "off", "moderate", "strict")
_SIZE = re.compile(r"^[0-9]+[kmg]?$")


@dataclass(frozen=True)
class ProxySettings:
    enabled: bool = False
    mode: str = "steering"
    listen: tuple[str, int] | None = ("127.0.0.1", 3128)
    steer_ipv4: str = ""
    steer_ipv6: str = ""
    steer_http_port: int = 80
    steer_https_port: int = 443
    steer_ttl: int = 30
    transparent_host: str = ""
    blockpage_listen: tuple[str, int] | None = ("127.0.0.1", 8081)
    blockpage_tls_listen: tuple[str, int] | None = None
    blockpage_url: str = ""
    ca_dir: Path | None = None
    ca_installed: bool = False
    upstream_ca_file: Path | None = None
    youtube_restrict: str = "group"
    school_contact: str = ""
    stream_large_bodies: str = "1m"
    max_connections: int = 2000
    idle_timeout: int = 60
    connect_ports: frozenset[int] = frozenset({443})

    def steering(self) -> SteerSettings | None:
        """What the resolver needs to steer names, or None when it must not steer."""
        if not self.enabled or self.mode != "steering":
            return None
        return SteerSettings(self.steer_ipv4, self.steer_ipv6, self.steer_ttl)

    def page_url(self) -> str:
        """The block-page server's base URL as clients reach it (no trailing slash)."""
        if self.blockpage_url:
            return self.blockpage_url.rstrip("/")
        if self.blockpage_listen is None:
            return ""
        host, port = self.blockpage_listen
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}" + ("" if port == 80 else f":{port}")

    def ca_path(self, state_dir: Path) -> Path:
        return self.ca_dir if self.ca_dir is not None else state_dir / "ca"

    @property
    def transparent_families(self) -> tuple[int, ...]:
        """IP versions the transparent listeners accept: "" binds 0.0.0.0 and :: (asyncio
        makes the IPv6 socket IPv6-only), one address binds only its own family."""
        if not self.transparent_host:
            return (4, 6)
        return (ipaddress.ip_address(self.transparent_host).version,)


def _hostport(s: Section, key: str, default: str, port: int) -> tuple[str, int] | None:
    text = s.str(key, default)
    if not text:
        return None
    try:
        return parse_hostport(text, port, allow_zero=True)
    except ValueError:
        raise s.error(key, f"{text!r} is not an address like 127.0.0.1:{port} or "
                           f"[::1]:{port}") from None


def _address(s: Section, key: str, version: int) -> str:
    text = s.str(key, "")
    if not text:
        return ""
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise s.error(key, f"{text!r} is not an IPv{version} address") from None
    if addr.version != version:
        raise s.error(key, f"{text!r} is not an IPv{version} address")
    return str(addr)


def _transparent_host(s: Section, enabled: bool, mode: str, redirected: tuple[int, ...]) -> str:
    """`transparent_host`: "" or one address; with the firewall redirecting both families
    to transparent listeners of one family, the other family's web would go nowhere."""
    text = s.str("transparent_host", "").strip()
    if text:
        try:
            text = str(ipaddress.ip_address(text))
        except ValueError:
            raise s.error("transparent_host", f"{text!r} is not an address (or \"\" for every "
                                              "address, IPv4 and IPv6)") from None
    if enabled and mode == "transparent" and text:
        family = ipaddress.ip_address(text).version
        missing = [v for v in redirected if v != family]
        if missing:
            raise s.error("transparent_host", (
                f"{text!r} dëgjon vetëm në IPv{family}, por [firewall] transparent_proxy = "
                f'"all" ridrejton këtu edhe uebin IPv{missing[0]} të LAN-it, ku nuk do të '
                f'përgjigjej askush; vendosni transparent_host = "" (çdo adresë, IPv4 dhe IPv6) / '
                f"listens on IPv{family} only, but [firewall] transparent_proxy = \"all\" also "
                f"redirects the LAN's IPv{missing[0]} web traffic here, which would go nowhere; "
                'use transparent_host = "" (every address, IPv4 and IPv6)'))
    return text


def _ports(s: Section, key: str) -> frozenset[int]:
    ports = s.int_list(key, [443], min=1, max=65535)
    if not ports:
        raise s.error(key, "give at least one port, e.g. [443]")
    return frozenset(ports)


def parse(s: Section, base: Path, redirected: tuple[int, ...] = ()) -> ProxySettings:
    """`redirected`: the IP versions the gateway's firewall redirects to the transparent
    listeners (both when `[firewall] transparent_proxy = "all"`, none when it is off)."""
    enabled = s.bool("enabled", False)
    mode = s.choice("mode", MODES, "steering")
    v4, v6 = _address(s, "steer_ipv4", 4), _address(s, "steer_ipv6", 6)
    if enabled and mode == "steering" and not (v4 or v6):
        raise s.error("mode", '"steering" needs steer_ipv4 or steer_ipv6 (the address the '
                              "resolver gives for names with URL entries)")
    transparent_host = _transparent_host(s, enabled, mode, redirected)
    url = s.str("blockpage_url", "")
    if url and not re.match(r"^https?://[^/\s]+/?$", url):
        raise s.error("blockpage_url", f"{url!r} is not like http://192.168.1.2 "
                                       "(scheme and host, no path)")
    ca = s.str("ca_dir", "")
    ca_dir = None if not ca else (Path(ca) if Path(ca).is_absolute() else base / ca)
    upstream = s.str("upstream_ca_file", "")
    upstream_ca = None if not upstream else (
        Path(upstream) if Path(upstream).is_absolute() else base / upstream)
    if upstream_ca is not None and not upstream_ca.is_file():
        raise s.error("upstream_ca_file", f"{str(upstream_ca)!r} is not a file (a PEM bundle "
                                          "such as /etc/ssl/certs/ca-certificates.crt)")
    stream = s.str("stream_large_bodies", "1m").strip().lower()
    if not _SIZE.match(stream):
        raise s.error("stream_large_bodies", f"{stream!r} is not a size like 512k or 1m")
    settings = ProxySettings(
        enabled=enabled,
        mode=mode,
        listen=_hostport(s, "listen", "127.0.0.1:3128", 3128),
        steer_ipv4=v4,
        steer_ipv6=v6,
        steer_http_port=s.int("steer_http_port", 80, min=0, max=65535),
        steer_https_port=s.int("steer_https_port", 443, min=0, max=65535),
        steer_ttl=s.int("steer_ttl", 30, min=0, max=3600),
        transparent_host=transparent_host,
        blockpage_listen=_hostport(s, "blockpage_listen", "127.0.0.1:8081", 80),
        blockpage_tls_listen=_hostport(s, "blockpage_tls_listen", "", 443),
        blockpage_url=url,
        ca_dir=ca_dir,
        ca_installed=s.bool("ca_installed", False),
        upstream_ca_file=upstream_ca,
        youtube_restrict=s.choice("youtube_restrict", YOUTUBE, "group"),
        school_contact=s.str("school_contact", "").strip()[:300],
        stream_large_bodies=stream,
        max_connections=s.int("max_connections", 2000, min=1),
        idle_timeout=s.int("idle_timeout", 60, min=1, max=3600),
        connect_ports=_ports(s, "connect_ports"),
    )
    s.done()
    return settings
