"""Test kit for the appliance: run a real `Appliance` in-process on ports chosen at run time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import dns.message
import dns.rcode

from dns_resolver.testing import free_port
from filterd.app import Appliance
from filterd.config import parse_config_text


def write_lists(directory: Path, lists: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in lists.items():
        (directory / name).write_text(text, encoding="utf-8")


@contextlib.asynccontextmanager
async def running_appliance(tmp_path: Path, config_text: str,
                            metrics: bool = False) -> AsyncIterator[Appliance]:
    """Start an appliance from `config_text` (DNS on 127.0.0.1, port 0 unless the text says).

    The text may use `{state}` for a fresh state dir."""
    text = config_text.replace("{state}", str(tmp_path / "state"))
    if "[metrics]" not in text:
        port = free_port() if metrics else None
        text += f'\n[metrics]\nlisten = "{f"127.0.0.1:{port}" if port else ""}"\n'
    path = tmp_path / "roja.toml"
    path.write_text(text, encoding="utf-8")
    app = Appliance(parse_config_text(text, path))
    try:
        await app.start()
        yield app
    finally:
        await app.stop()


def dns_address(app: Appliance) -> tuple[str, int]:
    assert app.server is not None
    return app.server.bound[0]


def blocked_answer(answer: bytes | None) -> bool:
    """Whether a DNS answer is Roja's block: NXDOMAIN, or the address 0.0.0.0 or ::
    (`block_answer`); no answer at all is not a block."""
    if answer is None:
        return False
    message = dns.message.from_wire(answer)
    return message.rcode() == dns.rcode.NXDOMAIN or any(
        rr.to_text() in ("0.0.0.0", "::") for rrset in message.answer for rr in rrset)
