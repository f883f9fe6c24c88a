"""Tests for reporting.isp_config: the [isp] table read from TOML text, as the config loader
reads it (file, line and key in every error)."""

from __future__ import annotations

from pathlib import Path

import pytest

from configkit import ConfigError
from filterd.config import parse_config_text
from reporting.isp_config import IspSettings

FULL = ('[isp]\nname = " Rrjeti sh.p.k. "\nnipt = "k91326001u"\ncontact = "noc@rrjeti.al"\n'
        'signatory = "Arta Dervishi"\n')


def isp(text: str) -> IspSettings | None:
    return parse_config_text(text, Path("/etc/roja/roja.toml")).isp


def test_absent_or_empty_is_none_and_values_are_tidied() -> None:
    assert isp("") is None and isp("[isp]\n") is None
    assert isp(FULL) == IspSettings("Rrjeti sh.p.k.", "K91326001U", "noc@rrjeti.al",
                                    "Arta Dervishi", "Administrator")


@pytest.mark.parametrize(("text", "key", "line", "why"), [
    (FULL.replace('"k91326001u"', '"K9132600U"'), "isp.nipt", 3, "NIPT"),
    (FULL.replace('name = " Rrjeti sh.p.k. "\n', ""), "isp.name", 1, "required"),
    (FULL + 'signatory_role = "  "\n', "isp.signatory_role", 6, "bosh"),
    (FULL + "seal = true\n", "isp.seal", 6, "accepted keys here"),
    ("[isp]\nseal = true\n", "isp.seal", 2, "contact, name, nipt, signatory, signatory_role"),
])
def test_errors_name_the_line_and_key(text: str, key: str, line: int, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        isp(text)
    message = str(info.value)
    assert f"roja.toml:{line}: {key}" in message and why in message, message
