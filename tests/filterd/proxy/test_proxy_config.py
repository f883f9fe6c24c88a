"""`[proxy]`: parsing, errors naming the key, and the example config showing every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from filterd.config import ConfigError, load_config, parse_config_text
from filterd.proxy.config import ProxySettings

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


@pytest.mark.parametrize("text,key", [
    ("enabled = true\n", "proxy.mode"),                      # steering needs an address
    ('steer_ipv4 = "fd00::1"\n', "proxy.steer_ipv4"),
    ('mode = "magic"\n', "proxy.mode"),
    ('listen = "nowhere"\n', "proxy.listen"),
    ('blockpage_url = "ftp://x/y"\n', "proxy.blockpage_url"),
    ('stream_large_bodies = "lots"\n', "proxy.stream_large_bodies"),
    ('youtube_restrict = "maybe"\n', "proxy.youtube_restrict"),
    ('upstream_ca_file = "/nonexistent/ca.pem"\n', "proxy.upstream_ca_file"),
])
def test_errors_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("[proxy]\n" + text, Path("/tmp/p.toml"))
    assert info.value.key == key
