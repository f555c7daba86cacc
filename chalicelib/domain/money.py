"""Money is an integer count of minor units plus an ISO 4217 code. Rates are basis points."""
from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Sequence

from .errors import InvalidInput

# Minor-unit exponent per currency the program accepts (ISO 4217).
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CNY": 2, "HKD": 2, "SGD": 2, "AUD": 2,
    "CAD": 2, "CHF": 2, "JPY": 0, "KRW": 0, "TWD": 2,
}

BPS = 10_000
# One hundred million major units: no real order is larger, so anything above is a typo or an attack.
MAX_AMOUNT_MINOR = 10_000_000_000


def check_currency(code: str, allowed: frozenset[str] | None = None) -> str:
    if code not in CURRENCY_EXPONENTS or (allowed is not None and code not in allowed):
        raise InvalidInput(f"unknown or unsupported currency {code!r}", code="unknown_currency")
    return code


def check_amount(amount_minor: int) -> int:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise InvalidInput("amount_minor must be an integer count of minor units", code="invalid_amount")
    if amount_minor <= 0:
        raise InvalidInput("amount_minor must be positive", code="invalid_amount")
    if amount_minor > MAX_AMOUNT_MINOR:
        raise InvalidInput("amount_minor is larger than any order this program accepts", code="invalid_amount")
    return amount_minor


def apply_bps(amount_minor: int, bps: int) -> Decimal:
    """The exact (unrounded) share of an amount at a rate in basis points."""
    return Decimal(amount_minor) * Decimal(bps) / Decimal(BPS)


def round_half_even(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def floor_units(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


# The order path works on exact shares kept as integers: amount_minor * bps is the share in
# 1/10000 of a minor unit, so rounding and the cap need no Decimal (and no float) at all.
def bps_share_half_even(amount_minor: int, bps: int) -> int:
    """round_half_even(apply_bps(amount_minor, bps)) for a non-negative amount, in integers."""
    quotient, remainder = divmod(amount_minor * bps, BPS)
    if 2 * remainder > BPS or (2 * remainder == BPS and quotient % 2 == 1):
        quotient += 1
    return quotient


def bps_share_floor(amount_minor: int, bps: int) -> int:
    """floor_units(apply_bps(amount_minor, bps)), in integers."""
    return amount_minor * bps // BPS


def allocate_largest_remainder(total: int, weights: Sequence[Decimal | int]) -> list[int]:
    """Split `total` minor units in proportion to `weights` so the parts sum exactly to `total`.

    Each part is floored, then the units left over go one each to the largest remainders;
    ties go to the earlier position (the lower level), so the result is deterministic.
    Integer weights are split in exact integer arithmetic.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    if weights and all(type(w) is int for w in weights):
        return _allocate_exact(total, list(weights))  # type: ignore[arg-type]
    weight_sum = sum(weights, Decimal(0))
    if not weights or weight_sum == 0:
        return [0] * len(weights)
    exact = [Decimal(total) * w / weight_sum for w in weights]
    parts = [floor_units(x) for x in exact]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def _allocate_exact(total: int, weights: list[int]) -> list[int]:
    weight_sum = sum(weights)
    if weight_sum == 0:
        return [0] * len(weights)
    split = [divmod(total * w, weight_sum) for w in weights]
    parts = [q for q, _ in split]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-split[i][1], i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def format_minor(amount_minor: int, currency: str) -> str:
    """'12.00 USD' — for logs and messages, never for arithmetic."""
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    units = abs(amount_minor)
    if exp == 0:
        return f"{sign}{units} {currency}"
    major, minor = divmod(units, 10**exp)
    return f"{sign}{major}.{minor:0{exp}d} {currency}"
