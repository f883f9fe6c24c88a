"""Config errors a teacher reads: every one starts `file:line: key:` and says what is accepted.

The files are real files on disk, loaded the way `roja` loads them (`filterd.config.load_config`);
a few cases check `configkit.Section` directly on a real TOML text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from configkit import ConfigError, Section, load_toml, parse_hostport, parse_toml_text
from filterd.config import load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roja.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    err = error_of(tmp_path, '[dns]\nlisten = ["127.0.0.1:53"]\nworkers = \n')
    assert str(err).startswith(f"{tmp_path / 'roja.toml'}:3: TOML syntax error:")
    assert err.line == 3


def test_syntax_error_at_the_end_of_the_file_still_has_a_line(tmp_path: Path) -> None:
    err = error_of(tmp_path, '[dns]\nlisten = ["127.0.0.1:53",\n')
    assert err.line is not None and err.line >= 2
    assert "TOML syntax error" in str(err)


def test_unknown_key_in_dns_names_its_line_and_lists_the_accepted_keys(tmp_path: Path) -> None:
    err = error_of(tmp_path, """\
[school]
name = "Shkolla 1"

[dns]
workers = 2
lisen = ["127.0.0.1:53"]
""")
    assert str(err).startswith(f"{tmp_path / 'roja.toml'}:6: dns.lisen: unknown key")
    accepted = str(err).split("accepted keys here:", 1)[1]
    for key in ("listen", "upstreams", "workers", "block_answer", "acl"):
        assert key in accepted


def test_unknown_top_level_table_is_rejected(tmp_path: Path) -> None:
    err = error_of(tmp_path, '[dns]\nworkers = 1\n\n[proksi]\nport = 8080\n')
    assert str(err).startswith(f"{tmp_path / 'roja.toml'}:4: proksi: unknown key")
    assert "dns" in str(err) and "lists" in str(err)


@pytest.mark.parametrize("text,line,key,says", [
    ('[dns]\nworkers = "two"\n', 2, "dns.workers", 'must be a whole number 1-64 or "auto"'),
    ('[dns]\ncanaries = "yes"\n', 2, "dns.canaries", "must be true or false"),
    ('[dns]\nlisten = 53\n', 2, "dns.listen", "must be a list of strings"),
    ('\n[dns]\nblock_answer = "refuse"\n', 3, "dns.block_answer", "nxdomain, null, blockpage"),
    ('[dns]\nworkers = 0\n', 2, "dns.workers", "must be at least 1"),
    ('[dns]\nlisten = ["localhost:53"]\n', 2, "dns.listen", "is not an address"),
    ('[metrics]\nlisten = "everywhere"\n', 2, "metrics.listen", "is not host:port"),
    ('[log]\nlevel = "loud"\n', 2, "log.level", "debug, info, warning, error"),
    ('[incidents]\nqueue_size = 0\n', 2, "incidents.queue_size", "must be at least 1"),
    ('dns = 5\n', 1, "dns", "must be a table"),
])
def test_wrong_type_or_value_names_line_and_key(tmp_path: Path, text: str, line: int, key: str,
                                                says: str) -> None:
    err = error_of(tmp_path, text)
    assert str(err).startswith(f"{tmp_path / 'roja.toml'}:{line}: {key}: ")
    assert says in str(err)


def test_bad_value_in_the_second_list_points_inside_the_second_array_table(
        tmp_path: Path) -> None:
    err = error_of(tmp_path, """\
[[lists]]
id = "bixhoz"
path = "bixhoz.txt"
format = "domains"

[[lists]]
id = "porno"
path = "porno.txt"
format = "xml"
""")
    assert str(err).startswith(f"{tmp_path / 'roja.toml'}:9: lists[1].format: ")
    assert "'xml' is not one of: domains, hosts" in str(err)


def test_bad_network_in_acl_allow(tmp_path: Path) -> None:
    err = error_of(tmp_path, """\
[dns]
workers = 1

[dns.acl]
rate_limit_qps = 50.0
allow = ["10.0.0.0/8", "10.0.0.0/33"]
""")
    assert str(err).startswith(f"{tmp_path / 'roja.toml'}:6: dns.acl.allow: ")
    assert "'10.0.0.0/33' is not a network" in str(err)


def test_missing_required_key_points_at_its_table(tmp_path: Path) -> None:
    err = error_of(tmp_path, """\
[[lists]]
id = "a"
path = "a.txt"

[[lists]]
id = "b"
format = "domains"
""")
    assert str(err).startswith(f"{tmp_path / 'roja.toml'}:5: lists[1].path: is required")


def test_unknown_key_in_a_group_lists_the_group_keys(tmp_path: Path) -> None:
    err = error_of(tmp_path, """\
[[groups]]
id = "nxenesit"
netwroks = ["10.0.0.0/8"]
""")
    assert str(err).startswith(f"{tmp_path / 'roja.toml'}:3: groups[0].netwroks: unknown key")
    assert "networks" in str(err)


def test_same_key_name_in_another_table_does_not_confuse_the_line(tmp_path: Path) -> None:
    err = error_of(tmp_path, """\
[metrics]
listen = "127.0.0.1:9153"

[dns]
listen = ["nowhere"]
""")
    assert str(err).startswith(f"{tmp_path / 'roja.toml'}:5: dns.listen: ")


def test_unreadable_file_is_a_config_error_without_a_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_toml(missing)
    assert str(info.value).startswith(f"{missing}: cannot read the file")
    (tmp_path / "latin1.toml").write_bytes(b'name = "Sh\xebnjt"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_toml(tmp_path / "latin1.toml")


def test_section_getters_return_typed_values_and_defaults() -> None:
    data, source = parse_toml_text('n = 3\nf = 2\nb = true\nl = "one"\nnets = ["::1"]\n', "x")
    s = Section(data, "", source)
    assert s.int("n") == 3
    assert s.float("f") == 2.0 and isinstance(s.float("f"), float)
    assert s.bool("b") is True
    assert s.str_list("l") == ("one",)
    assert [str(n) for n in s.networks("nets")] == ["::1/128"]
    assert s.str("absent", "dflt") == "dflt"
    s.done()


def test_bool_is_not_accepted_as_a_number() -> None:
    data, source = parse_toml_text("n = true\n", "x.toml")
    with pytest.raises(ConfigError, match=r"^x\.toml:1: n: must be a whole number"):
        Section(data, "", source).int("n")


@pytest.mark.parametrize("text,expected", [
    ("127.0.0.1", ("127.0.0.1", 53)),
    ("127.0.0.1:5353", ("127.0.0.1", 5353)),
    ("[::1]:5353", ("::1", 5353)),
    ("[::1]", ("::1", 53)),
    ("::1", ("::1", 53)),
])
def test_parse_hostport(text: str, expected: tuple[str, int]) -> None:
    assert parse_hostport(text, 53) == expected


@pytest.mark.parametrize("text", ["localhost:53", "127.0.0.1:0", "127.0.0.1:70000", "1.2.3:53"])
def test_parse_hostport_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hostport(text, 53)
