"""The school registry file: `roja inbox schools import schools.csv`.

    code,name,qark,municipality,email[,zva]
    BR-001,Shkolla 9-vjeçare "Naim Frashëri",Berat,Berat,naimfrasheri@example.al
    TR-104,Shkolla "Sami Frashëri",Tiranë,Kavajë,sf@example.al,Rrogozhinë

A header row with these names is optional; `;` works as the separator too (Excel with Albanian
settings writes it); UTF-8 with or without BOM. The qark is one of the 12 (ë/ç optional, any
case); it is stored as its id. The school's ZVA (`reporting.offices`) is the optional sixth
column (id, name or a bashki it covers) and otherwise the municipality's own ZVA; a ZVA under
another DRAP than the qark's is refused. A municipality not in the table keeps an empty ZVA
(the dashboard shows it as "ZVA e papërcaktuar"). Every problem is reported with its line
number and nothing is imported while any line is wrong (`RegistryError.problems`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from reporting import offices
from reporting.inbox.qarqe import QARQE, qark_id

COLUMNS = ("code", "name", "qark", "municipality", "email")
OPTIONAL = ("zva",)
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
EMAIL = re.compile(r"^[^@\s<>\",;]+@[^@\s<>\",;]+\.[^@\s<>\",;]+$")


@dataclass(frozen=True)
class School:
    code: str
    name: str
    qark: str  # id, e.g. "vlore"
    municipality: str
    email: str
    zva: str = ""  # ZVA id (reporting/offices.toml), "" when unknown


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
        if lineno == 1 and [c.lower() for c in cells] in (list(COLUMNS),
                                                          list(COLUMNS + OPTIONAL)):
            continue
        where = f"rreshti / line {lineno}"
        if len(cells) not in (len(COLUMNS), len(COLUMNS) + 1):
            problems.append(f"{where}: pritej 5 ose 6 kolona (code,name,qark,municipality,"
                            f"email[,zva]), u gjetën {len(cells)} / expected 5 or 6 columns, "
                            f"found {len(cells)}")
            continue
        code, name, qark, municipality, email = cells[:5]
        zva_text = cells[5] if len(cells) > 5 else ""
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
        zva, why = school_zva(qid or "", municipality, zva_text)
        if why:
            line_problems.append(why)
        if line_problems:
            problems.extend(f"{where}: {p}" for p in line_problems)
            continue
        seen[code] = lineno
        schools.append(School(code, name, qid or "", municipality, email, zva))
    if problems:
        raise RegistryError(problems)
    if not schools:
        raise RegistryError(["skedari nuk ka asnjë shkollë / the file lists no school"])
    return schools


def school_zva(qid: str, municipality: str, zva_text: str = "") -> tuple[str, str]:
    """(ZVA id, problem): the named ZVA or else the municipality's; "" when none is known."""
    table = offices.load()
    if not zva_text:
        found = table.zva_of(municipality) if municipality else None
        return (found.id if found else ""), ""
    named = table.zva_of(zva_text)
    if named is None:
        return "", f"ZVA {zva_text!r} nuk njihet / unknown ZVA"
    drap, own = table.drap_of_zva(named.id), table.drap_of_qark(qid) if qid else None
    if own is not None and drap is not None and drap.id != own.id:
        return "", (f"{named.label} është nën {drap.label}, qarku nën {own.label} / the ZVA "
                    "belongs to another DRAP than the qark")
    return named.id, ""
