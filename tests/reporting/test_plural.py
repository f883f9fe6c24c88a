"""Tests for reporting.plural: the singular only for exactly one, in both languages."""

from __future__ import annotations

import pytest

from reporting.plural import ATTEMPT, CHECK, INCIDENT, REQUEST, SCHOOL, count, form


@pytest.mark.parametrize(("n", "noun", "text"), [
    (1, INCIDENT, "1 incident"), (2, INCIDENT, "2 incidente"), (0, INCIDENT, "0 incidente"),
    (1, REQUEST, "1 kërkesë"), (12, REQUEST, "12 kërkesa"), (1, CHECK, "1 kontroll"),
    (3, CHECK, "3 kontrolle"), (1, SCHOOL, "1 shkollë"), (21, SCHOOL, "21 shkolla"),
    (1, ATTEMPT, "1 përpjekje"), (2, ATTEMPT, "2 përpjekje"), (1, ("row", "rows"), "1 row"),
    (11, ("row", "rows"), "11 rows")])
def test_count(n: int, noun: tuple[str, str], text: str) -> None:
    assert count(n, noun) == text


def test_formatted_number_and_agreeing_words() -> None:
    assert count(5, REQUEST, lambda n: f"<b>{n}</b>") == "<b>5</b> kërkesa"
    assert count(1200, REQUEST, "{:,}".format) == "1,200 kërkesa"
    assert [form(n, "u bllokua", "u bllokuan") for n in (0, 1, 2)] == [
        "u bllokuan", "u bllokua", "u bllokuan"]
