"""Partners' coupon codes: what a code may be, how many a partner may make, and when a code has leaked.

A partner's coupon code lives in the one code namespace with referral and link codes (store/keys.code),
so it is unique across the program and case-insensitive (codes are kept upper case). An order that
carries one is attributed to its partner (domain/attribution.py: click, coupon, referral code, binding).

A coupon code is meant for the partner's own audience. One that turns up on a coupon-sharing site is
used by many unrelated customers in a short time; such a code is flagged for an admin's review. The
count is taken off the order path (services/coupons.py, from the table's stream), so a viral code
never becomes an item every order writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .errors import InvalidInput, Unprocessable
from .partners import check_code
from .rewards import MEMBER_COUPON_PREFIXES


def check_coupon_code(code: str) -> str:
    """The code as stored (upper case), or InvalidInput. Members' coupons own their prefixes."""
    code = check_code(code)
    if code.startswith(MEMBER_COUPON_PREFIXES):
        raise InvalidInput(
            f"codes beginning with {' or '.join(MEMBER_COUPON_PREFIXES)} are members' coupons", code="code_reserved"
        )
    return code


@dataclass(frozen=True)
class CouponLimits:
    per_partner: int = 5  # codes a partner may make for itself (an admin may give it more)

    def refusal(self, made: int) -> Unprocessable | None:
        if made >= self.per_partner:
            return Unprocessable(
                f"a partner may make at most {self.per_partner} coupon codes itself; ask an admin for more",
                code="coupon_limit",
            )
        return None


@dataclass(frozen=True)
class LeakRule:
    """A code used by `customers` or more distinct customers within one window of `window` is leaked."""

    customers: int = 25
    window: timedelta = timedelta(hours=24)

    def window_of(self, at: datetime) -> datetime:
        """The start of the window an order's use falls in (fixed windows from the epoch, UTC)."""
        seconds = int(self.window.total_seconds())
        return datetime.fromtimestamp(int(at.timestamp()) // seconds * seconds, tz=UTC)

    def leaked(self, distinct_customers: int) -> bool:
        return distinct_customers >= self.customers
