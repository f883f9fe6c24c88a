"""The gateway's check that a feed's removals are explicit and signed (see `blocklists.feed`).

Pure: it gets the entry sets before and after and the removal records the signed files carry,
and raises `ShrinkRefused` (Albanian, then English) when the new set may not replace the old.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from blocklists.feed import REASONLESS_LIMIT, Entry, ShrinkRefused, identity


def check_removals(old: Mapping[str, Entry], old_serial: int, new: Mapping[str, Entry],
                   new_serial: int, records: Iterable[Mapping[str, Any]]) -> None:
    """Raise ShrinkRefused unless every entry of `old` missing from `new` is named by a signed
    removal record of a serial in (old_serial, new_serial], the new set is not empty, and no
    record without a reason removes more than REASONLESS_LIMIT of its list."""
    where = (f"Seriali {new_serial} refuzohet, lista {old_serial} mbetet aktive / serial "
             f"{new_serial} refused, list {old_serial} stays active")
    if not new:
        raise ShrinkRefused(f"{where}: lista e re është bosh / the new list is empty")
    named: set[str] = set()
    for record in records:
        if not old_serial < record["serial"] <= new_serial:
            continue
        if not record["reason"] and record["count"] > REASONLESS_LIMIT * record["before"]:
            raise ShrinkRefused(
                f"{where}: seriali {record['serial']} heq {record['count']} nga "
                f"{record['before']} hyrje pa arsye të nënshkruar / serial {record['serial']} "
                f"removes {record['count']} of {record['before']} entries without a signed "
                "reason")
        if record["serial"] == old_serial + 1 and record["before"] != len(old):
            raise ShrinkRefused(f"{where}: seriali {record['serial']} thotë se lista kishte "
                                f"{record['before']} hyrje, jo {len(old)} / serial "
                                f"{record['serial']} says the list had {record['before']} "
                                f"entries, not {len(old)}")
        named.update(identity(gone) for gone in record["removed"])
    unnamed = [k for k in old if k not in new and k not in named]
    if unnamed:
        raise ShrinkRefused(f"{where}: {len(unnamed)} hyrje u hoqën pa u emërtuar në të "
                            f"dhënat e nënshkruara / {len(unnamed)} entries removed without "
                            "being named in the signed removals")
