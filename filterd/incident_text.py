"""What the manual-incident forms say and accept, shared by `roja incident` and the console's
"Incident i ri" and "Rastet" pages: the note under the description (no names; the text stays
on the gateway and is deleted `[incidents] free_text_days` after the case is closed), what the
masking hid (`hidden_kinds`), the CSAM note, and the date a teacher types (DD.MM.YYYY or
YYYY-MM-DD, never in the future, Tirana time)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reporting import manual
from reporting.plural import DAY, count
from reporting.retention import DEFAULT_FREE_TEXT_DAYS

TIRANE = ZoneInfo("Europe/Tirane")
DATE_FORMAT = "%d.%m.%Y"


def hidden_kinds(text: str) -> tuple[str, str]:
    """The description as it is stored (`reporting.manual.mask_pii`) and what was hidden, by
    kind, Albanian / English with counts ("" when nothing was): never the hidden values."""
    masked, findings = manual.mask_pii(text.strip())
    return masked, ", ".join(f"{manual.PII_KINDS[k][0]} / {manual.PII_KINDS[k][1]} ×{n}"
                             for k, n in Counter(findings).items())


def description_note(days: int = DEFAULT_FREE_TEXT_DAYS) -> str:
    """What the description prompt and the console's form say: no names, what is masked, and
    that the text stays on the gateway and is deleted `days` after the case is closed."""
    return (f"Përshkrim i shkurtër. MOS shkruani emra nxënësish (as emër, as mbiemër, as "
            f"nofkë), p.sh. „një nxënëse e klasës 8”. Telefonat, e-mailet dhe numrat personalë "
            f"fshihen. Teksti mbetet vetëm në këtë pajisje, nuk hyn në asnjë raport dhe fshihet "
            f"{count(days, DAY)} pasi rasti mbyllet. / Short description. Do NOT type pupils' "
            f"names (no first name, surname or nickname), e.g. \"a girl in grade 8\". Phone "
            f"numbers, e-mails and personal numbers are hidden. The text stays on this gateway "
            f"only, goes into no report and is deleted {count(days, ('day', 'days'))} after the "
            f"case is closed.")


CSAM_NOTE = ("Mos e ruani dhe mos e shpërndani materialin; raportojeni te ISIGURT.AL ose te "
             "Policia e Shtetit. / Do not keep or share the material; report it to ISIGURT.AL "
             "or the State Police.")


def today() -> date:
    return datetime.now(TIRANE).date()


def parse_date(text: str) -> date:
    """`14.10.2026` or `2026-10-14`, not in the future. Raises ValueError (Albanian first)."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", value):
            day = datetime.strptime(value, DATE_FORMAT).date()
        else:
            day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r}: data duhet si 14.10.2026 ose 2026-10-14 / "
                         "the date must look like 14.10.2026 or 2026-10-14") from None
    if day > today():
        raise ValueError(f"{day.strftime(DATE_FORMAT)}: data është në të ardhmen / "
                         "the date is in the future")
    return day
