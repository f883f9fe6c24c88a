"""What `roja report build` and `roja isp report` share: the `--format` and `--date` options
read the same way, and report files written whole (temporary file, then rename).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, time
from pathlib import Path

import click

from reporting.report_data import TIRANE


def parse_formats(text: str, known: Iterable[str]) -> list[str]:
    """`--format pdf,json` as ["pdf", "json"] (lower case, each once, in the order given);
    a format not in `known`, or none at all, is a usage error."""
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = sorted(set(chosen) - set(known))
    if unknown or not chosen:
        raise click.BadParameter(f"{', '.join(unknown) or '(bosh)'}: zgjidhni nga / choose "
                                 "from pdf, csv, json", param_hint="--format")
    return list(dict.fromkeys(chosen))


def generation_time(date_text: str | None) -> datetime:
    """`--date DD.MM.YYYY` as that day's last second in Tirana; now when not given."""
    if date_text is None:
        return datetime.now(TIRANE)
    try:
        day = datetime.strptime(date_text, "%d.%m.%Y").date()
    except ValueError:
        raise click.BadParameter("përdorni / use DD.MM.YYYY", param_hint="--date") from None
    return datetime.combine(day, time(23, 59, 59), TIRANE)


def write_whole(path: Path, content: bytes) -> None:
    """`content` at `path`, never half written: a temporary file beside it, then a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
