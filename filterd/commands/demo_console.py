"""The demo's teacher's console account: `roja demo` serves the console beside the appliance
(`filterd.console.app.start`, HTTPS with the demo's school CA) and prints this login.

    name, password = teacher_login(cfg.state_dir)     # "mesuesi", printed once by the demo

Each run gives the account a new generated password (the demo's directory is kept between
runs, so an old one would be unknown to the user).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

TEACHER = "mesuesi"


def teacher_login(state_dir: Path) -> tuple[str, str]:
    """The demo teacher's name and a newly generated password (the account is made once)."""
    from filterd.console.accounts import Accounts

    password = secrets.token_urlsafe(12)
    with Accounts(state_dir) as accounts:
        if accounts.user(TEACHER) is None:
            accounts.add(TEACHER, "teacher", password, time.time())
        else:
            accounts.reset(TEACHER, password)
    return TEACHER, password

