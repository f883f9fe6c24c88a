"""Copy the release files to `/opt/roja/app` and build `/opt/roja/venv`.

The venv is made with the interpreter that runs the installer (`sys._base_executable`);
dependencies are installed by pip from `requirements.lock` (`deps="pip"`, the default), or,
offline and for the tests, taken from an existing environment's site-packages through a
`.pth` line (`deps_from`). The application is not pip-installed: a `roja-app.pth` puts
`/opt/roja/app` on the path and `venv/bin/roja` is a three-line launcher, so a re-install
is a plain copy and `pip` never builds our own package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from filterd.install import InstallError, Layout

PACKAGES = ("blocklists", "configkit", "dns_resolver", "filterd", "policy", "reporting")
FILES = ("pyproject.toml", "requirements.lock", "README.md", "CHANGELOG.md")
DIRS = ("docs", "systemd")
LAUNCHER = """#!{python}
# Roja launcher written by `roja install`.
import sys

from filterd.cli import main

# The guard matters: the list compiler runs in a spawned child, which imports this file again.
if __name__ == "__main__":
    sys.exit(main())
"""
HOME_PREFIXES = ("/root/", "/home/", "/run/user/")


def source_root() -> Path:
    """The checkout (or unpacked release) this installer runs from."""
    return Path(__file__).resolve().parents[2]


def copy_release(layout: Layout, source: Path) -> None:
    """Replace `/opt/roja/app` with the release files of `source` (no caches, no .venv)."""
    missing = [p for p in (*PACKAGES, "requirements.lock", "systemd") if not (source / p).exists()]
    if missing:
        raise InstallError(f"{source} nuk është një kopje e Rojës / is not a Roja release: "
                           f"missing {', '.join(missing)}")
    staging = layout.opt / "app.new"
    shutil.rmtree(staging, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache")
    for name in (*PACKAGES, *DIRS):
        if (source / name).is_dir():
            shutil.copytree(source / name, staging / name, ignore=ignore)
    for name in FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, staging / name)
    old = layout.opt / "app.old"
    shutil.rmtree(old, ignore_errors=True)
    if layout.app.exists():
        layout.app.rename(old)
    staging.rename(layout.app)
    shutil.rmtree(old, ignore_errors=True)


def base_python() -> str:
    return str(getattr(sys, "_base_executable", None) or sys.executable)


def home_python_warning(python: str) -> str | None:
    """The units run with ProtectHome=yes: an interpreter under /root or /home is invisible."""
    real = str(Path(python).resolve())
    if real.startswith(HOME_PREFIXES):
        return (f"Python-i ({real}) është nën një dosje shtëpie, që shërbimi nuk e sheh "
                "(ProtectHome) / this Python lives under a home folder, which the hardened "
                "units cannot see: install python3 (>= 3.12) system-wide, e.g. "
                "`apt-get install python3 python3-venv` on Debian 13.")
    return None


def _site_packages(venv: Path) -> Path:
    rel = Path(sysconfig.get_path("purelib", vars={"base": ".", "platbase": "."}))
    return venv / rel


def build_venv(layout: Layout, python: str, deps_from: Path | None = None) -> Path:
    """Create (or refresh) the venv; returns the launcher `venv/bin/roja`."""
    venv = layout.venv
    if not (venv / "bin" / "python").exists():
        args = [python, "-m", "venv", str(venv)]
        if deps_from is not None:
            args.insert(3, "--without-pip")
        _run(args, "python -m venv")
    site = _site_packages(venv)
    if not site.is_dir():
        found = sorted(venv.glob("lib/python3*/site-packages"))
        if not found:
            raise InstallError(f"{venv}: no site-packages")
        site = found[0]
    deps_pth = site / "roja-deps.pth"
    if deps_from is not None:
        source_site = sorted(deps_from.glob("lib/python3*/site-packages")) or [deps_from]
        deps_pth.write_text(f"{source_site[0].resolve()}\n", encoding="utf-8")
    else:
        deps_pth.unlink(missing_ok=True)
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
              "--disable-pip-version-check", "-r", str(layout.app / "requirements.lock")],
             "pip install -r requirements.lock")
    (site / "roja-app.pth").write_text(f"{layout.app}\n", encoding="utf-8")
    launcher = venv / "bin" / "roja"
    launcher.write_text(LAUNCHER.format(python=venv / "bin" / "python"), encoding="utf-8")
    launcher.chmod(0o755)
    return launcher


def _run(args: list[str], what: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InstallError(f"{what} dështoi / failed ({result.returncode}):\n"
                           f"{(result.stderr or result.stdout).strip()[-2000:]}")


def remove(layout: Layout) -> None:
    shutil.rmtree(layout.opt, ignore_errors=True)
