"""The school registry file: `roja inbox schools import schools.csv`.

    code,name,qark,municipality,email
    BR-001,Shkolla 9-vjeçare "Naim Frashëri",Berat,Berat,naimfrasheri@example.al

A header row with these names is optional; `;` works as the separator too (Excel with Albanian
settings writes it); UTF-8 with or without BOM. The qark is one of the 12 (ë/ç optional, any
case); it is stored as its id. Every problem is reported with its line number and nothing is
imported while any line is wrong (`RegistryError.problems`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from reporting.inbox.qarqe import QARQE, qark_id

COLUMNS = ("code", "name", "qark", "municipality", "email")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
EMAIL = re.compile(r"^[^@\s<>\",;]+@[^@\s<>\",;]+\.[^@\s<>\",;]+$")


@dataclass(frozen=True)
class School:
    code: str
    name: str
    qark: str  # id, e.g. "vlore"
    municipality: str
    email: str


class RegistryError(ValueError):
    """The file has problems: `problems` is a list of 'rreshti N: ...' lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def check_code(code: str) -> str | None:
    """Why `code` is not a valid school code, or None."""
    if CODE.match(code):
        return None
    return (f"kodi {code!r} nuk vlen: 1–32 shkronja, shifra, '-' ose '_' / invalid code "
            "(1–32 letters, digits, '-' or '_')")


def parse(text: str) -> list[School]:
    """The schools of a CSV text; raises RegistryError listing every bad line."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    problems: list[str] = []
    schools: list[School] = []
    seen: dict[str, int] = {}
    for lineno, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if lineno == 1 and [c.lower() for c in cells] == list(COLUMNS):
            continue
        where = f"rreshti / line {lineno}"
        if len(cells) != len(COLUMNS):
            problems.append(f"{where}: pritej 5 kolona (code,name,qark,municipality,email), "
                            f"u gjetën {len(cells)} / expected 5 columns, found {len(cells)}")
            continue
        code, name, qark, municipality, email = cells
        line_problems = []
        if (why := check_code(code)) is not None:
            line_problems.append(why)
        elif code in seen:
            line_problems.append(f"kodi {code!r} përsëritet (edhe në rreshtin {seen[code]}) / "
                                 f"code repeated (also on line {seen[code]})")
        if not name:
            line_problems.append("emri mungon / name missing")
        qid = qark_id(qark)
        if qid is None:
            line_problems.append(f"qarku {qark!r} nuk njihet; qarqet: "
                                 f"{', '.join(QARQE.values())} / unknown qark")
        if not municipality:
            line_problems.append("bashkia mungon / municipality missing")
        if email and not EMAIL.match(email):
            line_problems.append(f"adresa {email!r} nuk është e-mail / not an e-mail address")
        if line_problems:
            problems.extend(f"{where}: {p}" for p in line_problems)
            continue
        seen[code] = lineno
        schools.append(School(code, name, qid or "", municipality, email))
    if problems:
        raise RegistryError(problems)
    if not schools:
        raise RegistryError(["skedari nuk ka asnjë shkollë / the file lists no school"])
    return schools
