"""`roja config check FILE` (click's CliRunner on `filterd.cli.main`) and the shipped example
config `filterd/roja.toml.example`, which must parse and mention every key Roja accepts."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from filterd.cli import main
from filterd.config import ConfigError, load_config, parse_config_text
from reporting.plural import count

EXAMPLE = Path(__file__).resolve().parents[2] / "filterd" / "roja.toml.example"

GOOD = """\
[school]
name = "Shkolla 9-vjeçare Demo"

[dns]
listen = ["127.0.0.1:5353"]
upstreams = ["127.0.0.1:53"]

[[lists]]
id = "bixhoz"
path = "lists/bixhoz.txt"
category = "gambling"

[[groups]]
id = "nxenesit"
networks = ["10.0.0.0/8"]
"""


def check(path: Path) -> Result:
    return CliRunner().invoke(main, ["config", "check", str(path)], catch_exceptions=False)


def test_good_config_is_ok(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "bixhoz.txt").write_text("bet365.com\n")
    path = tmp_path / "roja.toml"
    path.write_text(GOOD, encoding="utf-8")
    result = check(path)
    assert result.exit_code == 0, result.output
    assert f"Në rregull / OK: {path} (1 listë / 1 list, 1 grup / 1 group)" in result.stdout
    assert "DNS: 1 proces / 1 worker (dns.workers)" in result.stdout
    assert result.stderr == ""


def test_check_says_how_many_dns_workers_auto_gives(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "bixhoz.txt").write_text("bet365.com\n")
    path = tmp_path / "roja.toml"
    path.write_text(GOOD.replace('upstreams = ["127.0.0.1:53"]',
                                 'upstreams = ["127.0.0.1:53"]\nworkers = "auto"'))
    result = check(path)
    assert result.exit_code == 0, result.output
    n = len(os.sched_getaffinity(0))  # the cores this process may run on
    assert (f"DNS: {count(n, ('proces', 'procese'))} / {count(n, ('worker', 'workers'))} "
            f"(auto: {count(n, ('bërthamë', 'bërthama'))} / {count(n, ('core', 'cores'))})"
            ) in result.stdout
    path.write_text(GOOD.replace('upstreams = ["127.0.0.1:53"]',
                                 'upstreams = ["127.0.0.1:53"]\nworkers = "gjithë"'))
    result = check(path)
    assert result.exit_code == 2
    assert 'dns.workers: \'gjithë\': duhet një numër 1-64 ose "auto"' in result.stderr


def test_bad_config_exits_2_with_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "roja.toml"
    path.write_text(GOOD.replace('upstreams = ["127.0.0.1:53"]', "upstreams = 53"))
    result = check(path)
    assert result.exit_code == 2
    assert "Gabim në konfigurim / Config error" in result.stderr
    assert f"{path}:6: dns.upstreams: must be a list of strings" in result.stderr
    assert "OK" not in result.stdout


def test_missing_list_file_is_an_error_naming_the_list_not_ok(tmp_path: Path) -> None:
    path = tmp_path / "roja.toml"
    path.write_text(GOOD, encoding="utf-8")
    result = check(path)
    assert result.exit_code == 1
    assert "lista 'bixhoz' ([[lists]] path = " in result.stderr
    assert str(tmp_path / "lists" / "bixhoz.txt") in result.stderr
    assert "OK" not in result.stdout  # the file reads, but the appliance would not start


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    result = check(tmp_path / "absent.toml")
    assert result.exit_code == 2
    assert f"{tmp_path / 'absent.toml'}: cannot read the file" in result.stderr


def test_example_config_exists_and_parses() -> None:
    assert EXAMPLE.is_file(), "filterd/roja.toml.example is shipped with Roja"
    cfg = load_config(EXAMPLE)  # list files may be missing: that only matters at start
    assert cfg.dns.listen[0] == ("127.0.0.1", 53)
    assert cfg.dns.block.mode == "nxdomain"
    assert cfg.metrics_listen == ("127.0.0.1", 9153)
    assert cfg.state_dir == Path("/var/lib/roja")
    assert {lc.rule.kind for lc in cfg.policy.lists} == {"legal", "deny", "allow"}
    assert all(str(lc.path).startswith("/var/lib/roja/lists/") for lc in cfg.policy.lists)
    assert cfg.policy.default_group.id in {g.id for g in cfg.policy.groups}
    assert cfg.report.group_names["nxenesit"] == "Nxënësit / Pupils"  # for the reports


def test_example_config_values_are_the_defaults() -> None:
    """The example shows the defaults: removing every key (but lists/groups) changes nothing."""
    example = load_config(EXAMPLE)
    bare = parse_config_text("", EXAMPLE)
    assert example.dns == bare.dns
    assert example.incidents == bare.incidents
    assert example.metrics_listen == bare.metrics_listen
    assert example.log_level == bare.log_level
    assert example.state_dir == bare.state_dir


def _accepted_keys(section_text: str) -> set[str]:
    """The keys Roja accepts in a table, as its own unknown-key error lists them."""
    with pytest.raises(ConfigError) as info:
        parse_config_text(section_text, Path("/tmp/probe.toml"))
    message = str(info.value)
    assert "unknown key" in message, message
    return set(message.split("accepted keys here:", 1)[1].replace(" ", "").split(","))


@pytest.mark.parametrize("probe", [
    "zzz_unknown = 1\n",
    "[school]\nzzz_unknown = 1\n",
    "[state]\nzzz_unknown = 1\n",
    "[dns]\nzzz_unknown = 1\n",
    "[dns.acl]\nzzz_unknown = 1\n",
    '[[lists]]\nid = "a"\npath = "a"\nzzz_unknown = 1\n',
    '[[lists]]\nid = "a"\npath = "a"\nformat = "ut1"\nmapping = "m"\nzzz_unknown = 1\n',
    '[[lists]]\nid = "a"\npath = "a"\n[[groups]]\nid = "g"\nlists = ["a"]\nzzz_unknown = 1\n',
    "[policy]\nzzz_unknown = 1\n",
    "[incidents]\nzzz_unknown = 1\n",
    "[metrics]\nzzz_unknown = 1\n",
    "[log]\nzzz_unknown = 1\n",
    "[isp]\nzzz_unknown = 1\n",
])
def test_example_config_shows_every_accepted_key(probe: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    shown = set(re.findall(r"^#?\s*\[*([a-z0-9_.]+)\]*\s*(?:=|$)", text, re.MULTILINE))
    shown |= {name.split(".")[-1] for name in shown}
    missing = _accepted_keys(probe) - shown
    assert not missing, f"roja.toml.example does not show: {sorted(missing)}"


def test_example_config_comments_are_albanian_first() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.startswith("# Roja: konfigurimi")
    assert "/ The" in text or "/ the" in text


def test_a_list_with_the_feeds_id_is_refused_naming_both(tmp_path: Path) -> None:
    """`[[lists]] id = "hotline"` while `[feed]` is on: the feed's list has that id too, so
    the console's Listat would show two "hotline" rows with merged counts. Refused at load
    with the file, the line of the id and the line of `[feed] url`."""
    text = ('[[lists]]\nid = "bixhoz"\npath = "b.txt"\n\n[[lists]]\nid = "hotline"\n'
            'path = "h.txt"\nkind = "legal"\ncategory = "csam"\n\n[feed]\n'
            'url = "https://feed.example.al/roja/"\n')
    path = tmp_path / "roja.toml"
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, path)
    error = info.value
    assert (error.file, error.line, error.key) == (str(path), 6, "lists[1].id")
    assert 'id "hotline" është edhe lista e linjës nga [feed] url (rreshti 12)' in str(error)
    assert "the hotline feed's list from [feed] url (line 12)" in str(error)
    parse_config_text(text.replace('url = "https://feed.example.al/roja/"', 'url = ""'), path)


def test_the_example_config_loads_with_its_feed_turned_on(tmp_path: Path) -> None:
    """A school that fills in `[feed] url` in the shipped example gets a config that loads."""
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '\nurl = ""\n', '\nurl = "https://feed.example.al/roja/"\n', 1)
    assert 'url = "https://feed.example.al/roja/"' in text
    cfg = parse_config_text(text, tmp_path / "roja.toml")
    assert cfg.feed.enabled and "hotline" not in {lc.rule.id for lc in cfg.policy.lists}
