"""Number agreement for counted words, Albanian and English: "1 incident", "2 incidente".

Albanian, like English, uses the singular for exactly one and the plural for every other number
(0 included: "0 incidente"). Some nouns have one form for both (përpjekje, pajisje, ditë, hyrje,
herë); they are listed anyway, so every count in a report, the inbox or the CLI goes through
`count` and none is written by hand.

    count(1, INCIDENT)                    # '1 incident'
    count(12, REQUEST)                    # '12 kërkesa'
    count(3, ("row", "rows"))             # '3 rows'
    count(5, REQUEST, lambda n: f"<b>{n}</b>")  # '<b>5</b> kërkesa' (the number formatted)
    form(1, "u bllokua", "u bllokuan")    # 'u bllokua': a verb or adjective that agrees
"""

from __future__ import annotations

from collections.abc import Callable

Noun = tuple[str, str]  # (singular, plural)

INCIDENT: Noun = ("incident", "incidente")
REQUEST: Noun = ("kërkesë", "kërkesa")
ATTEMPT: Noun = ("përpjekje", "përpjekje")
CHECK: Noun = ("kontroll", "kontrolle")
DEVICE: Noun = ("pajisje", "pajisje")
SCHOOL: Noun = ("shkollë", "shkolla")
DAY: Noun = ("ditë", "ditë")
ENTRY: Noun = ("hyrje", "hyrje")
ROW: Noun = ("rresht", "rreshta")
LIST: Noun = ("listë", "lista")
GROUP: Noun = ("grup", "grupe")
TIMES: Noun = ("herë", "herë")
CASE: Noun = ("rast", "raste")
CATEGORY: Noun = ("kategori", "kategori")


def form(n: int, one: str, many: str) -> str:
    """`one` when n is exactly 1, else `many`."""
    return one if n == 1 else many


def count(n: int, noun: Noun, number: Callable[[int], str] = str) -> str:
    """`n` (written by `number`) and the noun that agrees with it."""
    return f"{number(n)} {form(n, *noun)}"
