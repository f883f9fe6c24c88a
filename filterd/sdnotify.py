"""The systemd notify protocol (`Type=notify`): a few bytes on `$NOTIFY_SOCKET`.

`roja serve` sends `READY=1` once DNS answers (lists compiled, sockets bound), so
`systemctl start roja` returns only when the filter works and units ordered after it start
on a working resolver; `STOPPING=1` on shutdown. Without `$NOTIFY_SOCKET` nothing is sent.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send `state` (e.g. "READY=1\\nSTATUS=serving"); True when a socket took it."""
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "@/":
        return False
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(state.encode(), target)
    except OSError:
        return False
    return True
