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

ORIGIN = """
import asyncio, sys
BODY = b"ok " * 300
REPLY = (b"HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: "
         + str(len(BODY)).encode() + b"\\r\\n\\r\\n" + BODY)
async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            if not head:
                break
            writer.write(REPLY)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()
async def main():
    server = await asyncio.start_server(serve, sys.argv[1], int(sys.argv[2]), backlog=1024)
    async with server:
        await server.serve_forever()
asyncio.run(main())
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


def origin(work: Path, host: str, port: int) -> Proc:
    return start("origin", [sys.executable, "-c", ORIGIN, host, str(port)],
                 work / "origin.log")


def dnsmasq(work: Path, port: int, zone: str, address: str) -> Proc:
    return start("dnsmasq", ["/usr/sbin/dnsmasq", "-k", "--port", str(port),
                             "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                             "--no-hosts", f"--address=/{zone}/{address}", "--user=root",
                             "--pid-file=", "--cache-size=10000",
                             "--local-ttl=300"], work / "dnsmasq.log")


def squid(work: Path, port: int, domains: list[str], urls: list[str],
          hosts: list[str], origin_ip: str) -> Proc:
    """squid 5 with squidGuard as its URL rewriter; names resolve from a hosts file."""
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
        redirect http://{origin_ip}/blocked
    }}
}}
""")
    subprocess.run(["/usr/bin/squidGuard", "-c", str(sg_conf), "-C", "all"], check=True,
                   capture_output=True, timeout=300)
    (d / "hosts").write_text("".join(f"{origin_ip} {h}\n" for h in hosts))
    conf = d / "squid.conf"
    conf.write_text(f"""http_port 127.0.0.1:{port}
pid_filename {d / 'squid.pid'}
cache_log {d / 'cache.log'}
access_log none
cache deny all
cache_mem 8 MB
coredump_dir {d}
hosts_file {d / 'hosts'}
url_rewrite_program /usr/bin/squidGuard -c {sg_conf}
url_rewrite_children 4 startup=4 idle=1 concurrency=0
http_access allow all
cache_effective_user proxy
""")
    shutil.chown(d, "proxy")
    for path in d.rglob("*"):
        shutil.chown(path, "proxy")
    return start("squid+squidGuard", ["/usr/sbin/squid", "-N", "-f", str(conf)],
                 work / "squid.log")


def mitmdump(work: Path, port: int) -> Proc:
    exe = str(Path(sys.executable).parent / "mitmdump")
    return start("mitmdump", [exe, "--listen-host", "127.0.0.1", "--listen-port", str(port),
                              "-q", "--set", f"confdir={work / 'mitm'}"], work / "mitmdump.log")


def roja(work: Path, config: str) -> Proc:
    path = work / "roja.toml"
    path.write_text(config, encoding="utf-8")
    exe = str(Path(sys.executable).parent / "roja")
    return start("roja", [exe, "serve", "--config", str(path)], work / "roja.log")


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
