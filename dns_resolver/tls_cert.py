"""The certificate of the encrypted DNS listeners: the configured PEM files, or a leaf for the
resolver's name and addresses issued by the school CA (RFC 9462 verified discovery needs the
resolver's IP address in the certificate, hence the addresses as subjectAltNames too).

Only `cryptography` here: the CA files are mitmproxy's (`mitmproxy-ca.pem`, key and
certificate), but a resolver without the proxy does not load mitmproxy to read them.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import ssl
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\s*", re.S)
LEAF_DAYS = 397


def issue_leaf(ca_pem: Path, name: str, addresses: Iterable[str], out: Path) -> Path:
    """Write (0600) a key and certificate for `name` and `addresses`, signed by the CA whose key
    and certificate are in `ca_pem`; returns `out`."""
    blocks = {m.group(1): m.group(0) for m in _BLOCK.finditer(ca_pem.read_bytes())}
    key_pem = next(v for k, v in blocks.items() if k.endswith(b"PRIVATE KEY"))
    ca_key = serialization.load_pem_private_key(key_pem, None)
    ca_cert = x509.load_pem_x509_certificate(blocks[b"CERTIFICATE"])
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(name)]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in dict.fromkeys(addresses)]
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_cert.public_key()), critical=False)   # type: ignore[arg-type]
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return out


def server_context(cert: Path, key: Path | None, alpn: list[str]) -> ssl.SSLContext:
    """A TLS 1.2+ server context offering `alpn` (e.g. ["dot"], ["h2", "http/1.1"])."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(alpn)
    return context
