"""The processes the proxy benchmark starts: a local origin, dnsmasq as Roja's upstream,
Roja itself, squid with squidGuard, and plain mitmdump. Each gets its own scratch folder and
loopback ports; `Proc.stop()` ends the whole process group."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.dns.measure import free_port

ORIGIN = """
import asyncio, ssl, sys, uvloop
BODY = b"ok " * 300
HEAD = (b"HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nConnection: keep-alive\\r\\n"
        b"Content-Length: %d\\r\\n\\r\\n")
REPLY = HEAD % len(BODY) + BODY
CHUNK = b"x" * (256 * 1024)
async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            path = head.split(b" ", 2)[1]
            if path.startswith(b"/big/"):  # /big/<MiB>: a large body, streamed
                size = int(path.split(b"/")[2]) * 1024 * 1024
                writer.write(HEAD % size)
                for _ in range(size // len(CHUNK)):
                    writer.write(CHUNK)
                    await writer.drain()
            else:
                writer.write(REPLY)
                await writer.drain()
            if b"connection: close" in head.lower():
                break
    except (asyncio.IncompleteReadError, ConnectionError, IndexError, ValueError):
        pass
    writer.close()
async def main():
    ctx = None
    if len(sys.argv) > 3:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    server = await asyncio.start_server(serve, sys.argv[1], int(sys.argv[2]), backlog=1024,
                                        ssl=ctx)
    async with server:
        await server.serve_forever()
uvloop.run(main())
"""


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(name: str, argv: list[str], log: Path, **kwargs: object) -> Proc:
    with log.open("wb") as out:
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                             process_group=0, **kwargs)  # type: ignore[call-overload]
    return Proc(name, p)


def origin(work: Path, host: str, port: int, tls: tuple[Path, Path] | None = None) -> Proc:
    """The local origin (asyncio on uvloop; HTTP, or HTTPS with `tls` = (cert, key))."""
    extra = [str(tls[0]), str(tls[1])] if tls else []
    return start("origin", [sys.executable, "-c", ORIGIN, host, str(port), *extra],
                 work / f"origin-{port}.log")


def certificates(work: Path, zone: str) -> tuple[Path, Path, Path]:
    """A CA and a certificate for `*.<zone>` signed by it: (ca.pem, cert.pem, key.pem)."""
    d = work / "pki"
    d.mkdir(exist_ok=True)

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign")
    ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "key.pem", "-out", "cert.csr", "-subj", f"/CN=*.{zone}")
    (d / "ext").write_text(f"subjectAltName=DNS:*.{zone},DNS:{zone}\n"
                           "extendedKeyUsage=serverAuth\n")
    ssl("x509", "-req", "-in", "cert.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "cert.pem", "-days", "2", "-extfile", "ext")
    return d / "ca.pem", d / "cert.pem", d / "key.pem"


def with_resolver(work: Path, nameserver: str, argv: list[str]) -> list[str]:
    """`argv` in a private mount namespace whose /etc/resolv.conf names `nameserver` only
    (the bench names resolve there, as a school's names resolve at its ISP's resolver)."""
    resolv = work / "resolv.conf"
    resolv.write_text(f"nameserver {nameserver}\noptions attempts:1\n")
    os.chmod(work, 0o755)
    return ["unshare", "-m", "sh", "-c", f"mount --bind {resolv} /etc/resolv.conf && "
            'exec "$0" "$@"', *argv]


def dnsmasq(work: Path, port: int, zone: str, address: str, listen: str = "127.0.0.1",
            ttl: int = 300) -> Proc:
    return start("dnsmasq", ["/usr/sbin/dnsmasq", "-k", "--port", str(port),
                             f"--listen-address={listen}", "--bind-interfaces", "--no-resolv",
                             "--no-hosts", f"--address=/{zone}/{address}", "--user=root",
                             "--pid-file=", "--cache-size=10000",
                             f"--local-ttl={ttl}"], work / "dnsmasq.log")


def squid_conf(work: Path, port: int, domains: list[str], urls: list[str],
               nameserver: str, block_url: str) -> Path:
    """squid 5 with squidGuard as its URL rewriter (the lists compiled with `squidGuard -C
    all`); squid resolves names itself at `nameserver`. Returns squid.conf."""
    d = work / "squid"
    db = d / "db" / "bad"
    db.mkdir(parents=True, exist_ok=True)
    (db / "domains").write_text("\n".join(domains) + "\n")
    (db / "urls").write_text("\n".join(urls) + "\n")
    (d / "log").mkdir(exist_ok=True)
    sg_conf = d / "squidGuard.conf"
    sg_conf.write_text(f"""dbhome {d / 'db'}
logdir {d / 'log'}
dest bad {{
    domainlist bad/domains
    urllist bad/urls
}}
acl {{
    default {{
        pass !bad all
        redirect {block_url}
    }}
}}
""")
    subprocess.run(["/usr/bin/squidGuard", "-c", str(sg_conf), "-C", "all"], check=True,
                   capture_output=True, timeout=300)
    conf = d / "squid.conf"
    conf.write_text(f"""http_port 127.0.0.1:{port}
pid_filename {d / 'squid.pid'}
cache_log {d / 'cache.log'}
access_log none
cache deny all
cache_mem 8 MB
coredump_dir {d}
hosts_file none
dns_nameservers {nameserver}
url_rewrite_program /usr/bin/squidGuard -c {sg_conf}
url_rewrite_children 4 startup=4 idle=1 concurrency=0
http_access allow all
cache_effective_user proxy
""")
    shutil.chown(d, "proxy")
    for path in d.rglob("*"):
        shutil.chown(path, "proxy")
    return conf


def squid(work: Path, port: int, domains: list[str], urls: list[str], nameserver: str,
          block_url: str) -> Proc:
    conf = squid_conf(work, port, domains, urls, nameserver, block_url)
    return start("squid+squidGuard", ["/usr/sbin/squid", "-N", "-f", str(conf)],
                 work / "squid.log")


def mitmdump(work: Path, port: int, nameserver: str, trusted_ca: Path) -> Proc:
    """Plain mitmdump (no addon) as a regular proxy; it intercepts every CONNECT."""
    exe = str(Path(sys.executable).parent / "mitmdump")
    argv = [exe, "--listen-host", "127.0.0.1", "--listen-port", str(port), "-q",
            "--set", f"confdir={work / 'mitm'}",
            "--set", f"ssl_verify_upstream_trusted_ca={trusted_ca}"]
    return start("mitmdump", with_resolver(work, nameserver, argv), work / "mitmdump.log")


# mitmproxy checks upstream certificates against certifi's bundle; `roja serve` has no option
# for another one (a gateway talks to public sites), so the bench points certifi at its CA.
ROJA = """
import sys, certifi
CA = sys.argv.pop(1)
certifi.where = lambda: CA
from filterd.cli import main
sys.argv[0] = "roja"
main()
"""


def roja(work: Path, config: str, trusted_ca: Path) -> Proc:
    path = work / "roja.toml"
    path.write_text(config, encoding="utf-8")
    return start("roja", [sys.executable, "-c", ROJA, str(trusted_ca), "serve", "--config",
                          str(path)], work / "roja.log", cwd=Path(__file__).parents[2])


def wait_port(host: str, port: int, proc: Proc, timeout: float = 60.0) -> None:
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.process.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.process.returncode}")
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not listen on {host}:{port}")


def e2guardian_conf(work: Path, port: int, domains: list[str], urls: list[str]) -> Path:
    """A copy of Debian's /etc/e2guardian with every path moved under `work/e2guardian`, our
    lists as its bannedsitelist/bannedurllist, `port` as its only filter port, no upstream
    proxy (it connects direct), its pid file and logs in the copy. Returns the main config."""
    d = work / "e2guardian"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree("/etc/e2guardian", d)
    (d / "lists" / "bannedsitelist").write_text("\n".join(domains) + "\n")
    (d / "lists" / "bannedurllist").write_text("\n".join(urls) + "\n")
    (d / "log").mkdir()
    for path in d.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                text = path.read_text()
            except UnicodeDecodeError:
                continue
            if "/etc/e2guardian" in text:
                path.write_text(text.replace("/etc/e2guardian", str(d)))
    conf = d / "e2guardian.conf"
    text = conf.read_text()
    text = text.replace("\nfilterports = 8080", f"\nfilterports = {port}")
    text = text.replace("\nfilterip =\n", "\nfilterip = 127.0.0.1\n")
    text = text.replace("\ntransparenthttpsport = 8443", f"\ntransparenthttpsport = {free_port()}")
    text = text.replace("\nhttpworkers = 500", "\nhttpworkers = 200")
    text += (f"\npidfilename = '{d / 'e2guardian.pid'}'\nloglocation = '{d / 'log' / 'access.log'}'"
             f"\nnologger = on\nlogsyslog = off\nnodaemon = on\nloglevel = 0\n")
    conf.write_text(text)
    shutil.chown(d, "e2guardian")
    for path in d.rglob("*"):
        shutil.chown(path, "e2guardian")
    return conf


def e2guardian(work: Path, port: int, domains: list[str], urls: list[str],
               nameserver: str) -> Proc:
    conf = e2guardian_conf(work, port, domains, urls)
    argv = with_resolver(work, nameserver, ["/usr/sbin/e2guardian", "-N", "-c", str(conf)])
    return start("e2guardian", argv, work / "e2guardian.log")
