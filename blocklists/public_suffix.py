"""Public suffixes: names under which anyone can have a site (`pages.dev`, `github.io`,
`co.uk`, `com`), from the Public Suffix List.

A URL entry steers its host and every name below it to the proxy (`blocklists.store`). On a
public suffix that would be every site under it (`||pages.dev/x` would steer all of Cloudflare
Pages), so such an entry is dropped and counted (`url on public suffix`), as a rule on a bare
top-level domain is; a URL entry on one site under it (`foo.pages.dev/x`) steers only that site.

The list is read with `publicsuffix2` (already installed with mitmproxy; it reads a local file
and handles the list's wildcard and exception rules) from the first file that exists in
`PSL_FILES`: Debian's `publicsuffix` package, which Debian keeps current, then the copy
uBlock Origin ships; without either, the copy bundled with `publicsuffix2` (from 2019, so newer
suffixes such as pages.dev are missing: a warning says so). Read once per process, on first use
(≈0.6 s: only compiles with URL entries pay it).
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from publicsuffix2 import PublicSuffixList

log = logging.getLogger("roja.lists")
STEER_REFUSED = ("url on never-steer host", "url on public suffix")  # the counted kinds
PSL_FILES = (
    Path("/usr/share/publicsuffix/public_suffix_list.dat"),  # Debian: publicsuffix
    Path("/usr/share/chromium/extensions/ublock-origin/assets/thirdparties/publicsuffix.org/"
         "list/effective_tld_names.dat"),                    # Debian: webext-ublock-origin-*
)


@cache
def _suffixes() -> PublicSuffixList:
    for path in PSL_FILES:
        if path.is_file():
            return PublicSuffixList(str(path), idna=True)
    log.warning("Lista e prapashtesave publike mungon (paketa Debian publicsuffix) / the Public "
                "Suffix List is missing (Debian package publicsuffix): using publicsuffix2's "
                "copy from 2019")
    return PublicSuffixList(idna=True)


def is_public_suffix(host: str) -> bool:
    """Is canonical `host` (punycode, no trailing dot) a public suffix, where anyone can have a
    site below it? A name unknown to the list is not."""
    return bool(_suffixes().get_tld(host, wildcard=True, strict=True) == host)


def steer_refused(host: str, never_steer: frozenset[str]) -> str | None:
    """Why a URL entry on `host` may not steer it, as the counted kind, or None when it may:
    `url on never-steer host` (the list's `never_steer` names it or a parent) or `url on
    public suffix`."""
    labels = host.split(".")
    if never_steer and any(".".join(labels[i:]) in never_steer for i in range(len(labels))):
        return "url on never-steer host"
    return "url on public suffix" if is_public_suffix(host) else None
