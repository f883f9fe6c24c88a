"""Display names of groups: what a report, `explain` or the inbox shows instead of the id.

A `[[groups]]` entry may set `name` ("Nxënësit / Pupils": Albanian first, then English after
" / "); without it the name is derived from the id: each `_`/`-`-separated word capitalised,
with the diacritics of the usual Albanian group words put back (`nxenesit` → "Nxënësit",
`mesuesit_9a` → "Mësuesit 9a"). Reports are in Albanian and show the part before " / ".

    default_name("mysafiret")             # 'Mysafirët'
    albanian("Nxënësit / Pupils")         # 'Nxënësit'
"""

from __future__ import annotations

import re
import unicodedata

# Words of group ids written without diacritics (ASCII folded) → how they are spelled.
WORDS = {
    "nxenes": "nxënës", "nxenesit": "nxënësit", "nxenesi": "nxënësi",
    "mesues": "mësues", "mesuesit": "mësuesit", "mesuesi": "mësuesi",
    "mesuese": "mësuese", "mesueset": "mësueset",
    "mysafir": "mysafir", "mysafiret": "mysafirët", "vizitoret": "vizitorët",
    "punonjesit": "punonjësit", "prinderit": "prindërit", "femijet": "fëmijët",
    "drejtoria": "drejtoria", "administrata": "administrata", "stafi": "stafi",
    "klasa": "klasa", "laboratori": "laboratori", "biblioteka": "biblioteka",
    "default": "të gjithë",
}


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def default_name(group_id: str) -> str:
    """A readable name made from the id alone."""
    words = [WORDS.get(_fold(w), w) for w in re.split(r"[_\-\s]+", group_id) if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else group_id


def albanian(name: str) -> str:
    """The Albanian half of a bilingual name ("Nxënësit / Pupils" → "Nxënësit")."""
    return name.split(" / ", 1)[0].strip() or name
