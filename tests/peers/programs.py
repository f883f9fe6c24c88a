"""Every external program the tests run, and the Debian package that ships it.

`require_peer(program)` finds one of these programs; a program that is not in `PEER_PACKAGES`
is refused at once (add it here and its package to `./run`), so the table cannot fall behind
the tests. When a listed program is missing the test is skipped, or fails under CI (`CI=true`),
so a missing peer is never silently ignored there. `tests/test_peer_packages.py` checks that
`./run tests` installs every package named here and that each program really comes from the
package named for it: a fresh machine then has every peer the suite asks for.
"""

from __future__ import annotations

import os
import shutil
from typing import Final

import pytest

# program (as the tests call it) -> the Debian package that ships it (Debian 12 and 13)
PEER_PACKAGES: Final[dict[str, str]] = {
    # DNS peers and clients
    "nsd": "nsd", "nsd-checkconf": "nsd", "nsd-checkzone": "nsd",
    "unbound": "unbound", "named": "bind9", "dnsmasq": "dnsmasq-base",
    "dig": "bind9-dnsutils", "kdig": "knot-dnsutils",
    # a locally signed zone for the DNSSEC pass-through tests
    "dnssec-keygen": "bind9-utils", "dnssec-signzone": "bind9-utils",
    # web peers and clients: the proxy benchmark's peers have config-writer tests
    "curl": "curl", "chromium": "chromium",
    "squid": "squid", "squidGuard": "squidguard", "e2guardian": "e2guardian",
    # reports: read back and rendered
    "pdftotext": "poppler-utils", "pdftoppm": "poppler-utils",
    # network namespaces, firewall, processes
    "ip": "iproute2", "ss": "iproute2", "nft": "nftables",
    "pgrep": "procps", "kill": "procps", "setpriv": "util-linux", "timeout": "coreutils",
    "nice": "coreutils", "openssl": "openssl",
    # the installer's units and the Vagrantfile are verified by their own tools
    "systemd-analyze": "systemd", "vagrant": "vagrant",
    # monitoring/prometheus/alerts.yml is checked and unit-tested by Prometheus's own tool
    "promtool": "prometheus",
}


def find_program(program: str) -> str | None:
    """The path of `program` on PATH or in /usr/sbin and /sbin (Debian's daemons live there and
    a normal user's PATH may lack them); None when it is not installed."""
    return shutil.which(program) or shutil.which(program, path=os.pathsep.join(["/usr/sbin",
                                                                                  "/sbin"]))


def require_peer(program: str) -> str:
    """Return the path of `program`; skip the test if it is missing (fail when CI=true)."""
    if program not in PEER_PACKAGES:
        pytest.fail(f"{program!r} is not in tests/peers/programs.py PEER_PACKAGES: add it with "
                    "its Debian package, and the package to ./run's DEBIAN_PACKAGES")
    path = find_program(program)
    if path is None:
        message = (f"peer program {program!r} not found (Debian: apt-get install "
                   f"{PEER_PACKAGES[program]}; ./run tests does)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
