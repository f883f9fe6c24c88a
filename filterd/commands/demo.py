"""`roja demo`: a working appliance on loopback in one command, with a sample list.

Writes `var/demo/roja.toml` and sample lists (unprivileged port 5353, metrics on 9153, the
proxy from 8118), starts the demo's stand-in upstream and sample site (`demo_internet`), then
Roja and the teacher's console (with a teacher account whose generated password it prints),
prints the lines to try (`demo_examples`: each says what it answers) and serves in the
foreground until Ctrl-C. Works without internet: every printed line answers as it says;
other names go to the real resolvers and get SERVFAIL within two seconds when they are out of
reach.
"""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path
from typing import NoReturn

import click

from configkit import parse_hostport
from dns_resolver.config import system_resolvers
from dns_resolver.server import open_socket
from filterd.commands.demo_console import teacher_login
from filterd.commands.demo_examples import DemoPorts, instructions
from filterd.commands.demo_internet import DEMO_DOMAINS, SITE_ADDRESS, DemoInternet
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

[dns.tls]
listen = ["127.0.0.1:{dot_port}"]
[dns.https]
listen = ["127.0.0.1:{doh_port}"]

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

[console]
listen = "127.0.0.1:{console_port}"

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
# The sample site is on loopback; the proxy refuses private addresses not listed here.
allow_private = ["{site_address}/32"]
"""


def write_demo(directory: Path, ports: DemoPorts, upstreams: list[str]) -> Path:
    (directory / "lists").mkdir(parents=True, exist_ok=True)
    for name, text in SAMPLE_LISTS.items():
        (directory / "lists" / name).write_text(text, encoding="utf-8")
    path = directory / "roja.toml"
    path.write_text(CONFIG.format(port=ports.dns, metrics_port=ports.metrics,
                                  upstreams=", ".join(f'"{u}"' for u in upstreams),
                                  proxy_port=ports.proxy, steer_http=ports.steer_http,
                                  steer_https=ports.steer_https, page_port=ports.page,
                                  dot_port=ports.dot, doh_port=ports.doh,
                                  site_address=SITE_ADDRESS,
                                  console_port=ports.console),
                    encoding="utf-8")
    return path


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
    for host, port in cfg.dns.encrypted.tls_listen + cfg.dns.encrypted.https_listen:
        try:
            open_socket(host, port, socket.SOCK_STREAM).close()
        except OSError as exc:
            problems.append(f"DoT/DoH {host}:{port} ({exc.strerror})")
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
    for what, where in (("metrics", cfg.metrics_listen), ("console", cfg.console.listen)):
        if where is None:
            continue
        host, port = where
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                problems.append(f"{what} {host}:{port} ({exc.strerror})")
    return problems


def _ports_free(base: int) -> bool:
    """Is the proxy's block base..base+4 free (TCP) on the addresses that use it?"""
    for host in ("127.0.0.1", "127.0.0.2", SITE_ADDRESS):
        for port in range(base, base + 5):
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
    return DemoPorts.proxy  # the start-up check then names the taken ports


