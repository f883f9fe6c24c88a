"""Albania's education offices as data: DRAP → qarqe → ZVA → bashki, read from offices.toml.

    offices = load()                                  # the table shipped with Roja
    offices.drap_of_qark("tirane").label              # 'DRAP Durrës'
    offices.zva_of("Kavajë").label                    # 'ZVA Kavajë' (by bashki, id or name)
    recipient(offices, "Tiranë", "Kavajë").line       # 'Drejtuar: DRAP Durrës / ZVA Kavajë'
    recipient(offices, "Berat", "Kuçovë", office_type="dar").line
                                                      # 'Drejtuar: DAR Berat / ZVA Kuçovë'

Since 2019 (VKM nr. 234) four Drejtori Rajonale të Arsimit Parauniversitar (DRAP) each cover
several qarqe, with Zyra Vendore Arsimore (ZVA) below them. Which qark belongs to which DRAP and
which bashki to which ZVA is data (`reporting/offices.toml`, with its sources and what they do
not say), not code: names change. A region that still says DAR (one per qark) keeps that label
with `office_type = "dar"`. `parse` is pure and rejects unknown keys and qark ids, a qark in
two DRAP, or a bashki in two ZVA, naming the file, line and key.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from configkit import ConfigError, Section, Source, parse_toml_text
from reporting.inbox.qarqe import QARQE, fold, qark_id, qark_name

OFFICE_TYPES = ("drap", "dar")
GENERIC = ("Drejtuar: Drejtorisë Rajonale të Arsimit Parauniversitar / Zyrës Vendore "
           "Arsimore")


@dataclass(frozen=True)
class Drap:
    id: str
    name: str  # the seat, e.g. "Durrës"
    qarqe: tuple[str, ...]
    unconfirmed: tuple[str, ...]  # qarqe no public source placed here (see offices.toml)

    @property
    def label(self) -> str:
        return f"DRAP {self.name}"


@dataclass(frozen=True)
class Zva:
    id: str
    name: str
    qark: str  # the qark of its seat
    bashki: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"ZVA {self.name}"


@dataclass(frozen=True)
class Offices:
    ministry: str
    draps: Mapping[str, Drap]  # in the file's order
    zvas: Mapping[str, Zva]
    by_bashki: Mapping[str, str]  # folded bashki name -> ZVA id

    def drap_of_qark(self, qid: str) -> Drap | None:
        return next((d for d in self.draps.values() if qid in d.qarqe), None)

    def drap_id(self, text: str) -> str | None:
        """The DRAP named by `text` (id, seat or "DRAP <seat>"), else None."""
        folded = fold(text).removeprefix("drap ").strip().replace(" ", "_")
        return next((d.id for d in self.draps.values()
                     if folded in (d.id, fold(d.name))), None)

    def zva_of(self, text: str) -> Zva | None:
        """The ZVA named by `text`: its id, its name ("ZVA Kavajë" too) or a bashki it covers."""
        folded = fold(text).removeprefix("zva ").strip()
        if folded.replace(" ", "_").replace("-", "_") in self.zvas:
            return self.zvas[folded.replace(" ", "_").replace("-", "_")]
        zid = self.by_bashki.get(folded)
        return self.zvas[zid] if zid else None

    def drap_of_zva(self, zid: str) -> Drap | None:
        zva = self.zvas.get(zid)
        return self.drap_of_qark(zva.qark) if zva else None


@dataclass(frozen=True)
class Recipient:
    """Whom a school's report is addressed to."""

    regional: str = ""  # "DRAP Durrës" or "DAR Tiranë"; "" when the qark is unknown
    local: str = ""  # "ZVA Kavajë"; "" when the bashki is not in the table

    @property
    def line(self) -> str:
        named = " / ".join(p for p in (self.regional, self.local) if p)
        return f"Drejtuar: {named}" if named else GENERIC


def recipient(offices: Offices, qark: str, municipality: str, zva: str = "",
              office_type: str = "drap") -> Recipient:
    """The offices a school in `qark`/`municipality` reports to; `zva` (id or name) wins over
    the municipality's own ZVA. With `office_type="dar"` the regional office is the old DAR of
    the qark instead of the DRAP."""
    local = offices.zva_of(zva) if zva else offices.zva_of(municipality) if municipality \
        else None
    qid = qark_id(qark) if qark else None
    if qid is None and local is not None:
        qid = local.qark
    regional = ""
    if qid is not None:
        if office_type == "dar":
            regional = f"DAR {qark_name(qid)}"
        elif (drap := offices.drap_of_qark(qid)) is not None:
            regional = drap.label
    return Recipient(regional, local.label if local else "")


def parse(text: str, name: str) -> Offices:
    """The offices table in `text` (TOML); errors are ConfigError with file, line and key."""
    data, source = parse_toml_text(text, name)
    top = Section(data, "", source)
    ministry = top.str("ministry")
    draps = _draps(top, data, source)
    zvas, by_bashki = _zvas(top, data, source)
    top.done()
    return Offices(ministry, draps, zvas, by_bashki)


def _draps(top: Section, data: Mapping[str, Any], source: Source) -> dict[str, Drap]:
    top.section("drap", required=True)
    draps: dict[str, Drap] = {}
    owner: dict[str, str] = {}
    for did in data["drap"]:
        s = Section(data["drap"][did], f"drap.{did}", source)
        qarqe = s.str_list("qarqe")
        unconfirmed = s.str_list("unconfirmed", ())
        drap = Drap(did, s.str("name"), qarqe, unconfirmed)
        s.done()
        for qid in qarqe:
            if qid not in QARQE:
                raise s.error("qarqe", f"{qid!r} is not a qark id ({', '.join(QARQE)})")
            if qid in owner:
                raise s.error("qarqe", f"{qid!r} is already in drap.{owner[qid]}")
            owner[qid] = did
        if not set(unconfirmed) <= set(qarqe):
            raise s.error("unconfirmed", "lists a qark that is not in qarqe")
        draps[did] = drap
    missing = [q for q in QARQE if q not in owner]
    if missing:
        raise top.error("drap", f"no DRAP covers {', '.join(missing)}")
    return draps


def _zvas(top: Section, data: Mapping[str, Any],
          source: Source) -> tuple[dict[str, Zva], dict[str, str]]:
    top.section("zva", required=True)
    zvas: dict[str, Zva] = {}
    by_bashki: dict[str, str] = {}
    for zid in data["zva"]:
        s = Section(data["zva"][zid], f"zva.{zid}", source)
        zva_name = s.str("name")
        qark = s.str("qark")
        bashki = s.str_list("bashki", (zva_name,))
        s.done()
        if qark not in QARQE:
            raise s.error("qark", f"{qark!r} is not a qark id ({', '.join(QARQE)})")
        for b in bashki:
            if fold(b) in by_bashki:
                raise s.error("bashki", f"{b!r} is already in zva.{by_bashki[fold(b)]}")
            by_bashki[fold(b)] = zid
        zvas[zid] = Zva(zid, zva_name, qark, bashki)
    return zvas, by_bashki


@functools.cache
def load() -> Offices:
    """The table shipped with Roja (reporting/offices.toml)."""
    path = resources.files("reporting").joinpath("offices.toml")
    return parse(path.read_text(encoding="utf-8"), "reporting/offices.toml")


__all__ = ["OFFICE_TYPES", "ConfigError", "Drap", "Offices", "Recipient", "Zva", "load",
           "parse", "recipient"]
