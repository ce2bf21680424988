"""ByteLRU: a cache bounded by bytes that evicts the least recently used first."""

from __future__ import annotations

import pytest

from tdm_desktop.ui.thumbnails.cache import ByteLRU


def make(budget: int, evicted: list | None = None) -> ByteLRU[str, bytes]:
    on_evict = (lambda key, value: evicted.append(key)) if evicted is not None else None
    return ByteLRU(budget, len, on_evict)


def test_evicts_least_recently_used_to_stay_in_budget():
    evicted: list[str] = []
    cache = make(10, evicted)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # "a" is now the most recent
    cache.put("c", b"1234")

    assert evicted == ["b"]
    assert list(cache) == ["a", "c"]
    assert cache.total_bytes() == 8 <= cache.budget_bytes()
    assert cache.get("b") is None


def test_a_value_larger_than_the_budget_is_not_kept():
    cache = make(4)
    cache.put("small", b"12")
    assert cache.put("huge", b"12345") is False
    assert "huge" not in cache and "small" in cache
    assert cache.total_bytes() == 2


def test_replacing_a_key_counts_its_new_size_once():
    cache = make(10)
    cache.put("a", b"123456")
    cache.put("a", b"12")
    assert cache.total_bytes() == 2 and len(cache) == 1


def test_peek_and_touch_and_pop():
    cache = make(8)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.peek("a") == b"1234"  # peek does not refresh "a"
    cache.touch("b")
    cache.put("c", b"1234")
    assert list(cache) == ["b", "c"]
    assert cache.pop("b") == b"1234" and cache.pop("b") is None
    assert cache.total_bytes() == 4


def test_shrinking_the_budget_evicts_and_clear_empties():
    evicted: list[str] = []
    cache = make(100, evicted)
    for key in "abcde":
        cache.put(key, b"x" * 10)
    cache.set_budget(25)
    assert evicted == ["a", "b", "c"] and cache.total_bytes() == 20
    cache.clear()
    assert len(cache) == 0 and cache.total_bytes() == 0
    with pytest.raises(ValueError, match="cache budget -1"):
        cache.set_budget(-1)
