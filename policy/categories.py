"""The filtering categories: one table of ids with Albanian and English names.

This is the one source of truth for category names (reporting and the CLI read it): the nine
UK Safer Internet Centre "appropriate filtering" categories, the hotline's incident taxonomy
(ISIGURT.AL / ALO 116 111, the ids and labels of the shared reference), ads/trackers and
social media. Lists tag their entries with these ids; profiles block them; schedules open or
close them at times.

    CATEGORIES["self_harm"].sq       # 'Vetëdëmtim dhe vetëvrasje'
    canonical_category("adult")      # 'pornography' (older ids stay readable)

`csam` is always a legal-layer category: nothing can open it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Family = Literal["uksic", "hotline", "extra"]


@dataclass(frozen=True)
class Category:
    id: str
    sq: str
    en: str
    family: Family

    @property
    def label(self) -> str:
        """`Shqip / English`, the form teachers see."""
        return self.sq if self.sq == self.en else f"{self.sq} / {self.en}"


_TABLE: tuple[tuple[str, str, str, Family], ...] = (
    # UKSIC "appropriate filtering" (the nine)
    ("discrimination", "Diskriminim", "Discrimination", "uksic"),
    ("drugs", "Drogë dhe substanca", "Drugs and substance abuse", "uksic"),
    ("extremism", "Ekstremizëm", "Extremism", "uksic"),
    ("gambling", "Bixhoz dhe lojëra fati", "Gambling", "uksic"),
    ("malware", "Programe keqdashëse, hakim dhe anashkalim i filtrit",
     "Malware, hacking and filter bypass", "uksic"),
    ("pornography", "Pornografi", "Pornography", "uksic"),
    ("piracy", "Pirateri", "Piracy and copyright theft", "uksic"),
    ("self_harm", "Vetëdëmtim dhe vetëvrasje", "Self-harm and suicide", "uksic"),
    ("violence", "Dhunë", "Violence", "uksic"),
    # Roja's two more
    ("social_media", "Rrjete sociale", "Social media", "extra"),
    ("ads_trackers", "Reklama dhe gjurmues", "Ads and trackers", "extra"),
    # The hotline's incident taxonomy
    ("hate_speech", "Gjuha e urrejtjes", "Hate speech", "hotline"),
    ("account_theft", "Vjedhje llogarie / postim fotosh", "Account theft, posting of photos",
     "hotline"),
    ("csam", "Pornografi me të mitur", "Child sexual abuse material", "hotline"),
    ("nudity", "Nuditet", "Nudity", "hotline"),
    ("sexual_harassment", "Ngacmim seksual", "Sexual harassment", "hotline"),
    ("violence_denigration", "Dhunë / denigrim imazhi", "Violence, image denigration",
     "hotline"),
    ("stalking_threats", "Përndjekje / kërcënim / shantazh", "Stalking, threats, blackmail",
     "hotline"),
    ("dangerous_games", "Lojëra të rrezikshme",
     'Dangerous games (e.g. "Blue Whale", "Jonathan Galindo")', "hotline"),
    ("grooming", "Grooming (përgatitje për abuzim)", "Grooming", "hotline"),
    ("sexting", "Sexting", "Sexting", "hotline"),
    # The action plan's activity 2.3 asks schools to collect "dhunë, bulizëm dhe abuzim online".
    ("cyberbullying", "Bullizëm online", "Cyberbullying", "hotline"),
    ("other", "Tjetër", "Other", "hotline"),
)

CATEGORIES: Mapping[str, Category] = MappingProxyType(
    {cid: Category(cid, sq, en, fam) for cid, sq, en, fam in _TABLE})
UKSIC = tuple(c.id for c in CATEGORIES.values() if c.family == "uksic")
HOTLINE = tuple(c.id for c in CATEGORIES.values() if c.family == "hotline")
# Older or source-specific ids that mean one of the above (reports and lists still carry them).
ALIASES: Mapping[str, str] = MappingProxyType({
    "adult": "pornography",
    "filter_bypass": "malware",
    "circumvention": "malware",
    "hacking": "malware",
})
# Categories that only the legal layer carries: a config may never open them.
ALWAYS_LEGAL = frozenset({"csam"})


def canonical_category(cid: str) -> str:
    """The table's id for `cid` (aliases resolved); unknown ids are returned as they are."""
    return ALIASES.get(cid, cid)


def is_known(cid: str) -> bool:
    return cid in CATEGORIES or cid in ALIASES


def label(cid: str) -> str:
    """`Shqip / English` for a category id; an unknown id is shown as itself."""
    found = CATEGORIES.get(canonical_category(cid))
    return found.label if found is not None else (cid or "—")
