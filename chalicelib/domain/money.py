"""Money is an integer count of minor units plus an ISO 4217 code. Rates are basis points."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from .errors import InvalidInput

# Minor-unit exponent per currency the program accepts (ISO 4217). A unit test holds each to the
# ISO table below, so the accepted list and the exponents cannot drift apart.
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CNY": 2,
    "HKD": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "JPY": 0,
    "KRW": 0,
    "TWD": 2,
}

BPS = 10_000
# One hundred million major units: no real order is larger, so anything above is a typo or an attack.
MAX_AMOUNT_MINOR = 10_000_000_000


def check_currency(code: str, allowed: frozenset[str] | None = None) -> str:
    if code not in CURRENCY_EXPONENTS or (allowed is not None and code not in allowed):
        raise InvalidInput(f"unknown or unsupported currency {code!r}", code="unknown_currency")
    return code


# The ISO 4217 list itself (SIX's table, shipped by the `iso4217` package) is read on first use:
# parsing it costs a noticeable part of a cold start, and only amounts that arrive as decimal
# strings (shops' webhooks) need it. A fixed-size table, so holding it is no unbounded cache.
_ISO_EXPONENTS: dict[str, int] | None = None


def iso_exponent(code: str) -> int:
    """The ISO 4217 minor-unit exponent of a currency (JPY 0, USD 2, KWD 3, CLF 4)."""
    global _ISO_EXPONENTS
    if _ISO_EXPONENTS is None:
        import iso4217  # deferred on purpose, see above

        _ISO_EXPONENTS = {c.code: c.exponent for c in iso4217.Currency if c.exponent is not None}
    exponent = _ISO_EXPONENTS.get(code) if isinstance(code, str) else None
    if exponent is None:  # unknown, or a fund or metal with no minor unit (XAU, XDR)
        raise InvalidInput(f"{code!r} is not an ISO 4217 currency with minor units", code="unknown_currency")
    return exponent


# A plain decimal in major units as shops send it: "398.00", "-10.00", "1500". No exponent,
# sign "+", separators or spaces; the digit limits keep a hostile string from costing anything.
_DECIMAL = re.compile(r"(-?)([0-9]{1,15})(?:\.([0-9]{1,15}))?")


def minor_units(amount: str, currency: str) -> int:
    """An exact count of minor units for a decimal string by the currency's ISO 4217 exponent:
    "398.00" USD -> 39800, "1500" JPY -> 1500, "1.234" KWD -> 1234. Trailing zeros beyond the
    exponent are exact ("1500.00" JPY -> 1500); any other digit there is refused ("398.001" USD),
    never rounded."""
    exponent = iso_exponent(currency)
    match = _DECIMAL.fullmatch(amount) if isinstance(amount, str) else None
    if match is None:
        raise InvalidInput(f"{amount!r} is not a decimal amount", code="invalid_amount")
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    kept, rest = fraction[:exponent], fraction[exponent:]
    if rest.strip("0"):
        raise InvalidInput(
            f"{amount} {currency} has more decimals than the currency's {exponent}", code="inexact_amount"
        )
    units = int(whole) * 10**exponent + int(kept.ljust(exponent, "0") or "0")
    return -units if sign else units


def rescale_minor(amount_minor: int, from_exponent: int, to_exponent: int) -> int:
    """An integer amount counted with one exponent re-counted with another, exactly or refused
    (a processor that counts ISK in hundredths, ISO counts whole kronur)."""
    if to_exponent >= from_exponent:
        return amount_minor * 10 ** (to_exponent - from_exponent)
    quotient, remainder = divmod(amount_minor, 10 ** (from_exponent - to_exponent))
    if remainder:
        raise InvalidInput(f"{amount_minor} does not convert exactly to exponent {to_exponent}", code="inexact_amount")
    return quotient


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
