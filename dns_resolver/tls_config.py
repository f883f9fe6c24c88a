"""`[dns.tls]` and `[dns.https]`: encrypted DNS served by Roja, parsed into frozen settings.

`[dns.tls]` (DNS over TLS, RFC 7858): listen ([], e.g. ["0.0.0.0:853"]); cert and key (PEM
files; both empty: a certificate for `name` and the listen addresses issued by the school CA,
`[proxy] ca_dir`); name ("dns.roja.lan", the name in the certificate and in the DDR answer);
ddr (true: `_dns.resolver.arpa` names these endpoints, RFC 9462).
`[dns.https]` (DNS over HTTPS, RFC 8484): listen ([], e.g. ["0.0.0.0:443"]), path ("/dns-query").
Both use the certificate of `[dns.tls]`, the `[dns.acl]` and the TCP limits of `[dns]`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from configkit import Section
from policy.reserved import Ddr, Designated

_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]"
                   r"([a-z0-9-]{0,61}[a-z0-9])?$")
_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")


@dataclass(frozen=True)
class EncryptedSettings:
    tls_listen: tuple[tuple[str, int], ...] = ()
    https_listen: tuple[tuple[str, int], ...] = ()
    https_path: str = "/dns-query"
    cert: Path | None = None
    key: Path | None = None
    name: str = "dns.roja.lan"
    ddr: bool = True

    @property
    def enabled(self) -> bool:
        return bool(self.tls_listen or self.https_listen)

    def designated(self, tls: tuple[tuple[str, int], ...],
                   https: tuple[tuple[str, int], ...]) -> Ddr | None:
        """The DDR announcement for the listeners as bound (ports chosen by the kernel
        included), or None when DDR is off or nothing encrypted listens."""
        if not self.ddr or not (tls or https):
            return None
        ends = [Designated(("dot",), port) for port in sorted({p for _, p in tls})]
        ends += [Designated(("h2", "http/1.1"), port, self.https_path + "{?dns}")
                 for port in sorted({p for _, p in https})]
        hosts = {h for h, _ in tls + https if h not in ("0.0.0.0", "::")}
        return Ddr(self.name, tuple(ends), tuple(sorted(h for h in hosts if ":" not in h)),
                   tuple(sorted(h for h in hosts if ":" in h)))


def _file(s: Section, key: str, base: Path) -> Path | None:
    text = s.str(key, "")
    if not text:
        return None
    path = Path(text)
    return path if path.is_absolute() else base / path


def parse(tls: Section, https: Section, base: Path,
          addresses: Callable[[Section, str, list[str], int], tuple[tuple[str, int], ...]]
          ) -> EncryptedSettings:
    cert, key = _file(tls, "cert", base), _file(tls, "key", base)
    if (cert is None) != (key is None):
        raise tls.error("cert" if cert is None else "key",
                        "cert dhe key jepen bashkë (ose asnjëra: certifikata nga CA e shkollës) / "
                        "cert and key go together (or neither: the school CA issues one)")
    name = tls.str("name", "dns.roja.lan").lower().rstrip(".")
    if not _NAME.match(name):
        raise tls.error("name", f"{name!r} nuk është emër hosti / is not a host name")
    path = https.str("path", "/dns-query")
    if not _PATH.match(path):
        raise https.error("path", f"{path!r} nuk është shteg si /dns-query / is not a path "
                          "like /dns-query")
    settings = EncryptedSettings(
        tls_listen=addresses(tls, "listen", [], 853),
        https_listen=addresses(https, "listen", [], 443),
        https_path=path, cert=cert, key=key, name=name, ddr=tls.bool("ddr", True))
    tls.done()
    https.done()
    return settings
