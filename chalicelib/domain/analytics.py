"""Program KPIs, computed incrementally: how what the stream tells about one person (a shop customer,
member or not) or one partner maps to aggregate cells, and how the KPIs are read off the aggregates.

The idea. Every distinct count ("member M active in week W", "buyer B repurchased in month M") is
a property of one subject. A subject's analytics state (its orders, invites, tier history...) is
merged from stream records idempotently (orders by id, refunds by their running total, the tier by
the member item's sequence mark), and the subject's *contribution* to every aggregate cell is a pure
function of that state (`contributions`). The stream consumer writes the new state and the
difference of contributions in one transaction, conditioned on the state it read: a redelivered or
overlapping record merges to the same state, so it adds nothing. The aggregates are thus exactly the
sum of every subject's contribution, which is what the tests recompute from the raw history.

Cells are `(item, attribute)`; the items are:
- `M#{YYYY-MM}`: currency-free member and partner figures of a month (ISO weeks of that month too);
- `C#{cur}#{YYYY-MM}`: a currency's orders, buyers, revenue and costs of a month;
- `J#{YYYY-MM}`: the cohort of members who joined that month (size, active and revenue per month);
- `T`: running totals (members per tier now);
- `P#{cur}#{YYYY-MM}`: attributed net revenue per partner in a month (the top partners);
- `R#{YYYY-MM}`: the members' rewards ledger of a month, per kind and unit (points, credit).

KPI definitions (all dates UTC):
- new members (month M): members whose profile was created in M.
- active members (ISO week W, labelled `YYYY-Www`, stored in the month of W's Monday): members with
  at least one order placed as a member, or one accepted invite (a friend registered with their
  code, not refused), in W. Monthly activity (for retention) is the same rule over a month.
- retention (cohort J, month M >= J): members who joined in J and were active in M, divided by the
  members who joined in J. The table has one row per join month, one column per months since joining.
- lifetime value (cohort J, at the end of year Y): the net revenue (order amounts less refunds, in
  the report's currency, counted in the month the order was placed) of the orders cohort J's members
  placed as members up to the end of Y, divided by the cohort's size.
- repurchase rate (month M, currency): buyers (distinct customers with an order in M in that
  currency) who have at least two orders in that currency placed by the end of M, over the buyers of
  M. Members: the buyers with at least one order in M placed as a member; non-members: the others.
- average order value (month M, currency): gross order amount over the number of orders placed in
  M; members' orders are the ones placed as a member.
- members per tier (end of month M) and tier moves (month M): a move is a change of the member's
  stored tier, up or down by the tier order, dated by when it changed.
- partners: new = enrolled in M; active = at least one attributed order placed in M; attributed
  revenue = gross amount of orders placed in M attributed to a partner, less their refunds;
  commissions = the commission lines those orders credited when placed; bonuses = bonus entries
  dated in M; clawback rate = commissions reversed (reversal entries) dated in M over the
  commissions credited by orders placed in M; cost of sales = (commissions + bonuses) / attributed revenue;
  top partners = the partners with the most attributed net revenue in the period.
- rewards (month M, per unit: points, credit in the program currency's minor units): issued,
  redeemed, expired and clawed back = the entries of the members' rewards ledger of that kind dated
  in M (an earned reward is in the ledger once the daily job or a redemption has written it down);
  outstanding at the end of M = issued less redeemed, expired and clawed back, all time to the end
  of M; liability = outstanding points x the point value of the reward program in force now, plus
  outstanding credit; breakage (M) = expired / (redeemed + expired) in M, per unit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from .tiers import TIERS, rank

Cell = tuple[str, str]
TOTAL = "T"


# ---- periods ----------------------------------------------------------------------------------


def month_of(day: str) -> str:
    return day[:7]


def week_of(day: str) -> str:
    """`2026-W05` for an ISO date."""
    y, w, _ = date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


def week_monday(week: str) -> date:
    y, w = week.split("-W")
    return date.fromisocalendar(int(y), int(w), 1)


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` (YYYY-MM), both included."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def months_apart(a: str, b: str) -> int:
    return (int(b[:4]) - int(a[:4])) * 12 + int(b[5:7]) - int(a[5:7])


def weeks_starting_in(months: list[str]) -> list[str]:
    """The ISO weeks whose Monday falls in one of `months` (in order)."""
    if not months:
        return []
    d = date.fromisoformat(months[0] + "-01")
    d += timedelta(days=(7 - d.weekday()) % 7)
    out = []
    while d.isoformat()[:7] <= months[-1]:
        out.append(week_of(d.isoformat()))
        d += timedelta(days=7)
    return out


def day_of(at: datetime | str) -> str:
    return (at if isinstance(at, str) else at.isoformat())[:10]


# ---- a person's state -------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFacts:
    day: str  # the order's UTC date
    currency: str
    amount: int  # gross, minor units
    refunded: int  # refunded so far (a running total, it only grows)
    member: bool  # placed as a member
    partner: str = ""  # the partner it was attributed to, if any
    commission: int = 0  # the commission lines it credited when placed


@dataclass(frozen=True)
class Person:
    """One customer's analytics state (a member or not: the id is the member id its hash gives)."""

    joined: str | None = None  # the day its member profile was created
    orders: Mapping[str, OrderFacts] = field(default_factory=dict)
    invites: Mapping[str, str] = field(default_factory=dict)  # friend member id -> day the friend joined
    tiers: tuple[tuple[str, str], ...] = ()  # (day, tier): the tier at joining, then each change
    tier_mark: str = ""  # sequence number of the last member-item record taken in
    reward_mark: str = ""  # sequence number of the last rewards-ledger entry taken in


