"""A least-recently-used cache bounded by bytes, not by entry count (no Qt, no threads).

Not ``cachetools.LRUCache(maxsize, getsizeof=...)``, which bounds by size too: the loader also
needs a look that does not refresh an entry (painting must not reorder the cache) and a budget
that changes while the app runs (Settings…); cachetools has no such look and keeps ``maxsize``
read-only (a new budget would mean a new cache, refilled in an order it keeps private), so the
adapter would be longer than this class.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteLRU(Generic[K, V]):
    """Keeps the most recently used values whose sizes add up to at most ``budget_bytes``.

    ``sizeof(value)`` gives a value's cost in bytes. A value larger than the whole budget is not
    kept at all (``put`` returns ``False``), so ``total_bytes() <= budget_bytes()`` always holds.
    ``on_evict(key, value)`` is called for every entry that leaves the cache other than by ``pop``
    or ``clear``. Not thread-safe: use it from one thread.
    """

    def __init__(
        self,
        budget_bytes: int,
        sizeof: Callable[[V], int],
        on_evict: Callable[[K, V], None] | None = None,
    ) -> None:
        if budget_bytes < 0:
            raise ValueError(f"cache budget {budget_bytes}: must be >= 0 bytes")
        self._budget = budget_bytes
        self._sizeof = sizeof
        self._on_evict = on_evict
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._total = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[K]:
        """Keys from least to most recently used."""
        return iter(list(self._entries))

    def budget_bytes(self) -> int:
        return self._budget

    def total_bytes(self) -> int:
        return self._total

    def get(self, key: K) -> V | None:
        """The value, marked as just used; ``None`` if absent."""
        item = self._entries.get(key)
        if item is None:
            return None
        self._entries.move_to_end(key)
        return item[0]

    def peek(self, key: K) -> V | None:
        """The value without changing its age."""
        item = self._entries.get(key)
        return None if item is None else item[0]

    def touch(self, key: K) -> None:
        if key in self._entries:
            self._entries.move_to_end(key)

    def put(self, key: K, value: V) -> bool:
        """Store ``value`` as the most recent entry, evicting the oldest to stay in budget."""
        self.pop(key)
        cost = self._sizeof(value)
        if cost > self._budget:
            return False
        self._entries[key] = (value, cost)
        self._total += cost
        self._evict_to(self._budget)
        return True

    def pop(self, key: K) -> V | None:
        item = self._entries.pop(key, None)
        if item is None:
            return None
        self._total -= item[1]
        return item[0]

    def clear(self) -> None:
        self._entries.clear()
        self._total = 0

    def set_budget(self, budget_bytes: int) -> None:
        if budget_bytes < 0:
            raise ValueError(f"cache budget {budget_bytes}: must be >= 0 bytes")
        self._budget = budget_bytes
        self._evict_to(budget_bytes)

    def _evict_to(self, limit: int) -> None:
        while self._total > limit and self._entries:
            key, (value, cost) = self._entries.popitem(last=False)
            self._total -= cost
            if self._on_evict is not None:
                self._on_evict(key, value)
