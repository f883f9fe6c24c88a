"""Command lines and config files for the servers in the DNS benchmark.

Each function writes its config into ``workdir`` and returns a :class:`Server` describing how to
start the process in the foreground. Every server listens on 127.0.0.1 only, on ports chosen at
run time, and forwards non-blocked names to the upstream NSD on loopback. Nothing here starts a
process; see ``run.py``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.dns.lists import MISS_ZONE, ZONE, DataSet

ROJA_EXE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "roja"


@dataclass(frozen=True)
class Server:
    """A server to start: its name, argv (without the CPU pinning) and listening port."""

    name: str
    argv: list[str]
    port: int
    note: str = ""


def _exe(name: str, fallback: str) -> str:
    return shutil.which(name) or fallback


def nsd(workdir: Path, data: DataSet, port: int) -> Server:
    """Authoritative upstream for :data:`~bench.dns.lists.ZONE`, in the foreground (``-d``)."""
    d = workdir / "nsd"
    d.mkdir(parents=True, exist_ok=True)
    conf = d / "nsd.conf"
    conf.write_text(
        f"""server:
    ip-address: 127.0.0.1@{port}
    port: {port}
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "{data.dir}"
    database: ""
    zonelistfile: "{d}/zone.list"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    pidfile: "{d}/nsd.pid"
    logfile: "{d}/nsd.log"
    verbosity: 0
    hide-version: yes
    minimal-responses: yes
    # response rate limiting off: the miss mix asks ~10,000 wildcard names a second
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: "{ZONE}"
    zonefile: "{data.zone_file}"
zone:
    name: "{MISS_ZONE}"
    zonefile: "{data.miss_zone_file}"
"""
    )
    return Server("nsd", [_exe("nsd", "/usr/sbin/nsd"), "-d", "-c", str(conf)], port)


def dnsmasq(workdir: Path, data: DataSet, port: int, upstream: int) -> Server:
    """dnsmasq with ``address=/d/`` per listed domain (NXDOMAIN for it and its subdomains)."""
    d = workdir / "dnsmasq"
    d.mkdir(parents=True, exist_ok=True)
    conf = d / "dnsmasq.conf"
    conf.write_text(
        f"""port={port}
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
server=127.0.0.1#{upstream}
cache-size=10000
dns-forward-max=1000
user=root
pid-file=
conf-file={data.dnsmasq_conf}
"""
    )
    argv = [_exe("dnsmasq", "/usr/sbin/dnsmasq"), "-k", f"--conf-file={conf}"]
    return Server("dnsmasq", argv, port)


def unbound(workdir: Path, data: DataSet, port: int, upstream: int, threads: int = 1) -> Server:
    """unbound with ``local-zone: "d." always_nxdomain`` per listed domain, ``threads``
    threads (``num-threads``; with more than one, unbound opens a SO_REUSEPORT socket each)."""
    d = workdir / ("unbound" if threads == 1 else f"unbound-{threads}")
    d.mkdir(parents=True, exist_ok=True)
    conf = d / "unbound.conf"
    conf.write_text(
        f"""server:
    interface: 127.0.0.1@{port}
    port: {port}
    do-ip6: no
    do-daemonize: no
    num-threads: {threads}
    so-reuseport: yes
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 0
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    msg-cache-size: 64m
    rrset-cache-size: 128m
    # unbound answers the special-use "test." itself by default; let bench.test. go upstream.
    local-zone: "test." nodefault
include: "{data.unbound_conf}"
remote-control:
    control-enable: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{upstream}
"""
    )
    return Server("unbound", [_exe("unbound", "/usr/sbin/unbound"), "-d", "-c", str(conf)], port)


def roja_state(workdir: Path, name: str = "roja") -> Path:
    """The default state directory of the Roja named `name` (its incident store is there)."""
    return workdir / name.replace(":", "-") / "roja-state"


def roja(
    workdir: Path,
    data: DataSet,
    port: int,
    upstream: int,
    metrics: int,
    *,
    state: Path | None = None,
    dns_extra: str = "",
    workers: int = 1,
    name: str = "roja",
) -> Server:
    """Roja per its config contract (``roja serve --config roja.toml``).

    ``state`` overrides the state directory (default ``workdir/<name>/roja-state``), e.g. to let
    two configs share one compiled list; ``dns_extra`` adds lines to the ``[dns]`` table;
    ``workers`` is ``dns.workers`` (SO_REUSEPORT processes); ``name`` the config's folder.
    """
    d = workdir / name.replace(":", "-")
    state_dir = state if state is not None else roja_state(workdir, name)
    d.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    conf = d / "roja.toml"
    conf.write_text(
        f"""[state]
dir = "{state_dir}"

[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["127.0.0.1:{upstream}"]
block_answer = "nxdomain"
workers = {workers}
{dns_extra}
[dns.acl]
# dnsperf is one client sending far above a school's per-client limit; dnsmasq and unbound
# have no rate limit in this benchmark either.
rate_limit_qps = 0

[metrics]
listen = "127.0.0.1:{metrics}"

[[lists]]
id = "bench"
path = "{data.domains}"
format = "domains"
kind = "deny"
category = "malware"
"""
    )
    return Server("roja", [str(ROJA_EXE), "serve", "--config", str(conf)], port)
