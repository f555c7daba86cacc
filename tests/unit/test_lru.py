"""What a warm process keeps between requests is bounded: the LRU, and the referral-code cache on it."""
from __future__ import annotations

import ast
from collections import OrderedDict
from pathlib import Path

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


def test_no_function_in_the_product_caches_without_a_bound():
    """functools.cache and lru_cache(maxsize=None) keep every distinct argument forever."""
    root = Path(__file__).resolve().parents[2] / "chalicelib"
    unbounded = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for deco in getattr(node, "decorator_list", []):
                name = ast.unparse(deco.func if isinstance(deco, ast.Call) else deco)
                if name.split(".")[-1] == "cache":
                    unbounded.append(f"{path.name}:{node.lineno} @{name}")
                if name.split(".")[-1] == "lru_cache" and isinstance(deco, ast.Call):
                    size = next((k.value for k in deco.keywords if k.arg == "maxsize"),
                                deco.args[0] if deco.args else None)
                    if isinstance(size, ast.Constant) and size.value is None:
                        unbounded.append(f"{path.name}:{node.lineno} @{ast.unparse(deco)}")
    assert not unbounded, unbounded
