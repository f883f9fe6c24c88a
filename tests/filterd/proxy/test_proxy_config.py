"""`[proxy]`: parsing, errors naming the key, and the example config showing every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from filterd.config import ConfigError, load_config, parse_config_text
from filterd.proxy.config import ProxySettings
from filterd.proxy.runner import mode_specs

EXAMPLE = Path(__file__).resolve().parents[3] / "filterd" / "roja.toml.example"


def test_defaults_and_the_example_agree() -> None:
    example = load_config(EXAMPLE).proxy
    assert example == parse_config_text("", EXAMPLE).proxy == ProxySettings()
    assert example.steering() is None  # off by default: DNS steers nothing


def test_example_shows_every_proxy_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("[proxy]\nzzz = 1\n", Path("/tmp/p.toml"))
    accepted = set(str(info.value).split("accepted keys here:", 1)[1].replace(" ", "")
                   .split(","))
    text = EXAMPLE.read_text(encoding="utf-8").split("\n[proxy]\n", 1)[1]
    shown = set(re.findall(r"^([a-z0-9_]+)\s*=", text, re.MULTILINE))
    assert accepted - shown == set()


def test_steering_settings_and_page_url() -> None:
    cfg = parse_config_text('[proxy]\nenabled = true\nsteer_ipv4 = "192.168.1.1"\n'
                            'blockpage_listen = "192.168.1.2:80"\n', Path("/etc/roja/r.toml"))
    steer = cfg.proxy.steering()
    assert steer is not None and steer.ipv4 == "192.168.1.1" and steer.ttl == 30
    assert cfg.proxy.page_url() == "http://192.168.1.2"
    assert cfg.proxy.ca_path(cfg.state_dir) == Path("/var/lib/roja/ca")


def test_connect_ports_default_to_443() -> None:
    assert ProxySettings().connect_ports == frozenset({443})
    cfg = parse_config_text("[proxy]\nconnect_ports = [443, 8443]\n", Path("/tmp/p.toml"))
    assert cfg.proxy.connect_ports == frozenset({443, 8443})


@pytest.mark.parametrize("text,key", [
    ("enabled = true\n", "proxy.mode"),                      # steering needs an address
    ('steer_ipv4 = "fd00::1"\n', "proxy.steer_ipv4"),
    ('mode = "magic"\n', "proxy.mode"),
    ('listen = "nowhere"\n', "proxy.listen"),
    ('blockpage_url = "ftp://x/y"\n', "proxy.blockpage_url"),
    ('stream_large_bodies = "lots"\n', "proxy.stream_large_bodies"),
    ('youtube_restrict = "maybe"\n', "proxy.youtube_restrict"),
    ('upstream_ca_file = "/nonexistent/ca.pem"\n', "proxy.upstream_ca_file"),
    ("connect_ports = []\n", "proxy.connect_ports"),
    ("connect_ports = [0]\n", "proxy.connect_ports"),
    ('connect_ports = ["443"]\n', "proxy.connect_ports"),
])
def test_errors_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("[proxy]\n" + text, Path("/tmp/p.toml"))
    assert info.value.key == key


TRANSPARENT = '[proxy]\nenabled = true\nmode = "transparent"\nlisten = ""\n'
REDIRECT_ALL = '[firewall]\nlan_interface = "eth1"\ntransparent_proxy = "all"\n'


def test_transparent_listens_on_both_families_by_default() -> None:
    proxy = parse_config_text(TRANSPARENT + REDIRECT_ALL, Path("/tmp/p.toml")).proxy
    assert proxy.transparent_host == "" and proxy.transparent_families == (4, 6)
    assert mode_specs(proxy, (8080, 8443)) == ["transparent@:8080", "transparent@:8443"]


@pytest.mark.parametrize("host,family,other", [("0.0.0.0", 4, 6), ("192.168.1.1", 4, 6),
                                              ("::", 6, 4), ("fd00::1", 6, 4)])
def test_one_family_listener_with_the_firewall_redirecting_both_is_refused(
        host: str, family: int, other: int) -> None:
    text = TRANSPARENT + f'transparent_host = "{host}"\n' + REDIRECT_ALL
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, Path("/tmp/p.toml"))
    err = info.value
    assert (err.file, err.line, err.key) == ("/tmp/p.toml", 5, "proxy.transparent_host")
    # Albanian first, English second, and what to write instead.
    sq, _, en = err.message.partition(" / ")
    assert f"dëgjon vetëm në IPv{family}" in sq and f"uebin IPv{other} të LAN-it" in sq
    assert f"IPv{family} only" in en and f"IPv{other} web traffic" in en
    assert 'transparent_host = ""' in sq and 'transparent_host = ""' in en


@pytest.mark.parametrize("extra", [
    "",                                                         # no Roja firewall (own router)
    '[firewall]\nlan_interface = "eth1"\n',                      # firewall, no redirect
    '[firewall]\ntransparent_proxy = "all"\n',                   # firewall off (no LAN card)
])
def test_an_explicit_address_is_kept_when_nothing_redirects_the_other_family(
        extra: str) -> None:
    text = TRANSPARENT + 'transparent_host = "192.168.1.1"\n' + extra
    proxy = parse_config_text(text, Path("/tmp/p.toml")).proxy
    assert proxy.transparent_host == "192.168.1.1" and proxy.transparent_families == (4,)
    assert mode_specs(proxy, (80, 443)) == ["transparent@192.168.1.1:80",
                                            "transparent@192.168.1.1:443"]
    v6 = parse_config_text(TRANSPARENT + 'transparent_host = "FD00::0:1"\n' + extra,
                           Path("/tmp/p.toml")).proxy
    assert v6.transparent_host == "fd00::1" and v6.transparent_families == (6,)
    assert mode_specs(v6, (80, 443))[0] == "transparent@fd00::1:80"


@pytest.mark.parametrize("proxy", ['[proxy]\ntransparent_host = "0.0.0.0"\n',
                                   '[proxy]\nenabled = true\nmode = "explicit"\n', ""])
def test_redirecting_all_web_without_a_transparent_proxy_is_refused(proxy: str) -> None:
    # Every LAN web connection would land on a port where nothing listens.
    with pytest.raises(ConfigError) as info:
        parse_config_text(proxy + REDIRECT_ALL, Path("/tmp/p.toml"))
    err = info.value
    assert err.key == "firewall.transparent_proxy"
    assert err.line == (proxy + REDIRECT_ALL).splitlines().index('transparent_proxy = "all"') + 1
    sq, _, en = err.message.partition(" / ")
    assert "asnjë faqe nuk do të hapej" in sq and 'mode = "transparent"' in en


def test_a_transparent_host_that_is_no_address_names_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text(TRANSPARENT + 'transparent_host = "lan0"\n', Path("/tmp/p.toml"))
    assert info.value.key == "proxy.transparent_host" and info.value.line == 5
    assert "'lan0' is not an address" in info.value.message
