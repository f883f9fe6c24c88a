"""Tests for reporting.pseudonym: the per-installation key and the client pseudonyms."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from reporting.pseudonym import KEY_FILENAME, PseudonymKeyError, load_or_create_key, pseudonym


def test_key_is_created_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    path = tmp_path / KEY_FILENAME
    assert len(key) == 32
    assert path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path) == key
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILENAME]  # no temp files left


def test_key_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        load_or_create_key(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / KEY_FILENAME).stat().st_mode) == 0o600


def test_missing_state_dir_is_created(tmp_path: Path) -> None:
    state = tmp_path / "var" / "lib" / "roja"
    key = load_or_create_key(state)
    assert (state / KEY_FILENAME).read_bytes() == key


def test_installations_get_different_keys(tmp_path: Path) -> None:
    assert load_or_create_key(tmp_path / "a") != load_or_create_key(tmp_path / "b")


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    keys: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(load_or_create_key(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1
    assert (tmp_path / KEY_FILENAME).read_bytes() == keys[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILENAME]


@pytest.mark.parametrize("content", [b"", b"short", bytes(33)])
def test_a_damaged_key_is_an_error_not_silently_replaced(tmp_path: Path, content: bytes) -> None:
    (tmp_path / KEY_FILENAME).write_bytes(content)
    with pytest.raises(PseudonymKeyError, match="32 bytes"):
        load_or_create_key(tmp_path)
    assert (tmp_path / KEY_FILENAME).read_bytes() == content


KEY = bytes(range(32))


def test_pseudonym_is_16_hex_chars_and_stable() -> None:
    p = pseudonym(KEY, "10.0.0.5")
    assert len(p) == 16
    assert all(c in "0123456789abcdef" for c in p)
    assert pseudonym(KEY, "10.0.0.5") == p


def test_pseudonym_is_the_hmac_sha256_prefix() -> None:
    import hashlib
    import hmac

    assert pseudonym(KEY, "192.168.1.20") == hmac.new(
        KEY, b"192.168.1.20", hashlib.sha256).hexdigest()[:16]


@pytest.mark.parametrize(("a", "b", "same"), [
    ("10.0.0.5", "10.0.0.6", False),
    ("10.0.0.5", "::ffff:10.0.0.5", True),
    ("2001:db8::1", "2001:DB8:0:0::1", True),
    ("10.0.0.5", " 10.0.0.5 ", True),
    ("not-an-address", "not-an-address", True),
])
def test_pseudonym_compares_canonical_addresses(a: str, b: str, same: bool) -> None:
    assert (pseudonym(KEY, a) == pseudonym(KEY, b)) is same


def test_pseudonym_depends_on_the_key() -> None:
    assert pseudonym(KEY, "10.0.0.5") != pseudonym(bytes(32), "10.0.0.5")
    assert "10.0.0.5" not in pseudonym(KEY, "10.0.0.5")
