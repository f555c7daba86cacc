"""The authorization matrix, as data: every route x every role -> refused, or allowed with a scope.

`http.route` looks each request's row up here and refuses a role the row does not allow before the
handler runs (a route with no row is refused for everyone: fail closed). Record-level scope
("own": a partner only its own partner id, a member only its own member id) is enforced by the
handler (`Principal.require_partner`, and the members area's own check); tests/api/test_access_matrix.py walks
every cell against the app, including a partner using another partner's ids, and fails when a
route registered on the app has no row here. A new area adds its rows in one place: `MATRIX`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from ..domain.errors import Forbidden, Unauthorized

ANONYMOUS, PARTNER, MEMBER, FINANCE, ADMIN, WEBHOOK = "anonymous", "partner", "member", "finance", "admin", "webhook"
ROLES = (ANONYMOUS, PARTNER, MEMBER, FINANCE, ADMIN, WEBHOOK)
TOKEN_ROLES = (PARTNER, MEMBER, FINANCE, ADMIN)

ALL, OWN = "all", "own"  # which records an allowed role sees


@dataclass(frozen=True)
class Rule:
    """Who may call one route, and what each allowed role sees. `owner` names the path parameter
    that identifies the record's owner when some role is limited to its own records."""
    allowed: Mapping[str, str] = field(default_factory=dict)
    owner: str | None = None
    summary: str = ""

    @property
    def public(self) -> bool:
        return ANONYMOUS in self.allowed

    @property
    def signed(self) -> bool:
        return WEBHOOK in self.allowed


def rule(summary: str, owner: str | None = None, **allowed: str) -> Rule:
    unknown = set(allowed) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    return Rule(MappingProxyType(dict(allowed)), owner, summary)


EVERYONE = {r: ALL for r in ROLES}
SIGNED_IN = {r: ALL for r in TOKEN_ROLES}
FIN = {FINANCE: ALL, ADMIN: ALL}

