"""Albanian labels for the ids that appear in the reports (the shared reference's names).

Reports carry ids (stable, for machines) next to labels (for people). An id the tables below do
not know is shown as itself, so a new list category never breaks a report.

    label(BLOCK_CATEGORIES, "self_harm")  # 'Vetëdëmtim dhe vetëvrasje'
    group_label("nxenesit", {"nxenesit": "Nxënësit / Pupils"})  # 'Nxënësit'
"""

from __future__ import annotations

from collections.abc import Mapping

from policy.categories import ALIASES, CATEGORIES
from policy.group_names import albanian, default_name
from reporting import manual
from reporting.bypass_count import BYPASS_CATEGORIES


def _albanian(vocabulary: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    return {key: sq[:1].upper() + sq[1:] for key, (sq, _en) in vocabulary.items()}


# Filtering categories (blocking): `policy.categories` is the one table; the aliases (older
# or source-specific ids such as `adult`) show the label of the category they mean, except
# the bypass ids (`reporting.bypass_count`), which the reports count apart.
BYPASS_LABEL = "Anashkalim i filtrit"
BLOCK_CATEGORIES: Mapping[str, str] = {
    **{c.id: c.sq for c in CATEGORIES.values()},  # hotline ids too: lists carry csam etc.
    **{alias: CATEGORIES[target].sq for alias, target in ALIASES.items()},
    **dict.fromkeys(BYPASS_CATEGORIES, BYPASS_LABEL),
}

# The manual-incident vocabularies are `reporting.manual`'s, Albanian label first letter upper.
HOTLINE_CATEGORIES: Mapping[str, str] = _albanian(manual.CATEGORIES)
PLATFORMS: Mapping[str, str] = _albanian(manual.PLATFORMS)
AGE_BANDS: Mapping[str, str] = _albanian(manual.AGE_BANDS)
GENDERS: Mapping[str, str] = _albanian(manual.GENDERS)
REFERRALS: Mapping[str, str] = _albanian(manual.REFERRALS)
STATUSES: Mapping[str, str] = _albanian(manual.STATUSES)

MONTHS = ("janar", "shkurt", "mars", "prill", "maj", "qershor", "korrik", "gusht", "shtator",
          "tetor", "nëntor", "dhjetor")

NO_VALUE = "—"


def label(table: Mapping[str, str], key: str) -> str:
    """The Albanian label of `key`, or `key` itself when the table does not know it."""
    return table.get(key, table.get(key.lower(), key or NO_VALUE))


def group_label(group_id: str, names: Mapping[str, str]) -> str:
    """A group's name for a report: the Albanian half of its configured `name` (`names` maps
    ids to names), else a name derived from the id (a group no longer in the config)."""
    name = names.get(group_id, "")
    return albanian(name) if name and name != group_id else default_name(group_id)


def order(table: Mapping[str, str], key: str) -> tuple[int, str]:
    """Sort key: the table's order first, unknown ids after them alphabetically."""
    keys = list(table)
    return (keys.index(key), "") if key in table else (len(keys), key)
