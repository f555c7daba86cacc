"""The table's contract: every backend honours the same conditions, updates, transactions and
index semantics. A service test on the in-memory twin is only worth what this suite proves."""
from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.store import ops, schema
from chalicelib.store.ops import Check, Delete, Put, Update, eq, ge, gt, le, lt, one_of, put_new

K = ("ITEM#1", "A")


def test_a_new_item_is_written_once_and_a_second_create_changes_nothing(table):
    assert table.write(put_new(K, {"v": 1}))
    assert not table.write(put_new(K, {"v": 2}))
    assert table.get(K)["v"] == 1


def test_an_item_comes_back_with_its_keys_whole_numbers_as_int_and_none_dropped(table):
    table.write(Put(K, {"n": 10, "d": Decimal("1.5"), "s": "x", "b": True, "l": [1, "a"], "m": {"k": 2},
                        "gone": None, "ss": {"a", "b"}}))
    item = table.get(K)
    assert item == {schema.PK: K[0], schema.SK: K[1], "n": 10, "d": Decimal("1.5"), "s": "x", "b": True,
                    "l": [1, "a"], "m": {"k": 2}, "ss": {"a", "b"}}
    assert type(item["n"]) is int


def test_a_float_is_refused_before_anything_is_written(table):
    with pytest.raises(TypeError):
        table.write(Put(K, {"f": 1.5}))
    assert table.get(K) is None


@pytest.mark.parametrize("cond, expected", [
    (eq("n", 5), True), (eq("n", 6), False), (lt("n", 6), True), (lt("n", 5), False), (le("n", 5), True),
    (gt("n", 4), True), (gt("n", 5), False), (ge("n", 5), True), (eq("s", "b"), True), (lt("s", "c"), True),
    (eq("n", "5"), False),  # another type is never equal
    (lt("missing", 10), False), (eq("missing", 0), False),  # a missing attribute compares false
    (one_of("s", "a", "b"), True), (one_of("s", "x", "y"), False), (one_of("missing", 1), False),
    (ops.SizeIs("l", 2), True), (ops.SizeIs("l", 3), False),
    (ops.Absent("missing"), True), (ops.Absent("n"), False), (ops.Present("n"), True),
    (ops.ITEM_PRESENT, True), (ops.ITEM_ABSENT, False),
    (eq("n", 5) & eq("s", "b"), True), (eq("n", 5) & eq("s", "x"), False),
    (eq("n", 0) | eq("s", "b"), True), (ops.Absent("missing") | lt("n", 0), True),
    (eq("m.k", 2), True), (eq("l[1]", "a"), True), (eq("l[5]", "a"), False),
])
def test_conditions_mean_the_same_on_every_backend(table, cond, expected):
    table.write(Put(K, {"n": 5, "s": "b", "l": [1, "a"], "m": {"k": 2}}))
    assert table.write(Update(K, set={"touched": 1}, when=cond)) is expected
    assert ("touched" in table.get(K)) is expected


def test_conditions_on_an_absent_item(table):
    assert not table.write(Update(K, set={"x": 1}, when=eq("n", 0)))
    assert not table.write(Update(K, set={"x": 1}, when=ops.ITEM_PRESENT))
    assert table.get(K) is None
    assert table.write(Update(K, set={"x": 1}, when=ops.Absent("n")))
    assert table.get(K) == {schema.PK: K[0], schema.SK: K[1], "x": 1}


def test_updates_set_add_append_and_remove(table):
    table.write(Put(K, {"keep": "k", "drop": 1, "n": 2, "tags": {"a"}, "upline": [{"id": "p", "st": "active"}]}))
    table.write(Update(K, set={"s": "v", "upline[0].st": "inactive"}, set_if_absent={"keep": "no", "new": "yes"},
                       add={"n": 3, "fresh": 7, "tags": {"b"}}, append={"log": ["x"]}, remove=("drop",)))
    table.write(Update(K, append={"log": ["y"]}, add={"n": -10}))
    item = table.get(K)
    assert item["s"] == "v" and item["keep"] == "k" and item["new"] == "yes"
    assert item["n"] == -5 and item["fresh"] == 7 and item["tags"] == {"a", "b"}
    assert item["log"] == ["x", "y"] and "drop" not in item
    assert item["upline"] == [{"id": "p", "st": "inactive"}]


