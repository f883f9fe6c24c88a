"""The director's signature before a report leaves the school (`[report]
require_director_signature = true`).

    names = director_signatures(state_dir, bundle)      # [(name, at)] of this revision
    directors(state_dir)                                  # the director accounts (config check)
    require_signature(state_dir, settings, revision)     # raises RojaError when unsigned

A director signs a revision in the console (Raportet → Nënshkruaj; `filterd.console.accounts`
keeps the signature in `console.sqlite` with the report's content hash). A signature names
that content, so a new revision (r2 after r1: late incidents, a correction) needs a new one.
`roja report send`, the console's send and the service's monthly step (`roja report due`)
all ask here: while the option is on, an unsigned revision is built but not sent.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filterd.errors import RojaError

if TYPE_CHECKING:  # `roja config check` asks `directors` without loading the report code
    from reporting.bundles import Revision
    from reporting.delivery_config import ReportSettings
    from reporting.outbox import Bundle

DB_NAME = "console.sqlite"  # filterd.console.accounts.DB_NAME (not imported: no argon2 here)


def director_signatures(state_dir: Path, bundle: Bundle) -> list[tuple[str, float]]:
    """(name, at) of the directors who signed this bundle's content, oldest first."""
    rows = _query(state_dir, "SELECT user_name, at FROM signatures WHERE period = ? AND "
                  "content_sha256 = ? AND role = 'director' ORDER BY at",
                  (bundle.period, bundle.content_sha256))
    # None: no signatures table yet (or no readable database): nobody signed
    return [(str(name), float(at)) for name, at in rows or []]


def directors(state_dir: Path) -> list[str] | None:
    """The console's director accounts (None: the accounts cannot be read)."""
    rows = _query(state_dir, "SELECT name FROM users WHERE role = 'director' ORDER BY name")
    return None if rows is None else [str(n) for (n,) in rows]


def _query(state_dir: Path, sql: str, params: tuple[object, ...] = ()
           ) -> list[tuple[Any, ...]] | None:
    """The rows of `sql` in the console's database, read-only; [] when there is no database
    yet, None when it cannot be read (a missing table too)."""
    path = state_dir / DB_NAME
    if not path.is_file():
        return []
    try:
        con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return None


def signed(state_dir: Path, settings: ReportSettings, bundle: Bundle) -> bool:
    """May this bundle be sent? Always, unless the school requires a director's signature."""
    return not settings.require_director_signature or bool(
        director_signatures(state_dir, bundle))


def require_signature(state_dir: Path, settings: ReportSettings, revision: Revision) -> None:
    """Raise (Albanian first) when the school requires a signature this revision lacks."""
    if signed(state_dir, settings, revision.bundle):
        return
    period, number = revision.bundle.period, revision.number
    raise RojaError(
        f"Raporti i {period} (rishikimi r{number}) nuk u dërgua: drejtori nuk e ka "
        "nënshkruar këtë rishikim",
        f"the report for {period} (revision r{number}) was not sent: the director has not "
        "signed this revision",
        "Drejtori e lexon dhe e nënshkruan te konsola (Raportet → Nënshkruaj); çdo rishikim "
        "i ri do nënshkrim të ri ([report] require_director_signature = true). / The director "
        "reads and signs it in the console (Raportet → Sign); every new revision needs a new "
        "signature.")
