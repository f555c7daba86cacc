from decimal import Decimal

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.money import allocate_largest_remainder, check_amount, check_currency, format_minor


def test_largest_remainder_gives_leftover_units_to_the_biggest_remainders():
    assert allocate_largest_remainder(10, [Decimal(1)] * 3) == [4, 3, 3]
    assert allocate_largest_remainder(100, [Decimal("0.5"), Decimal("0.3"), Decimal("0.2")]) == [50, 30, 20]


def test_largest_remainder_of_zero_weights_is_all_zero():
    assert allocate_largest_remainder(7, [Decimal(0), Decimal(0)]) == [0, 0]


@pytest.mark.parametrize("bad", [0, -1, 10**12, True, 1.5, "100"])
def test_amounts_must_be_positive_whole_minor_units_within_reason(bad):
    with pytest.raises(InvalidInput):
        check_amount(bad)


def test_unknown_currency_is_refused():
    with pytest.raises(InvalidInput) as e:
        check_currency("XYZ")
    assert e.value.code == "unknown_currency"
    assert check_currency("USD") == "USD"


def test_format_minor_respects_the_currency_exponent():
    assert format_minor(1200, "USD") == "12.00 USD"
    assert format_minor(-5, "USD") == "-0.05 USD"
    assert format_minor(1200, "JPY") == "1200 JPY"
