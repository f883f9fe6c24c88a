"""The front answer cache stays within its entry and byte bounds, oldest entries first."""

from __future__ import annotations

from dns_resolver.answer_cache import ENTRY_OVERHEAD, AnswerCache


def _put(cache: AnswerCache, name: str, size: int = 100, now: float = 0.0) -> None:
    cache.put(("g", name, 1, 1, 0), bytes(12) + b"\x00" + bytes(4) + bytes(size - 17), 60,
              True, now, "blocked", "l", None)


def test_byte_bound_evicts_oldest_first() -> None:
    cache = AnswerCache(size=1_000, max_bytes=10 * (100 + ENTRY_OVERHEAD))
    for i in range(25):
        _put(cache, f"n{i}.example")
    assert len(cache) == 10 and cache.bytes <= cache.max_bytes
    assert cache.get(("g", "n24.example", 1, 1, 0), 1.0) is not None
    assert cache.get(("g", "n0.example", 1, 1, 0), 1.0) is None


def test_entry_bound_and_accounting_on_replace_expire_and_clear() -> None:
    cache = AnswerCache(size=3, max_bytes=1 << 30)
    for i in range(5):
        _put(cache, f"n{i}.example")
    assert len(cache) == 3 and cache.bytes == 3 * (100 + ENTRY_OVERHEAD)
    _put(cache, "n4.example", size=200)               # a replaced entry is counted once
    assert cache.bytes == 2 * (100 + ENTRY_OVERHEAD) + 200 + ENTRY_OVERHEAD
    assert cache.get(("g", "n4.example", 1, 1, 0), 61.0) is None   # expired
    assert cache.bytes == 2 * (100 + ENTRY_OVERHEAD)
    cache.clear()
    assert cache.bytes == 0 and len(cache) == 0
