"""What a warm process keeps between requests is bounded: the LRU, and the referral-code cache on it."""
from __future__ import annotations

from collections import OrderedDict

import pytest
from hypothesis import given, strategies as st

from chalicelib.lru import LRU
from chalicelib.store.repository import CODE_CACHE_SIZE, Repository

OPS = st.lists(st.tuples(st.sampled_from(["put", "get"]), st.integers(0, 40)), max_size=300)


@given(bound=st.integers(1, 12), ops=OPS)
def test_an_lru_never_holds_more_than_its_bound_and_drops_the_least_recently_used(bound, ops):
    lru: LRU[int, str] = LRU(bound)
    model: OrderedDict[int, str] = OrderedDict()  # the rule, written out: most recent last
    for op, key in ops:
        if op == "put":
            lru.put(key, f"v{key}")
            model[key] = f"v{key}"
            model.move_to_end(key)
            if len(model) > bound:
                model.popitem(last=False)
        else:
            assert lru.get(key) == model.get(key)
            if key in model:
                model.move_to_end(key)
        assert len(lru) <= bound
        assert len(lru) == len(model)
    assert all(lru.get(k) == v for k, v in list(model.items()))


def test_a_read_keeps_an_entry_from_being_dropped():
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "b" is now the least recently used
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (1, None, 3)


def test_an_lru_refuses_a_bound_below_one_and_a_none_value():
    with pytest.raises(ValueError):
        LRU(0)
    with pytest.raises(ValueError):
        LRU(3).put("k", None)


class CodeTable:
    """Just enough of store.dynamo.Table for resolve_code: every code exists; reads are counted."""

    def __init__(self):
        self.reads = 0

    def get(self, key, consistent=True):
        self.reads += 1
        code = key[0].partition("#")[2]  # CODE#<code>
        return {"code": code, "kind": "link", "partner_id": "P-X", "destination": "https://shop.example.com/p"}


def test_a_warm_process_keeps_at_most_its_bound_of_codes_and_still_skips_the_read_for_a_hot_one():
    table = CodeTable()
    repo = Repository(table, code_cache_size=100)
    for i in range(1000):
        repo.resolve_code("HOT")  # a link clicked all the time
        repo.resolve_code(f"C{i:05d}")  # and a thousand seen once each
        assert len(repo._codes) <= 100
    assert table.reads == 1 + 1000  # HOT was read once, then always served from the cache
    assert repo.cached_code("hot") is not None and repo.cached_code("C00000") is None


def test_the_code_cache_is_bounded_by_default():
    assert Repository(CodeTable())._codes.maxsize == CODE_CACHE_SIZE <= 50_000
