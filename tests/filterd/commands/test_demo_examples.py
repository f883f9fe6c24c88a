"""Every line `roja demo` prints to try does what its comment says, and the README shows the
same lines.

The demo runs offline (its stand-in upstream forwards unknown names to a port where nothing
listens). The examples are read from what the real process printed; each runs as a user would
type it (at a shell prompt, from the project's root, where `.venv/bin/roja` is) and its outcome, the
words after `→` (see filterd/commands/demo_examples.py), is checked against the output. An
outcome the test cannot check fails, so a new example has to promise something checkable.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from demo_kit import Demo, running_demo
from peers.nsd import require_peer

from filterd.commands.demo_examples import DemoPorts

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
PROGRAMS = ("dig", "kdig", "curl", "roja", ".venv/bin/roja")
OFFLINE = "127.0.0.1:9"  # nothing listens there: no internet at all


@dataclass(frozen=True)
class Printed:
    command: str
    comment: str
    outcome: str


def example_lines(text: str, indent: str = "  ") -> list[str]:
    """The lines (indented by `indent`) that run a program or carry a `  # ` comment."""
    return [line.strip() for line in text.splitlines()
            if line.startswith(indent) and line.strip()
            and ("  # " in line or line.split()[0] in PROGRAMS)]


def parse(line: str) -> Printed:
    command, sep, comment = line.partition("  # ")
    assert sep, f"an example without a comment saying what it does: {line!r}"
    said, arrow, outcome = comment.rpartition(" → ")
    assert arrow and outcome.strip(), f"the comment does not end in `→ <outcome>`: {line!r}"
    return Printed(" ".join(command.split()), said.strip(), outcome.strip())


def unmet(outcome: str, output: str, code: int) -> list[str]:
    """The parts of `outcome` that the command's output and exit status do not show."""
    missing = []
    for part in outcome.split(", "):
        if m := re.fullmatch(r"NOERROR|NXDOMAIN|REFUSED|SERVFAIL", part):
            ok = re.search(rf"status: {part}[,;]", output) is not None
        elif m := re.fullmatch(r"EDE (\d+) \((.+)\)", part):
            ok = re.search(rf"EDE: {m[1]} \({re.escape(m[2])}\)", output) is not None
        elif m := re.fullmatch(r"(A|AAAA|CNAME) (\S+)", part):
            ok = re.search(rf"^\S+\s+\d+\s+IN\s+{m[1]}\s+{re.escape(m[2])}\.?$", output,
                           re.MULTILINE) is not None
        elif m := re.fullmatch(r"HTTP (\d{3})", part):
            ok = re.search(rf"^HTTP/[\d.]+ {m[1]}\b", output, re.MULTILINE) is not None
        elif m := re.fullmatch(r"exit (\d+)", part):
            ok = code == int(m[1])
        else:
            raise AssertionError(f"an outcome this test cannot check: {part!r} (in {outcome!r})")
        if not ok:
            missing.append(part)
    return missing


def run(command: str) -> tuple[str, int]:
    """The line as typed at a shell prompt (/bin/sh: the lines use only plain pipes)."""
    result = subprocess.run(command, shell=True, capture_output=True, text=True,
                            timeout=60, check=False, cwd=ROOT)
    return result.stdout + result.stderr, result.returncode


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    for program in ("dig", "curl"):
        require_peer(program)
    assert (ROOT / ".venv" / "bin" / "roja").is_file(), "the examples call .venv/bin/roja"
    with running_demo(tmp_path_factory.mktemp("demo"), OFFLINE) as running:
        yield running


def test_every_printed_example_does_what_its_comment_says(demo: Demo) -> None:
    examples = [parse(line) for line in example_lines(demo.printed())]
    assert len(examples) >= 15, demo.printed()
    wrong = []
    for example in examples:  # in the printed order: the incidents list comes last
        output, code = run(example.command)
        if missing := unmet(example.outcome, output, code):
            wrong.append(f"{example.command}\n  promised: {example.outcome}; not shown: "
                         f"{', '.join(missing)} (exit {code})\n{output[-1500:]}")
    assert not wrong, "\n\n".join(wrong)


@pytest.mark.parametrize(("command", "outcome"), [
    ("dig @127.0.0.1 -p {dns} tiktok.com", "A 127.0.0.4"),            # pupils are blocked
    ("dig @127.0.0.1 -p {dns} -b 127.0.0.3 tiktok.com", "NXDOMAIN"),  # teachers are not
    ("dig @127.0.0.1 -p {dns} example.com", "A 127.0.0.4"),           # it is steered
    ("dig @127.0.0.1 -p {dns} bet365.com", "NXDOMAIN, EDE 15 (Blocked)"),
    ("curl -si -x http://127.0.0.1:{proxy} http://example.com/shembull/faqe", "HTTP 200"),
    ("curl -s http://127.0.0.1:{metrics}/metrics | grep roja_no_such_metric", "exit 0"),
])
def test_a_lying_example_is_caught(demo: Demo, command: str, outcome: str) -> None:
    p = demo.ports
    output, code = run(command.format(dns=p.dns, proxy=p.proxy, metrics=p.metrics))
    assert unmet(outcome, output, code), output


def readme_demo_lines() -> list[str]:
    """The example lines of the README's demo blocks (each after `<!-- demo-examples -->`)."""
    blocks = re.findall(r"<!-- demo-examples -->\n```sh\n(.*?)```",
                        README.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 4, "README.md has the demo's DNS, console, proxy and encrypted DNS blocks"
    return [line for block in blocks for line in example_lines(block, indent="")]


def with_ports(line: str, ports: DemoPorts, config: Path) -> str:
    """A README line (default ports, `var/demo`) as the demo on `ports` prints it."""
    default = DemoPorts()
    mapping = {str(getattr(default, name)): str(getattr(ports, name))
               for name in ("dns", "metrics", "proxy", "steer_http", "steer_https", "page",
                            "site", "dot", "doh", "console")}
    line = re.sub(r"\b(" + "|".join(mapping) + r")\b", lambda m: mapping[m[0]], line)
    return line.replace("var/demo/", f"{config.parent}/")


def test_the_readme_shows_the_lines_the_demo_prints(demo: Demo) -> None:
    printed = [parse(line) for line in example_lines(demo.printed())]
    config = demo.directory / "roja.toml"
    readme = [parse(with_ports(line, demo.ports, config))
              for line in readme_demo_lines()]
    assert readme == printed
