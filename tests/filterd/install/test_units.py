"""The unit files: `systemd-analyze verify` against an installed test root, the security
exposure of every service (roja.service at most 2.0), and the daemon really serving under
W^X memory (what MemoryDenyWriteExecute=yes enforces), via prctl(PR_SET_MDWE)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from install_kit import ANSWERS, REPO, roja_install, systemd_root
from peers.nsd import require_peer as require

from dns_resolver.testing import ask_udp, make_query, parse
from filterd.install import Layout, units
from filterd.list_apply import ENFORCED_NAME
from filterd.testing import free_port

UNITS = sorted(p.name for p in (REPO / "systemd").iterdir() if p.suffix in (".service",
                                                                            ".timer", ".path"))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("units")
    result = roja_install(root, *ANSWERS)
    assert result.returncode == 0, result.stderr
    systemd_root(root)
    for unit in UNITS:  # units whose command another part provides are verified too
        shutil.copyfile(REPO / "systemd" / unit, root / "etc/systemd/system" / unit)
    return root


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify(root: Path, unit: str) -> None:
    analyze = require("systemd-analyze")
    result = subprocess.run([analyze, "verify", f"--root={root}",
                             f"/etc/systemd/system/{unit}"], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def exposure(unit: Path) -> float:
    analyze = require("systemd-analyze")
    out = subprocess.run([analyze, "security", "--offline=true", "--no-pager", str(unit)],
                         capture_output=True, text=True).stdout
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert match, out[-500:]
    return float(match.group(1))


@pytest.mark.parametrize("unit", [u for u in UNITS if u.endswith(".service")])
def test_services_are_hardened(unit: str) -> None:
    assert exposure(REPO / "systemd" / unit) <= 2.0


def test_roja_service_has_only_the_bind_capability() -> None:
    text = (REPO / "systemd/roja.service").read_text(encoding="utf-8")
    assert "\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n" in text
    assert "\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n" in text
    assert "\nUser=roja\n" in text and "\nMemoryDenyWriteExecute=yes\n" in text
    watch = (REPO / "systemd/roja-bypass-watch.service").read_text(encoding="utf-8")
    assert "\nCapabilityBoundingSet=CAP_NET_RAW\n" in watch


UNDER_MDWE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    sys.exit("prctl(PR_SET_MDWE) failed: errno %d" % ctypes.get_errno())
os.execv(sys.argv[1], sys.argv[1:])
"""
GET_MDWE = "import ctypes; print(ctypes.CDLL(None).prctl(66, 0, 0, 0, 0))"  # PR_GET_MDWE


