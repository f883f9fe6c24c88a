"""The address rules of the one policy (`policy.engine.Policy` inherits them).

`Policy.address_decision` says what the address lists (`policy.address_lists`) decide about
an address, in the order names are decided: a legal list blocks for everyone; an `$important`
deny entry (`X@important`) blocks unless the school's own allow list names the address; then
an allow entry opens it (an allow list's addresses, adblock `@@||1.2.3.4^` and
`@@*$ipaddress=` exceptions, stored as `X@allow`); then a deny list that applies to the group
and whose category its profile blocks now blocks it. The resolver asks `address_block` for
every A/AAAA record of an upstream answer and every address hint of an HTTPS/SVCB record,
the proxy for the address it connects to, and `Policy.decide` for an IP-literal host.
`destination` is the private-address rule (`policy.addresses`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Literal

from policy.address_lists import AddressLists
from policy.addresses import CATEGORY as ADDRESS_CATEGORY
from policy.addresses import PRIVATE, Address, AddressRules, private_reason
from policy.categories import ALIASES
from policy.decision import Decision, Group, ListRule
from policy.state import GroupState


class AddressDecisions:
    """What `Policy` decides about addresses; the attributes are the policy's."""

    address_lists: AddressLists
    addresses: AddressRules
    _rules: dict[str, ListRule]
    _standalone_allow: frozenset[str]

    def state_for(self, group: Group, now: datetime | None = None) -> GroupState:
        raise NotImplementedError

    def _opens(self, group: Group, gs: GroupState, list_id: str, rule: ListRule) -> bool:
        if not group.applies(rule.id):
            return False
        if gs.allow_lists is None or list_id not in self._standalone_allow:
            return True
        return rule.id in gs.allow_lists

    def own_allow(self, rule: ListRule) -> bool:
        """Is `rule` an allow rule of the school's own allow lists (kind `allow`), the only
        allow entries that open an `$important` block?"""
        return rule.kind == "allow" and rule.id in self._standalone_allow

    def address_block(self, group: Group, packed: bytes, now: datetime | None = None,
                      only_legal: bool = False) -> Decision | None:
        """The block of an address (4 or 16 bytes) by the address lists, or None
        (`address_decision`). The resolver asks it for every A/AAAA record of an answer."""
        found = self.address_decision(group, packed, now, only_legal)
        return found if found is not None and found.blocked else None

    def address_decision(self, group: Group, packed: bytes, now: datetime | None = None,
                         only_legal: bool = False) -> Decision | None:
        """What the address lists say about an address (4 or 16 bytes): a legal list blocks
        for everyone; an `$important` deny entry blocks unless the school's own allow list
        names the address; then an allow entry (an allow list's address, an `@@` address
        exception) opens it; then a deny list that applies to `group` and whose category its
        profile blocks now blocks it. None: no list decides. `only_legal`: the name was opened
        for the group (an allow list, an unblock), so only a legal list still blocks."""
        found = self.address_lists.lists_of(packed)
        if not found:
            return None
        rules = [(lid, r) for lid in found if (r := self._rules.get(lid)) is not None]
        for lid, rule in rules:
            if rule.kind == "legal":
                return self._address_hit(lid, rule, packed, "block")
        if only_legal:
            return None
        gs = self.state_for(group, now)
        allow = own = deny = None
        for lid, rule in rules:
            if rule.kind == "allow":
                if self._opens(group, gs, lid, rule):
                    allow = allow or (lid, rule)
                    own = own or ((lid, rule) if self.own_allow(rule) else None)
            elif (deny is None or (rule.important and not deny[1].important)) and \
                    group.applies(rule.id) and gs.blocks(rule.id, rule.category, ALIASES):
                deny = (lid, rule)
        if deny is not None and deny[1].important:
            allow = own
        if allow is not None:
            return self._address_hit(*allow, packed, "allow")
        return self._address_hit(*deny, packed, "block") if deny is not None else None

    def _address_hit(self, list_id: str, rule: ListRule, packed: bytes,
                     action: Literal["block", "allow"]) -> Decision:
        entry = self.address_lists.entry(list_id, packed)
        what = {"legal": "legal list", "allow": "allow list"}.get(rule.kind, "list")
        return Decision(action, f"{what} {rule.id!r} lists the address {entry}",
                        rule.category, rule.id if action == "block" else list_id, entry,
                        legal=rule.kind == "legal")

    def destination(self, address: Address, gateway: Collection[Address] = ()
                    ) -> Decision | None:
        """May a client's traffic be sent to `address`? A `private-address` block when it is
        the gateway's own (`gateway`) or private and not in `[policy] allow_private`."""
        why = private_reason(address, self.addresses, gateway)
        if why is None:
            return None
        return Decision("block", why, ADDRESS_CATEGORY, PRIVATE, str(address))

