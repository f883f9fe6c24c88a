"""The `[isp]` part of `roja.toml`: the internet provider named on its Code of Conduct report.

The action plan for child online safety (2018-2020, activity 3.2) asks providers that sign the
Code of Conduct to report on it every year; `roja isp report` writes that report, and this
table says who the provider is and who signs. Every key but `signatory_role` is required once
the table is there; without the table `roja isp report` refuses to run.

    [isp]
    name = "Rrjeti Shembull sh.p.k."        # the provider, as registered
    nipt = "L12345678A"                       # NIPT/NUIS: a letter, 8 digits, a letter
    contact = "abuse@rrjeti.example, +355 4 222 0000"
    signatory = "Elira Hoxha"                 # who signs the report
    signatory_role = "Administratore"         # optional; default "Administrator"

Errors name the file, line and key (`configkit.ConfigError`), e.g. a NIPT that is not ten
characters of the form above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import configkit

NIPT_RE = re.compile(r"[A-Z][0-9]{8}[A-Z]")
DEFAULT_ROLE = "Administrator"
KEYS = ("name", "nipt", "contact", "signatory", "signatory_role")


@dataclass(frozen=True)
class IspSettings:
    """Who the provider is and who signs its annual report."""

    name: str
    nipt: str
    contact: str
    signatory: str
    signatory_role: str = DEFAULT_ROLE


def _text(section: configkit.Section, key: str, default: str | None = None) -> str:
    value = (section.str(key) if default is None else section.str(key, default)).strip()
    if not value:
        raise section.error(key, "nuk mund të jetë bosh / must not be empty")
    if len(value) > 200:
        raise section.error(key, "më shumë se 200 shkronja / longer than 200 characters")
    return value


def parse(section: configkit.Section) -> IspSettings | None:
    """Read an `[isp]` table; None when the config has none. Unknown keys, empty values and a
    malformed NIPT raise ConfigError."""
    if not any(section.has(key) for key in KEYS):
        for key in KEYS:  # a table of unknown keys still fails, naming the accepted ones
            section.str(key, "")
        section.done()
        return None
    name = _text(section, "name")
    nipt = _text(section, "nipt").upper()
    if not NIPT_RE.fullmatch(nipt):
        raise section.error("nipt", f"{nipt!r}: NIPT-i ka 10 shenja, një shkronjë, 8 shifra dhe "
                            "një shkronjë (p.sh. L12345678A) / a NIPT is a letter, 8 digits "
                            "and a letter, e.g. L12345678A")
    settings = IspSettings(name=name, nipt=nipt, contact=_text(section, "contact"),
                           signatory=_text(section, "signatory"),
                           signatory_role=_text(section, "signatory_role", DEFAULT_ROLE))
    section.done()
    return settings