def _free_or(preferred: int) -> int:
    """`preferred` if TCP on 127.0.0.1 has it free, else a port the kernel picks."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _forward_to(upstream: tuple[str, ...], port: int) -> list[tuple[str, int]]:
    """Where the stand-in upstream sends the names it does not know: `--upstream`, or the
    nameservers of /etc/resolv.conf (without the demo itself)."""
    chosen = []
    for text in upstream:
        try:
            chosen.append(parse_hostport(text, 53))
        except ValueError:
            raise click.BadParameter(
                f"{text!r} nuk është adresë IP me portë / is not an IP address with a port "
                "(p.sh. / e.g. 9.9.9.9, 9.9.9.9:53, [2620:fe::fe]:53)",
                param_hint="--upstream") from None
    return chosen or [(h, p) for h, p in system_resolvers()
                      if not h.startswith("127.") or p != port]


def _cannot_start(problems: list[str], ports: DemoPorts) -> NoReturn:
    click.echo("Demo nuk mund të niset, adresa e zënë ose e padisponueshme / the demo cannot "
               f"start, address in use or unavailable: {', '.join(problems)}\n"
               "Provoni porta të tjera / try other ports: "
               f"roja demo --port {ports.dns + 1} --metrics-port {ports.metrics + 1} "
               f"--proxy-port {ports.proxy + 10} --console-port {ports.console + 1}", err=True)
    sys.exit(1)


def upstream_line(internet: DemoInternet) -> str:
    others = ", ".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in internet.forward)
    return (f"{internet.dns_address}, upstream-i i demos / the demo's stand-in upstream: "
            f"{', '.join(DEMO_DOMAINS)} → {SITE_ADDRESS}; emrat e tjerë / other names → "
            f"{others or 'asnjë / none (SERVFAIL)'}")


async def serve(cfg: RojaConfig, internet: DemoInternet, text: str) -> None:
    """The stand-in upstream, then the appliance, then the teacher's console (after the
    appliance made the school CA); the lines to try once everything answers."""
    from aiohttp import web

    from filterd.app import Appliance
    from filterd.console.app import start as start_console

    console: list[web.AppRunner] = []

    async def show() -> None:
        console.append((await start_console(cfg))[0])
        click.echo(text)

    await internet.start()
    try:
        await Appliance(cfg).run_until_signalled(after_start=show)
    finally:
        for runner in console:
            await runner.cleanup()
        await internet.close()


@click.command(short_help="Nis një demo lokale / start a local demo.")
@click.option("--port", default=DemoPorts.dns, show_default=True, help="DNS port")
@click.option("--metrics-port", default=DemoPorts.metrics, show_default=True)
@click.option("--proxy-port", type=int, default=None,
              help="Explicit proxy port (default 8118, or free ports when taken); steering "
                   "uses the next two (on 127.0.0.2), the block page the one after, the "
                   "sample site the fifth (on 127.0.0.4)")
@click.option("--dot-port", type=int, default=None,
              help=f"DNS over TLS port (default {DemoPorts.dot}, or a free one when taken)")
@click.option("--doh-port", type=int, default=None,
              help=f"DNS over HTTPS port (default {DemoPorts.doh}, or a free one when taken)")
@click.option("--console-port", type=int, default=None,
              help="The teacher's console (HTTPS; default 8443, or a free port when taken)")
@click.option("--upstream", "upstream", multiple=True, metavar="ADDR",
              help="Where the demo's stand-in upstream forwards names it does not know "
                   "(default: the nameservers of /etc/resolv.conf)")
@click.option("--dir", "directory", default="var/demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
def demo(port: int, metrics_port: int, proxy_port: int | None, dot_port: int | None,
         doh_port: int | None, console_port: int | None, upstream: tuple[str, ...],
         directory: Path) -> None:
    """Nis një demo në loopback / start a demo on loopback with a sample list."""
    from filterd.app import event_loop_runner

    forward = _forward_to(upstream, port)
    if proxy_port is None:
        proxy_port = DemoPorts.proxy if _ports_free(DemoPorts.proxy) else _free_block()
    ports = DemoPorts(port, metrics_port, proxy_port, dot_port or _free_or(DemoPorts.dot),
                      doh_port or _free_or(DemoPorts.doh),
                      console_port or _free_or(DemoPorts.console))
    try:
        internet = DemoInternet(forward, ports.site)
    except OSError as exc:
        _cannot_start([f"{SITE_ADDRESS}:{ports.site} ({exc.strerror})"], ports)
    path = write_demo(directory, ports, [internet.dns_address])
    cfg = load_config(path)
    problems = unusable_addresses(cfg)
    if problems:
        _cannot_start(problems, ports)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    login = teacher_login(cfg.state_dir)
    event_loop_runner()(serve(cfg, internet, instructions(ports, path, upstream_line(internet),
                                                          login)))
