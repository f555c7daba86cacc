"""The one bounded cache for what a warm process keeps between requests.

A Lambda process lives for hours and may see millions of distinct keys (referral codes, for one), so
nothing it keeps may grow with what it has seen: every process-level cache is an LRU with a fixed
bound. Written here rather than taken from `cachetools` because it is twenty lines of the standard
library and the Lambda bundle gains no dependency; like `cachetools`, it needs its own lock, since
settlement runs shards on threads of one process."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most `maxsize` entries; putting one more drops the least recently used."""

    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError("an LRU holds at least one entry")
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value, now the most recently used; None if absent (None is never stored)."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> V:
        if value is None:
            raise ValueError("an LRU does not store None: get() could not tell it from absent")
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            if len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
