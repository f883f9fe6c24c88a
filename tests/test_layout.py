"""Meta-checks that keep the style of ARCHITECTURE.md: every module says what it is for, no
module grows into a subsystem, and every DNS handler has its own test file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("configkit", "blocklists", "policy", "dns_resolver", "filterd", "reporting")
MAX_LINES = 400

# Modules allowed over MAX_LINES, each with the reason written down.
LONG_MODULES = {
    "blocklists/compiled.py": "the writer and the reader of one file format stay in one "
                              "module, so they cannot drift apart",
}

# Files in dns_resolver/handlers/ that are not handlers.
NOT_HANDLERS = {"__init__.py", "base.py"}


def modules() -> list[str]:
    found = sorted(str(p.relative_to(ROOT)) for package in PACKAGES
                   for p in (ROOT / package).rglob("*.py"))
    assert found, "no source modules found"
    return found


def handlers() -> list[str]:
    return sorted(p.stem for p in (ROOT / "dns_resolver" / "handlers").glob("*.py")
                  if p.name not in NOT_HANDLERS)


@pytest.mark.parametrize("module", modules())
def test_every_module_has_a_docstring(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"), module)
    docstring = ast.get_docstring(tree)
    assert docstring and docstring.strip(), f"{module}: add a module docstring saying its role"


@pytest.mark.parametrize("module", modules())
def test_no_module_over_400_lines(module: str) -> None:
    lines = len((ROOT / module).read_text(encoding="utf-8").splitlines())
    if module in LONG_MODULES:
        assert lines > MAX_LINES, f"{module} is {lines} lines now: drop it from LONG_MODULES"
        return
    assert lines <= MAX_LINES, (
        f"{module} has {lines} lines (limit {MAX_LINES}): split it, or add it to LONG_MODULES "
        "in tests/test_layout.py with the reason")


def test_long_module_allow_list_names_real_files() -> None:
    for module, reason in LONG_MODULES.items():
        assert (ROOT / module).is_file(), module
        assert reason.strip(), module


def test_there_are_handlers_to_check() -> None:
    assert {"acl", "canary", "blocklist", "cache", "upstream"} <= set(handlers())


@pytest.mark.parametrize("handler", handlers())
def test_every_dns_handler_has_its_own_test_file(handler: str) -> None:
    test_file = ROOT / "tests" / "dns_resolver" / "handlers" / f"test_{handler}.py"
    assert test_file.is_file(), f"dns_resolver/handlers/{handler}.py has no {test_file}"
