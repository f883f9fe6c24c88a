"""`roja serve` without the proxy must not load the proxy, PDF or inbox libraries: they
would add ~50 MiB to every resolver process (issue 4's memory target)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = {"mitmproxy", "reportlab", "aiohttp", "flask", "PIL"}


def test_the_daemon_loads_only_what_dns_needs() -> None:
    code = ("import sys, click, filterd.app; from filterd.cli import main; "
            "main.get_command(click.Context(main), 'serve'); "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(HEAVY)!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_every_lazy_command_loads() -> None:
    import click

    from filterd.cli import LAZY_COMMANDS, main

    ctx = click.Context(main)
    for name in LAZY_COMMANDS:
        assert isinstance(main.get_command(ctx, name), click.Command), name
    assert set(LAZY_COMMANDS) | {"serve", "config"} == set(main.list_commands(ctx))
