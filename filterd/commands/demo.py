"""`roja demo`: a working appliance on loopback in one command, with a sample list.

Writes `var/demo/roja.toml` and sample lists (unprivileged port 5353, metrics on 9153), prints
the `dig` lines to try, then serves in the foreground until Ctrl-C. Works without internet:
blocks, canaries and safe-search rewrites answer by themselves, and an unreachable upstream
gives SERVFAIL within two seconds.
"""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path

import click

from dns_resolver.config import system_resolvers
from dns_resolver.server import open_socket
from filterd.config import RojaConfig, load_config

SAMPLE_LISTS = {
    "hotline.txt": """# Lista e konfirmuar nga linja (shembull) / hotline-confirmed list (sample)
# Në prodhim vjen e nënshkruar nga ISIGURT.AL / in production it arrives signed.
hotline-test.roja.test
""",
    "bixhoz.txt": """# Bixhoz / gambling (shembull / sample)
bet365.com
pokerstars.com
casino-shembull.test
""",
    "pornografi.txt": """# Pornografi / pornography (shembull / sample), hosts format
0.0.0.0 pornhub.com
0.0.0.0 xvideos.com
0.0.0.0 this is a bad line
""",
    "rrjete-sociale.txt": """# Rrjete sociale / social media (shembull / sample)
tiktok.com
instagram.com
""",
    "lejuar.txt": """# Të lejuara / allowed (shembull / sample)
newsroom.tiktok.com
""",
    "url-shembull.txt": """# Adresa URL (shembull): vetëm këto shtigje bllokohen.
# URL entries (sample): only these paths are blocked, the rest of the site is not.
example.com/shembull/
example.org/dhune/
""",
}

CONFIG = """# Konfigurim demo i Roja-s / Roja demo configuration (written by `roja demo`)
[school]
name = "Shkolla Demo"
code = "DEMO-001"

[state]
dir = "state"

[dns]
listen = ["127.0.0.1:{port}", "[::1]:{port}"]
upstreams = [{upstreams}]
block_answer = "nxdomain"
block_ttl = 60

[dns.acl]
# 127.0.0.9 is outside on purpose: `dig -b 127.0.0.9 ...` shows a refused client.
allow = ["127.0.0.1/32", "127.0.0.3/32", "::1/128"]

[metrics]
listen = "127.0.0.1:{metrics_port}"

[[lists]]
id = "hotline"
path = "lists/hotline.txt"
kind = "legal"
category = "csam"

[[lists]]
id = "bixhoz"
path = "lists/bixhoz.txt"
category = "gambling"

[[lists]]
id = "pornografi"
path = "lists/pornografi.txt"
format = "hosts"
category = "pornography"

[[lists]]
id = "rrjete-sociale"
path = "lists/rrjete-sociale.txt"
category = "social_media"

[[lists]]
id = "lejuar"
path = "lists/lejuar.txt"
kind = "allow"

[[lists]]
id = "url-shembull"
path = "lists/url-shembull.txt"
format = "urls"
category = "violence"

[proxy]
enabled = true
mode = "steering"
listen = "127.0.0.1:{proxy_port}"
steer_ipv4 = "127.0.0.2"
steer_http_port = {steer_http}
steer_https_port = {steer_https}
blockpage_listen = "127.0.0.1:{page_port}"
school_contact = "Mësuesi i TIK-ut / the ICT teacher (demo)"

[[groups]]
id = "mesuesit"
name = "Mësuesit / Teachers"
networks = ["127.0.0.3/32"]
lists = ["bixhoz", "pornografi"]
safe_search = "off"

[[groups]]
id = "nxenesit"
name = "Nxënësit / Pupils"
networks = ["127.0.0.1/32", "::1/128"]
safe_search = "moderate"

[policy]
default_group = "nxenesit"
"""


def proxy_ports(proxy_port: int) -> dict[str, int]:
    """The demo's proxy ports: explicit proxy, steering HTTP/HTTPS, block page."""
    return {"proxy_port": proxy_port, "steer_http": proxy_port + 1,
            "steer_https": proxy_port + 2, "page_port": proxy_port + 3}


def write_demo(directory: Path, port: int, metrics_port: int, upstreams: list[str],
               proxy_port: int = 8118) -> Path:
    (directory / "lists").mkdir(parents=True, exist_ok=True)
    for name, text in SAMPLE_LISTS.items():
        (directory / "lists" / name).write_text(text, encoding="utf-8")
    path = directory / "roja.toml"
    path.write_text(CONFIG.format(port=port, metrics_port=metrics_port,
                                  upstreams=", ".join(f'"{u}"' for u in upstreams),
                                  **proxy_ports(proxy_port)),
                    encoding="utf-8")
    return path


