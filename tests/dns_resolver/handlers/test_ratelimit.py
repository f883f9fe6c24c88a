"""Per-client token bucket: a burst is allowed, then REFUSED until tokens refill at `qps`."""

from __future__ import annotations

import pytest

from dns_resolver.handlers.ratelimit import RateLimiter
from dns_resolver.wire import REFUSED


def admitted(limiter: RateLimiter, client: str, now: float, n: int) -> int:
    return sum(limiter.admit(client, now) is None for _ in range(n))


def test_burst_then_refused() -> None:
    limiter = RateLimiter(qps=10, burst=20)
    assert admitted(limiter, "10.0.0.1", 100.0, 20) == 20
    refusal = limiter.admit("10.0.0.1", 100.0)
    assert refusal is not None
    assert refusal.rcode == REFUSED and refusal.kind == "ratelimited"
    assert admitted(limiter, "10.0.0.1", 100.0, 50) == 0


def test_tokens_refill_over_time_up_to_the_burst() -> None:
    limiter = RateLimiter(qps=10, burst=20)
    assert admitted(limiter, "10.0.0.1", 0.0, 25) == 20
    assert admitted(limiter, "10.0.0.1", 0.1, 5) == 1      # 0.1 s at 10 qps: one token
    assert admitted(limiter, "10.0.0.1", 1.1, 50) == 10    # one second later: ten more
    assert admitted(limiter, "10.0.0.1", 1000.0, 50) == 20  # a long pause: never above the burst


def test_refused_queries_do_not_push_the_client_further_behind() -> None:
    limiter = RateLimiter(qps=1, burst=1)
    assert limiter.admit("c", 0.0) is None
    for t in (0.1, 0.2, 0.5, 0.9):
        assert limiter.admit("c", t) is not None
    assert limiter.admit("c", 1.0) is None                 # exactly one second after the first


def test_sustained_rate_is_qps() -> None:
    limiter = RateLimiter(qps=50, burst=50)
    # 200 queries per second for 10 s (in 1 ms steps): about burst + 50 per second get through.
    got = sum(limiter.admit("10.1.1.1", i / 200) is None for i in range(2000))
    assert 50 + 10 * 50 - 5 <= got <= 50 + 10 * 50 + 5


def test_clients_have_their_own_buckets() -> None:
    limiter = RateLimiter(qps=1, burst=3)
    assert admitted(limiter, "10.0.0.1", 0.0, 10) == 3
    assert admitted(limiter, "10.0.0.2", 0.0, 10) == 3
    assert admitted(limiter, "::1", 0.0, 10) == 3


@pytest.mark.parametrize("burst", [0, 600])
def test_qps_zero_turns_the_limit_off(burst: float) -> None:
    limiter = RateLimiter(qps=0, burst=burst)
    assert admitted(limiter, "10.0.0.1", 0.0, 10_000) == 10_000


def test_burst_below_qps_is_raised_to_qps() -> None:
    limiter = RateLimiter(qps=5, burst=1)
    assert admitted(limiter, "c", 0.0, 10) == 5


def test_many_clients_stay_bounded_and_idle_ones_start_fresh() -> None:
    limiter = RateLimiter(qps=1, burst=2, max_clients=100)
    assert admitted(limiter, "10.9.9.9", 0.0, 5) == 2
    for i in range(1000):                                  # a sweep of new addresses
        limiter.admit(f"10.0.{i // 256}.{i % 256}", 10.0 + i / 1000)
    assert len(limiter._buckets) <= 100
    # The first client, idle long enough to have refilled, has a full bucket again.
    assert admitted(limiter, "10.9.9.9", 20.0, 5) == 2
