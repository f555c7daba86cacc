"""The store's own attribute encoder writes exactly what boto3's TypeSerializer writes."""
from decimal import Decimal

from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.store.dynamo import attribute_value, encode

scalars = st.one_of(st.text(max_size=20), st.integers(min_value=-10**37, max_value=10**37), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=20)


@given(values)
def test_every_stored_type_encodes_as_boto3_encodes_it(value):
    assert attribute_value(value) == TypeSerializer().serialize(value)


def test_types_upline_does_not_store_directly_still_encode_through_boto3():
    assert attribute_value(Decimal("1.5")) == {"N": "1.5"}
    assert attribute_value({"a", "b"})["SS"] in (["a", "b"], ["b", "a"])
    assert attribute_value(None) == {"NULL": True}


def test_an_item_leaves_out_its_absent_attributes():
    assert encode({"a": "x", "b": None, "n": 3}) == {"a": {"S": "x"}, "n": {"N": "3"}}