def instructions(port: int, metrics_port: int, config: Path, upstreams: list[str],
                 proxy_port: int = 8118) -> str:
    d = f"dig @127.0.0.1 -p {port}"
    pp = proxy_ports(proxy_port)
    x = f"curl -x http://127.0.0.1:{proxy_port}"
    steer = f"--connect-to example.com:80:127.0.0.2:{pp['steer_http']}"
    return f"""
Roja demo po punon / is running: DNS 127.0.0.1:{port} (UDP+TCP), metrics http://127.0.0.1:{metrics_port}/metrics
Upstream: {", ".join(upstreams) or "asnjë / none (allowed names get SERVFAIL)"}

Provoni / Try:
  {d} bet365.com            # bllokuar / blocked (NXDOMAIN, EDE 17 Filtered)
  {d} www.bet365.com        # nëndomenet gjithashtu / subdomains too
  {d} tiktok.com            # rrjete sociale: bllokuar për nxënësit / blocked for pupils
  {d} -b 127.0.0.3 tiktok.com   # mësuesit: lejuar / teachers: allowed
  {d} newsroom.tiktok.com   # në listën e lejuar / on the allow list
  {d} www.google.com        # kërkim i sigurt / safe search → forcesafesearch.google.com
  {d} www.youtube.com       # → restrictmoderate.youtube.com
  {d} use-application-dns.net   # kanarinë / canary: NXDOMAIN (Firefox DoH off)
  {d} example.org           # lejuar, nga upstream / allowed, via the upstream
  {d} -b 127.0.0.9 example.org  # klient jashtë ACL / client outside the ACL: REFUSED
  curl -s http://127.0.0.1:{metrics_port}/metrics | grep roja_dns_queries

Proxy-ja / the proxy (URL-level blocks; the block page is 403, Albanian first):
  {d} example.com           # drejtuar te proxy / steered to the proxy: 127.0.0.2
  {x} http://example.com/shembull/faqe   # bllokuar / blocked: the block page
  {x} http://example.com/   # lejuar / allowed (needs internet)
  curl {steer} http://example.com/shembull/   # si klient i drejtuar nga DNS / as a steered client
  {x} http://bet365.com/    # emri i bllokuar / a blocked name: the block page
  {x} https://dns.google/   # DoH: refuzuar / refused (a filter-bypass incident)
  Shfletuesi / browser: proxy 127.0.0.1:{proxy_port}, or PAC http://127.0.0.1:{pp['page_port']}/proxy.pac
  Certifikata / CA: http://127.0.0.1:{pp['page_port']}/ca
  .venv/bin/roja --config {config} incidents list --since 1h

Ndalo me Ctrl-C / stop with Ctrl-C.
"""


def unusable_addresses(cfg: RojaConfig) -> list[str]:
    """`host:port (why)` for each address the demo needs but cannot bind (e.g. 5353 held by
    avahi or an earlier demo), checked before starting so the user gets a clear message."""
    problems = []
    for host, port in cfg.dns.listen:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            try:
                open_socket(host, port, kind).close()
            except OSError as exc:
                problems.append(f"[{host}]:{port} ({exc.strerror})" if ":" in host
                                else f"{host}:{port} ({exc.strerror})")
                break
    listeners = [cfg.proxy.listen, cfg.proxy.blockpage_listen]
    if cfg.proxy.enabled and cfg.proxy.steer_ipv4:
        listeners += [(cfg.proxy.steer_ipv4, cfg.proxy.steer_http_port),
                      (cfg.proxy.steer_ipv4, cfg.proxy.steer_https_port)]
    for where in listeners if cfg.proxy.enabled else []:
        if where is None:
            continue
        with socket.socket(socket.AF_INET6 if ":" in where[0] else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(where)
            except OSError as exc:
                problems.append(f"proxy {where[0]}:{where[1]} ({exc.strerror})")
    if cfg.metrics_listen is not None:
        host, port = cfg.metrics_listen
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                problems.append(f"metrics {host}:{port} ({exc.strerror})")
    return problems


def _ports_free(base: int) -> bool:
    """Are base..base+3 free on 127.0.0.1 and 127.0.0.2 (TCP)?"""
    for host in ("127.0.0.1", "127.0.0.2"):
        for port in range(base, base + 4):
            with socket.socket() as sock:
                try:
                    sock.bind((host, port))
                except OSError:
                    return False
    return True


def _free_block() -> int:
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = int(sock.getsockname()[1])
        if base < 65530 and _ports_free(base):
            return base
    return 8118  # the start-up check then names the taken ports


@click.command()
@click.option("--port", default=5353, show_default=True, help="DNS port")
@click.option("--metrics-port", default=9153, show_default=True)
@click.option("--proxy-port", type=int, default=None,
              help="Explicit proxy port (default 8118, or free ports when taken); steering "
                   "uses the next two (on 127.0.0.2), the block page the one after")
@click.option("--upstream", "upstream", multiple=True, metavar="ADDR",
              help="Upstream resolver (default: the nameservers of /etc/resolv.conf)")
@click.option("--dir", "directory", default="var/demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
def demo(port: int, metrics_port: int, proxy_port: int | None, upstream: tuple[str, ...],
         directory: Path) -> None:
    """Nis një demo në loopback / start a demo on loopback with a sample list."""
    from filterd.app import run

    upstreams = list(upstream) or [
        f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in system_resolvers()
        if not h.startswith("127.") or p != port]
    if proxy_port is None:
        proxy_port = 8118 if _ports_free(8118) else _free_block()
    path = write_demo(directory, port, metrics_port, upstreams, proxy_port)
    cfg = load_config(path)
    problems = unusable_addresses(cfg)
    if problems:
        click.echo("Demo nuk mund të niset, adresa e zënë ose e padisponueshme / the demo cannot "
                   f"start, address in use or unavailable: {', '.join(problems)}\n"
                   "Provoni porta të tjera / try other ports: "
                   f"roja demo --port {port + 1} --metrics-port {metrics_port + 1} "
                   f"--proxy-port {proxy_port + 10}", err=True)
        sys.exit(1)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(instructions(port, metrics_port, path, upstreams, proxy_port))
    run(cfg)
