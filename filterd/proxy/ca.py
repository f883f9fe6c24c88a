"""The school's CA (mitmproxy's files in `[proxy] ca_dir`, default `<state>/ca`) and the TLS
contexts of the block-page server, one per SNI, issued by that CA.

`ensure_ca` creates the CA once, named after the school (`Roja CA – <school>`), in mitmproxy's
own layout (`mitmproxy-ca.pem` with the key, `mitmproxy-ca-cert.pem`/`.cer` for devices), so
the proxy and the download page use the same certificate. The folder is private (0700).
`SniContexts` hands the block-page server an `ssl.SSLContext` whose certificate names the
host the client asked for (bounded cache; leaf keys live in a private folder).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import ssl
from collections import OrderedDict
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from mitmproxy.certs import CertStore

BASENAME = "mitmproxy"
KEY_SIZE = 2048
_SNI = re.compile(r"^[a-z0-9_.-]{1,253}$")


def ensure_ca(ca_dir: Path, school: str = "") -> Path:
    """Create the CA in `ca_dir` if it is missing; returns the CA certificate's PEM path."""
    if not (ca_dir / f"{BASENAME}-ca.pem").is_file():
        name = f"Roja CA – {school}" if school else "Roja CA"
        CertStore.create_store(ca_dir, BASENAME, KEY_SIZE, organization="Roja",
                               cn=name[:64])
    os.chmod(ca_dir, 0o700)
    return ca_dir / f"{BASENAME}-ca-cert.pem"


def ca_cert_pem(ca_dir: Path) -> bytes:
    return (ca_dir / f"{BASENAME}-ca-cert.pem").read_bytes()


def ca_cert_der(ca_dir: Path) -> bytes:
    cert = x509.load_pem_x509_certificate(ca_cert_pem(ca_dir))
    return cert.public_bytes(serialization.Encoding.DER)


def fingerprint(ca_dir: Path) -> str:
    digest = hashlib.sha256(ca_cert_der(ca_dir)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


class SniContexts:
    """TLS contexts for the block-page server: the default one (for clients without SNI, or
    names that are not host names) and one per requested host, issued by the school CA."""

    def __init__(self, ca_dir: Path, default_name: str, size: int = 256) -> None:
        self.store = CertStore.from_store(ca_dir, BASENAME, KEY_SIZE)
        self.leaf_dir = ca_dir / "blockpage-leaf"
        self.leaf_dir.mkdir(mode=0o700, exist_ok=True)
        self.size = size
        self._contexts: OrderedDict[str, ssl.SSLContext] = OrderedDict()
        self.default = self.context_for(default_name)
        self.default.sni_callback = self._on_sni

    def context_for(self, name: str) -> ssl.SSLContext:
        found = self._contexts.get(name)
        if found is not None:
            self._contexts.move_to_end(name)
            return found
        sans: list[x509.GeneralName]
        try:
            sans = [x509.IPAddress(ipaddress.ip_address(name))]
        except ValueError:
            sans = [x509.DNSName(name)]
        entry = self.store.get_cert(name, sans)
        path = self.leaf_dir / (hashlib.sha256(name.encode()).hexdigest()[:32] + ".pem")
        key = entry.privatekey.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(entry.cert.to_pem() + key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(path)
        self._contexts[name] = context
        if len(self._contexts) > self.size:
            self._contexts.popitem(last=False)
        return context

    def _on_sni(self, sock: ssl.SSLObject | ssl.SSLSocket, name: str | None,
                _ctx: ssl.SSLContext) -> None:
        if name:
            host = name.lower().rstrip(".")
            if _SNI.match(host):
                sock.context = self.context_for(host)
