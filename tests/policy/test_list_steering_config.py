"""`max_steered_hosts` and `never_steer` in a `[[lists]]` entry reach the list compiler."""

from __future__ import annotations

from pathlib import Path

import pytest

from configkit import ConfigError
from filterd.config import parse_config_text
from filterd.list_apply import list_sources

LIST = '[[lists]]\nid = "urlhaus"\npath = "u.txt"\nformat = "adblock"\ncategory = "malware"\n'


def test_steering_keys_are_read_and_hosts_canonical() -> None:
    cfg = parse_config_text(LIST + 'max_steered_hosts = 50\nnever_steer = ["GitHub.com."]\n',
                            Path("/tmp/roja.toml"))
    (lc,) = cfg.policy.lists
    assert (lc.max_steered_hosts, lc.never_steer) == (50, ("github.com",))


def test_a_bad_never_steer_name_is_refused_with_its_key() -> None:
    with pytest.raises(ConfigError, match="never_steer"):
        parse_config_text(LIST + 'never_steer = ["not a host"]\n', Path("/tmp/roja.toml"))


def test_a_legal_lists_url_entries_are_never_capped(tmp_path: Path) -> None:
    text = (LIST + 'max_steered_hosts = 1\nnever_steer = ["github.com"]\n'
            '[[lists]]\nid = "hotline"\npath = "h.txt"\nformat = "urls"\nkind = "legal"\n'
            'category = "csam"\nmax_steered_hosts = 1\n')
    cfg = parse_config_text(text, tmp_path / "roja.toml")
    by_id = {s.id: s for s in list_sources(cfg)}
    assert (by_id["urlhaus"].max_steered_hosts, by_id["urlhaus"].never_steer) == (
        1, ("github.com",))
    assert by_id["hotline"].max_steered_hosts > 10**15
