"""`roja console user add|list|reset|remove` as a teacher types them: the password from
standard input, Albanian-first errors with a non-zero exit, every change in the audit log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from console_kit import write_config

from filterd import audit
from filterd.console.accounts import Accounts


def roja(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).with_name("roja")), "--config", str(config),
                           *args],
                          input=stdin, capture_output=True, text=True, check=False)


def test_user_add_list_reset_remove(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    r = roja(cfg.path, "console", "user", "add", "a.hoxha", "--role", "teacher",
             "--password-stdin", stdin="fjalekalim-shume-i-forte\n")
    assert r.returncode == 0, r.stderr
    with Accounts(cfg.state_dir) as accounts:
        assert accounts.login("a.hoxha", "fjalekalim-shume-i-forte", 0.0) is not None
    r = roja(cfg.path, "console", "user", "add", "a.hoxha", "--role", "teacher",
             "--password-stdin", stdin="fjalekalim-tjeter-1\n")
    assert r.returncode == 1 and "Llogaria nuk u shtua" in r.stderr
    assert "Traceback" not in r.stderr
    short = roja(cfg.path, "console", "user", "add", "drejtori", "--role", "director",
                 "--password-stdin", stdin="shkurt\n")
    assert short.returncode == 1 and "të paktën 10" in short.stderr
    listed = roja(cfg.path, "console", "user", "list")
    assert "a.hoxha  Mësuesi i TIK-ut / ICT teacher" in listed.stdout
    assert roja(cfg.path, "console", "user", "reset", "a.hoxha", "--password-stdin",
                stdin="fjalekalim-i-ri-1234\n").returncode == 0
    with Accounts(cfg.state_dir) as accounts:
        assert accounts.login("a.hoxha", "fjalekalim-i-ri-1234", 0.0) is not None
    assert roja(cfg.path, "console", "user", "remove", "a.hoxha").returncode == 0
    gone = roja(cfg.path, "console", "user", "remove", "a.hoxha")
    assert gone.returncode == 1 and "Nuk ka llogari" in gone.stderr
    whats = [e.what for e in audit.read(cfg.state_dir)]
    assert whats == ["console user add a.hoxha (teacher)", "console user reset a.hoxha",
                     "console user remove a.hoxha"]
