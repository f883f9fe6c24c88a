"""The lines `roja demo` prints to try, each with the outcome it promises.

Every example is one shell command and a comment, Albanian first, that ends in `→ ` and the
outcome, in words a test can check (tests/filterd/commands/test_demo_examples.py runs every
printed line against the running demo):
- `NXDOMAIN`, `NOERROR`, `REFUSED`, `SERVFAIL`: the DNS status dig shows;
- `EDE 17 (Filtered)`: the Extended DNS Error dig shows;
- `A 127.0.0.4`, `CNAME forcesafesearch.google.com`: a record in dig's answer;
- `HTTP 403`: the status line `curl -si` shows (for a refused CONNECT, the proxy's answer);
- `exit 0`: the command's exit status.
Several outcomes are joined with `, `. The README's demo blocks are the same lines with the
default ports (also checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from filterd.commands.demo_internet import SITE_ADDRESS

BLOCKED = "NXDOMAIN, EDE 17 (Filtered)"


@dataclass(frozen=True)
class DemoPorts:
    """The demo's ports: DNS, metrics, the proxy's block of five (explicit proxy, steered
    HTTP and HTTPS on 127.0.0.2, block page, sample site on 127.0.0.4), DNS over TLS and
    DNS over HTTPS."""

    dns: int = 5353
    metrics: int = 9153
    proxy: int = 8118
    dot: int = 8853
    doh: int = 8453
    console: int = 8443  # the teacher's console (HTTPS)

    @property
    def steer_http(self) -> int:
        return self.proxy + 1

    @property
    def steer_https(self) -> int:
        return self.proxy + 2

    @property
    def page(self) -> int:
        return self.proxy + 3

    @property
    def site(self) -> int:
        return self.proxy + 4


@dataclass(frozen=True)
class Example:
    command: str
    comment: str
    outcome: str

    def line(self, width: int) -> str:
        return f"{self.command:<{width}}  # {self.comment} → {self.outcome}"


def dns_examples(p: DemoPorts) -> list[Example]:
    d = f"dig @127.0.0.1 -p {p.dns}"
    site = f"A {SITE_ADDRESS}"
    return [
        Example(f"{d} bet365.com", "bixhoz: bllokuar / gambling: blocked", BLOCKED),
        Example(f"{d} www.bet365.com", "nëndomenet gjithashtu / subdomains too", BLOCKED),
        Example(f"{d} tiktok.com", "nxënësit: rrjete sociale / pupils: social media", BLOCKED),
        Example(f"{d} -b 127.0.0.3 tiktok.com", "mësuesit: lejuar / teachers: allowed", site),
        Example(f"{d} newsroom.tiktok.com", "në listën e lejuar / on the allow list", site),
        Example(f"{d} example.org", "lejuar, nga upstream-i i demos / "
                "allowed, from the demo's upstream", site),
        Example(f"{d} www.google.com", "kërkim i sigurt / safe search",
                "CNAME forcesafesearch.google.com"),
        Example(f"{d} www.youtube.com", "YouTube i kufizuar / restricted YouTube",
                "CNAME restrictmoderate.youtube.com"),
        Example(f"{d} use-application-dns.net", "kanarinë: Firefox mban DoH të fikur / "
                "canary: Firefox keeps DoH off", "NXDOMAIN"),
        Example(f"{d} -b 127.0.0.9 example.org", "klient jashtë ACL / client outside the ACL",
                "REFUSED"),
        Example(f"curl -s http://127.0.0.1:{p.metrics}/metrics | grep roja_dns_queries",
                "numëruesit / the counters", "exit 0"),
    ]


def proxy_examples(p: DemoPorts, config: Path) -> list[Example]:
    x = f"curl -si -x http://127.0.0.1:{p.proxy}"
    return [
        Example(f"dig @127.0.0.1 -p {p.dns} example.com", "drejtuar te proxy / steered to "
                "the proxy", "A 127.0.0.2"),
        Example(f"{x} http://example.com/shembull/faqe", "faqja e bllokimit / the block page",
                "HTTP 403"),
        Example(f"{x} http://example.com:{p.site}/", "lejuar: faqja shembull e demos / "
                "allowed: the demo's sample page", "HTTP 200"),
        Example(f"curl -si --connect-to example.com:80:127.0.0.2:{p.steer_http} "
                "http://example.com/shembull/", "si klient i drejtuar nga DNS / "
                "as a client steered by DNS", "HTTP 403"),
        Example(f"{x} http://bet365.com/", "emri i bllokuar / a blocked name", "HTTP 403"),
        Example(f"{x} https://dns.google/", "DoH: refuzuar / refused "
                "(incident)", "HTTP 403"),
        Example(f"curl -s http://127.0.0.1:{p.page}/proxy.pac | grep PROXY",
                "PAC për shfletuesin / for the browser", "exit 0"),
        Example(f"curl -si http://127.0.0.1:{p.page}/ca", "certifikata e shkollës / "
                "the school CA", "HTTP 200"),
        Example(f".venv/bin/roja --config {config} incidents list --since 1h",
                "bllokimet e mësipërme / the blocks above", "exit 0"),
    ]


def encrypted_examples(p: DemoPorts, config: Path) -> list[Example]:
    """DoT with kdig and DoH with curl, verified against the school CA (`[dns.tls]`), and
    the DDR answer that names them."""
    ca = f"--cacert {config.parent}/state/ca/mitmproxy-ca-cert.pem"
    k = (f"kdig @127.0.0.1 -p {p.dot} +tls-ca={config.parent}/state/ca/mitmproxy-ca-cert.pem"
         " +tls-hostname=dns.roja.lan")
    c = f"curl -si {ca} --doh-url https://127.0.0.1:{p.doh}/dns-query"
    return [
        Example(f"{k} bet365.com", "DoT: bllokuar njësoj / DoT: blocked the same", "NXDOMAIN"),
        Example(f"{k} example.org", "DoT: lejuar / DoT: allowed", f"A {SITE_ADDRESS}"),
        Example(f"{k} -b 127.0.0.9 example.org; test $? -ne 0", "DoT: klient jashtë ACL, "
                "lidhja mbyllet / outside the ACL, the connection is closed", "exit 0"),
        Example(f"{c} http://bet365.com/", "DoH: emri nuk zgjidhet / DoH: the name does not "
                "resolve", "exit 6"),
        Example(f"{c} http://example.org:{p.site}/", "DoH: lejuar, faqja shembull / DoH: "
                "allowed, the sample page", "HTTP 200"),
        Example(f"dig @127.0.0.1 -p {p.dns} +short _dns.resolver.arpa SVCB | grep -c alpn",
                "DDR: pajisjet kalojnë te DoT/DoH i portës / devices upgrade to the "
                "gateway's DoT/DoH", "exit 0"),
    ]


def console_examples(p: DemoPorts, config: Path) -> list[Example]:
    ca = config.parent / "state" / "ca" / "mitmproxy-ca-cert.pem"  # the demo's school CA
    return [
        Example(f"curl -si --cacert {ca} https://127.0.0.1:{p.console}/hyr",
                "konsola, me CA-në e shkollës / the console, with the school CA", "HTTP 200"),
    ]


def block(examples: list[Example]) -> str:
    width = min(max(len(e.command) for e in examples), 50)
    return "\n".join("  " + e.line(width) for e in examples)


def instructions(p: DemoPorts, config: Path, upstream: str, login: tuple[str, str]) -> str:
    """Everything the demo prints once it answers; `login` is the console's teacher (name,
    password)."""
    return f"""
Roja demo po punon / is running: DNS 127.0.0.1:{p.dns} (UDP+TCP), metrics http://127.0.0.1:{p.metrics}/metrics
Upstream: {upstream}

Provoni / Try:
{block(dns_examples(p))}

Konsola e mësuesit / the teacher's console: https://127.0.0.1:{p.console}/
  përdoruesi / user: {login[0]}   fjalëkalimi / password: {login[1]}
{block(console_examples(p, config))}

Proxy-ja / the proxy (URL-level blocks; the block page is 403, Albanian first):
{block(proxy_examples(p, config))}
  Shfletuesi / browser: proxy 127.0.0.1:{p.proxy}, ose / or PAC http://127.0.0.1:{p.page}/proxy.pac

DNS i enkriptuar / encrypted DNS: DoT 127.0.0.1:{p.dot}, DoH https://127.0.0.1:{p.doh}/dns-query
{block(encrypted_examples(p, config))}

Ndalo me Ctrl-C / stop with Ctrl-C.
"""