MATRIX: Mapping[tuple[str, str], Rule] = MappingProxyType({
    # ---- public ---------------------------------------------------------------------------------
    ("GET", "/health"): rule("liveness", **EVERYONE),
    ("GET", "/openapi.json"): rule("this API's OpenAPI 3 description", **EVERYONE),
    ("GET", "/r/{code}"): rule("follow a referral link (302); records one click", anonymous=ALL, partner=ALL,
                               member=ALL, finance=ALL, admin=ALL),
    ("GET", "/me"): rule("who the token says you are", **SIGNED_IN),
    # ---- the shop -------------------------------------------------------------------------------
    ("POST", "/webhooks/orders"): rule("the shop posts an order (HMAC-signed)", webhook=ALL),
    ("POST", "/webhooks/refunds"): rule("the shop posts a refund (HMAC-signed)", webhook=ALL),
    # ---- partners -------------------------------------------------------------------------------
    ("POST", "/partners"): rule("enrol a partner", admin=ALL),
    ("GET", "/partners/{partner_id}"): rule("a partner's profile", "partner_id", partner=OWN, admin=ALL),
    ("GET", "/partners/{partner_id}/upline"): rule("upline", "partner_id", partner=OWN, admin=ALL),
    ("GET", "/partners/{partner_id}/downline"): rule("downline per level", "partner_id", partner=OWN, admin=ALL),
    ("GET", "/partners/{partner_id}/links"): rule("a partner's links", "partner_id", partner=OWN, admin=ALL),
    ("GET", "/partners/{partner_id}/clicks"): rule("a partner's clicks", "partner_id", partner=OWN, admin=ALL),
    ("GET", "/partners/{partner_id}/commissions"): rule("a partner's ledger", "partner_id", partner=OWN,
                                                        admin=ALL),
    ("GET", "/partners/{partner_id}/progress"): rule("bonus progress", "partner_id", partner=OWN, admin=ALL),
    ("POST", "/links"): rule("create a link for the calling partner", partner=OWN),
    # ---- program admin --------------------------------------------------------------------------
    ("POST", "/admin/plans"): rule("publish a plan version", admin=ALL),
    ("GET", "/admin/plans"): rule("plan versions", **FIN),
    ("POST", "/admin/partners/{partner_id}/move"): rule("move a partner", admin=ALL),
    ("POST", "/admin/partners/{partner_id}/status"): rule("set status and rank", admin=ALL),
    ("PUT", "/admin/partners/{partner_id}/targets/{period}"): rule("set a target", admin=ALL),
    ("GET", "/admin/audit"): rule("the audit log", admin=ALL),
    ("GET", "/admin/holds"): rule("orders held for fraud review", **FIN),
    ("POST", "/admin/holds/{order_id}/release"): rule("release a held order's commissions", admin=ALL),
    ("POST", "/admin/holds/{order_id}/reject"): rule("never pay a held order's commissions", admin=ALL),
    # ---- finance --------------------------------------------------------------------------------
    ("GET", "/settlements"): rule("settlement batches", **FIN),
    ("POST", "/settlements/run"): rule("run or dry-run settlement", **FIN),
    ("GET", "/settlements/{period}"): rule("a batch with lines and events", **FIN),
    ("POST", "/settlements/{period}/approve"): rule("approve (maker-checker)", finance=ALL),
    ("POST", "/settlements/{period}/paid"): rule("mark a batch paid", finance=ALL),
    ("POST", "/settlements/{period}/payouts/{partner_id}/{currency}/failed"): rule(
        "report a bounced payout (moves nothing until a second finance user confirms it)", finance=ALL),
    ("POST", "/settlements/{period}/payouts/{partner_id}/{currency}/failed/confirm"): rule(
        "confirm a reported bounce (maker-checker): the payout fails and is owed again", finance=ALL),
    ("POST", "/settlements/{period}/payouts/{partner_id}/{currency}/failed/dismiss"): rule(
        "withdraw a reported bounce that did not happen", finance=ALL),
    ("GET", "/settlements/{period}/exports/{name}"): rule("an export's link and checksum", **FIN),
    ("GET", "/settlements/{period}/exports/{name}/content"): rule("download an export", **FIN),
    ("GET", "/settlements/{period}/lines/{partner_id}/entries"): rule("a payout's entries and bonus traces",
                                                                      **FIN),
    # ---- a partner's dashboard ------------------------------------------------------------------
    ("GET", "/partners/{partner_id}/funnel"): rule("clicks, sign-ups, orders, earnings in a period",
                                                   "partner_id", partner=OWN, admin=ALL),
    ("GET", "/partners/{partner_id}/earnings"): rule("earnings by month and state", "partner_id", partner=OWN,
                                                     admin=ALL),
    ("GET", "/partners/{partner_id}/payouts"): rule("a partner's payouts", "partner_id", partner=OWN, admin=ALL),
    ("GET", "/partners/{partner_id}/payouts/{period}/statement"): rule("a partner's statement for a payout",
                                                                      "partner_id", partner=OWN, admin=ALL),
    ("GET", "/admin/partners"): rule("search partners", admin=ALL),
    # ---- members (issue 4) ----------------------------------------------------------------------
    ("POST", "/webhooks/members"): rule("the shop registers a member (HMAC-signed)", webhook=ALL),
    ("GET", "/i/{code}"): rule("follow a member's invite link (302)", **EVERYONE),
    ("GET", "/members/{member_id}"): rule("a member's profile", "member_id", member=OWN, admin=ALL),
    ("GET", "/members/{member_id}/rewards"): rule("a member's rewards and balance", "member_id", member=OWN,
                                                  admin=ALL),
    ("GET", "/members/{member_id}/tier"): rule("a member's tier and what the next needs", "member_id",
                                               member=OWN, admin=ALL),
    ("POST", "/members/{member_id}/redemptions"): rule("redeem points or credit", "member_id", member=OWN,
                                                       admin=ALL),
    ("POST", "/admin/reward-programs"): rule("publish a reward program version", admin=ALL),
    ("GET", "/admin/reward-programs"): rule("reward program versions", **FIN),
    ("GET", "/admin/members/refusals"): rule("refused invites and cancelled rewards, with reasons", admin=ALL),
    ("GET", "/admin/members/outbox"): rule("member notifications due", admin=ALL),
    # ---- the web portal (static pages; the data behind them is guarded by the rows above) -------
    ("GET", "/"): rule("redirect to the portal", **EVERYONE),
    ("GET", "/app"): rule("the portal", **EVERYONE),
    ("GET", "/app/assets/{name}"): rule("the portal's scripts and styles", **EVERYONE),
})


PREFLIGHT = Rule(MappingProxyType({r: ALL for r in ROLES}), None, "CORS preflight")


def rule_for(method: str, path: str) -> Rule | None:
    """A route's row; OPTIONS (the CORS preflight, answered with no data) is public on every route."""
    if method.upper() == "OPTIONS":
        return PREFLIGHT if any(p == path for _, p in MATRIX) else None
    return MATRIX.get((method.upper(), path))


def admit(rule_: Rule | None, role: str | None) -> None:
    """Refuse before the handler runs: 401 with no identity, 403 for a role the row does not allow.
    `role` is None for a caller with neither a token nor a signature."""
    if rule_ is None:
        raise Forbidden("this route is not in the authorization matrix", code="route_not_authorized")
    if rule_.public:
        return
    if role is None:
        if rule_.signed:
            raise Unauthorized("missing or malformed signature headers", code="bad_signature")
        raise Unauthorized("a bearer token is required")
    if role not in rule_.allowed:
        raise Forbidden(f"the {role} role may not call this", code="forbidden_role")
