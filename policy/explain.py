"""Why a decision is what it is: every rule that led to it, as structured steps.

`explain(policy, client, host=..., url=..., now=..., mac=...)` is pure like `decide`: it
returns the same `Decision` as `Policy.decide`/`decide_url` (it calls them) plus `Step`s, each
with an Albanian and an English sentence, in order: the group and why, the profile, the time and
the schedules in force, the legal layer, the unblocks, each list match and what it did, and the
outcome. A confidential entry is never shown: only its category and hash id. A host written
as an address (any notation) is read as the proxy reads it, and an `address` step says which
address rule decided it (`policy.addresses`: IP-literal host, private or gateway address).
The address lists (`policy.address_rules`) get `address-list` steps: for an address host,
and for each address the name answers with (`addresses`, given by the caller: the resolver
blocks an answer with a listed address, so a name that passes by its lists can still be
blocked by its addresses, and the decision says so).
A known DoH endpoint gets a `bypass` step (`policy.bypass`), a search engine a `safe-search`
step (`policy.safesearch`: the DNS rewrite and the proxy's parameter or header), and a name
Roja answers itself a `reserved` step (`policy.reserved`: bypass canaries, DDR, the
self-test's names).

    result = explain(policy, "10.0.3.17", url="https://example.org/x", now=at)
    for step in result.steps: print(step.sq, "/", step.en)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from blocklists.urls import canonical_url, canonical_url_host
from policy import safesearch
from policy.addresses import IP_LITERAL, PRIVATE, host_address
from policy.categories import ALIASES, label
from policy.engine import Decision, Group, Policy
from policy.reserved import reserved
from policy.schedule import DAYS, DAYS_SQ, local_time


@dataclass(frozen=True)
class Step:
    kind: str   # group | profile | time | schedule | legal | bypass | unblock | list | address
    #             | address-list | reserved | safe-search | outcome
    sq: str
    en: str


@dataclass(frozen=True)
class Explanation:
    client: str
    group: Group
    decision: Decision
    steps: tuple[Step, ...]


_HOW = {
    "address": ("adresa {d} është në listën e grupit", "address {d} is listed in the group"),
    "mac": ("MAC-u {d} është në listën e grupit", "MAC {d} is listed in the group"),
    "network": ("adresa është në rrjetin {d}", "the address is in network {d}"),
    "default": ("asnjë grup nuk e njeh: grupi i paracaktuar",
                "no group claims it: the default group"),
}


def _cats(cats: frozenset[str] | None) -> tuple[str, str]:
    if cats is None:
        return "të gjitha kategoritë", "every category"
    text = ", ".join(sorted(cats)) or "—"
    return text, text


def explain(policy: Policy, client: str, *, host: str | None = None, url: str | None = None,
            now: datetime | None = None, mac: str | None = None,
            addresses: Sequence[str] = ()) -> Explanation:
    group, how, detail = policy.locate(client, mac)
    steps = [Step("group", f"Grupi: {group.name} ({group.id}), sepse "
                  f"{_HOW[how][0].format(d=detail)}",
                  f"Group: {group.name} ({group.id}), because {_HOW[how][1].format(d=detail)}")]
    gs = policy.state_for(group, now)
    profile = policy.profiles.get(group.profile) if group.profile else None
    blocked_sq, blocked_en = _cats(gs.blocked)
    if profile is not None:
        steps.append(Step("profile", f"Profili {profile.id}: bllokon {blocked_sq}; kërkim i "
                          f"sigurt {group.safe_search}",
                          f"Profile {profile.id}: blocks {blocked_en}; safe search "
                          f"{group.safe_search}"))
    else:
        steps.append(Step("profile", f"Pa profil: listat deny bllokojnë {blocked_sq}; kërkim "
                          f"i sigurt {group.safe_search}",
                          f"No profile: deny lists block {blocked_en}; safe search "
                          f"{group.safe_search}"))
    if now is not None:
        local = local_time(now)
        holiday = local.date() in policy.holidays
        when, day = f"{local:%Y-%m-%d %H:%M}", local.weekday()
        steps.append(Step("time", f"Koha (Europe/Tirane): {when} ({DAYS_SQ[day]} / {DAYS[day]})"
                          + (", ditë pushimi" if holiday else ""),
                          f"Time (Europe/Tirane): {when} ({DAYS[day]})"
                          + (", a holiday" if holiday else "")))
    for s in policy.schedules:
        if group.id not in s.groups:
            continue
        window = s.window_at(now, policy.holidays) if now is not None else None
        verb_sq = "hap" if s.action == "allow" else "mbyll"
        verb_en = "opens" if s.action == "allow" else "closes"
        cats = ", ".join(s.categories)
        if window is not None:
            steps.append(Step("schedule", f"Orari {s.name or s.describe()}: në fuqi ({window}), "
                              f"{verb_sq} {cats}",
                              f"Schedule {s.name or s.describe()}: in force ({window}), "
                              f"{verb_en} {cats}"))
        else:
            steps.append(Step("schedule", f"Orari {s.describe()}: jo në fuqi tani ({cats})",
                              f"Schedule {s.describe()}: not in force now ({cats})"))
    target = canonical_url_host(host) if host is not None else None
    if url is not None:
        found = canonical_url(url)
        target = found.host if found is not None else None
    if target is None:
        steps.append(Step("outcome", "Adresa URL nuk lexohet: kalon (proxy-ja kthen 400)",
                          "The URL cannot be read: it passes (the proxy answers 400)"))
        return Explanation(client, group, Decision("pass", "unreadable URL"), tuple(steps))
    decision = (policy.decide_url(group, url, now) if url is not None
                else policy.decide(group, target, now))
    address_steps, decision = explain_addresses(policy, group, target, addresses, decision, now)
    legal = policy.legal_block(target)
    if legal is not None or decision.legal:
        d = legal or decision
        steps.append(Step("legal", f"Shtresa ligjore: {_entry(d)} në listën {d.list_id} "
                          f"({label(d.category)}) — asgjë nuk e hap",
                          f"Legal layer: {_entry(d)} on list {d.list_id} "
                          f"({label(d.category)}) — nothing can open it"))
    elif decision.doh:
        steps.append(Step("bypass", f"Pikë fundore DoH: {target} është shërbyes DNS i koduar "
                          f"({decision.entry}) që anashkalon filtrin — bllokohet për çdo grup, "
                          "asgjë nuk e hap",
                          f"DoH endpoint: {target} is an encrypted-DNS resolver "
                          f"({decision.entry}) that bypasses the filter — blocked for every "
                          "group, nothing opens it"))
    else:
        steps.append(Step("legal", "Shtresa ligjore: asnjë përputhje",
                          "Legal layer: no match"))
        steps.extend(_matches(policy, group, target, now))
        unblock = gs.unblock_for(target)
        if unblock is not None:
            steps.append(Step("unblock", f"Zhbllokim #{unblock.id} për {unblock.host} nga "
                              f"{unblock.by} deri më {local_time(unblock.expires):%Y-%m-%d %H:%M}"
                              f" ({unblock.reason})",
                              f"Unblock #{unblock.id} of {unblock.host} by {unblock.by} until "
                              f"{local_time(unblock.expires):%Y-%m-%d %H:%M} ({unblock.reason})"))
    steps.extend(address_steps)
    if decision.list_id == IP_LITERAL:
        steps.append(Step("address", "Adresë IP në vend të emrit: grupi e bllokon "
                          "(ip_literals = \"block\"), sepse listat e emrave nuk e shohin",
                          "An IP address instead of a name: the group blocks it "
                          "(ip_literals = \"block\"), since name lists cannot see it"))
    elif decision.list_id == PRIVATE:
        steps.append(Step("address", f"{decision.entry} është adresë private, lokale ose e "
                          "vetë portës: refuzohet ([policy] allow_private nuk e lejon)",
                          f"{decision.entry} is a private, local or gateway address: refused "
                          "([policy] allow_private does not allow it)"))
    steps.extend(_special(group, target, url, decision))
    verdict = {"block": ("BLLOKOHET", "BLOCKED"), "allow": ("LEJOHET", "ALLOWED"),
               "pass": ("KALON", "PASSES")}[decision.action]
    cat = f" — {label(decision.category)}" if decision.category else ""
    steps.append(Step("outcome", f"Vendimi: {verdict[0]}{cat}",
                      f"Decision: {verdict[1]}{cat} ({_reason(decision)})"))
    return Explanation(client, group, decision, tuple(steps))


def _special(group: Group, host: str, url: str | None, decision: Decision) -> list[Step]:
    """The reserved-name and safe-search steps: what the servers do beside the verdict."""
    out: list[Step] = []
    if decision.selftest:
        out.append(Step("reserved", "Emër i rezervuar i vetë-testit të Roja-s: bllokohet si "
                        "kontroll, nuk regjistrohet si incident",
                        "A reserved name of Roja's self-test: blocked as a check, never "
                        "recorded as an incident"))
    found = reserved(host, 1, None)
    if found is not None:
        out.append(Step("reserved", f"Emër i rezervuar: serveri DNS i Roja-s përgjigjet vetë "
                        f"({found.kind.upper()}) për çdo grup",
                        f"A reserved name: Roja's DNS server answers it itself "
                        f"({found.kind.upper()}) for every group — {found.reason}"))
    if decision.blocked:
        return out
    target = safesearch.target(group.safe_search, host)
    if target is not None:
        out.append(Step("safe-search", f"Kërkim i sigurt ({group.safe_search}): DNS e kthen "
                        f"{host} në {target}",
                        f"Safe search ({group.safe_search}): DNS rewrites {host} to {target}"))
    path = "/" + url.split("://", 1)[-1].partition("/")[2] if url is not None else None
    param = safesearch.search_param(group.safe_search, host, path) if path else None
    if param is not None:
        out.append(Step("safe-search", f"Proxy-ja shton {param[0]}={param[1]} në kërkim",
                        f"The proxy adds {param[0]}={param[1]} to the search"))
    return out


def _entry(d: Decision) -> str:
    return f"hash {d.entry.removeprefix('sha256:')[:16]}…" if d.confidential else d.entry


def _reason(d: Decision) -> str:
    return f"confidential list {d.list_id!r}" if d.confidential else d.reason


def _matches(policy: Policy, group: Group, host: str, now: datetime | None) -> list[Step]:
    gs = policy.state_for(group, now)
    out: list[Step] = []
    matches = policy.matcher.lookup(host)
    rules = [policy.rule_for(m.list_id) for m in matches]
    important = any(r is not None and r.important and r.kind == "deny" and group.applies(r.id)
                    and gs.blocks(r.id, m.category or r.category, ALIASES)
                    for m, r in zip(matches, rules, strict=True))
    for m, rule in zip(matches, rules, strict=True):
        if rule is None:
            out.append(Step("list", f"Lista {m.list_id} e njeh {m.entry}, por s'ka rregull",
                            f"List {m.list_id} lists {m.entry}, but has no rule"))
            continue
        category = m.category or rule.category
        c = ALIASES.get(category, category)
        kind = f"{rule.kind}, important" if rule.important else rule.kind
        head_sq = f"Lista {rule.id} ({kind}, {label(category)}) përmban {m.entry}"
        head_en = f"List {rule.id} ({kind}, {label(category)}) lists {m.entry}"
        if not group.applies(rule.id):
            sq, en = "nuk vlen për këtë grup (lists)", "does not apply to this group (lists)"
        elif rule.kind == "allow":
            applies = policy.allow_applies(group, gs, m, rule)
            sq, en = (("lejon", "allows") if applies else
                      ("nuk vlen për profilin (allow_lists)",
                       "does not apply to the profile (allow_lists)"))
            if applies and important and not policy.own_allow(rule):
                sq, en = ("nuk e hap bllokimin $important të një liste tjetër",
                          "does not open another list's $important block")
        elif gs.blocks(rule.id, category, ALIASES):
            sq, en = "bllokon", "blocks"
        elif c in gs.opened:
            sq, en = "e hapur nga orari në fuqi", "opened by the schedule in force"
        else:
            sq, en = "kategoria nuk bllokohet nga profili", "the profile does not block it"
        out.append(Step("list", f"{head_sq}: {sq}", f"{head_en}: {en}"))
    return out


def explain_addresses(policy: Policy, group: Group, host: str, addresses: Sequence[str],
                      decision: Decision, now: datetime | None
                      ) -> tuple[list[Step], Decision]:
    """The `address-list` steps for an address host, or for the addresses a name answers
    with, and the decision once the resolver has checked them: a name that is not blocked
    is blocked by an answer address a list blocks (an opened name: only by a legal list)."""
    if not policy.address_lists:
        return [], decision
    literal = host_address(host)
    if literal is not None:
        return _address_lists_step(policy, group, str(literal), now), decision
    steps: list[Step] = []
    for text in addresses:
        steps.extend(_address_lists_step(policy, group, text, now))
        if decision.blocked:
            continue
        try:
            packed = ipaddress.ip_address(text).packed
        except ValueError:
            continue
        hit = policy.address_block(group, packed, now, only_legal=decision.action == "allow")
        if hit is not None:
            steps.append(Step("address-list", f"Përgjigjja DNS për {host} me adresën {text} "
                              "bllokohet (si RPZ rpz-ip), edhe pse emri kalon",
                              f"The DNS answer for {host} with address {text} is blocked "
                              "(like RPZ rpz-ip), although the name passes"))
            decision = hit
    return steps, decision


def _address_lists_step(policy: Policy, group: Group, text: str, now: datetime | None
                        ) -> list[Step]:
    """What each address list naming `text` does for `group` (one step per list)."""
    try:
        packed = ipaddress.ip_address(text).packed
    except ValueError:
        return [Step("address-list", f"«{text}» nuk është adresë IP", f"{text!r} is not an "
                     "IP address")]
    found = policy.address_lists.lists_of(packed)
    if not found:
        return [Step("address-list", f"Adresa {text}: asnjë listë adresash nuk e përmban",
                     f"Address {text}: no address list names it")]
    gs = policy.state_for(group, now)
    out = []
    for list_id in found:
        rule = policy.rule_for(list_id)
        if rule is None:
            continue
        entry = policy.address_lists.entry(list_id, packed)
        what = "legal" if rule.kind == "legal" else \
            f"{rule.kind}{', important' if rule.important else ''}"
        if rule.kind == "legal":
            sq, en = ("bllokon për çdo grup, asgjë nuk e hap",
                      "blocks for every group, nothing opens it")
        elif not group.applies(rule.id):
            sq, en = "nuk vlen për këtë grup (lists)", "does not apply to this group (lists)"
        elif rule.kind == "allow":
            sq, en = ("e përjashton nga listat deny të adresave (jo nga ato ligjore)",
                      "exempts it from deny address lists (not from legal ones)")
        elif gs.blocks(rule.id, rule.category, ALIASES):
            sq, en = "bllokon", "blocks"
        else:
            sq, en = "kategoria nuk bllokohet nga profili", "the profile does not block it"
        out.append(Step("address-list", f"Lista e adresave {rule.id} ({what}) përmban {entry} "
                        f"(adresa {text}): {sq}",
                        f"Address list {rule.id} ({what}) names {entry} (address {text}): {en}"))
    return out
