"""Manual incidents: what a teacher records by hand (issue 7, "Manual incidents").

A pupil reports cyberbullying, sextortion or a dangerous game that happened outside the filter;
the ICT teacher records it with `roja incident add`. No record names a pupil: it holds the
hotline category, platform, age band, gender, referrals and status, and a short description in
which phone numbers, e-mail addresses and personal numbers are masked (`mask_pii`) before it is
stored. A name cannot be masked: the forms ask for none, no report reads the description, and
`reporting.retention` blanks it `[incidents] free_text_days` after the case is closed.

The vocabularies map ids (used in the database, in JSON and in flags) to (Albanian, English)
labels, as in the shared reference (hotline taxonomy, referral targets, statuses). The
categories are the hotline taxonomy of `policy.categories`, `cyberbullying` ("Bullizëm online",
the action plan's activity 2.3) included; a store written before it existed needs no migration,
since a category is stored as its id and no id changed.
`parse_choice` takes an id or either label, in any case and with or without ë/ç.

Storage: the `manual_incidents` table of the incident database (schema v2 of
`reporting.incidents.MIGRATIONS`), through synchronous sqlite3, since the CLI is synchronous.
`connect` (`reporting.incidents.connect`, re-exported here) opens that database with the
stores' policy and migrates an older schema in place (`reporting.retention` uses it too).

Example:

    inc = ManualIncident(date(2026, 10, 14), "stalking_threats", "instagram", "11_14",
                         "female", ("alo116", "parents"), "open", "Kërcënime në mesazhe", "A.H.")
    new_id = add(db_path(state_dir), inc)
    update(db_path(state_dir), new_id, status="resolved")
    list_(db_path(state_dir), since=date(2026, 10, 1), until=date(2026, 10, 31))
"""

from __future__ import annotations

import dataclasses
import re
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from policy.categories import CATEGORIES as _ALL
from reporting.incidents import connect as connect  # re-exported: retention, events, CLI
from reporting.sqlite_store import retry_locked

Labels = tuple[str, str]  # (Albanian, English)
# How long `add` and `update` wait for another program's write lock (a teacher is waiting).
CLI_PATIENCE = 60.0

# The hotline taxonomy: `policy.categories` is the one table of ids and labels.
CATEGORIES: dict[str, Labels] = {c.id: (c.sq, c.en) for c in _ALL.values()
                                 if c.family == "hotline"}
PLATFORMS: dict[str, Labels] = {
    "instagram": ("Instagram", "Instagram"),
    "facebook": ("Facebook", "Facebook"),
    "tiktok": ("TikTok", "TikTok"),
    "snapchat": ("Snapchat", "Snapchat"),
    "whatsapp": ("WhatsApp", "WhatsApp"),
    "youtube": ("YouTube", "YouTube"),
    "game": ("Lojë në internet", "Online game"),
    "other": ("Tjetër", "Other"),
}
AGE_BANDS: dict[str, Labels] = {
    "under_11": ("nën 11 vjeç", "under 11"),
    "11_14": ("11–14 vjeç", "11–14 years"),
    "15_18": ("15–18 vjeç", "15–18 years"),
    "adult": ("i rritur", "adult"),
    "unknown": ("nuk dihet", "unknown"),
}
GENDERS: dict[str, Labels] = {
    "female": ("vajzë", "girl"),
    "male": ("djalë", "boy"),
    "other": ("tjetër", "other"),
    "unknown": ("nuk dihet", "unknown"),
}
REFERRALS: dict[str, Labels] = {
    "alo116": ("ALO 116 111 – Linja Kombëtare e Këshillimit për Fëmijë",
               "National child helpline"),
    "isigurt": ("ISIGURT.AL – Platforma Kombëtare për Sigurinë e Fëmijëve në Internet (RAPORTO)",
                "National child online-safety platform"),
    "ashdmf": ("ASHDMF – Agjencia Shtetërore për të Drejtat dhe Mbrojtjen e Fëmijëve",
               "State Agency for Child Rights and Protection"),
    "njmf": ("NJMF – Njësia për Mbrojtjen e Fëmijëve (bashkia)",
             "Municipal child-protection unit"),
    "police_cyber": ("Policia e Shtetit – Sektori i Krimeve Kibernetike",
                     "State Police cybercrime sector"),
    "platform": ("Platforma (Facebook, Instagram, TikTok…)", "The platform"),
    "parents": ("Prindërit", "Parents"),
}
STATUSES: dict[str, Labels] = {
    "open": ("E hapur", "Open"),
    "ongoing": ("Në proces", "Ongoing"),
    "resolved": ("E zgjidhur", "Resolved"),
}

