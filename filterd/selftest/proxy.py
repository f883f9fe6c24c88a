"""The self-test's proxy checks: URL lists (format `urls`) are enforced by the proxy, so for
each of them and each reachable group the self-test asks the running proxy, from the group's
source address, as a pupil's browser would reach it:

- steering mode: the resolver answers the list's reserved name with the proxy's address;
- `http://<list>.selftest.roja.test/roja-selftest/bllokuar` is refused (403, the block page)
  exactly when the policy says so for that group;
- another path on the same host is not refused (the origin does not exist, so the proxy
  answers 502: the filter let it through, which is what is checked).

Steering mode asks the steering listener (`steer_ipv4`/`steer_ipv6`, origin-form with a Host
header); explicit and transparent modes ask `[proxy] listen` (absolute-form). A URL list with
the proxy off fails: nothing enforces it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime

import dns.exception

from blocklists.store import SELFTEST_PATH, selftest_name
from filterd.config import RojaConfig
from filterd.selftest.checks import Check, Resolver
from policy import Group, ListRule, Policy

BLOCKED_PATH = SELFTEST_PATH + "bllokuar"
OTHER_PATH = "/roja-selftest-lejuar"
USER_AGENT = "roja-selftest"


def _route(cfg: RojaConfig, source: str) -> tuple[str, int, bool] | None:
    """(address, port, absolute-form?) of the proxy as this source reaches it, or None."""
    p = cfg.proxy
    v6 = ":" in source
    if p.mode == "steering":
        address = p.steer_ipv6 if v6 else p.steer_ipv4
        return (address, p.steer_http_port, False) if address else None
    if p.listen is None:
        return None
    host, port = p.listen
    if host in ("0.0.0.0", "::"):
        host = "::1" if v6 else "127.0.0.1"
    return (host, port, True) if (":" in host) == v6 else None


def http_status(route: tuple[str, int, bool], host: str, path: str, source: str,
                timeout: float) -> tuple[int | None, str]:
    """The status code of `GET http://host/path` through the proxy, or None and why."""
    address, port, absolute = route
    target = f"http://{host}{path}" if absolute else path
    request = (f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
               "Connection: close\r\n\r\n").encode()
    head = b""
    try:
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET,
                           socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.bind((source, 0))
            s.connect((address, port))
            s.sendall(request)
            while b"\r\n" not in head and len(head) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
    except OSError as exc:
        return None, f"pa përgjigje / no answer: {exc or type(exc).__name__}"
    parts = head.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return None, "nuk është përgjigje HTTP / not an HTTP answer"
    return int(parts[1]), ""


def proxy_checks(cfg: RojaConfig, resolver: Resolver, policy: Policy, group: Group,
                 source: str, rules: list[ListRule], now: datetime) -> Iterator[Check]:
    if not rules:
        return
    if not cfg.proxy.enabled:
        for rule in rules:
            yield Check(group.id, f"lista URL {rule.id!r} ({rule.category or '-'})", False,
                        "proxy-ja është e fikur, listat URL nuk zbatohen / the proxy is off "
                        "([proxy] enabled = false): URL lists are not enforced")
        return
    route = _route(cfg, source)
    if route is None:
        yield Check(group.id, "proxy-ja nuk arrihet nga ky kompjuter / the proxy is not "
                    "reachable from this machine", None)
        return
    for rule in rules:
        name = selftest_name(rule.id)
        if cfg.proxy.mode == "steering":
            yield _steering_check(resolver, group, source, name, route[0])
        for path in (BLOCKED_PATH, OTHER_PATH):
            expected = policy.decide_url(group, f"http://{name}{path}", now).blocked
            status, why = http_status(route, name, path, source, resolver.timeout)
            ok = status is not None and (status == 403) == expected
            verb = "bllokohet / is blocked" if expected else "lejohet / is let through"
            yield Check(group.id, f"proxy: lista {rule.id!r} ({rule.category or '-'}): "
                        f"http://{name}{path} {verb}", ok,
                        why or ("" if ok else f"HTTP {status}: përgjigja ndryshon nga "
                                "konfigurimi / the answer differs from the configuration"))


def _steering_check(resolver: Resolver, group: Group, source: str, name: str,
                    address: str) -> Check:
    what = f"DNS e dërgon {name} te proxy-ja / DNS steers it to the proxy ({address})"
    try:
        reply = resolver.ask(name, source, "AAAA" if ":" in address else "A")
    except (dns.exception.DNSException, OSError) as exc:
        return Check(group.id, what, False, f"pa përgjigje / no answer: {exc}")
    ok = any(address in rrset.to_text() for rrset in reply.answer)
    return Check(group.id, what, ok, "" if ok else "adresë tjetër / another address")
