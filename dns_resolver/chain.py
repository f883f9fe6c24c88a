"""The one place where the handler order lives. Built once at start; no lookups per query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from dns_resolver.config import DnsSettings
from dns_resolver.handlers.acl import AclHandler
from dns_resolver.handlers.base import Admission, Handler, QuickStage
from dns_resolver.handlers.blocklist import BlocklistHandler
from dns_resolver.handlers.cache import CacheHandler
from dns_resolver.handlers.canary import CanaryHandler
from dns_resolver.handlers.ratelimit import RateLimiter
from dns_resolver.handlers.safesearch import SafeSearchHandler
from dns_resolver.handlers.steering import SteeringHandler
from dns_resolver.handlers.upstream import UpstreamHandler
from dns_resolver.messages import Answer, Next, Query
from dns_resolver.metrics import DnsStats
from dns_resolver.wire import SERVFAIL
from policy.ref import PolicySource
from policy.steering import SteerSettings


@dataclass
class Chain:
    admission: tuple[Admission, ...]
    quick: tuple[QuickStage, ...]
    handlers: tuple[Handler, ...]
    entry: Next
    cache: CacheHandler
    upstream: UpstreamHandler
    acl: AclHandler                           # also asked when a TCP connection is accepted
    canary: CanaryHandler | None = None       # told the encrypted endpoints once they listen


def build_chain(cfg: DnsSettings, policy: PolicySource, stats: DnsStats,
                steer: SteerSettings | None = None) -> Chain:
    cache = CacheHandler(cfg.cache, stats)
    upstream = UpstreamHandler(cfg.upstream, stats)
    acl = AclHandler(cfg.acl_allow)
    admission: list[Admission] = [
        acl,                                  # never an open resolver: outsiders stop here
        # one noisy client cannot starve the others:
        RateLimiter(cfg.rate_limit_qps, cfg.rate_limit_burst),
    ]
    handlers: list[Handler] = []
    quick: list[QuickStage] = []
    canary = None
    if cfg.canaries:
        canary = CanaryHandler()
        handlers.append(canary)              # before policy: bypass switches answer for everyone
        quick.append(canary)
    blocklist = BlocklistHandler(policy, cfg.block)
    quick.append(blocklist)                  # the fast path runs these synchronous fronts in order
    handlers.append(blocklist)               # decide by group; inspects CNAMEs on the way back
    if steer is not None:
        # after policy (a blocked name stays blocked), before safe search and the caches: a
        # host with URL entries must reach the proxy whatever the upstream says
        handlers.append(SteeringHandler(policy, steer))
    handlers += [
        SafeSearchHandler(),                  # after policy: a listed search engine stays blocked
        cache,                                # shared by groups: holds upstream data, not decisions
        upstream,                             # the end: asks the upstream resolvers
    ]
    return Chain(tuple(admission), tuple(quick), tuple(handlers), compose(handlers), cache,
                 upstream, acl, canary)


async def _end_of_chain(q: Query) -> Answer:
    return Answer("servfail", "no handler answered", rcode=SERVFAIL)


def compose(handlers: Sequence[Handler]) -> Next:
    """Turn [h1, h2, ...] into one callable: h1.handle(q, lambda q: h2.handle(q, ...))."""
    call: Next = _end_of_chain
    for handler in reversed(handlers):
        call = _link(handler, call)
    return call


def _link(handler: Handler, following: Next) -> Next:
    """`handler.handle` with `following` bound: no coroutine frame of its own between two
    handlers (each wait of a query resumes every frame of the chain)."""
    return partial(handler.handle, call_next=following)
