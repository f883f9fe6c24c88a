"""The proxy benchmark's clients: `curl --parallel` for plain HTTP (keep-alive, C, light), `curl`
for one large download through a TLS tunnel, and a small Python client opening new TLS
connections. Each measurement returns wall time and the CPU time of the filter's process
trees (utime + stime from /proc, `bench.dns.measure.cpu_seconds`); the client is never
counted."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.dns.measure import cpu_seconds


@dataclass
class Sample:
    """One measured run: `n` operations (requests, connections or bytes) in `wall` seconds
    costing `cpu` seconds of the measured processes; `bad` failed operations."""

    n: int
    wall: float
    cpu: float
    bad: int = 0

    @property
    def rate(self) -> float:
        return self.n / self.wall if self.wall else 0.0

    @property
    def cpu_ms_each(self) -> float:
        return 1000 * self.cpu / self.n if self.n else 0.0


def measured(pids: list[int], run: Callable[[], tuple[int, int]]) -> Sample:
    """Run `run` (returning (operations, failures)) and charge `pids`' CPU to it."""
    before = sum(cpu_seconds(p) for p in pids)
    t0 = time.monotonic()
    n, bad = run()
    wall = time.monotonic() - t0
    return Sample(n, wall, sum(cpu_seconds(p) for p in pids) - before, bad)


def many(url: str, n: int, concurrency: int, config: Path, proxy: str = "",
         resolve: str = "") -> Callable[[], tuple[int, int]]:
    """`n` GETs of `url` with `curl --parallel` (HTTP/1.1, connections kept alive and
    reused, at most `concurrency` at once); failures = answers other than 200."""
    config.write_text(f'url = "{url}"\noutput = "/dev/null"\n' * n)
    argv = ["curl", "-s", "--no-progress-meter", "-Z", "--parallel-max", str(concurrency),
            "-K", str(config), "-w", "%{http_code}\\n", "--max-time", "30"]
    if proxy:
        argv += ["-x", proxy]
    if resolve:
        argv += ["--resolve", resolve]

    def run() -> tuple[int, int]:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        codes = out.stdout.split()
        return n, n - codes.count("200")
    return run


def _field(text: str, pattern: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else 0


def download(url: str, cacert: str, proxy: str = "", resolve: str = ""
             ) -> Callable[[], tuple[int, int]]:
    """One HTTPS download with curl (through `proxy` with CONNECT, or to `resolve`'s address);
    operations = bytes received."""
    argv = ["curl", "-s", "-o", "/dev/null", "--cacert", cacert, "-w",
            "%{http_code} %{size_download}", "--max-time", "300"]
    if proxy:
        argv += ["-x", proxy, "--proxy-cacert", cacert]
    if resolve:
        argv += ["--resolve", resolve]

    def run() -> tuple[int, int]:
        out = subprocess.run([*argv, url], capture_output=True, text=True, timeout=400)
        code, _, size = out.stdout.partition(" ")
        return int(size or 0), int(code != "200")
    return run


def new_tls(n: int, host: str, connect: Callable[[], socket.socket],
            verify: ssl.SSLContext | None = None) -> Callable[[], tuple[int, int]]:
    """`n` new TLS connections for `host`, one GET each (HTTP/1.1, connection closed after
    the response); `connect` gives the TCP socket to wrap (direct or after a CONNECT)."""
    ctx = verify or ssl._create_unverified_context()
    ctx.set_alpn_protocols(["http/1.1"])
    request = f"GET /ok/tls HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()

    def run() -> tuple[int, int]:
        bad = 0
        for _ in range(n):
            try:
                with ctx.wrap_socket(connect(), server_hostname=host) as s:
                    s.sendall(request)
                    data = b""
                    while chunk := s.recv(65536):
                        data += chunk
                bad += not data.startswith(b"HTTP/1.1 200")
            except OSError:
                bad += 1
        return n, bad
    return run


def tcp(address: str, port: int) -> Callable[[], socket.socket]:
    return lambda: socket.create_connection((address, port), timeout=30)


def via_connect(proxy_port: int, host: str, port: int = 443) -> Callable[[], socket.socket]:
    """A socket to `host:port` through an explicit proxy's CONNECT on 127.0.0.1."""
    def connect() -> socket.socket:
        s = socket.create_connection(("127.0.0.1", proxy_port), timeout=30)
        s.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        if head.split(b"\r\n", 1)[0].split(b" ")[1:2] != [b"200"]:
            s.close()
            raise OSError(f"CONNECT refused: {head[:80]!r}")
        return s
    return connect
