"""`[dns]` keys of roja.toml: the TCP limits and `workers` (defaults, and errors naming file,
line, key)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from configkit import ConfigError
from dns_resolver.server import TcpLimits
from filterd.config import load_config


def load(tmp_path: Path, text: str) -> TcpLimits:
    path = tmp_path / "roja.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path).dns.tcp


def test_tcp_defaults(tmp_path: Path) -> None:
    assert load(tmp_path, "[dns]\n") == TcpLimits(10.0, 256, 16)


def test_tcp_keys(tmp_path: Path) -> None:
    text = "[dns]\ntcp_idle_timeout = 3\ntcp_max_connections = 100\ntcp_max_per_client = 4\n"
    assert load(tmp_path, text) == TcpLimits(3.0, 100, 4)


@pytest.mark.parametrize("text,line,key,says", [
    ("[dns]\ntcp_max_per_client = 0\n", 2, "dns.tcp_max_per_client", "must be at least 1"),
    ('[dns]\n\ntcp_max_per_client = "16"\n', 3, "dns.tcp_max_per_client", "whole number"),
    ("[dns]\ntcp_max_connections = 8\ntcp_max_per_client = 9\n", 3,
     "dns.tcp_max_per_client", "tcp_max_connections (8)"),
    ("[dns]\ntcp_idle_timeout = 3600\n", 2, "dns.tcp_idle_timeout", "must be at most 300"),
])
def test_tcp_key_errors(tmp_path: Path, text: str, line: int, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert str(info.value).startswith(f"{tmp_path / 'roja.toml'}:{line}: {key}: ")
    assert says in str(info.value)


def workers(tmp_path: Path, text: str) -> tuple[int, bool]:
    path = tmp_path / "roja.toml"
    path.write_text(text, encoding="utf-8")
    dns = load_config(path).dns
    return dns.workers, dns.workers_auto


def test_workers_auto_is_one_per_usable_core(tmp_path: Path) -> None:
    assert workers(tmp_path, '[dns]\nworkers = "auto"\n') == (len(os.sched_getaffinity(0)), True)
    assert workers(tmp_path, "[dns]\nworkers = 3\n") == (3, False)
    assert workers(tmp_path, "[dns]\n") == (1, False)


@pytest.mark.parametrize("text,says", [
    ('[dns]\nworkers = "all"\n', 'must be a whole number 1-64 or "auto"'),
    ("[dns]\nworkers = 0\n", "must be at least 1"),
    ("[dns]\nworkers = 65\n", "must be at most 64"),
    ("[dns]\nworkers = 1.5\n", "whole number"),
])
def test_workers_errors_name_the_line_and_key(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        workers(tmp_path, text)
    assert str(info.value).startswith(f"{tmp_path / 'roja.toml'}:2: dns.workers: ")
    assert says in str(info.value)
