"""Start `[dns.tls]`/`[dns.https]` for the appliance: the certificate (the configured files, or
one the school CA issues for `name` and the listen addresses, kept in the CA folder), the
listeners, then the DDR announcement of the ports as bound (`_dns.resolver.arpa`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dns_resolver.chain import Chain
from dns_resolver.engine import Resolver
from dns_resolver.tls_cert import issue_leaf, server_context
from dns_resolver.tls_config import EncryptedSettings
from dns_resolver.tls_server import EncryptedDns
from filterd.config import RojaConfig

LEAF = "dns-tls.pem"


def certificate(enc: EncryptedSettings, ca_dir: Path, school: str) -> tuple[Path, Path | None]:
    """The certificate and key files to serve (key None: both in the one file)."""
    if enc.cert is not None:
        return enc.cert, enc.key
    from filterd.proxy.ca import BASENAME, ensure_ca  # mitmproxy only when the CA is made
    ensure_ca(ca_dir, school)
    hosts = [h for h, _ in enc.tls_listen + enc.https_listen if h not in ("0.0.0.0", "::")]
    return issue_leaf(ca_dir / f"{BASENAME}-ca.pem", enc.name, hosts, ca_dir / LEAF), None


async def start_encrypted(cfg: RojaConfig, resolver: Resolver, chain: Chain) -> EncryptedDns:
    enc = cfg.dns.encrypted
    cert, key = await asyncio.to_thread(certificate, enc, cfg.proxy.ca_path(cfg.state_dir),
                                        cfg.school.name)
    server = EncryptedDns(resolver, tls=enc.tls_listen, https=enc.https_listen,
                          dot_context=server_context(cert, key, ["dot"]),
                          doh_context=server_context(cert, key, ["h2", "http/1.1"]),
                          limits=cfg.dns.tcp, path=enc.https_path, allowed=chain.acl.allowed)
    await server.start()
    if chain.canary is not None:
        chain.canary.announce(enc.designated(tuple(server.bound_tls),
                                             tuple(server.bound_https)))
        resolver.policy_changed()
    return server
