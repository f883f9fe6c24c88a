"""The Vagrantfile at the repository root: `vagrant validate` accepts it (provider options
ignored: CI has no VirtualBox/libvirt), and it provisions with the documented install."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from peers.programs import require_peer

REPO = Path(__file__).resolve().parents[1]


def test_vagrant_validate(tmp_path: Path) -> None:
    vagrant = require_peer("vagrant")
    env = {**os.environ, "VAGRANT_CHECKPOINT_DISABLE": "1", "VAGRANT_HOME": str(tmp_path),
           "VAGRANT_DOTFILE_PATH": str(tmp_path / "dotfile")}  # keep .vagrant/ out of the repo
    result = subprocess.run([vagrant, "validate", "--ignore-provider"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout


def test_gateway_is_provisioned_by_the_install_command() -> None:
    text = (REPO / "Vagrantfile").read_text(encoding="utf-8")
    assert "./run install --non-interactive --lan-interface" in text
    assert 'virtualbox__intnet: "roja-lan"' in text
    assert text.count('config.vm.define "') == 2
