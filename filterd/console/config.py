"""The `[console]` table of roja.toml: the teacher's console (`roja console serve`).

    [console]
    listen = ""            # address:port; "" = the first [dns] listen address (the school
                           # LAN address the devices already use), port 8443
    idle_minutes = 30      # a session ends after this long without a request
    session_hours = 10     # and in any case this long after the login

The console always serves HTTPS, with a certificate issued by the school CA
(`filterd.proxy.ca`, `[proxy] ca_dir`), the one devices install from the block page's CA page.
"""

from __future__ import annotations

from dataclasses import dataclass

from configkit import Section, parse_hostport

DEFAULT_PORT = 8443


@dataclass(frozen=True)
class ConsoleSettings:
    listen: tuple[str, int] | None = None  # None: the first [dns] listen address, port 8443
    idle_minutes: int = 30
    session_hours: int = 10

    def address(self, dns_listen: tuple[tuple[str, int], ...]) -> tuple[str, int]:
        """Where the console listens: `listen`, else the first DNS address on port 8443."""
        if self.listen is not None:
            return self.listen
        host = dns_listen[0][0] if dns_listen else "127.0.0.1"
        return (host, DEFAULT_PORT)


def parse(s: Section) -> ConsoleSettings:
    text = s.str("listen", "")
    listen = None
    if text:
        try:
            listen = parse_hostport(text, DEFAULT_PORT, allow_zero=True)
        except ValueError:
            raise s.error("listen", f"{text!r} is not address:port (e.g. "
                                    "\"192.168.1.1:8443\")") from None
    idle = s.int("idle_minutes", 30, min=1, max=24 * 60)
    hours = s.int("session_hours", 10, min=1, max=24)
    s.done()
    return ConsoleSettings(listen, idle, hours)
