"""The 12 qarqe (counties) of Albania: ids, Albanian names, and lenient name matching.

    QARQE["vlore"]             # 'Vlorë'
    qark_id("Vlore")           # 'vlore' (ë/ç optional, any case, "Qarku Vlorë" accepted)
    qark_id("Prishtinë")       # None

Ids are the lower-case ASCII form, as in the shared reference; people see the Albanian name.
"""

from __future__ import annotations

import unicodedata

QARQE: dict[str, str] = {
    "berat": "Berat", "diber": "Dibër", "durres": "Durrës", "elbasan": "Elbasan",
    "fier": "Fier", "gjirokaster": "Gjirokastër", "korce": "Korçë", "kukes": "Kukës",
    "lezhe": "Lezhë", "shkoder": "Shkodër", "tirane": "Tiranë", "vlore": "Vlorë",
}


def fold(text: str) -> str:
    """Lower case, without diacritics or surrounding spaces: 'Korçë ' → 'korce'."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def qark_id(text: str) -> str | None:
    """The id of the qark named by `text` (id, name, with or without 'Qarku'), else None."""
    folded = fold(text).removeprefix("qarku ").strip()
    if folded in QARQE:
        return folded
    # Common definite forms: Berati, Tirana, Vlora, Korça, Durrësi, Shkodra...
    aliases = {"berati": "berat", "dibra": "diber", "durresi": "durres", "elbasani": "elbasan",
               "fieri": "fier", "gjirokastra": "gjirokaster", "korca": "korce",
               "kukesi": "kukes", "lezha": "lezhe", "shkodra": "shkoder", "tirana": "tirane",
               "vlora": "vlore"}
    return aliases.get(folded)


def qark_name(qid: str) -> str:
    """The Albanian name of a qark id (the id itself when unknown)."""
    return QARQE.get(qid, qid)
