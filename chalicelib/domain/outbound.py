"""Outbound webhooks, as pure rules: which committed change is which event, the event's id (the same
however often the change is seen), the body that is signed, the retry schedule, and which addresses
an endpoint may never reach.

An event is derived from the item a change wrote (a ledger entry, a hold, a partner's profile, a
member's tier, a settlement batch's status, a payout line's failure), never from the request that
asked for it, so an event exists exactly when its write committed. Its id is a hash of its type and
the natural key of what it reports: the stream may hand the same change over twice (a retried batch,
a later rewrite of the same item), and the same id comes out each time.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .ledger import COMMISSION, HOLD, REVERSAL, Entry
from .settlement import APPROVED, PAID

COMMISSION_CREATED, COMMISSION_REVERSED = "commission.created", "commission.reversed"
ORDER_HELD = "order.held"
PAYOUT_APPROVED, PAYOUT_PAID, PAYOUT_FAILED = "payout.approved", "payout.paid", "payout.failed"
PARTNER_ENROLLED, MEMBER_TIER_CHANGED = "partner.enrolled", "member.tier_changed"
EVENT_TYPES = (
    COMMISSION_CREATED,
    COMMISSION_REVERSED,
    ORDER_HELD,
    PAYOUT_APPROVED,
    PAYOUT_PAID,
    PAYOUT_FAILED,
    PARTNER_ENROLLED,
    MEMBER_TIER_CHANGED,
)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"  # a delivery's status

# Retries: exponential from RETRY_BASE, capped at RETRY_CAP, for at least the retry window.
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=4)
MAX_QUEUE_DELAY_SECONDS = 900  # SQS's DelaySeconds cap: longer waits hop through the queue


@dataclass(frozen=True)
class Event:
    event_id: str
    type: str
    occurred_at: str  # ISO 8601, UTC
    data: dict[str, Any] = field(default_factory=dict)

    def body(self) -> bytes:
        """The bytes sent and signed: the same for every attempt and every replay."""
        return json.dumps(
            {"id": self.event_id, "type": self.type, "occurred_at": self.occurred_at, "data": self.data},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()


@dataclass(frozen=True)
class PayoutLine:
    """One payout of a settlement batch, as the payout events report it."""

    period: str
    partner_id: str
    currency: str
    payout_id: str
    amount_minor: int
    failed: bool = False


def _hash(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def event_id(event_type: str, natural_key: str) -> str:
    return f"evt_{_hash(event_type, natural_key)}"


def delivery_id(event: str, endpoint: str) -> str:
    """One delivery per event and endpoint: a second sighting of the event finds it already made."""
    return f"dlv_{_hash(event, endpoint)}"


def endpoint_id(url: str) -> str:
    """An endpoint is named by its URL's canonical form: registering it again finds the same one."""
    return f"whe_{_hash('endpoint', url)[:20]}"


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


# ---- changes -> events ----------------------------------------------------------------------------
def entry_event(e: Entry) -> Event | None:
    """A commission or its reversal, as written to the ledger (a release of a held commission is a
    new commission entry that names what it releases)."""
    data = {
        "entry_id": e.entry_id,
        "partner_id": e.partner_id,
        "order_id": e.order_id,
        "level": e.level,
        "amount_minor": e.amount_minor,
        "currency": e.currency,
        "period": e.period,
        "held": e.settles_in == HOLD,
    }
    if e.kind == COMMISSION:
        data["releases"] = (e.trace or {}).get("releases")
        return Event(event_id(COMMISSION_CREATED, e.entry_id), COMMISSION_CREATED, _iso(e.occurred_at), data)
    if e.kind == REVERSAL:
        data.update(reverses=e.reverses, refund_id=e.refund_id)
        return Event(event_id(COMMISSION_REVERSED, e.entry_id), COMMISSION_REVERSED, _iso(e.occurred_at), data)
    return None


def hold_event(
    order_id: str, partner_id: str, reasons: Iterable[str], amount_minor: int, currency: str, held_at: str
) -> Event:
    return Event(
        event_id(ORDER_HELD, order_id),
        ORDER_HELD,
        held_at,
        {
            "order_id": order_id,
            "partner_id": partner_id,
            "reasons": list(reasons),
            "amount_minor": amount_minor,
            "currency": currency,
        },
    )


def enrolled_event(partner_id: str, code: str, sponsor_id: str | None, enrolled_at: str) -> Event:
    return Event(
        event_id(PARTNER_ENROLLED, partner_id),
        PARTNER_ENROLLED,
        enrolled_at,
        {"partner_id": partner_id, "code": code, "sponsor_id": sponsor_id},
    )


def tier_event(member_id: str, tier: str, since: str) -> Event:
    """A member's tier as of `since` (when it was last set): one event per setting."""
    return Event(
        event_id(MEMBER_TIER_CHANGED, f"{member_id}|{since}|{tier}"),
        MEMBER_TIER_CHANGED,
        since,
        {"member_id": member_id, "tier": tier},
    )


def _payout_data(line: PayoutLine) -> dict[str, Any]:
    return {
        "payout_id": line.payout_id,
        "period": line.period,
        "partner_id": line.partner_id,
        "currency": line.currency,
        "amount_minor": line.amount_minor,
    }


def payout_events(status: str, at: str, lines: Iterable[PayoutLine]) -> list[Event]:
    """A batch approved: each of its payouts is approved; marked paid: each not failed is paid."""
    if status == APPROVED:
        kind = PAYOUT_APPROVED
    elif status == PAID:
        kind = PAYOUT_PAID
    else:
        return []
    return [
        Event(event_id(kind, ln.payout_id), kind, at, _payout_data(ln))
        for ln in lines
        if ln.amount_minor > 0 and not (kind == PAYOUT_PAID and ln.failed)
    ]


def payout_failed_event(line: PayoutLine, reason: str, at: str) -> Event:
    return Event(event_id(PAYOUT_FAILED, line.payout_id), PAYOUT_FAILED, at, {**_payout_data(line), "reason": reason})


# ---- retries --------------------------------------------------------------------------------------
def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, ... capped at 4 h."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_CAP)


def next_attempt(attempts: int, first_at: datetime, now: datetime, window: timedelta) -> datetime | None:
    """When to try again after a failed attempt, or None: the delivery is dead. It is given up only
    once `window` has passed since its first attempt, so it is tried for at least that long."""
    if now - first_at >= window:
        return None
    return now + retry_delay(attempts)


def queue_delay(now: datetime, due: datetime) -> int:
    """Seconds to hold a queued message back: what is left until `due`, at most SQS's cap (a longer
    wait takes several hops)."""
    return max(0, min(MAX_QUEUE_DELAY_SECONDS, int((due - now).total_seconds() + 0.999)))


# ---- where an endpoint may point ------------------------------------------------------------------
def refused_address(address: str) -> bool:
    """True for an address no endpoint may reach outside the local stage: private, loopback,
    link-local, multicast, reserved, unspecified, shared (CGNAT), or anything else not global;
    an IPv4 address mapped into IPv6 (or NAT64, 6to4) is judged as the IPv4 address it carries."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is None and ip in ipaddress.ip_network("64:ff9b::/96"):
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None and refused_address(str(inner)):
            return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )
