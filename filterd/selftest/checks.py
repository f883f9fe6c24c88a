"""The self-test's checks, each a real DNS question to the running resolver.

Which group a question is decided for depends on its source address, so each group is tested
from a local address inside one of its networks (any 127/8 address on loopback; on a gateway,
the gateway's own address in that network). A group with no such local address is reported
as not reachable from here rather than guessed. The expected outcome of every list check
comes from the same policy the daemon builds from the config, so a check fails exactly when
the running filter does not do what the configuration says (a list not loaded, a daemon
running an old config, a resolver that forwards what it should block).

A block is recognised by its Extended DNS Error (15 Blocked, 17 Filtered), which Roja sends
with every block answer whatever `block_answer` is.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import dns.edns
import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from blocklists.store import selftest_name
from filterd.config import RojaConfig
from policy import Group, ListRule, Policy

EDE_BLOCKED = (15, 17)
# (name, what a rewritten answer contains): the first one without URL entries is asked (a
# steered name is answered with the proxy's address, and the proxy enforces safe search).
SAFE_SEARCH_PROBES = (("www.google.com", ("forcesafesearch.google.com.", "216.239.38.120")),
                      ("www.bing.com", ("strict.bing.com.", "204.79.197.220")),
                      ("duckduckgo.com", ("safe.duckduckgo.com.",)))
CANARY_NAME = "use-application-dns.net"


@dataclass(frozen=True)
class Check:
    group: str
    what: str          # Albanian / English description
    ok: bool | None    # None: could not be run from here
    detail: str = ""


def _local_source(group: Group, taken: set[str]) -> str | None:
    """A local address inside one of the group's networks (or addresses) we can send from."""
    candidates: list[str] = [str(a) for a in getattr(group, "addresses", ())]
    for net in group.networks:
        hosts = net.hosts() if net.num_addresses > 2 else iter(net)
        for i, host in enumerate(hosts):
            if i >= 4:
                break
            candidates.append(str(host))
    for address in candidates:
        if address in taken:
            continue
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            try:
                s.bind((address, 0))
            except OSError:
                continue
        return address
    return None


def _default_source(cfg: RojaConfig, policy: Policy) -> str | None:
    """An address that falls in the default group: the resolver's own listen address (a
    gateway asks itself over its LAN address), or loopback when the resolver listens there."""
    for host, _ in cfg.dns.listen:
        try:
            listen = ipaddress.ip_address(host)
        except ValueError:
            continue
        for address in (host, "127.0.0.1" if listen.is_loopback else ""):
            if address and policy.group_for(address).id == policy.default_group.id:
                return address
    return None


class Resolver:
    def __init__(self, cfg: RojaConfig) -> None:
        host, port = cfg.dns.listen[0]
        self.server = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
        self.port = port
        self.timeout = cfg.selftest.timeout

    def ask(self, name: str, source: str, rdtype: str = "A") -> dns.message.Message:
        query = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
        return dns.query.udp(query, self.server, port=self.port, timeout=self.timeout,
                             source=source)


def _blocked(reply: dns.message.Message) -> bool:
    return any(isinstance(o, dns.edns.EDEOption) and int(o.code) in EDE_BLOCKED
               for o in reply.options)


def run_checks(cfg: RojaConfig, policy: Policy, now: datetime) -> Iterator[Check]:
    resolver = Resolver(cfg)
    groups = list(policy.groups)
    sources: list[tuple[Group, str | None]] = []
    taken: set[str] = set()
    for group in groups:
        source = _local_source(group, taken)
        if source is not None:
            if policy.group_for(source).id != group.id:
                source = None  # a more specific group owns that address
            else:
                taken.add(source)
        sources.append((group, source))
    if all(g.id != policy.default_group.id for g in groups):
        sources.append((policy.default_group, _default_source(cfg, policy)))
    from filterd.selftest.proxy import proxy_checks  # it builds on this module

    lists = [lc.rule for lc in cfg.policy.lists if lc.rule.kind != "allow"
             and lc.format != "urls"]
    url_lists = [lc.rule for lc in cfg.policy.lists if lc.rule.kind != "allow"
                 and lc.format == "urls"]  # the proxy enforces these: filterd.selftest.proxy
    for group, source in sources:
        if source is None:
            yield Check(group.id, "grupi nuk arrihet nga ky kompjuter / group not reachable "
                        "from this machine", None)
            continue
        yield from _group_checks(resolver, policy, group, source, lists, now)
        yield from proxy_checks(cfg, resolver, policy, group, source, url_lists, now)
    yield from _global_checks(resolver, cfg, sources)


def _ask(resolver: Resolver, name: str, source: str,
         rdtype: str = "A") -> tuple[dns.message.Message | None, str]:
    try:
        return resolver.ask(name, source, rdtype), ""
    except (dns.exception.DNSException, OSError) as exc:
        return None, f"pa përgjigje / no answer: {exc or type(exc).__name__}"


def _group_checks(resolver: Resolver, policy: Policy, group: Group, source: str,
                  lists: list[ListRule], now: datetime) -> Iterator[Check]:
    for rule in lists:
        name = selftest_name(rule.id)
        expected = policy.decide(group, name, now).blocked
        reply, why = _ask(resolver, name, source)
        seen = reply is not None and _blocked(reply)
        verb = "bllokohet / is blocked" if expected else "lejohet / is allowed"
        yield Check(group.id, f"lista {rule.id!r} ({rule.category or '-'}): {name} {verb}",
                    reply is not None and seen == expected,
                    why or ("" if seen == expected else "përgjigja ndryshon nga konfigurimi / "
                            "the answer differs from the configuration"))
    level = group.safe_search
    probe = next((p for p in SAFE_SEARCH_PROBES if not policy.needs_proxy(p[0])), None)
    if level != "off" and probe is not None:
        reply, why = _ask(resolver, probe[0], source)
        text = reply.to_text() if reply is not None else ""
        ok = any(t in text for t in probe[1])
        yield Check(group.id, f"kërkim i sigurt ({level}) / safe search: {probe[0]}",
                    ok, why or ("" if ok else f"pa {probe[1][0]} / not rewritten"))


def _global_checks(resolver: Resolver, cfg: RojaConfig,
                   sources: list[tuple[Group, str | None]]) -> Iterator[Check]:
    source = next((s for _, s in sources if s is not None), None)
    if source is None:
        return
    if cfg.dns.canaries:
        reply, why = _ask(resolver, CANARY_NAME, source)
        ok = reply is not None and reply.rcode() == dns.rcode.NXDOMAIN
        yield Check("*", f"kanarina DoH / DoH canary: {CANARY_NAME} NXDOMAIN", ok, why)
    name = cfg.selftest.allowed_name
    reply, why = _ask(resolver, name, source)
    ok = (reply is not None and reply.rcode() == dns.rcode.NOERROR and not _blocked(reply)
          and any(r.rdtype in (dns.rdatatype.A, dns.rdatatype.CNAME) for r in reply.answer))
    yield Check("*", f"emër i lejuar zgjidhet / allowed name resolves: {name}", ok,
                why or ("" if ok else f"rcode {dns.rcode.to_text(reply.rcode())}"
                        if reply is not None else ""))
