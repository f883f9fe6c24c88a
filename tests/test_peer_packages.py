"""A fresh machine has every program the tests ask for: `./run tests` installs the Debian
package of each program in `peers.programs.PEER_PACKAGES`, every program the test code finds or
runs by name is in that table, and each program installed here comes from the package the
table names for it (so the table cannot point at the wrong package)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers.programs import PEER_PACKAGES, find_program, require_peer

REPO = Path(__file__).resolve().parents[1]
# Code whose programs the tests run: the tests and the benchmark harnesses they import.
SCANNED = (REPO / "tests", REPO / "bench")
FINDERS = {"require_peer", "require", "which", "find_program"}
RUNNERS = {"run", "Popen", "check_output", "check_call", "call"}


def packages_installed_by_run_tests(script: str) -> set[str]:
    """The Debian packages `./run tests` installs: the arrays its `tests` branch passes to
    ensure_debian_packages, which always installs DEBIAN_PACKAGES."""
    arrays: dict[str, list[str]] = {}
    for m in re.finditer(r"^\s*([A-Z_]+)=\(([^)]*)\)", script, re.M):
        arrays.setdefault(m.group(1), m.group(2).split())  # the top-level one, not `install`'s
    branch = re.search(r"\n\s*tests\|test\)(.*?);;", script, re.S)
    assert branch, "./run has no tests branch"
    calls = re.findall(r"ensure_debian_packages([^\n]*)", branch.group(1))
    assert calls, "./run tests does not call ensure_debian_packages"
    packages = set(arrays["DEBIAN_PACKAGES"])
    for call in calls:
        for name in re.findall(r"\$\{([A-Z_]+)\[@\]\}", call):
            packages |= set(arrays[name])
    return packages


def called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def programs_named_in(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, program) for every literal program name given to a finder (`require_peer("x")`,
    `shutil.which("x")`) or as the first word of a subprocess argv (`run(["x", ...])`)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name, first = called_name(node), node.args[0]
        if name in FINDERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield node.lineno, first.value
        elif (name in RUNNERS and isinstance(first, ast.List) and first.elts
              and isinstance(first.elts[0], ast.Constant)
              and isinstance(first.elts[0].value, str)):
            yield node.lineno, Path(first.elts[0].value).name


def programs_whose_package_is_missing(script: str) -> dict[str, str]:
    installed = packages_installed_by_run_tests(script)
    return {p: pkg for p, pkg in PEER_PACKAGES.items() if pkg not in installed}


def test_run_tests_installs_the_package_of_every_peer_program() -> None:
    missing = programs_whose_package_is_missing((REPO / "run").read_text(encoding="utf-8"))
    assert not missing, f"./run tests does not install these programs' packages: {missing}"


def test_the_check_catches_a_peer_that_only_the_benchmarks_install() -> None:
    # the state of ./run before this check existed: squid & co. came only with `./run bench`
    script = (REPO / "run").read_text(encoding="utf-8")
    assert "squid squidguard e2guardian\n" in script
    script = script.replace("squid squidguard e2guardian\n", "\n")
    assert programs_whose_package_is_missing(script) == {
        "squid": "squid", "squidGuard": "squidguard", "e2guardian": "e2guardian"}


def test_every_program_the_tests_name_is_in_the_table() -> None:
    unknown = []
    for root in SCANNED:
        for path in sorted(root.rglob("*.py")):
            if path == Path(__file__):  # this file names programs to test the scan
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            unknown += [f"{path.relative_to(REPO)}:{line}: {program}"
                        for line, program in programs_named_in(tree)
                        if program not in PEER_PACKAGES]
    assert not unknown, ("programs run by tests but missing from tests/peers/programs.py:\n"
                         + "\n".join(unknown))


def test_the_scan_finds_finders_and_argv_programs() -> None:
    sample = ast.parse('require_peer("squid")\nshutil.which("vagrant")\n'
                       'subprocess.run(["/usr/sbin/e2guardian", "-N"])\nrun([binary, "x"])\n')
    assert list(programs_named_in(sample)) == [(1, "squid"), (2, "vagrant"), (3, "e2guardian")]


@pytest.mark.parametrize("program", sorted(PEER_PACKAGES))
def test_the_program_comes_from_the_package_the_table_names(program: str) -> None:
    path = find_program(program)
    if path is None:
        if os.environ.get("CI") == "true":  # ./run tests has just installed every package
            pytest.fail(f"{program} is not installed (package {PEER_PACKAGES[program]})")
        pytest.skip(f"{program} is not installed here")
    packages: set[str] = set()
    for candidate in dpkg_paths(path):
        owner = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True,
                               check=False)
        packages |= {line.split(":")[0].strip() for line in owner.stdout.splitlines()}
    assert PEER_PACKAGES[program] in packages, (program, path, packages)


def dpkg_paths(path: str) -> list[str]:
    """The names dpkg may know `path` by: itself, its real file (alternatives links), and the
    other side of the merged /usr (dpkg records /bin/ip; PATH finds /usr/bin/ip)."""
    names = []
    for name in (path, os.path.realpath(path)):
        names.append(name)
        if name.startswith("/usr/"):
            names.append(name.removeprefix("/usr"))
        else:
            names.append("/usr" + name)
    return list(dict.fromkeys(names))


def test_a_program_outside_the_table_is_refused() -> None:
    with pytest.raises(pytest.fail.Exception, match="PEER_PACKAGES"):
        require_peer("not-a-roja-peer")