# field -> (its name in Albanian and English, its vocabulary)
VOCABULARIES: dict[str, tuple[Labels, Mapping[str, Labels]]] = {
    "category": (("Kategoria", "Category"), CATEGORIES),
    "platform": (("Platforma", "Platform"), PLATFORMS),
    "age_band": (("Mosha", "Age band"), AGE_BANDS),
    "gender": (("Gjinia", "Gender"), GENDERS),
    "referrals": (("Referuar te", "Referred to"), REFERRALS),
    "status": (("Statusi", "Status"), STATUSES),
}
# Other ways people write them (besides the id, both labels and their part before " – "/" (").
_EXTRA_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "category": {"cyberbullying": ("bullizëm", "bulizëm", "bulizëm online", "online bullying",
                                   "cyber bullying")},
    "platform": {"game": ("lojë", "Lojë online", "game")},
    "referrals": {"alo116": ("ALO 116", "116 111", "ALO"), "isigurt": ("RAPORTO",),
                  "police_cyber": ("Policia", "Police", "Police cybercrime unit")},
}

HIDDEN = "[fshehur / hidden]"
PII_KINDS: dict[str, Labels] = {
    "email": ("adresë e-maili", "e-mail address"),
    "personal_number": ("numër personal", "personal number"),
    "phone": ("numër telefoni", "phone number"),
}
# Order matters: an e-mail address may hold digits, and the specific phone forms go first.
_PII: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)),
    ("personal_number", re.compile(r"(?<!\w)[a-z]\d{8}[a-z](?!\w)", re.IGNORECASE)),
    ("phone", re.compile(r"(?<![\w+])(?:\+|00)\s?355[\s.\-]*(?:\(0\)|0)?[\s.\-]*"
                         r"\d(?:[\s.\-]?\d){6,9}(?!\w)")),
    ("phone", re.compile(r"(?<![\w+])0?6[6-9](?:[\s.\-]?\d){7}(?!\w)")),
    ("phone", re.compile(r"(?<![\w+])\+?\d(?:[ \-]?\d){7,}(?!\w)")),
)
# Eight digits that are a date (2026-10-14, 14-10-2026) or a school year (2025-2026).
_NOT_A_PHONE = re.compile(r"\d{4}[ \-]\d\d?[ \-]\d\d?|\d\d?[ \-]\d\d?[ \-]\d{4}"
                          r"|(?:19|20)\d\d ?- ?(?:19|20)\d\d")

_FIELDS = ("occurred_on", "category", "platform", "age_band", "gender", "referrals", "status",
           "description", "recorded_by")
_SELECT = "SELECT id, created_at, updated_at, " + ", ".join(_FIELDS) + " FROM manual_incidents"


class ManualIncidentError(ValueError):
    """A value a manual incident cannot hold; the message lists what is accepted."""


class NoSuchIncidentError(ManualIncidentError):
    """There is no manual incident with that id."""


@dataclass(frozen=True, slots=True)
class ManualIncident:
    """One incident a teacher recorded. Choice fields hold ids; `description` is masked."""

    occurred_on: date
    category: str
    platform: str
    age_band: str
    gender: str
    referrals: tuple[str, ...] = ()
    status: str = "open"
    description: str = ""
    recorded_by: str = ""
    id: int | None = None
    created_at: float | None = None
    updated_at: float | None = None

    def normalised(self) -> ManualIncident:
        """The same incident with every choice as its id (labels accepted), referrals unique
        and in the reference order, and the description masked. Raises ManualIncidentError."""
        if not isinstance(self.occurred_on, date):
            raise ManualIncidentError(f"data / date: {self.occurred_on!r} is not a date")
        given = self.referrals.split(",") if isinstance(self.referrals, str) else self.referrals
        chosen = {parse_choice("referrals", r) for r in given if r.strip()}
        return dataclasses.replace(
            self, category=parse_choice("category", self.category),
            platform=parse_choice("platform", self.platform),
            age_band=parse_choice("age_band", self.age_band),
            gender=parse_choice("gender", self.gender),
            status=parse_choice("status", self.status),
            referrals=tuple(r for r in REFERRALS if r in chosen),
            description=mask_pii(self.description.strip())[0],
            recorded_by=self.recorded_by.strip())


def fold(text: str) -> str:
    """Lower case, without diacritics, punctuation runs as one space: `Dhunë/denigrim` and
    `dhune / denigrim` fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", bare).split())


def _short(label: str) -> str:
    return re.split(r" – | \(", label, maxsplit=1)[0]


def short_label(field: str, value: str) -> str:
    """The Albanian label without its explanation (`ALO 116 111`, `Grooming`)."""
    return _short(VOCABULARIES[field][1][value][0])


def _alias_table(field: str) -> dict[str, str]:
    table: dict[str, str] = {}
    extra = _EXTRA_ALIASES.get(field, {})
    for value, (sq, en) in VOCABULARIES[field][1].items():
        for alias in (value, sq, en, _short(sq), _short(en), *extra.get(value, ())):
            key = fold(alias)
            if table.setdefault(key, value) != value:
                raise AssertionError(f"{field}: {alias!r} names both {table[key]} and {value}")
    return table


_ALIASES = {field: _alias_table(field) for field in VOCABULARIES}


def accepted_values(field: str) -> str:
    """`open (E hapur), ongoing (Në proces), ...` for error messages."""
    return ", ".join(f"{value} ({_short(sq)})" for value, (sq, _) in
                     VOCABULARIES[field][1].items())


def parse_choice(field: str, text: str) -> str:
    """The id that `text` names in `field`'s vocabulary (an id, or a label in Albanian or
    English). Raises ManualIncidentError listing the accepted values."""
    value = _ALIASES[field].get(fold(text))
    if value is None:
        (sq, en), _ = VOCABULARIES[field]
        raise ManualIncidentError(f"{sq} / {en}: {text!r} nuk njihet / is not known; "
                                  f"pranohen / accepted: {accepted_values(field)}")
    return value


def mask_pii(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` with phone numbers, e-mail addresses and personal numbers replaced by
    `[fshehur / hidden]`, and the kind of each one masked (never its value), in PII_KINDS ids."""
    found: list[str] = []
    for kind, pattern in _PII:
        def hide(match: re.Match[str], kind: str = kind) -> str:
            if kind == "phone" and _NOT_A_PHONE.fullmatch(match.group()):
                return match.group()
            found.append(kind)
            return HIDDEN
        text = pattern.sub(hide, text)
    return text, tuple(found)