def test_the_daemon_serves_under_memory_deny_write_execute(tmp_path: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", UNDER_MDWE, sys.executable, "-c", GET_MDWE],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"kernel without PR_SET_MDWE (Linux < 6.3): {probe.stderr.strip()}")
    assert probe.stdout.strip() == "1"  # the W^X rule survives exec, as in the service
    port = free_port()
    (tmp_path / "deny.txt").write_text("blocked.example\n", encoding="utf-8")
    config = tmp_path / "roja.toml"
    config.write_text(f'[state]\ndir = "{tmp_path}/state"\n[dns]\n'
                      f'listen = ["127.0.0.1:{port}"]\nupstreams = ["127.0.0.1:9"]\n'
                      '[metrics]\nlisten = ""\n[[lists]]\nid = "t"\npath = "deny.txt"\n'
                      'format = "domains"\nkind = "deny"\ncategory = "gambling"\n',
                      encoding="utf-8")
    roja = str(Path(sys.executable).parent / "roja")
    proc = subprocess.Popen([sys.executable, "-c", UNDER_MDWE, roja, "serve", "--config",
                             str(config)], stderr=subprocess.PIPE, text=True)
    try:
        reply = None
        for _ in range(300):
            if proc.poll() is not None:
                break
            reply = ask_udp(("127.0.0.1", port), make_query("blocked.example"), timeout=0.1)
            if reply is not None:
                break
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert reply is not None and parse(reply).header.rcode == 3  # NXDOMAIN: blocked
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_lists_path_unit_watches_the_default_state_dir_after_install(root: Path) -> None:
    dropin = root / "etc/systemd/system/roja-firewall-lists.path.d/state-dir.conf"
    assert "\nPathChanged=\nPathChanged=/var/lib/roja/enforced.json\n" in dropin.read_text()
    assert units.ENFORCED_NAME == ENFORCED_NAME  # the file the daemon rewrites


@pytest.mark.parametrize(("state", "watched"), [
    ({"state": {"dir": "/srv/roja-state"}}, "/srv/roja-state/enforced.json"),
    ({"state": {"dir": "gjendja"}}, "/etc/roja/gjendja/enforced.json"),  # as filterd.config
    ({"state": {"dir": "/srv/roja 100%"}}, "/srv/roja 100%%/enforced.json"),  # % escaped
    ({}, "/var/lib/roja/enforced.json"),
])
def test_the_lists_path_unit_follows_the_configured_state_dir(
        root: Path, tmp_path: Path, state: dict[str, object], watched: str) -> None:
    """A school whose `[state] dir` is elsewhere: the installer's drop-in makes the path
    unit watch that dir's enforced.json (the shipped one names /var/lib/roja), and systemd
    accepts the result."""
    layout = Layout(tmp_path / "root")
    shutil.copytree(root, layout.root, symlinks=True)
    units.install_files(layout, REPO / "systemd", [units.PATH_UNIT,
                                                   "roja-firewall-lists.service"],
                        units.state_dir(state))
    dropin = layout.unit_dir / "roja-firewall-lists.path.d/state-dir.conf"
    lines = dropin.read_text(encoding="utf-8").splitlines()
    assert lines[-2:] == ["PathChanged=", f"PathChanged={watched}"]
    analyze = require("systemd-analyze")
    result = subprocess.run([analyze, "verify", f"--root={layout.root}",
                             f"/etc/systemd/system/{units.PATH_UNIT}"], capture_output=True,
                            text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    units.deactivate_and_remove(layout)
    assert not dropin.parent.exists()


SERVICES_WITH_STATE = ["roja.service", "roja-report.service", "roja-selftest.service",
                       "roja-bypass-watch.service", "roja-console.service"]


def test_services_that_write_state_follow_a_non_default_state_dir(
        root: Path, tmp_path: Path) -> None:
    """`[state] dir = "/srv/roja state"`: every service that writes state may write there and
    runs there (ProtectSystem=strict would make it read-only), systemd accepts the result, and
    a re-install with the default dir or an uninstall leaves no stale drop-in behind."""
    layout = Layout(tmp_path / "root")
    shutil.copytree(root, layout.root, symlinks=True)
    state = Path("/srv/roja state")
    (layout.root / "srv/roja state").mkdir(parents=True)
    installed = [u for u in UNITS if (root / "etc/systemd/system" / u).exists()]
    units.install_files(layout, REPO / "systemd", installed, state)
    analyze = require("systemd-analyze")
    for service in SERVICES_WITH_STATE:
        dropin = layout.unit_dir / f"{service}.d" / "state-dir.conf"
        assert dropin.is_file(), f"{service}: no drop-in for the state dir"
        lines = dropin.read_text(encoding="utf-8").splitlines()
        assert lines[-3:] == ["[Service]", 'ReadWritePaths="/srv/roja state"',
                              "WorkingDirectory=/srv/roja state"], service
        result = subprocess.run([analyze, "verify", f"--root={layout.root}",
                                 f"/etc/systemd/system/{service}"], capture_output=True,
                                text=True)
        assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    units.install_files(layout, REPO / "systemd", installed)  # back to /var/lib/roja
    assert not any((layout.unit_dir / f"{s}.d").exists() for s in SERVICES_WITH_STATE)
    units.install_files(layout, REPO / "systemd", installed, state)
    units.deactivate_and_remove(layout)
    assert not any((layout.unit_dir / f"{s}.d").exists() for s in SERVICES_WITH_STATE)
