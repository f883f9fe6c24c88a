"""`[dns.tls]` and `[dns.https]`: defaults, paths relative to roja.toml, the DDR announcement
built from the bound listeners, and errors naming file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from configkit import ConfigError
from dns_resolver.tls_config import EncryptedSettings
from filterd.config import load_config
from policy.reserved import Ddr, Designated


def load(tmp_path: Path, text: str) -> EncryptedSettings:
    path = tmp_path / "roja.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path).dns.encrypted


def test_off_by_default(tmp_path: Path) -> None:
    enc = load(tmp_path, "[dns]\n")
    assert enc == EncryptedSettings()
    assert not enc.enabled


def test_keys_and_relative_certificate(tmp_path: Path) -> None:
    enc = load(tmp_path, '[dns.tls]\nlisten = ["192.168.1.1", "[::1]:8853"]\ncert = "c.pem"\n'
                         'key = "/etc/k.pem"\nname = "DNS.School.AL."\n'
                         '[dns.https]\nlisten = ["192.168.1.1:8453"]\npath = "/q"\n')
    assert enc.tls_listen == (("192.168.1.1", 853), ("::1", 8853))
    assert enc.https_listen == (("192.168.1.1", 8453),)
    assert (enc.cert, enc.key, enc.name, enc.https_path) == (
        tmp_path / "c.pem", Path("/etc/k.pem"), "dns.school.al", "/q")


def test_designated_names_bound_ports_and_specific_addresses() -> None:
    enc = EncryptedSettings(tls_listen=(("0.0.0.0", 853),), name="dns.school.al")
    ddr = enc.designated((("0.0.0.0", 853), ("192.168.1.1", 853), ("fd00::1", 853)),
                         (("192.168.1.1", 443),))
    assert ddr == Ddr("dns.school.al", (Designated(("dot",), 853),
                                        Designated(("h2", "http/1.1"), 443,
                                                   "/dns-query{?dns}")),
                      ("192.168.1.1",), ("fd00::1",))
    assert EncryptedSettings(ddr=False).designated((("127.0.0.1", 853),), ()) is None
    assert enc.designated((), ()) is None


@pytest.mark.parametrize("text,line,key,says", [
    ('[dns.tls]\ncert = "c.pem"\n', 1, "dns.tls.key", "cert and key go together"),
    ('[dns.tls]\nname = "not a name"\n', 2, "dns.tls.name", "is not a host name"),
    ('[dns.https]\npath = "dns-query"\n', 2, "dns.https.path", "is not a path"),
    ('[dns.tls]\nlisten = ["localhost:853"]\n', 2, "dns.tls.listen", "is not an address"),
    ('[dns.https]\nalpn = ["h3"]\n', 2, "dns.https.alpn", ""),
])
def test_errors(tmp_path: Path, text: str, line: int, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert str(info.value).startswith(f"{tmp_path / 'roja.toml'}:{line}: {key}: ")
    assert says in str(info.value)
