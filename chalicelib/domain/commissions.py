"""Where a commission is computed: level rates, compression, the cap and its allocation, reversals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .money import allocate_largest_remainder, bps_share_floor, bps_share_half_even, round_half_even
from .plans import Plan
from .tree import Node, compression_chain


@dataclass(frozen=True)
class CommissionLine:
    level: int
    partner_id: str
    rank: str
    rate_bps: int
    amount_minor: int
    capped: bool = False


def compute_commissions(amount_minor: int, partner: Node, upline: Sequence[Node], plan: Plan) -> list[CommissionLine]:
    """Commission per level for an order attributed to `partner`.

    Each level's share is rounded half-even to the minor unit. When the rounded total
    exceeds the cap (floored to the minor unit), the cap is split across the levels in
    proportion to their exact shares by largest remainder, so the parts sum to the cap.
    Levels that earn nothing are left out.
    """
    chain = compression_chain(partner, upline, plan.depth)
    rates = [plan.rate_for(level, node.rank) for level, node in enumerate(chain, start=1)]
    amounts = [bps_share_half_even(amount_minor, r) for r in rates]
    capped = False
    if plan.cap_bps is not None:
        cap = bps_share_floor(amount_minor, plan.cap_bps)
        if sum(amounts) > cap:
            # The exact shares are amount * rate / BPS: the same proportions as amount * rate.
            amounts = allocate_largest_remainder(cap, [amount_minor * r for r in rates])
            capped = True
    return [
        CommissionLine(level, node.partner_id, node.rank, rate, amount, capped)
        for level, (node, rate, amount) in enumerate(zip(chain, rates, amounts, strict=True), start=1)
        if amount > 0
    ]


def cumulative_reversal(credited_minor: int, order_minor: int, refunded_minor: int) -> int:
    """How much of one credited line is reversed once `refunded_minor` of the order is refunded.

    Cumulative, so each refund reverses the difference between two of these: the sum can
    never exceed the credit, and a full refund reverses it exactly.
    """
    if refunded_minor >= order_minor:
        return credited_minor
    return round_half_even(Decimal(credited_minor) * Decimal(refunded_minor) / Decimal(order_minor))


def reversal_amounts(credited: Sequence[int], order_minor: int, refunded_before: int, refund_minor: int) -> list[int]:
    """The positive amount each line reverses for one refund of `refund_minor`."""
    after = refunded_before + refund_minor
    return [
        cumulative_reversal(c, order_minor, after) - cumulative_reversal(c, order_minor, refunded_before)
        for c in credited
    ]
