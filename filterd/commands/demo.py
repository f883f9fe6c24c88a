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


def write_demo(directory: Path, port: int, metrics_port: int, upstreams: list[str]) -> Path:
    (directory / "lists").mkdir(parents=True, exist_ok=True)
    for name, text in SAMPLE_LISTS.items():
        (directory / "lists" / name).write_text(text, encoding="utf-8")
    path = directory / "roja.toml"
    path.write_text(CONFIG.format(port=port, metrics_port=metrics_port,
                                  upstreams=", ".join(f'"{u}"' for u in upstreams)),
                    encoding="utf-8")
    return path


def instructions(port: int, metrics_port: int, config: Path, upstreams: list[str]) -> str:
    d = f"dig @127.0.0.1 -p {port}"
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
    if cfg.metrics_listen is not None:
        host, port = cfg.metrics_listen
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                problems.append(f"metrics {host}:{port} ({exc.strerror})")
    return problems


@click.command()
@click.option("--port", default=5353, show_default=True, help="DNS port")
@click.option("--metrics-port", default=9153, show_default=True)
@click.option("--upstream", "upstream", multiple=True, metavar="ADDR",
              help="Upstream resolver (default: the nameservers of /etc/resolv.conf)")
@click.option("--dir", "directory", default="var/demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
def demo(port: int, metrics_port: int, upstream: tuple[str, ...], directory: Path) -> None:
    """Nis një demo në loopback / start a demo on loopback with a sample list."""
    from filterd.app import run

    upstreams = list(upstream) or [
        f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in system_resolvers()
        if not h.startswith("127.") or p != port]
    path = write_demo(directory, port, metrics_port, upstreams)
    cfg = load_config(path)
    problems = unusable_addresses(cfg)
    if problems:
        click.echo("Demo nuk mund të niset, adresa e zënë ose e padisponueshme / the demo cannot "
                   f"start, address in use or unavailable: {', '.join(problems)}\n"
                   "Provoni porta të tjera / try other ports: "
                   f"roja demo --port {port + 1} --metrics-port {metrics_port + 1}", err=True)
        sys.exit(1)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(instructions(port, metrics_port, path, upstreams))
    run(cfg)
