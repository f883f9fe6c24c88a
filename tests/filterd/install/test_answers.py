"""`roja install` protects the teacher from typos: it lists the gateway's real network cards,
refuses one that is not there, and a re-run with corrected answers shows old → new and
updates roja.toml (only the installer's keys, in place, with a backup) and lan.env.

The cards are real kernel interfaces in a network namespace (`install_kit.gateway_cards`):
eth0 on the internet side (10.0.2.15/24), eth1 on the school's LAN (192.168.50.1/24).
"""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import pytest
from install_kit import GATEWAY, REPO, ROJA, VENV, roja_install

FIRST = ["--non-interactive", "--school-code", "AL-TR-0042"]


def config_text(root: Path) -> str:
    return (root / "etc/roja/roja.toml").read_text(encoding="utf-8")


def lan_env(root: Path) -> str:
    return (root / "etc/roja/lan.env").read_text(encoding="utf-8")


def test_a_card_that_is_not_there_is_refused_and_the_real_ones_listed(tmp_path: Path) -> None:
    result = roja_install(tmp_path, *FIRST, "--lan-interface", "eht1", cards=GATEWAY)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Karta e rrjetit 'eht1' nuk ekziston" in result.stderr
    assert "eth0" in result.stderr and "10.0.2.15/24" in result.stderr
    assert "eth1" in result.stderr and "192.168.50.1/24" in result.stderr
    assert not (tmp_path / "opt").exists() and not (tmp_path / "etc").exists()


def test_the_loopback_is_not_a_lan_card(tmp_path: Path) -> None:
    result = roja_install(tmp_path, *FIRST, "--lan-interface", "lo", cards=GATEWAY)
    assert result.returncode == 2 and "loopback" in result.stderr
    assert not (tmp_path / "etc").exists()


def test_interactive_lists_the_cards_and_asks_again_after_a_typo(tmp_path: Path) -> None:
    result = roja_install(tmp_path, cards=GATEWAY,
                          stdin="eht1\neth1\nAL-TR-0042\ntik@shkolla.example.al\n")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    listing = out.index("Kartat e rrjetit")
    assert out.index("eth0", listing) < out.index("10.0.2.15/24", listing)
    assert out.index("eth1", listing) < out.index("192.168.50.1/24", listing)
    assert "Karta e rrjetit 'eht1' nuk ekziston" in out
    assert out.count("the school LAN's network card") == 2  # asked again
    data = tomllib.loads(config_text(tmp_path))
    assert data["firewall"]["lan_interface"] == "eth1"
    assert data["dns"]["listen"] == ["127.0.0.1:53", "[::1]:53", "192.168.50.1:53"]
    assert "ROJA_LAN_INTERFACE=eth1\n" in lan_env(tmp_path)


@pytest.fixture
def wrong_card(tmp_path: Path) -> Path:
    """An install on the internet card (eth0) by mistake, then the teacher's own edits."""
    result = roja_install(tmp_path, *FIRST, "--lan-interface", "eth0", cards=GATEWAY)
    assert result.returncode == 0, result.stdout + result.stderr
    config = tmp_path / "etc/roja/roja.toml"
    edited = (config_text(tmp_path)
              .replace('qark = ""', 'qark = "Korçë"  # mësuesi')
              .replace('level = "info"', '# më shumë hollësi / more detail\nlevel = "debug"'))
    config.write_text(edited, encoding="utf-8")
    return tmp_path


def test_rerun_with_the_corrected_card_shows_the_changes_and_applies_them(
        wrong_card: Path) -> None:
    root = wrong_card
    before = config_text(root)
    assert "ROJA_LAN_INTERFACE=eth0\n" in lan_env(root)
    result = roja_install(root, "--non-interactive", "--lan-interface", "eth1", cards=GATEWAY)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert '[firewall] lan_interface: "eth0" → "eth1"' in out
    assert ('[dns] listen: ["127.0.0.1:53", "[::1]:53", "10.0.2.15:53"] → '
            '["127.0.0.1:53", "[::1]:53", "192.168.50.1:53"]') in out
    assert "ROJA_LAN_INTERFACE: eth0 → eth1" in out
    assert out.index("→") < out.index("1/4")  # shown before anything is done
    after = config_text(root)
    # exactly the two lines the installer owns changed; the teacher's edits and comments stay
    assert after == (before.replace('lan_interface = "eth0"', 'lan_interface = "eth1"')
                     .replace('"[::1]:53", "10.0.2.15:53"]', '"[::1]:53", "192.168.50.1:53"]'))
    assert "ROJA_LAN_INTERFACE=eth1\n" in lan_env(root)
    backups = sorted((root / "etc/roja").glob("roja.toml.bak-*"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == before
    assert backups[0].stat().st_mode & 0o777 == 0o640
    assert str(backups[0]) in out
    assert (root / "etc/roja/roja.toml").stat().st_mode & 0o777 == 0o640

    again = roja_install(root, "--non-interactive", "--lan-interface", "eth1", cards=GATEWAY)
    assert again.returncode == 0 and "Ndryshimet" not in again.stdout
    assert "exists, left as it is" in again.stdout
    assert len(list((root / "etc/roja").glob("roja.toml.bak-*"))) == 1


def test_rerun_with_a_wrong_card_changes_nothing(wrong_card: Path) -> None:
    before = config_text(wrong_card)
    result = roja_install(wrong_card, "--non-interactive", "--lan-interface", "etj1",
                          cards=GATEWAY)
    assert result.returncode == 2 and "'etj1' nuk ekziston" in result.stderr
    assert config_text(wrong_card) == before
    assert "ROJA_LAN_INTERFACE=eth0\n" in lan_env(wrong_card)


def test_interactive_rerun_offers_the_current_answers_and_asks_before_changing(
        wrong_card: Path) -> None:
    before = config_text(wrong_card)
    # card: eth1; school code and recipients: Enter keeps them; then "n": do not apply
    result = roja_install(wrong_card, cards=GATEWAY, stdin="eth1\n\nnew@example.al\nn\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert '[firewall] lan_interface: "eth0" → "eth1"' in result.stdout
    assert '[report.smtp] to: (mungon / absent) → ["new@example.al"]' in result.stdout
    assert "asgjë nuk u ndryshua" in result.stderr
    assert config_text(wrong_card) == before
    result = roja_install(wrong_card, cards=GATEWAY, stdin="eth1\n\nnew@example.al\ny\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[eth0]" in result.stdout and "[AL-TR-0042]" in result.stdout  # the defaults
    data = tomllib.loads(config_text(wrong_card))
    assert data["firewall"]["lan_interface"] == "eth1"
    assert data["report"]["smtp"]["to"] == ["new@example.al"]
    assert data["report"]["qark"] == "Korçë" and data["log"]["level"] == "debug"
    assert "# më shumë hollësi / more detail\n" in config_text(wrong_card)
    assert "ROJA_LAN_INTERFACE=eth1\n" in lan_env(wrong_card)


def test_the_host_cards_are_read_from_the_real_machine(tmp_path: Path) -> None:
    """No namespace here: the installer lists this machine's own cards (not `lo`)."""
    result = subprocess.run([ROJA, "install", "--root", str(tmp_path), "--deps-from",
                             str(VENV), *FIRST, "--lan-interface", "roja-nope0"],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 2, result.stdout + result.stderr
    listed = result.stderr.split("this machine's cards:\n", 1)[1].splitlines()
    names = sorted(line.split()[0] for line in listed if line.startswith("  "))
    assert names == sorted(n for n in os.listdir("/sys/class/net") if n != "lo")