def with_order(p: Person, order_id: str, o: OrderFacts) -> Person:
    """An order as its item tells it (placed, or refunded up to a total): refunds only grow."""
    old = p.orders.get(order_id)
    if old is not None:
        o = replace(old, refunded=max(old.refunded, o.refunded))
    return replace(p, orders={**p.orders, order_id: o})


def with_profile(p: Person, joined_day: str, tier: str, tier_day: str, seq: str) -> Person:
    """The member's profile as one stream record tells it (its creation or a later change)."""
    p = replace(p, joined=p.joined or joined_day)
    if seq <= p.tier_mark:
        return p  # taken in already
    tiers = p.tiers or ((joined_day, tier),)
    if tiers[-1][1] != tier:
        tiers = (*tiers, (tier_day, tier))
    return replace(p, tiers=tiers, tier_mark=seq)


def with_invite(p: Person, friend_id: str, day: str) -> Person:
    return p if friend_id in p.invites else replace(p, invites={**p.invites, friend_id: day})


def reward_cells(kind: str, unit: str, amount: int, day: str) -> list[tuple[Cell, int]]:
    """What one rewards-ledger entry adds (additive: taken in once, by the member's reward mark)."""
    return [
        ((f"R#{month_of(day)}", f"{kind}_{unit}"), abs(amount)),
        ((f"R#{month_of(day)}", f"net_{unit}"), amount),
        ((TOTAL, f"bal_{unit}"), amount),
    ]


def activity_days(p: Person) -> set[str]:
    return {o.day for o in p.orders.values() if o.member} | set(p.invites.values())