def _values(inc: ManualIncident) -> tuple[object, ...]:
    return (inc.occurred_on.isoformat(), inc.category, inc.platform, inc.age_band, inc.gender,
            ",".join(inc.referrals), inc.status, inc.description, inc.recorded_by)


def _row(r: tuple[object, ...]) -> ManualIncident:
    referrals = str(r[8])
    return ManualIncident(
        id=int(str(r[0])), created_at=float(str(r[1])), updated_at=float(str(r[2])),
        occurred_on=date.fromisoformat(str(r[3])), category=str(r[4]), platform=str(r[5]),
        age_band=str(r[6]), gender=str(r[7]),
        referrals=tuple(referrals.split(",")) if referrals else (), status=str(r[9]),
        description=str(r[10]), recorded_by=str(r[11]))


def add(db_path: Path, incident: ManualIncident, now: float | None = None) -> int:
    """Store a new manual incident (normalised and masked first); returns its id. While
    another program holds the database it waits, up to CLI_PATIENCE seconds, then raises
    StoreLockedError: the teacher is told, nothing is lost silently."""
    inc = incident.normalised()
    at = time.time() if now is None else now

    def write() -> int:
        db = connect(db_path)
        try:
            cur = db.execute(
                f"INSERT INTO manual_incidents (created_at, updated_at, {', '.join(_FIELDS)}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (at, at, *_values(inc)))
            return int(cur.lastrowid or 0)
        finally:
            db.close()

    return retry_locked(write, db_path, patience=CLI_PATIENCE)


def get(db_path: Path, incident_id: int) -> ManualIncident | None:
    """The manual incident with that id, or None."""
    if not db_path.exists():
        return None
    db = connect(db_path)
    try:
        row = db.execute(f"{_SELECT} WHERE id = ?", (incident_id,)).fetchone()
    finally:
        db.close()
    return None if row is None else _row(row)


def update(db_path: Path, incident_id: int, now: float | None = None,
           **fields: object) -> ManualIncident:
    """Change some fields of a stored incident (`status="resolved"`, `referrals=(...)`) and
    return it as stored now. Raises NoSuchIncidentError or ManualIncidentError."""
    unknown = sorted(set(fields) - set(_FIELDS))
    if unknown:
        raise ManualIncidentError(f"fusha të panjohura / unknown fields: {', '.join(unknown)}; "
                                  f"pranohen / accepted: {', '.join(_FIELDS)}")
    at = time.time() if now is None else now

    def write() -> ManualIncident:
        db = connect(db_path)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(f"{_SELECT} WHERE id = ?", (incident_id,)).fetchone()
                if row is None:
                    raise NoSuchIncidentError(f"nuk ka incident manual nr. {incident_id} / "
                                              f"there is no manual incident {incident_id}")
                changed: dict[str, Any] = dict(fields)
                inc = dataclasses.replace(_row(row), updated_at=at, **changed).normalised()
                db.execute(f"UPDATE manual_incidents SET updated_at = ?, "
                           f"{', '.join(f'{f} = ?' for f in _FIELDS)} WHERE id = ?",
                           (at, *_values(inc), incident_id))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            db.close()
        return inc

    return retry_locked(write, db_path, patience=CLI_PATIENCE)


def list_(db_path: Path, since: date | None = None, until: date | None = None,
          status: str | Iterable[str] | None = None) -> list[ManualIncident]:
    """Manual incidents that occurred from `since` to `until` (both included), optionally only
    those with the given status(es), by date then id."""
    if not db_path.exists():
        return []
    where: list[str] = []
    params: list[object] = []
    if since is not None:
        where.append("occurred_on >= ?")
        params.append(since.isoformat())
    if until is not None:
        where.append("occurred_on <= ?")
        params.append(until.isoformat())
    if status is not None:
        wanted = [parse_choice("status", s) for s in
                  ((status,) if isinstance(status, str) else status)]
        where.append(f"status IN ({', '.join('?' for _ in wanted)})")
        params.extend(wanted)
    sql = _SELECT + (f" WHERE {' AND '.join(where)}" if where else "") + \
        " ORDER BY occurred_on, id"
    db = connect(db_path)
    try:
        rows = db.execute(sql, params).fetchall()
    finally:
        db.close()
    return [_row(r) for r in rows]
