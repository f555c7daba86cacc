"""The order path's integer share arithmetic gives exactly what the Decimal rules give."""
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.money import (
    MAX_AMOUNT_MINOR, allocate_largest_remainder, apply_bps, bps_share_floor, bps_share_half_even, floor_units,
    round_half_even,
)

amounts = st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR)
rates = st.integers(min_value=0, max_value=10_000)


@given(amounts, rates)
def test_integer_half_even_share_equals_the_decimal_rounding(amount, bps):
    assert bps_share_half_even(amount, bps) == round_half_even(apply_bps(amount, bps))


@given(amounts, rates)
def test_integer_floor_share_equals_the_decimal_floor(amount, bps):
    assert bps_share_floor(amount, bps) == floor_units(apply_bps(amount, bps))


def test_half_even_rounds_ties_to_the_even_unit():
    assert bps_share_half_even(5, 1000) == 0   # 0.5 -> 0
    assert bps_share_half_even(15, 1000) == 2  # 1.5 -> 2
    assert bps_share_half_even(25, 1000) == 2  # 2.5 -> 2
    assert bps_share_half_even(26, 1000) == 3  # 2.6 -> 3


@given(st.integers(min_value=1, max_value=10**9), st.lists(rates, min_size=1, max_size=10),
       st.integers(min_value=0, max_value=10_000))
def test_splitting_the_cap_by_integer_shares_matches_splitting_by_decimal_shares(amount, level_rates, cap_bps):
    cap = bps_share_floor(amount, cap_bps)
    by_int = allocate_largest_remainder(cap, [amount * r for r in level_rates])
    by_decimal = allocate_largest_remainder(cap, [apply_bps(amount, r) for r in level_rates])
    assert by_int == by_decimal
    assert sum(by_int) == (cap if any(level_rates) else 0)


def test_integer_weights_break_ties_towards_the_earlier_position():
    assert allocate_largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate_largest_remainder(7, [0, 0]) == [0, 0]
    assert allocate_largest_remainder(10, [Decimal(1)] * 3) == [4, 3, 3]
