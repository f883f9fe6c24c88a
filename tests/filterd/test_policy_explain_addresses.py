"""`roja policy explain` shows the answer-address check (RPZ `rpz-ip`-like): for an address
host, for a name with `--address`, and for a name it resolves through a real NSD upstream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from peers.nsd import NsdServer, start_nsd

from filterd.cli import main
from filterd.testing import free_port

SOA = "@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A 127.0.0.1\n"
CONFIG = """
[state]
dir = "{state}"
[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["{upstream}"]
[metrics]
listen = ""
[[lists]]
id = "malware"
path = "malware.txt"
category = "malware"
[[lists]]
id = "shkolla"
kind = "allow"
path = "allow.txt"
category = ""
"""


@pytest.fixture(scope="module")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NsdServer]:
    server = start_nsd(tmp_path_factory.mktemp("nsd-explain"),
                       {"innocent.test.": SOA + "files A 45.33.32.156\nclean A 93.184.216.34\n"})
    yield server
    server.stop()


@pytest.fixture
def cfg(tmp_path: Path, nsd: NsdServer) -> Path:
    (tmp_path / "malware.txt").write_text("bad.example\n45.33.32.0/24\n")
    (tmp_path / "allow.txt").write_text("45.33.32.7\n")
    path = tmp_path / "roja.toml"
    path.write_text(CONFIG.format(state=tmp_path / "state", port=free_port(),
                                  upstream=f"{nsd.address[0]}:{nsd.address[1]}"))
    return path


def explain(cfg: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(cfg), "policy", "explain", "--client",
                                     "10.0.2.17", *args], catch_exceptions=False)


def test_a_name_resolved_to_a_listed_address(cfg: Path) -> None:
    out = explain(cfg, "--host", "files.innocent.test")
    assert out.exit_code == 0, out.output
    assert "Address list malware (deny) names 45.33.32.0/24 (address 45.33.32.156): blocks" \
        in out.output
    assert "The DNS answer for files.innocent.test with address 45.33.32.156 is blocked" \
        in out.output
    assert "Decision: BLOCKED" in out.output
    clean = explain(cfg, "--host", "clean.innocent.test")
    assert "Address 93.184.216.34: no address list names it" in clean.output
    assert "Decision: PASSES" in clean.output


def test_given_addresses_and_address_hosts(cfg: Path) -> None:
    given = explain(cfg, "--host", "other.example", "--address", "45.33.32.7")
    assert "Address list shkolla (allow) names 45.33.32.7 (address 45.33.32.7): exempts it " \
        "from deny address lists" in given.output
    assert "Decision: BLOCKED" not in given.output
    direct = explain(cfg, "--host", "45.33.32.9")
    assert "Address list malware (deny) names 45.33.32.0/24 (address 45.33.32.9): blocks" \
        in direct.output and "Decision: BLOCKED" in direct.output
    bad = explain(cfg, "--host", "x.example", "--address", "nope")
    assert bad.exit_code != 0 and "nuk është adresë IP" in bad.output
