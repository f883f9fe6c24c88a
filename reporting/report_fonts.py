"""The TrueType fonts the PDF report uses, so that ë and ç print as themselves.

reportlab's built-in fonts (Helvetica, ...) are Latin-1 only in practice and are not embedded;
the report embeds DejaVu Sans (Debian package `fonts-dejavu-core`) instead. `$ROJA_FONT_DIR`
may name another directory holding `DejaVuSans.ttf` and `DejaVuSans-Bold.ttf`.

    regular, bold = register_fonts()   # ("RojaSans", "RojaSans-Bold")
"""

from __future__ import annotations

import os
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "RojaSans"
BOLD = "RojaSans-Bold"
FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
SEARCH = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
          Path("/usr/local/share/fonts/dejavu"))


class FontMissingError(RuntimeError):
    """DejaVu Sans is not installed."""


def font_dir() -> Path:
    """The first directory that holds both DejaVu Sans files."""
    extra = os.environ.get("ROJA_FONT_DIR")
    for directory in ((Path(extra),) if extra else ()) + SEARCH:
        if all((directory / name).is_file() for name in FILES.values()):
            return directory
    raise FontMissingError(
        "Mungon shkronja DejaVu Sans / DejaVu Sans is missing: apt-get install "
        "fonts-dejavu-core (or set ROJA_FONT_DIR to a directory with DejaVuSans.ttf and "
        "DejaVuSans-Bold.ttf)")


def register_fonts() -> tuple[str, str]:
    """Register the fonts with reportlab once; returns (regular, bold) font names."""
    if REGULAR not in pdfmetrics.getRegisteredFontNames():
        directory = font_dir()
        for name, filename in FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(directory / filename)))
        addMapping(REGULAR, 0, 0, REGULAR)
        addMapping(REGULAR, 1, 0, BOLD)
        addMapping(REGULAR, 0, 1, REGULAR)
        addMapping(REGULAR, 1, 1, BOLD)
    return REGULAR, BOLD