def test_a_transaction_is_all_or_nothing_and_names_the_failed_conditions(table):
    table.write(Put(("ITEM#2", "A"), {"v": 1}))
    attempt = [put_new(K, {"v": 1}), put_new(("ITEM#2", "A"), {"v": 2}),
               Check(("ITEM#3", "A"), ops.ITEM_ABSENT), Update(("ITEM#4", "A"), add={"n": 1})]
    with pytest.raises(ops.Cancelled) as caught:
        table.commit(attempt)
    assert caught.value.failed == (1,) and not caught.value.conflict
    assert table.get(K) is None and table.get(("ITEM#4", "A")) is None
    table.write(Put(("ITEM#5", "A"), {"v": 5}))
    table.commit([put_new(K, {"v": 1}), Check(("ITEM#2", "A"), eq("v", 1)), Update(("ITEM#4", "A"), add={"n": 1}),
                  Delete(("ITEM#5", "A"))])
    assert table.get(K)["v"] == 1 and table.get(("ITEM#4", "A"))["n"] == 1 and table.get(("ITEM#5", "A")) is None


def test_a_failed_check_cancels_the_writes_beside_it(table):
    with pytest.raises(ops.Cancelled) as caught:
        table.commit([put_new(K, {"v": 1}), Check(("ITEM#9", "A"), ops.ITEM_PRESENT)])
    assert caught.value.failed == (1,)
    assert table.get(K) is None


def test_a_transaction_may_not_touch_one_item_twice(table):
    with pytest.raises(Exception):
        table.commit([put_new(K, {"v": 1}), Update(K, add={"n": 1})])
    assert table.get(K) is None


def test_a_transaction_holds_at_most_one_hundred_operations(table):
    with pytest.raises(ops.TooLarge):
        table.commit([put_new((f"ITEM#{i}", "A"), {}) for i in range(101)])


def test_queries_by_prefix_range_direction_limit_and_projection(table):
    for sk in ("E#2026-01", "E#2026-02", "E#2026-03", "F#x", "E#2026-02#b", "E#é"):
        table.write(Put(("P", sk), {"sk": sk, "n": 1}))
    sks = lambda items: [i["sk"] for i in items]  # noqa: E731
    assert sks(table.query("P", "E#2026")) == ["E#2026-01", "E#2026-02", "E#2026-02#b", "E#2026-03"]
    assert sks(table.query("P", "E#", forward=False, limit=2)) == ["E#é", "E#2026-03"]
    assert sks(table.query("P", sk_between=("E#2026-02", "E#2026-03"))) == ["E#2026-02", "E#2026-02#b", "E#2026-03"]
    assert list(table.query("P", "F#", projection=["sk"])) == [{"sk": "F#x"}]
    assert list(table.query("nothing")) == []


def test_an_item_is_in_an_index_only_with_both_index_keys(table):
    table.write(Put(("A", "1"), {schema.GSI1PK: "LIST", schema.GSI1SK: "2", "name": "second"}))
    table.write(Put(("A", "2"), {schema.GSI1PK: "LIST", schema.GSI1SK: "1", "name": "first"}))
    table.write(Put(("A", "3"), {schema.GSI1PK: "LIST", "name": "no sort key"}))
    assert [i["name"] for i in table.query("LIST", index=schema.GSI1)] == ["first", "second"]
    table.write(Update(("A", "2"), remove=(schema.GSI1PK,)))
    assert [i["name"] for i in table.query("LIST", index=schema.GSI1)] == ["second"]
    assert table.count_where("LIST", eq("name", "second"), index=schema.GSI1) == 1


def test_batch_get_returns_only_what_exists(table):
    table.write(Put(K, {"v": 1}))
    found = table.batch_get([K, ("NOPE", "A"), K])
    assert list(found) == [K] and found[K]["v"] == 1


def test_wire_items_round_trip_for_backup_and_restore(table):
    assert table.is_empty()
    table.write(Put(K, {"n": 1, "ss": {"x"}, "m": {"a": [1, 2]}}))
    wire = list(table.scan_wire())
    assert wire and wire[0]["n"] == {"N": "1"}
    table.write(Delete(K))
    assert table.is_empty()
    table.put_wire(wire)
    assert table.get(K)["m"] == {"a": [1, 2]}
