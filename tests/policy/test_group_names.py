"""Tests for policy.group_names: a group's display name from its config or its id."""

from __future__ import annotations

import pytest

from policy.group_names import albanian, default_name


@pytest.mark.parametrize(("group_id", "name"), [
    ("nxenesit", "Nxënësit"), ("mesuesit", "Mësuesit"), ("mysafiret", "Mysafirët"),
    ("nxënësit", "Nxënësit"), ("klasa_9b", "Klasa 9b"), ("lab-2", "Lab 2"),
    ("default", "Të gjithë"), ("Stafi", "Stafi"), ("wifi", "Wifi")])
def test_default_name(group_id: str, name: str) -> None:
    assert default_name(group_id) == name


def test_albanian_half() -> None:
    assert albanian("Nxënësit / Pupils") == "Nxënësit"
    assert albanian("Klasa 9/A") == "Klasa 9/A"  # a slash without spaces is part of the name
