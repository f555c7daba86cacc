"""Request bodies: pydantic at the edge, refused with a 400 before any service runs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from ..domain.times import check_instant

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Rank = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,32}$")]
Bps = Annotated[StrictInt, Field(ge=0, le=10_000)]


# The one type for every time an edge model takes (api/member_schemas.py uses it too; a test walks
# every model). A year like 0404 (found by the fuzzer) stored in a plan, or 0001 in a reward program,
# made every later read of that record fail; such times are refused here with a 400.
Instant = Annotated[
    AwareDatetime,
    AfterValidator(check_instant),
    Field(description="an ISO 8601 time with its UTC offset, between 2000 and 2999 (UTC)"),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


Email = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ().-]{6,24}$")]
PaymentFingerprint = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_:.-]{8,128}$")]


class Identity(Body):
    """What the shop knows about a person, used only as keyed hashes (fraud: self-referral rings)."""

    email: Email | None = None
    phone: Phone | None = None
    payment_fingerprint: PaymentFingerprint | None = None


class EnrolPartner(Identity):
    name: Text
    code: Code | None = None
    sponsor_code: Code | None = None
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class MovePartner(Body):
    new_sponsor_code: Code
    effective_at: Instant | None = None  # default: as soon as the effectivity fence allows


class SetStatus(Body):
    status: Annotated[str, StringConstraints(max_length=16)]
    rank: Rank | None = None
    effective_at: Instant | None = None  # default: as soon as the effectivity fence allows


class CreateLink(Body):
    destination: Annotated[str, StringConstraints(min_length=8, max_length=2048)]
    code: Code | None = None


class CreateCoupon(Body):
    code: Code


class OrderIn(Identity):
    order_id: Id
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    amount_minor: StrictInt
    currency: Currency
    ordered_at: Instant
    click_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    referral_code: Code | None = None
    # A code the buyer typed at checkout: a partner's coupon code (attributes the order to it) or a
    # member's coupon (applied to the member's reward balance).
    coupon_code: Code | None = None


class RefundIn(Body):
    order_id: Id
    refund_id: Id
    amount_minor: StrictInt
    currency: Currency
    refunded_at: Instant


class PlanIn(Body):
    levels_bps: Annotated[list[Bps], Field(min_length=1, max_length=30)]
    cap_bps: Bps | None = None
    rank_overrides: dict[Rank, dict[Annotated[int, Field(ge=1, le=30)], Bps]] = Field(default_factory=dict)
    holding_days: Annotated[StrictInt, Field(ge=0, le=365)] = 30
    effective_from: Instant | None = None
    min_payout_minor: Annotated[StrictInt, Field(ge=0, le=10_000_000_000)] = 5_000
    # A subscription's renewals pay for this many months from its first paid period; unset: all do.
    renewal_months: Annotated[StrictInt, Field(ge=1, le=120)] | None = None
    bonus: BonusIn | None = None


DecimalAmount = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,15}(\.[0-9]{1,15})?$"),
    Field(description="an amount in currency units as a decimal string ('398.00'); exact or refused"),
]


class SampleOrderIn(Body):
    """An order to price in a what-if: its amount (`amount` in currency units, or `amount_minor`),
    and the partner it is attributed to, or a chain `depth` of active partners (default: the plans')."""

    currency: Currency
    amount: DecimalAmount | None = None
    amount_minor: Annotated[StrictInt, Field(ge=1, le=10_000_000_000)] | None = None
    partner_id: Id | None = None
    depth: Annotated[StrictInt, Field(ge=1, le=30)] | None = None


class PlanPreviewIn(PlanIn):
    """A candidate plan (the body publishing takes) and the sample order to price under it."""

    sample: SampleOrderIn


# ---- bonuses and settlement ------------------------------------------------------------------
Minor = Annotated[StrictInt, Field(ge=0, le=10_000_000_000)]
Period = Annotated[str, StringConstraints(pattern=r"^2\d{3}-(0[1-9]|1[0-2])$")]


class TierIn(Body):
    threshold_minor: Annotated[StrictInt, Field(gt=0, le=10_000_000_000)]
    flat_minor: Minor | None = None
    rate_bps: Bps | None = None


class RankRuleIn(Body):
    rank: Rank
    min_personal_minor: Minor = 0
    min_team_minor: Minor = 0


class BonusIn(Body):
    currency: Currency
    basis: Literal["personal", "team"] = "personal"
    team_levels: Annotated[StrictInt, Field(ge=0, le=30)] = 0
    ladder: Annotated[list[TierIn], Field(max_length=20)] = Field(default_factory=list)
    overachievement_bps: Bps = 0
    overachievement_cap_minor: Minor | None = None
    default_targets: dict[Rank, Minor] = Field(default_factory=dict)
    ranks: Annotated[list[RankRuleIn], Field(max_length=20)] = Field(default_factory=list)


class SettlementRun(Body):
    period: Period | None = None
    dry_run: bool = False


class PayoutFailed(Body):
    """A bounced payout reported: why (the bank's words)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class BatchApproved(Body):
    """A batch approved: optionally, what the checker looked at (kept in the audit log)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class BatchPaid(Body):
    """A batch marked paid: what the bank confirmed (kept on the batch and in the audit log)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class BounceConfirmed(Body):
    """A reported bounce confirmed by a second finance user: why (money moves: it is owed again)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class BounceDismissed(Body):
    """A reported bounce withdrawn: why it did not happen."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class HoldDecision(Body):
    """A held order released: the reviewer's reason, if it gives one."""

    reason: Reason | None = None


class HoldRejection(Body):
    """A held order rejected (never paid): why, in the reviewer's words."""

    reason: Reason


class TargetIn(Body):
    target_minor: Minor


PlanIn.model_rebuild()
PlanPreviewIn.model_rebuild()


# ---- responses (issue 9): what the OpenAPI document promises; schemathesis checks them ------------
class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    message: str


class ErrorOut(BaseModel):
    """The one error shape of every 4xx (and of the bare 500)."""

    model_config = ConfigDict(extra="forbid")
    error: ErrorDetail


class HealthOut(Out):
    ok: bool


class MeOut(Out):
    subject: str
    role: Literal["admin", "finance", "partner", "member"]
    partner_id: str | None
    member_id: str | None
    status: str | None  # the caller's own partner status, `registered` for a member, null for staff
    pages: list[str]  # the portal pages the caller may use (api/access.PAGES), the first its home
    period: str  # the program's current period (its calendar, its clock): the portal counts back from it


class PartnerOut(Out):
    partner_id: str
    code: str
    name: str
    sponsor_id: str | None
    status: str
    rank: str
    depth_stored: int
    counters: dict[str, int]
    created_at: str | None


class CommissionLineOut(Out):
    entry_id: str
    partner_id: str
    level: int
    rate_bps: int
    amount_minor: int


class OrderResultOut(Out):
    order_id: str
    amount_minor: int
    currency: str
    status: Literal["attributed", "unattributed", "self_referral", "held"]
    reason: str | None
    commissions: list[CommissionLineOut]
    hold: list[str] | None = None


class RefundResultOut(Out):
    order_id: str
    refund_id: str
    amount_minor: int
    currency: str
    refunded_total_minor: int
    reversals: list[dict]


class LinkOut(Out):
    code: str
    destination: str
    partner_id: str
    url: str


class AuditRecordOut(Out):
    audit_id: str
    actor: str
    role: str
    action: str
    target: str
    at: str
    outcome: Literal["changed", "no_change", "read"]
    before: object
    after: object


class AuditOut(Out):
    day: str
    actor: str | None
    action: str | None
    records: list[AuditRecordOut]
    next_cursor: str | None = Field(None, description="opaque: pass it back as `cursor` to read on")


class PlanLevelOut(Out):
    partner_id: str
    rank: str
    rate_bps: int
    amount_minor: int
    capped: bool


class PreviewLevelOut(Out):
    level: int
    current: PlanLevelOut | None
    candidate: PlanLevelOut | None


class PlanPreviewOut(Out):
    candidate: dict
    amount_minor: int
    currency: str
    partner_id: str | None
    current_version: int | None
    levels: list[PreviewLevelOut]
    current_total_minor: int
    candidate_total_minor: int


class ReasonOut(Out):
    code: str
    text: str


class HoldOut(Out):
    order_id: str
    partner_id: str
    reasons: list[str]
    reason_details: list[ReasonOut]
    status: Literal["held", "released", "rejected"]
    review_reason: str | None = None


class HoldsOut(Out):
    holds: list[HoldOut]


class BounceOut(Out):
    """A payout's bounce: reported by one finance user, confirmed (or dismissed) by another."""

    payout_id: str
    period: str
    partner_id: str
    currency: str
    payout_minor: int
    status: Literal["none", "reported", "confirmed", "dismissed"]
    reason: str | None
    reported_by: str | None
    reported_at: str | None
    confirmed_by: str | None
    confirmed_at: str | None
    dismissed_by: str | None
    dismissed_at: str | None
    dismissal: str | None
    entry_id: str | None = None
    returned_minor: int | None = None


# ---- outbound webhooks ------------------------------------------------------------------------
EventType = Literal[
    "commission.created",
    "commission.reversed",
    "order.held",
    "payout.approved",
    "payout.paid",
    "payout.failed",
    "partner.enrolled",
    "member.tier_changed",
]


class EndpointIn(Body):
    """An HTTPS endpoint and the events it wants (domain/outbound.EVENT_TYPES)."""

    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    events: Annotated[list[EventType], Field(min_length=1, max_length=8)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""


class EndpointOut(Out):
    endpoint_id: str
    url: str
    events: list[str]
    status: str
    description: str
    created_at: str
    created_by: str
    secret: str | None = Field(None, description="the signing secret: shown when the endpoint is registered")


class EndpointsOut(Out):
    endpoints: list[EndpointOut]


class AttemptOut(Out):
    attempt: int
    at: str
    status_code: int
    error: str
    ms: int


class DeliveryOut(Out):
    delivery_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    created_at: str
    next_at: str | None
    replays: int
    event: dict
    log: list[AttemptOut]


class DeliveriesOut(Out):
    deliveries: list[DeliveryOut]
