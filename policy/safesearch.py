"""Safe search: which hosts are search engines, and what each server does to make them safe.

One table, per group level (`safe_search = "off" | "moderate" | "strict"`), for both servers:
- DNS rewrites the engine's names to its safe endpoint with a CNAME (`target`):
  `www.google.<every ccTLD>` → `forcesafesearch.google.com`; `www.bing.com` →
  `strict.bing.com`; `duckduckgo.com`, `www.`/`start.duckduckgo.com` → `safe.duckduckgo.com`;
  YouTube names → `restrictmoderate.youtube.com` (`restrict.youtube.com` when `strict`);
  Ecosia → `strict-safe-search.ecosia.org`.
- The proxy, which sees the request, adds `safe=active` to Google's and `adlt=strict` to
  Bing's search pages (`search_param`) and `YouTube-Restrict` to YouTube (`youtube_level`).

Built once (module level); every lookup is one dict or set lookup.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from policy.state import SafeSearch

GOOGLE = "forcesafesearch.google.com"
BING = "strict.bing.com"
YOUTUBE = ("www.youtube.com", "m.youtube.com", "youtubei.googleapis.com",
           "youtube.googleapis.com", "www.youtube-nocookie.com")
LIST_ID = "safe-search"   # the `Decision.list_id`-like label in explain and metrics


def rewrite_table(level: str) -> dict[str, str]:
    """Name → safe target for a safe-search level (`moderate` or `strict`)."""
    table: dict[str, str] = {}
    text = resources.files("policy.data").joinpath("google_domains.txt").read_text()
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        for domain in line.split():
            table["www." + domain] = GOOGLE
            table[domain] = GOOGLE
    for name in ("www.bing.com", "bing.com"):
        table[name] = BING
    for name in ("duckduckgo.com", "www.duckduckgo.com", "start.duckduckgo.com"):
        table[name] = "safe.duckduckgo.com"
    youtube = "restrict.youtube.com" if level == "strict" else "restrictmoderate.youtube.com"
    for name in YOUTUBE:
        table[name] = youtube
    for name in ("www.ecosia.org", "ecosia.org"):
        table[name] = "strict-safe-search.ecosia.org"
    return table


@cache
def tables() -> dict[str, dict[str, str]]:
    """The rewrite tables of every level that rewrites (`off` has none)."""
    return {level: rewrite_table(level) for level in ("moderate", "strict")}


@cache
def _engines() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    moderate = tables()["moderate"]
    return (frozenset(n for n, t in moderate.items() if t == GOOGLE),
            frozenset(n for n, t in moderate.items() if t == BING),
            frozenset(YOUTUBE))


def target(level: SafeSearch, host: str) -> str | None:
    """The safe endpoint that `host` is rewritten to for `level`, or None."""
    table = tables().get(level)
    return table.get(host) if table is not None else None


def search_param(level: SafeSearch, host: str, path: str) -> tuple[str, str] | None:
    """The query parameter that forces safe search on a search page, or None."""
    if level == "off":
        return None
    google, bing, _ = _engines()
    bare = path.split("?", 1)[0]
    if host in google and bare in ("/search", "/images", "/webhp"):
        return ("safe", "active")
    if host in bing and bare in ("/search", "/images/search", "/videos/search"):
        return ("adlt", "strict")
    return None


def youtube_level(level: str, host: str) -> str | None:
    """`Moderate` or `Strict` (the `YouTube-Restrict` header) for YouTube hosts, or None."""
    if host not in _engines()[2]:
        return None
    return {"moderate": "Moderate", "strict": "Strict"}.get(level)
