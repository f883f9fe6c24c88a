"""The fixture zones NSD serves to the tests (session fixture `upstream_dns` in conftest.py).

Each value is a zone file body; `start_nsd` prepends `$ORIGIN <zone>`. All records have TTL 300
unless written otherwise, and every SOA has minimum (negative TTL) 60.

- `allowed.test.`: plain answers, a CNAME chain ending in `bad.blocked.test.`, a harmless CNAME,
  a TXT RRset too big for a 1232-byte EDNS answer (`big`), HTTPS records pointing into
  `blocked.test.` (`svc`) and into `allowed.test.` (`goodsvc`), and a TTL 5 record (`short`).
- `blocked.test.`: names a blocklist would block.
- `google.com.`, `youtube.com.`, `bing.com.`, `duckduckgo.com.`, `ecosia.org.`: the safe
  search targets, answered locally so safe search rewriting is tested without the Internet.
"""

from __future__ import annotations

TTL = 300
SOA_MINIMUM = 60
BIG_TXT_COUNT = 12
BIG_TXT_LENGTH = 200


def big_txt_string(index: int) -> str:
    """The `index`-th TXT string at big.allowed.test.: 200 characters, distinct per index."""
    prefix = f"big-{index:02d}-"
    return prefix + "x" * (BIG_TXT_LENGTH - len(prefix))


def _zone(origin: str, body: str) -> str:
    return (
        f"$TTL {TTL}\n"
        f"@ SOA ns1.{origin} hostmaster.{origin} 1 3600 600 86400 {SOA_MINIMUM}\n"
        f"@ NS ns1.{origin}\n"
        f"ns1 A 127.0.0.1\n"
        f"{body}"
    )


_BIG_TXT = "".join(f'big TXT "{big_txt_string(i)}"\n' for i in range(BIG_TXT_COUNT))

ALLOWED_TEST = _zone(
    "allowed.test.",
    """\
www A 192.0.2.10
www AAAA 2001:db8::10
mail MX 10 mx.allowed.test.
mx A 192.0.2.25
chain CNAME hop.allowed.test.
hop CNAME bad.blocked.test.
okchain CNAME www.allowed.test.
svc HTTPS 1 bad.blocked.test. alpn=h2
goodsvc HTTPS 1 www.allowed.test.
short 5 A 192.0.2.11
"""
    + _BIG_TXT,
)

BLOCKED_TEST = _zone(
    "blocked.test.",
    """\
bad A 192.0.2.66
bad AAAA 2001:db8::66
www A 192.0.2.67
sub.deep A 192.0.2.68
""",
)

GOOGLE_COM = _zone(
    "google.com.",
    """\
forcesafesearch A 216.239.38.120
forcesafesearch AAAA 2001:4860:4802:32::78
""",
)

YOUTUBE_COM = _zone(
    "youtube.com.",
    """\
restrictmoderate A 216.239.38.119
restrict A 216.239.38.120
""",
)

BING_COM = _zone("bing.com.", "strict A 204.79.197.220\n")

DUCKDUCKGO_COM = _zone("duckduckgo.com.", "safe A 52.142.124.215\n")

ECOSIA_ORG = _zone("ecosia.org.", "strict-safe-search A 192.0.2.80\n")

ZONES: dict[str, str] = {
    "allowed.test.": ALLOWED_TEST,
    "blocked.test.": BLOCKED_TEST,
    "google.com.": GOOGLE_COM,
    "youtube.com.": YOUTUBE_COM,
    "bing.com.": BING_COM,
    "duckduckgo.com.": DUCKDUCKGO_COM,
    "ecosia.org.": ECOSIA_ORG,
}
