"""The store's own attribute encoder writes exactly what boto3's TypeSerializer writes."""
from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.store.dynamo import attribute_value, encode, plain_value

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


wire_numbers = st.one_of(st.integers(min_value=-10**37, max_value=10**37).map(str),
                         st.decimals(allow_nan=False, allow_infinity=False, places=3,
                                     min_value=-10**6, max_value=10**6).map(str))
wire_scalars = st.one_of(st.text(max_size=20).map(lambda s: {"S": s}), wire_numbers.map(lambda n: {"N": n}),
                         st.booleans().map(lambda b: {"BOOL": b}), st.just({"NULL": True}))
wire_values = st.recursive(wire_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(lambda v: {"L": v}),
    st.dictionaries(st.text(max_size=8), inner, max_size=4).map(lambda v: {"M": v})), max_leaves=20)


def _boto3_plain(value):
    """What the store read before it decoded values itself: TypeDeserializer, whole numbers as int."""
    def plain(v):
        if isinstance(v, Decimal):
            return int(v) if v == v.to_integral_value() else v
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v
    return plain(TypeDeserializer().deserialize(value))


@given(wire_values)
def test_every_stored_value_decodes_as_boto3_decodes_it(value):
    decoded = plain_value(value)
    expected = _boto3_plain(value)
    assert decoded == expected
    assert type(decoded) is type(expected)


@given(values)
def test_an_encoded_value_decodes_to_itself(value):
    assert plain_value(attribute_value(value)) == value


def test_numbers_that_are_not_plain_digits_decode_as_boto3_decodes_them():
    for raw in ("1E+2", "-0", "-12", "5.000", "0.25"):
        assert plain_value({"N": raw}) == _boto3_plain({"N": raw}), raw
