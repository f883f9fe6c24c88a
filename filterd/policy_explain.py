"""Why a request is decided as it is, for one client (or group) at one time: the code behind
`roja policy explain` and the console's page "Pse u bllokua? / Why was it blocked?".

    result = explain_request(cfg, "10.0.3.17", url="https://example.org/x", at=at)
    result = explain_request(cfg, None, host="tiktok.com", at=at, group_id="nxenesit")
    for step in result.steps: print(step.sq, "/", step.en)

It builds the policy from the config (the lists as `roja serve` loads them; a failure raises
`ListsNotLoadedError`), adds the unblocks in force at `at` from the store and, for a client address
in a MAC group without `mac`, the kernel's neighbour table, then asks `policy.explain`. When
some list names addresses, a name is also resolved through the `[dns] upstreams` (never the
system resolver: on the gateway that is Roja itself; `answer_addresses`) so that the
explanation shows the answer-address check; `addresses` given: those instead. For a
group, the client is an address the policy puts in that group (`group_client`): one of its
addresses, the first host of one of its networks or, for the default group, a documentation
address no group claims; a group known only by MAC addresses has none (`NoAddressForGroupError`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

import dns.exception
import dns.message
import dns.query
import dns.rdatatype

from blocklists.urls import canonical_url, canonical_url_host
from filterd import overrides
from filterd.config import RojaConfig
from filterd.neighbours import read_neighbours
from policy.addresses import host_address
from policy.engine import Group, Policy
from policy.explain import Explanation
from policy.explain import explain as explain_decision

UNCLAIMED = ("192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1")  # RFC 5737/3849


class ListsNotLoadedError(RuntimeError):
    """The lists did not load: nothing can be explained."""


class NoAddressForGroupError(ValueError):
    """No address falls in the group (it is known by MAC only, or every address of it is
    claimed by a more specific group)."""


def _candidates(group: Group) -> Iterator[str]:
    yield from group.addresses
    for net in group.networks:
        yield str(net.network_address + 1 if net.num_addresses > 2 else net.network_address)
        yield str(net.network_address)
        yield str(net.broadcast_address - 1 if net.num_addresses > 2 else net.broadcast_address)
    yield from UNCLAIMED


def group_client(policy: Policy, group_id: str) -> str:
    """An address `policy` puts in group `group_id` (KeyError: no such group)."""
    groups = {g.id: g for g in (*policy.groups, policy.default_group)}
    group = groups[group_id]
    for address in _candidates(group):
        if policy.locate(address)[0].id == group_id:
            return address
    raise NoAddressForGroupError(group_id)


def group_ids(cfg: RojaConfig) -> list[tuple[str, str]]:
    """(id, name) of every group, the default one first."""
    default = cfg.policy.default_group
    return [(default.id, default.name)] + [(g.id, g.name) for g in cfg.policy.groups
                                           if g.id != default.id]


def answer_addresses(servers: Sequence[tuple[str, int]], name: str,
                     timeout: float = 1.5) -> list[str]:
    """The A and AAAA addresses `name` answers with at the first upstream that answers
    ([] when none does: the explanation then has no answer-address step)."""
    found: list[str] = []
    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        query = dns.message.make_query(name, rdtype)
        for server, port in servers:
            try:
                reply = dns.query.udp(query, server, port=port, timeout=timeout)
            except (dns.exception.DNSException, OSError):
                continue
            found += [r.address for rrset in reply.answer if rrset.rdtype == rdtype
                      for r in rrset if r.address not in found]
            break
    return found


def explain_request(cfg: RojaConfig, client: str | None, *, at: datetime,
                    host: str | None = None, url: str | None = None, mac: str | None = None,
                    group_id: str | None = None,
                    addresses: Sequence[str] | None = None) -> Explanation:
    """The steps and decision for `client` (or, with `group_id`, for that group) asking for
    `host` or `url` at `at` (aware), whose name answers with `addresses` (None: resolved
    when some list names addresses). Blocking: loads the lists (and may ask upstream)."""
    from filterd.app import build_policy

    try:
        base, compiled = build_policy(cfg)
    except Exception as exc:  # any load failure is told, not raised raw
        raise ListsNotLoadedError(str(exc)) from exc
    try:
        if group_id is not None:
            client = group_client(base, group_id)
            neighbours: Mapping[str, str] = {}
        else:
            assert client is not None
            ipaddress.ip_address(client)  # ValueError: not an address
            neighbours = (read_neighbours() if any(g.macs for g in base.groups) and not mac
                          else {})
        pol = replace(base, unblocks=overrides.active(cfg.state_dir, at.timestamp()),
                      neighbours=neighbours, now=at)
        if addresses is None:
            addresses = _resolved(cfg, pol, host, url)
        return explain_decision(pol, client, host=host, url=url, now=at, mac=mac,
                                addresses=addresses)
    finally:
        compiled.close()


def _resolved(cfg: RojaConfig, policy: Policy, host: str | None, url: str | None) -> list[str]:
    """The addresses of the asked name when some list names addresses, else []."""
    if not policy.address_lists:
        return []
    found = canonical_url(url) if url is not None else None
    name = found.host if found is not None else canonical_url_host(host) if host else None
    if not name or host_address(name) is not None:
        return []
    return answer_addresses(cfg.dns.upstream.servers, name)