def contributions(p: Person) -> Counter[Cell]:
    """What this person adds to every aggregate cell, from its whole state (see the module's doc)."""
    c: Counter[Cell] = Counter()
    jm = month_of(p.joined) if p.joined else None
    if jm:
        c[(f"M#{jm}", "new_members")] += 1
        c[(f"J#{jm}", "size")] += 1
    days = activity_days(p)
    for w in {week_of(d) for d in days}:
        c[(f"M#{week_monday(w).isoformat()[:7]}", f"wk_{w}")] += 1
    for m in {month_of(d) for d in days}:
        c[(f"M#{m}", "active")] += 1
        if jm:
            c[(f"J#{jm}", f"act_{m}")] += 1
    by_cur: dict[str, list[OrderFacts]] = {}
    for o in p.orders.values():
        by_cur.setdefault(o.currency, []).append(o)
        item = f"C#{o.currency}#{month_of(o.day)}"
        c[(item, "orders")] += 1
        c[(item, "gross")] += o.amount
        c[(item, "refunds")] += o.refunded
        if o.member:
            c[(item, "m_orders")] += 1
            c[(item, "m_gross")] += o.amount
            if jm:
                c[(f"J#{jm}", f"rev_{o.currency}_{month_of(o.day)}")] += o.amount - o.refunded
        if o.partner:
            c[(item, "attr_gross")] += o.amount
            c[(item, "attr_refunds")] += o.refunded
            c[(item, "commissions")] += o.commission
            c[(f"P#{o.currency}#{month_of(o.day)}", o.partner)] += o.amount - o.refunded
    for cur, orders in by_cur.items():
        months = sorted({month_of(o.day) for o in orders})
        for m in months:
            item = f"C#{cur}#{m}"
            repeat = sum(1 for o in orders if month_of(o.day) <= m) >= 2
            as_member = any(o.member for o in orders if month_of(o.day) == m)
            c[(item, "buyers")] += 1
            c[(item, "repeaters")] += repeat
            c[(item, "m_buyers")] += as_member
            c[(item, "m_repeaters")] += as_member and repeat
    if p.tiers:
        c[(TOTAL, f"tier_{p.tiers[-1][1]}")] += 1
        c[(f"M#{month_of(p.tiers[0][0])}", f"net_{p.tiers[0][1]}")] += 1
        for (_, before), (day, after) in zip(p.tiers, p.tiers[1:], strict=False):
            item = f"M#{month_of(day)}"
            c[(item, "tier_up" if rank(after) > rank(before) else "tier_down")] += 1
            c[(item, f"net_{after}")] += 1
            c[(item, f"net_{before}")] -= 1
    return c


# ---- a partner's state ------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerFacts:
    joined: str | None = None  # the day it was enrolled
    active: frozenset[str] = frozenset()  # months with an attributed order placed in them


def partner_contributions(p: PartnerFacts) -> Counter[Cell]:
    c: Counter[Cell] = Counter()
    if p.joined:
        c[(f"M#{month_of(p.joined)}", "new_partners")] += 1
    for m in p.active:
        c[(f"M#{m}", "active_partners")] += 1
    return c


def difference(new: Counter[Cell], old: Counter[Cell]) -> dict[Cell, int]:
    """new - old, cell by cell, without the zeros (Counter subtraction would drop negatives)."""
    out = {k: new.get(k, 0) - old.get(k, 0) for k in set(new) | set(old)}
    return {k: v for k, v in out.items() if v}


def by_item(deltas: Iterable[tuple[Cell, int]]) -> dict[str, dict[str, int]]:
    """Sum cell deltas into one map of attribute deltas per item."""
    out: dict[str, dict[str, int]] = {}
    for (item, attr), v in deltas:
        d = out.setdefault(item, {})
        d[attr] = d.get(attr, 0) + v
    return {i: {a: v for a, v in d.items() if v} for i, d in out.items() if any(d.values())}


# ---- KPIs from aggregates ---------------------------------------------------------------------

Items = Mapping[str, Mapping[str, int]]  # item id -> its attributes (missing item: {})


def ratio(num: int, den: int) -> str | None:
    """A share as a decimal string with 4 places, or None when there is nothing to divide by."""
    if not den:
        return None
    return str((Decimal(num) / Decimal(den)).quantize(Decimal("0.0001")))


def _get(items: Items, item: str, attr: str) -> int:
    return int((items.get(item) or {}).get(attr, 0))


