"""`roja install --root DIR`: the whole tree in a temporary root; idempotent; uninstall."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from install_kit import ANSWERS, REPO, roja_install


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("gateway")
    result = roja_install(root, *ANSWERS)
    assert result.returncode == 0, result.stdout + result.stderr
    yield root


def test_the_tree_is_complete(root: Path) -> None:
    for path in ("opt/roja/app/filterd/cli.py", "opt/roja/app/requirements.lock",
                 "opt/roja/app/systemd/roja.service", "opt/roja/venv/bin/roja",
                 "etc/roja/roja.toml", "etc/roja/lan.env", "etc/sysusers.d/roja.conf",
                 "etc/tmpfiles.d/roja.conf", "etc/systemd/system/roja.service",
                 "etc/systemd/system/roja-report.timer", "etc/systemd/system/roja-firewall.service",
                 "var/lib/roja/lists/bllokuar.txt", "var/log/roja"):
        assert (root / path).exists(), path
    assert not list((root / "opt/roja/app").rglob("__pycache__"))
    # enabled offline with systemctl --root
    assert (root / "etc/systemd/system/multi-user.target.wants/roja.service").is_symlink()
    assert (root / "etc/systemd/system/timers.target.wants/roja-report.timer").is_symlink()
    # the teacher's console runs on a gateway without anyone typing `roja console serve`
    assert (root / "etc/systemd/system/multi-user.target.wants/roja-console.service").is_symlink()
    # the firewall's list sets follow the enforced lists (docs/lists.md)
    assert (root / "etc/systemd/system/roja-firewall.service.wants/"
            "roja-firewall-lists.path").is_symlink()
    passwd = (root / "etc/passwd").read_text(encoding="utf-8")
    assert any(line.startswith("roja:") and line.endswith(":/usr/sbin/nologin")
               for line in passwd.splitlines())
    assert (root / "etc/roja").stat().st_mode & 0o777 == 0o770
    assert (root / "etc/roja/roja.toml").stat().st_mode & 0o777 == 0o640
    assert "ROJA_LAN_INTERFACE=eth1" in (root / "etc/roja/lan.env").read_text(encoding="utf-8")


def test_config_holds_the_answers_and_parses(root: Path) -> None:
    data = tomllib.loads((root / "etc/roja/roja.toml").read_text(encoding="utf-8"))
    assert data["school"] == {"name": "Shkolla \"Çajupi\"", "code": "AL-TR-0042"}
    assert "192.168.50.1:53" in data["dns"]["listen"]
    assert data["firewall"]["lan_interface"] == "eth1"
    assert data["report"]["smtp"]["to"] == ["tik@shkolla.example.al", "dar@example.al"]


def test_installed_launcher_runs_from_opt_not_the_checkout(root: Path) -> None:
    python = root / "opt/roja/venv/bin/python"
    where = subprocess.run([str(python), "-c", "import filterd; print(filterd.__file__)"],
                           capture_output=True, text=True, check=True,
                           cwd=root).stdout.strip()
    assert where == str(root / "opt/roja/app/filterd/__init__.py")
    assert not where.startswith(str(REPO) + "/filterd")
    config = root / "etc/roja/roja.toml"
    result = subprocess.run([str(root / "opt/roja/venv/bin/roja"), "--config", str(config),
                             "firewall", "render"], capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stderr
    assert 'iifname "eth1"' in result.stdout


def test_second_install_keeps_the_config_and_refreshes_the_app(root: Path) -> None:
    config = root / "etc/roja/roja.toml"
    edited = config.read_text(encoding="utf-8").replace('qark = ""', 'qark = "Korçë"')
    config.write_text(edited, encoding="utf-8")
    stray = root / "opt/roja/app/filterd/stray.py"
    stray.write_text("x = 1\n", encoding="utf-8")
    result = roja_install(root, "--non-interactive")  # no answers needed: config exists
    assert result.returncode == 0, result.stdout + result.stderr
    assert "exists, left as it is" in result.stdout
    assert config.read_text(encoding="utf-8") == edited
    assert not stray.exists()
    assert (root / "etc/passwd").read_text(encoding="utf-8").count("\nroja:") + \
        (root / "etc/passwd").read_text(encoding="utf-8").startswith("roja:") == 1


@pytest.mark.parametrize(("args", "needle"), [
    (["--non-interactive", "--school-code", "X1"], "--lan-interface"),
    (["--non-interactive", "--lan-interface", "eth1", "--school-code", "bad code!"],
     "school code"),
    (["--non-interactive", "--lan-interface", "eth1; rm", "--school-code", "X1"],
     "network interface"),
    (["--non-interactive", "--lan-interface", "eth1", "--school-code", "X1",
      "--recipient", "not-an-address"], "e-mail"),
    (["--purge"], "--uninstall"),
])
def test_bad_answers_are_refused_before_anything_is_written(tmp_path: Path, args: list[str],
                                                            needle: str) -> None:
    result = roja_install(tmp_path, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert needle in result.stderr
    assert not (tmp_path / "opt").exists()


def test_uninstall_keeps_config_and_state_unless_purged(tmp_path: Path) -> None:
    assert roja_install(tmp_path, *ANSWERS).returncode == 0
    (tmp_path / "var/lib/roja/incidents.sqlite").write_bytes(b"keep me")
    result = roja_install(tmp_path, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "opt/roja").exists()
    assert not (tmp_path / "etc/systemd/system/roja.service").exists()
    assert not (tmp_path / "etc/systemd/system/multi-user.target.wants/roja.service").exists()
    assert (tmp_path / "etc/roja/roja.toml").exists()
    assert (tmp_path / "var/lib/roja/incidents.sqlite").read_bytes() == b"keep me"
    result = roja_install(tmp_path, "--uninstall", "--purge")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "etc/roja").exists() and not (tmp_path / "var/lib/roja").exists()


def test_a_non_default_state_dir_gets_its_drop_ins_and_loses_them_again(
        tmp_path: Path) -> None:
    """`[state] dir = "/srv/roja-state"` then a re-install: the folder is made for the roja
    user and every service that writes state may write there; back to the default, or an
    uninstall, and the drop-ins are gone."""
    assert roja_install(tmp_path, *ANSWERS).returncode == 0
    config = tmp_path / "etc/roja/roja.toml"
    plain = config.read_text(encoding="utf-8")
    elsewhere = plain.replace('\ndir = "/var/lib/roja"\n', '\ndir = "/srv/roja-state"\n', 1)
    assert elsewhere != plain
    config.write_text(elsewhere, encoding="utf-8")
    result = roja_install(tmp_path, "--non-interactive")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "srv/roja-state").is_dir()
    assert oct((tmp_path / "srv/roja-state").stat().st_mode & 0o777) == "0o750"
    dropins = sorted(p.parent.name for p in (tmp_path / "etc/systemd/system").glob(
        "*.service.d/state-dir.conf"))
    assert "roja.service.d" in dropins and "roja-report.service.d" in dropins, dropins
    assert "ReadWritePaths=/srv/roja-state\n" in (
        tmp_path / "etc/systemd/system/roja.service.d/state-dir.conf").read_text()
    config.write_text(plain, encoding="utf-8")
    assert roja_install(tmp_path, "--non-interactive").returncode == 0
    assert not list((tmp_path / "etc/systemd/system").glob("*.service.d"))
    config.write_text(elsewhere, encoding="utf-8")
    assert roja_install(tmp_path, "--non-interactive").returncode == 0
    assert roja_install(tmp_path, "--uninstall").returncode == 0
    assert not list((tmp_path / "etc/systemd/system").glob("*.d"))


def test_run_install_needs_root() -> None:
    # The script is copied to a folder nobody may enter: the clone itself may sit in a private
    # one (`mktemp -d` makes 0700), which an unprivileged user cannot reach at all.
    with tempfile.TemporaryDirectory(prefix="roja-test-run-") as scratch:
        os.chmod(scratch, 0o755)
        script = Path(scratch) / "run"
        shutil.copy2(REPO / "run", script)
        result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                 str(script), "install"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "root" in result.stderr and "sudo ./run install" in result.stderr
