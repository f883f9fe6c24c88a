"""Test kit for the console's Grupet dhe oraret page: a roja.toml with two groups (the staff
group is the one address 127.0.0.2, so a DNS query from there is the staff's), two profiles, a
schedule with comments and holidays; the console over it; a real `roja serve` over it.

    path = write(tmp_path, port)                  # DNS port for `serving`
    async with console_on(path) as console: ...   # console_kit's Console, teacher + director
    with serving(path): answer(port, "bet.example", "127.0.0.2")
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import dns.message
import dns.query
from cli_kit import roja_serve
from console_kit import EVIL, Console, console_over

from filterd.config import load_config

CONFIG = """# Konfigurimi i shkollës / the school's config
[school]
name = "Shkolla e testit"
[state]
dir = "state"
[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["127.0.0.1:9"]
[metrics]
listen = ""
[console]
listen = "127.0.0.1:0"

[[lists]]
id = "hotline"
path = "hotline.txt"
kind = "legal"
category = "csam"

[[lists]]
id = "bixhoz"
path = "bixhoz.txt"
category = "gambling"

[[groups]]
id = "nxenesit"
name = "Nxënësit"
networks = ["10.0.0.0/8"]
profile = "nxenes"

# Mësuesit: kompjuteri i sallës / the staff-room computer
[[groups]]
id = "mesuesit"
name = "Mësuesit {evil}"
addresses = ["127.0.0.2"]
profile = "staf"   # vetëm pornografia / only pornography

[[profiles]]
id = "nxenes"
name = "Nxënës"
block = ["gambling", "pornography", "social_media"]
safe_search = "strict"

[[profiles]]
id = "staf"
name = "Stafi"
block = ["pornography"]

# Dreka / lunch
[[schedules]]
name = "Dreka"
groups = ["nxenesit"]
categories = ["social_media"]
windows = ["12:00-13:00"]   # ora e drekës

[policy]
default_group = "nxenesit"
holidays = ["2026-12-24..2027-01-06"]
"""


def write(tmp_path: Path, port: int = 9) -> Path:
    (tmp_path / "hotline.txt").write_text("abuse-legal.example\n")
    (tmp_path / "bixhoz.txt").write_text("bet.example\n")
    path = tmp_path / "roja.toml"
    path.write_text(CONFIG.format(port=port, evil=EVIL.replace('"', '\\"')), encoding="utf-8")
    return path


@asynccontextmanager
async def console_on(path: Path) -> AsyncIterator[Console]:
    async with console_over(load_config(path)) as console:
        yield console


@contextmanager
def serving(path: Path) -> Iterator[None]:
    """A real `roja serve` over `path`, as `roja reload` finds it (pid in the state dir)."""
    with roja_serve(path, path.parent / "state"):
        yield


def answer(port: int, name: str, source: str) -> int:
    query = dns.message.make_query(name, "A")
    return dns.query.udp(query, "127.0.0.1", port=port, source=source, timeout=5).rcode()
