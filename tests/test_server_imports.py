"""The two servers are adapters over one policy: neither imports the other's internals.

`dns_resolver/` imports nothing from `filterd/`, and `filterd/proxy/` nothing from
`dns_resolver/`; what both need (the policy in force, safe search, steering, reserved names,
DoH endpoints) lives in `policy/` or `blocklists/`. Every import is read, also those inside
functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"dns_resolver": ("filterd",), "filterd/proxy": ("dns_resolver",)}


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_server_imports_nothing_of_the_other(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    wrong = [f"{f.relative_to(ROOT)} imports {name}" for f in files for name in imported(f)
             if name.split(".")[0] in FORBIDDEN[package]]
    assert wrong == []
