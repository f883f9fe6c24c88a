"""[firewall] parsing, the rendered table per mode, and `nft -c -f` accepting every variant."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from blocklists.bypass import VPN_PORTS, doh_addresses
from configkit import ConfigError
from filterd.cli import main
from filterd.config import parse_config_text
from filterd.firewall.config import FirewallSettings
from filterd.firewall.render import render

BASE = '[state]\ndir = "{state}"\n[dns]\nlisten = ["127.0.0.1:5300"]\n'


def require_nft() -> str:
    path = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")
    problem = "nft (nftables) is missing" if path is None else (
        "nft -c needs root" if os.geteuid() != 0 else "")
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    assert path is not None
    return path


TRANSPARENT_PROXY = '[proxy]\nenabled = true\nmode = "transparent"\n'


def cfg_text(tmp_path: Path, firewall: str) -> str:
    """`firewall` in the base config; redirecting all web needs the transparent proxy too."""
    proxy = TRANSPARENT_PROXY if 'transparent_proxy = "all"' in firewall else ""
    return BASE.replace("{state}", str(tmp_path / "state")) + "[firewall]\n" + firewall + proxy


VARIANTS = {
    "defaults": 'lan_interface = "eth1"\n',
    "transparent_all": 'lan_interface = "enp2s0"\ntransparent_proxy = "all"\n',
    "own_proxy_ports": 'lan_interface = "br-lan"\ntransparent_proxy = "all"\n'
                       "proxy_http_port = 3128\nproxy_https_port = 3129\n",
    "minimal": 'lan_interface = "lan0"\nredirect_dns = false\nblock_outside_dns = false\n'
               "block_doh = false\nblock_vpn = false\n",
    "own_port": 'lan_interface = "eth1.10"\ndns_port = 5353\n',
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_nft_accepts_every_variant(tmp_path: Path, name: str) -> None:
    nft = require_nft()
    cfg = parse_config_text(cfg_text(tmp_path, VARIANTS[name]), tmp_path / "roja.toml")
    text = render(cfg.firewall, cfg.dns.listen[0][1], doh_addresses(), VPN_PORTS)
    result = subprocess.run([nft, "-c", "-f", "-"], input=text, text=True, capture_output=True)
    assert result.returncode == 0, result.stderr


def test_rules_follow_the_settings() -> None:
    fw = FirewallSettings(lan_interface="eth1")
    text = render(fw, 5300, doh_addresses(), VPN_PORTS)
    assert "table inet roja {" in text and "delete table inet roja" in text
    assert "flush ruleset" not in text
    assert 'th dport 53 counter name "dns_redirected" redirect to :5300' in text
    assert '"outside_dns_dropped" drop' in text and '"dot_dropped" drop' in text
    assert "proxy_redirected\" redirect" not in text  # transparent proxy off
    for address in doh_addresses():
        assert str(address) in text
    assert "udp dport { 500, 1194, 1701, 4500, 51820 }" in text
    assert "tcp dport { 1194, 1723 }" in text
    assert "roja_steered" not in text  # no sets nothing fills

    own = render(FirewallSettings(lan_interface="eth1", dns_port=5353), 53, [], [])
    assert "redirect to :5353" in own and "elements" not in own and "vpn_dropped\" drop" not in own

    everything = render(FirewallSettings(lan_interface="eth1", transparent_proxy="all"),
                        53, [], VPN_PORTS)
    lan = 'iifname "eth1" fib daddr type != local'
    assert f'{lan} tcp dport 443 counter name "proxy_redirected" redirect to :8443' in everything
    assert f'{lan} tcp dport 80 counter name "proxy_redirected" redirect to :8080' in everything
    # QUIC cannot be filtered by the proxy (no HTTP/3): dropped, so browsers use TCP.
    assert 'iifname "eth1" udp dport 443 counter name "quic_dropped" drop' in everything
    # The proxy ports take new connections from the LAN card and loopback only.
    assert ('iifname != { "lo", "eth1" } tcp dport { 8080, 8443 } ct state new counter name '
            '"proxy_port_dropped" drop') in everything
    assert "chain input" not in text and "counter proxy_port_dropped { }" in text
    assert "counter quic_dropped { }" in text and "quic_dropped\" drop" not in text
    ports = render(FirewallSettings(lan_interface="eth1", transparent_proxy="all",
                                    proxy_http_port=3128, proxy_https_port=3129),
                   53, [ipaddress.ip_address("192.0.2.1")], VPN_PORTS)
    assert "tcp dport 80 counter name \"proxy_redirected\" redirect to :3128" in ports
    assert "tcp dport 443 counter name \"proxy_redirected\" redirect to :3129" in ports


def test_firewall_off_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lan_interface"):
        render(FirewallSettings(), 53, [], [])
    path = tmp_path / "roja.toml"
    path.write_text(BASE.replace("{state}", str(tmp_path / "s")), encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "firewall", "render"])
    assert result.exit_code == 2
    assert "lan_interface" in result.output


@pytest.mark.parametrize(("line", "key"), [
    ('lan_interface = "eth1; flush ruleset"\n', "lan_interface"),
    ('lan_interface = "eth1"\ntransparent_proxy = "maybe"\n', "transparent_proxy"),
    ('lan_interface = "eth1"\ntransparent_proxy = "steered"\n', "transparent_proxy"),
    ('lan_interface = "eth1"\nproxy_https_port = 70000\n', "proxy_https_port"),
    ('lan_interface = "eth1"\nopen_everything = true\n', "open_everything"),
    ('lan_interface = "eth1"\nlisted_addresses = "all"\n', "listed_addresses"),
])
def test_bad_firewall_config_names_the_key(tmp_path: Path, line: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text(cfg_text(tmp_path, line), tmp_path / "roja.toml")
    assert key in str(info.value) and "roja.toml" in str(info.value)


def test_steered_is_refused_with_file_line_key_and_what_to_use(tmp_path: Path) -> None:
    text = cfg_text(tmp_path, 'lan_interface = "eth1"\ntransparent_proxy = "steered"\n')
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, tmp_path / "roja.toml")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'roja.toml'}:7: firewall.transparent_proxy:")
    assert '"steered" is no longer accepted' in message and '"all"' in message
    assert 'mode = "steering"' in message


def test_render_command_writes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "roja.toml"
    path.write_text(cfg_text(tmp_path, VARIANTS["defaults"]), encoding="utf-8")
    out = tmp_path / "roja.nft"
    result = CliRunner().invoke(main, ["--config", str(path), "firewall", "render",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "redirect to :5300" in out.read_text(encoding="utf-8")


def test_redirect_takes_both_families_so_an_ipv4_only_proxy_is_refused(tmp_path: Path) -> None:
    # The inet table's redirect has no family match: IPv6 web goes to the proxy too.
    assert FirewallSettings(lan_interface="eth1", transparent_proxy="all"
                            ).redirected_families == (4, 6)
    assert FirewallSettings(transparent_proxy="all").redirected_families == ()  # no firewall
    assert FirewallSettings(lan_interface="eth1").redirected_families == ()
    everything = render(FirewallSettings(lan_interface="eth1", transparent_proxy="all"),
                        53, [], [])
    assert "nfproto" not in everything and "meta protocol" not in everything
    # A transparent proxy listening on IPv4 only would leave IPv6 web with nothing behind
    # the redirect: every command that loads the config says so (Albanian, then English).
    path = tmp_path / "roja.toml"
    path.write_text(cfg_text(tmp_path, 'lan_interface = "eth1"\ntransparent_proxy = "all"\n')
                    + 'transparent_host = "0.0.0.0"\n', encoding="utf-8")
    for command in (["firewall", "render"], ["config", "check", str(path)]):
        result = CliRunner().invoke(main, ["--config", str(path), *command])
        assert result.exit_code == 2, result.output
        assert f"{path}:11: proxy.transparent_host:" in result.output
        assert "dëgjon vetëm në IPv4" in result.output and "IPv4 only" in result.output
        assert result.output.index("dëgjon") < result.output.index("IPv4 only")
    path.write_text(path.read_text(encoding="utf-8").replace('"0.0.0.0"', '""'),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "firewall", "render"])
    assert result.exit_code == 0 and "redirect to :8443" in result.output


LISTED = {"hotline-ip": ["198.51.100.0/24", "198.51.100.7", "10.0.0.0/8", "10.1.0.0/16",
                         "2001:db8::/32", "::ffff:192.0.2.9"],
          "hotline_ip": ["192.0.2.1"], "empty": []}


def test_list_addresses_become_sets_counters_and_drops(tmp_path: Path) -> None:
    """Overlapping networks, IPv6, IPv4-mapped entries and ids that meet as nft names."""
    nft = require_nft()
    cfg = parse_config_text(cfg_text(tmp_path, VARIANTS["defaults"]), tmp_path / "roja.toml")
    text = render(cfg.firewall, 53, doh_addresses(), VPN_PORTS, LISTED)
    result = subprocess.run([nft, "-c", "-f", "-"], input=text, text=True, capture_output=True)
    assert result.returncode == 0, result.stderr + text
    for name in ("list_empty", "list_hotline_ip", "list_hotline_ip_2"):
        assert f"\tcounter {name} {{ }}" in text
        assert f'iifname "eth1" ip daddr @{name}_4 counter name "{name}" drop' in text
        assert f'iifname "eth1" ip6 daddr @{name}_6 counter name "{name}" drop' in text
    assert "192.0.2.9/32" in text and "::ffff" not in text


def test_carried_counters_start_the_new_table_where_the_old_one_was(tmp_path: Path) -> None:
    """`roja firewall apply` hands the loaded table's counters to the new one; a counter the
    new table does not have is left out, one it has but the old did not starts at zero."""
    nft = require_nft()
    cfg = parse_config_text(cfg_text(tmp_path, VARIANTS["defaults"]), tmp_path / "roja.toml")
    text = render(cfg.firewall, 5300, doh_addresses(), VPN_PORTS, {"ipbad": ["192.0.2.99"]},
                  carried={"list_ipbad": (7, 420), "doh_dropped": (2, 120),
                           "list_gone": (9, 900)})
    assert "\tcounter list_ipbad { packets 7 bytes 420 }" in text
    assert "\tcounter doh_dropped { packets 2 bytes 120 }" in text
    assert "\tcounter vpn_dropped { }" in text and "list_gone" not in text
    result = subprocess.run([nft, "-c", "-f", "-"], input=text, text=True, capture_output=True)
    assert result.returncode == 0, result.stderr