def members_kpis(items: Items, months: list[str], currency: str, later: list[str]) -> dict[str, list[dict]]:
    """Every member KPI for `months` (YYYY-MM, in order); `later` are the months after the last one up
    to now (members per tier at a month's end = the running totals less the later moves)."""
    monthly = []
    for m in months:
        c = f"C#{currency}#{m}"
        orders, m_orders = _get(items, c, "orders"), _get(items, c, "m_orders")
        gross, m_gross = _get(items, c, "gross"), _get(items, c, "m_gross")
        buyers, m_buyers = _get(items, c, "buyers"), _get(items, c, "m_buyers")
        rep, m_rep = _get(items, c, "repeaters"), _get(items, c, "m_repeaters")
        monthly.append(
            {
                "month": m,
                "new_members": _get(items, f"M#{m}", "new_members"),
                "active_members": _get(items, f"M#{m}", "active"),
                "buyers": buyers,
                "repeat_buyers": rep,
                "repurchase_rate": ratio(rep, buyers),
                "member_repurchase_rate": ratio(m_rep, m_buyers),
                "non_member_repurchase_rate": ratio(rep - m_rep, buyers - m_buyers),
                "orders": orders,
                "aov_minor": gross // orders if orders else None,
                "member_aov_minor": m_gross // m_orders if m_orders else None,
                "non_member_aov_minor": (gross - m_gross) // (orders - m_orders) if orders - m_orders else None,
                "tier_up": _get(items, f"M#{m}", "tier_up"),
                "tier_down": _get(items, f"M#{m}", "tier_down"),
            }
        )
    weekly = [
        {"week": w, "active_members": _get(items, f"M#{week_monday(w).isoformat()[:7]}", f"wk_{w}")}
        for w in weeks_starting_in(months)
    ]
    tiers = []
    for i, m in enumerate(months):
        after = months[i + 1 :] + later
        tiers.append(
            {
                "month": m,
                **{
                    t: _get(items, TOTAL, f"tier_{t}") - sum(_get(items, f"M#{x}", f"net_{t}") for x in after)
                    for t in TIERS
                },
            }
        )
    retention, ltv = [], []
    for j in months:
        size = _get(items, f"J#{j}", "size")
        row: dict = {"cohort": j, "size": size}
        for m in months[months.index(j) :] + later:
            row[f"m{months_apart(j, m)}"] = ratio(_get(items, f"J#{j}", f"act_{m}"), size)
        retention.append(row)
        years = sorted({m[:4] for m in months[months.index(j) :] + later})
        life = 0
        lrow: dict = {"cohort": j, "size": size}
        for y in years:
            life += sum(
                _get(items, f"J#{j}", f"rev_{currency}_{m}") for m in months_between(j, f"{y}-12") if m[:4] == y
            )
            lrow[y] = life // size if size else None
        ltv.append(lrow)
    return {"monthly": monthly, "weekly": weekly, "tiers": tiers, "retention": retention, "ltv": ltv}


def rewards_kpis(items: Items, months: list[str], later: list[str], point_value_minor: int) -> dict[str, list[dict]]:
    """Rewards per month; `later` as in members_kpis (outstanding = running balance less later nets)."""
    monthly = []
    for i, m in enumerate(months):
        row: dict = {"month": m}
        after = months[i + 1 :] + later
        for unit in ("points", "credit"):
            r = f"R#{m}"
            redeemed, expired = _get(items, r, f"redeem_{unit}"), _get(items, r, f"expire_{unit}")
            row[f"{unit}_issued"] = _get(items, r, f"earn_{unit}")
            row[f"{unit}_redeemed"] = redeemed
            row[f"{unit}_expired"] = expired
            row[f"{unit}_clawed_back"] = _get(items, r, f"clawback_{unit}")
            row[f"{unit}_outstanding"] = _get(items, TOTAL, f"bal_{unit}") - sum(
                _get(items, f"R#{x}", f"net_{unit}") for x in after
            )
            row[f"{unit}_breakage"] = ratio(expired, redeemed + expired)
        row["liability_minor"] = row["points_outstanding"] * point_value_minor + row["credit_outstanding"]
        monthly.append(row)
    return {"monthly": monthly}


def partners_kpis(items: Items, months: list[str], currency: str, top: int = 10) -> dict[str, list[dict]]:
    monthly = []
    totals: Counter[str] = Counter()
    for m in months:
        c, mm = f"C#{currency}#{m}", f"M#{m}"
        revenue = _get(items, c, "attr_gross") - _get(items, c, "attr_refunds")
        commissions, bonuses = _get(items, c, "commissions"), _get(items, c, "bonuses")
        monthly.append(
            {
                "month": m,
                "new_partners": _get(items, mm, "new_partners"),
                "active_partners": _get(items, mm, "active_partners"),
                "attributed_revenue_minor": revenue,
                "commissions_minor": commissions,
                "bonuses_minor": bonuses,
                "cost_of_sales": ratio(commissions + bonuses, revenue),
                "clawback_rate": ratio(_get(items, c, "reversed"), commissions),
            }
        )
        totals.update({k: int(v) for k, v in (items.get(f"P#{currency}#{m}") or {}).items()})
    best = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {
        "monthly": monthly,
        "top": [{"partner_id": p, "attributed_revenue_minor": v} for p, v in best],
    }
