"""The authorization matrix, as data: every route x every role -> refused, or allowed with a scope.

`http.route` looks each request's row up here and, before the handler runs, refuses
1. a role the row does not allow (a route with no row is refused for everyone: fail closed);
2. a caller limited to its own records ("own": a partner only its own partner id, a member only its
   own member id) naming somebody else's in the path (handlers check again: `Principal.require_partner`,
   the members area's own check);
3. a partner or member token whose account does not exist, or whose status does not allow the kind
   of action the row is (`STANDING`): one read of the caller's own item, after 1 and 2 passed.
tests/api/test_access_matrix.py walks every cell against the app, including a partner using another
partner's ids and partners of every status, and fails when a route registered on the app has no row
here. A new area adds its rows in one place: `MATRIX`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..domain.errors import Forbidden, Unauthorized

ANONYMOUS, PARTNER, MEMBER, FINANCE, ADMIN, WEBHOOK = "anonymous", "partner", "member", "finance", "admin", "webhook"
ROLES = (ANONYMOUS, PARTNER, MEMBER, FINANCE, ADMIN, WEBHOOK)
TOKEN_ROLES = (PARTNER, MEMBER, FINANCE, ADMIN)

ALL, OWN = "all", "own"  # which records an allowed role sees

# What kind of action a row is, for a partner's or member's own account: WORK acts for the program
# or reads its running business (links, clicks, tree, funnel); ACCOUNT reads what the caller
# earned, is owed, may still earn and was paid (profile, ledger, earnings, bonus progress, payouts,
# statements, `/me`).
WORK, ACCOUNT = "work", "account"
REGISTERED = "registered"  # members have no status: an existing member is registered
# Which kinds each status of the caller's own account may take. A status not listed may take none
# (fail closed), and so may a token naming an account that does not exist.
STANDING: Mapping[str, Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        PARTNER: MappingProxyType(
            {
                "active": frozenset({WORK, ACCOUNT}),
                # not qualifying this period (compression skips it), but still a partner who may win it back
                "inactive": frozenset({WORK, ACCOUNT}),
                # left the program: it may still read its statements and payouts (money may still be owed to
                # it, and it may ask what it was paid), but it creates no links and reads no running business
                "terminated": frozenset({ACCOUNT}),
            }
        ),
        MEMBER: MappingProxyType({REGISTERED: frozenset({WORK, ACCOUNT})}),
    }
)


@dataclass(frozen=True)
class Rule:
    """Who may call one route, and what each allowed role sees. `owner` names the path parameter
    that identifies the record's owner when some role is limited to its own records."""

    allowed: Mapping[str, str] = field(default_factory=dict)
    owner: str | None = None
    summary: str = ""
    kind: str = WORK  # for a partner's or member's token: which STANDING the caller's account needs

    @property
    def public(self) -> bool:
        return ANONYMOUS in self.allowed

    @property
    def signed(self) -> bool:
        return WEBHOOK in self.allowed


def rule(summary: str, owner: str | None = None, *, kind: str = WORK, **allowed: str) -> Rule:
    unknown = set(allowed) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    if kind not in (WORK, ACCOUNT):
        raise ValueError(f"unknown kind {kind}")
    return Rule(MappingProxyType(dict(allowed)), owner, summary, kind)


EVERYONE = {r: ALL for r in ROLES}
SIGNED_IN = {r: ALL for r in TOKEN_ROLES}
FIN = {FINANCE: ALL, ADMIN: ALL}

MATRIX: Mapping[tuple[str, str], Rule] = MappingProxyType(
    {
        # ---- public ---------------------------------------------------------------------------------
        ("GET", "/health"): rule("liveness", **EVERYONE),
        ("GET", "/openapi.json"): rule("this API's OpenAPI 3 description", **EVERYONE),
        ("GET", "/r/{code}"): rule(
            "follow a referral link (302); records one click",
            anonymous=ALL,
            partner=ALL,
            member=ALL,
            finance=ALL,
            admin=ALL,
        ),
        ("GET", "/me"): rule("who the token says you are", kind=ACCOUNT, **SIGNED_IN),
        # ---- the shop -------------------------------------------------------------------------------
        ("POST", "/webhooks/orders"): rule("the shop posts an order (HMAC-signed)", webhook=ALL),
        ("POST", "/webhooks/refunds"): rule("the shop posts a refund (HMAC-signed)", webhook=ALL),
        # Shops' own webhooks: public as far as tokens go; each handler checks the provider's signature.
        ("POST", "/integrations/stripe"): rule("Stripe posts an event (Stripe-Signature)", **EVERYONE),
        ("POST", "/integrations/shopify"): rule("Shopify posts a webhook (X-Shopify-Hmac-Sha256)", **EVERYONE),
        ("POST", "/integrations/woocommerce"): rule("WooCommerce posts a webhook (X-WC-Webhook-Signature)", **EVERYONE),
        ("POST", "/integrations/paddle"): rule("Paddle Billing posts a notification (Paddle-Signature)", **EVERYONE),
        # ---- partners -------------------------------------------------------------------------------
        ("POST", "/partners"): rule("enrol a partner", admin=ALL),
        ("GET", "/partners/{partner_id}"): rule(
            "a partner's profile", "partner_id", kind=ACCOUNT, partner=OWN, admin=ALL
        ),
        ("GET", "/partners/{partner_id}/upline"): rule("upline", "partner_id", partner=OWN, admin=ALL),
        ("GET", "/partners/{partner_id}/downline"): rule("downline per level", "partner_id", partner=OWN, admin=ALL),
        ("GET", "/partners/{partner_id}/links"): rule("a partner's links", "partner_id", partner=OWN, admin=ALL),
        ("GET", "/partners/{partner_id}/clicks"): rule("a partner's clicks", "partner_id", partner=OWN, admin=ALL),
        ("GET", "/partners/{partner_id}/commissions"): rule(
            "a partner's ledger", "partner_id", kind=ACCOUNT, partner=OWN, admin=ALL
        ),
        ("GET", "/partners/{partner_id}/progress"): rule(
            "bonus progress", "partner_id", kind=ACCOUNT, partner=OWN, admin=ALL
        ),
        ("POST", "/links"): rule("create a link for the calling partner", partner=OWN),
        ("POST", "/partners/{partner_id}/coupons"): rule(
            "make a coupon code for a partner (a partner: its own, within a limit)",
            "partner_id",
            partner=OWN,
            admin=ALL,
        ),
        ("GET", "/partners/{partner_id}/coupons"): rule(
            "a partner's coupon codes", "partner_id", partner=OWN, admin=ALL
        ),
        ("GET", "/admin/coupons/flagged"): rule("coupon codes flagged as leaked", **FIN),
        # ---- program analytics (issue 16) ----------------------------------------------------------
        ("GET", "/admin/analytics/{kpi}"): rule("program KPIs for a period and currency", **FIN),
        ("GET", "/admin/analytics/{kpi}/csv"): rule("program KPIs as a CSV download", **FIN),
        # ---- program admin --------------------------------------------------------------------------
        ("POST", "/admin/plans"): rule("publish a plan version", admin=ALL),
        ("GET", "/admin/plans"): rule("plan versions", **FIN),
        ("GET", "/admin/compliance/report"): rule("a period's compliance report (JSON or CSV)", **FIN),
        # ---- leaderboards ---------------------------------------------------------------------------
        ("GET", "/partners/{partner_id}/leaderboard"): rule(
            "a leaderboard's top rows (names masked) and the partner's own rank", "partner_id", partner=OWN, admin=ALL
        ),
        ("PUT", "/partners/{partner_id}/preferences"): rule(
            "leave or rejoin the leaderboards", "partner_id", kind=ACCOUNT, partner=OWN, admin=ALL
        ),
        ("GET", "/members/{member_id}/leaderboard"): rule(
            "the invites leaderboard's top rows (masked) and the member's own rank", "member_id", member=OWN, admin=ALL
        ),
        ("PUT", "/members/{member_id}/preferences"): rule(
            "leave or rejoin the leaderboards", "member_id", kind=ACCOUNT, member=OWN, admin=ALL
        ),
        ("GET", "/admin/leaderboards/{board}"): rule("a full leaderboard, every row", **FIN),
        ("POST", "/admin/plans/preview"): rule(
            "what-if: a sample order's commissions per level under the plan in force and a candidate plan",
            admin=ALL,
        ),
        ("POST", "/admin/partners/{partner_id}/move"): rule("move a partner", admin=ALL),
        ("POST", "/admin/partners/{partner_id}/status"): rule("set status and rank", admin=ALL),
        ("PUT", "/admin/partners/{partner_id}/targets/{period}"): rule("set a target", admin=ALL),
        ("GET", "/admin/audit"): rule("the audit log", admin=ALL),
        ("GET", "/admin/holds"): rule("orders held for fraud review", **FIN),
        ("POST", "/admin/holds/{order_id}/release"): rule("release a held order's commissions", admin=ALL),
        ("POST", "/admin/holds/{order_id}/reject"): rule("never pay a held order's commissions", admin=ALL),
        ("GET", "/admin/integrations"): rule(
            "the shops this deployment connects to, and whether each is configured", admin=ALL
        ),
        ("POST", "/admin/webhooks/endpoints"): rule("register an outbound webhook endpoint", admin=ALL),
        ("GET", "/admin/webhooks/endpoints"): rule("outbound webhook endpoints", admin=ALL),
        ("DELETE", "/admin/webhooks/endpoints/{endpoint_id}"): rule("disable an outbound webhook endpoint", admin=ALL),
        ("GET", "/admin/webhooks/endpoints/{endpoint_id}/deliveries"): rule("an endpoint's delivery log", admin=ALL),
        ("POST", "/admin/webhooks/deliveries/{delivery_id}/replay"): rule("replay a dead delivery", admin=ALL),
        # ---- finance --------------------------------------------------------------------------------
        ("GET", "/settlements"): rule("settlement batches", **FIN),
        ("POST", "/settlements/run"): rule("run or dry-run settlement", **FIN),
        ("GET", "/settlements/{period}"): rule("a batch with lines and events", **FIN),
        ("POST", "/settlements/{period}/approve"): rule("approve (maker-checker)", finance=ALL),
        ("POST", "/settlements/{period}/paid"): rule("mark a batch paid", finance=ALL),
        ("POST", "/settlements/{period}/payouts/{partner_id}/{currency}/failed"): rule(
            "report a bounced payout (moves nothing until a second finance user confirms it)", finance=ALL
        ),
        ("POST", "/settlements/{period}/payouts/{partner_id}/{currency}/failed/confirm"): rule(
            "confirm a reported bounce (maker-checker): the payout fails and is owed again", finance=ALL
        ),
        ("POST", "/settlements/{period}/payouts/{partner_id}/{currency}/failed/dismiss"): rule(
            "withdraw a reported bounce that did not happen", finance=ALL
        ),
        ("GET", "/settlements/{period}/exports/{name}"): rule("an export's link and checksum", **FIN),
        ("GET", "/settlements/{period}/exports/{name}/content"): rule("download an export", **FIN),
        ("GET", "/settlements/{period}/lines/{partner_id}/entries"): rule("a payout's entries and bonus traces", **FIN),
        ("GET", "/settlements/periods"): rule("the periods finance may pick, and why each waits", **FIN),
        ("GET", "/settlements/{period}/ledger"): rule("a period's ledger, paged and filtered", **FIN),
        ("GET", "/settlements/{period}/payouts"): rule("a batch's payout list: sort, filter, search, pages", **FIN),
        ("GET", "/settlements/{period}/compare"): rule("a batch against the previous period's", **FIN),
        ("GET", "/settlements/{period}/preview"): rule("what settling now would pay, or why it cannot", **FIN),
        ("GET", "/settlements/{period}/summary"): rule("a batch's totals, controls and checksums", **FIN),
        ("POST", "/settlements/{period}/exports/verify"): rule("regenerate the exports and compare checksums", **FIN),
        ("GET", "/orders/{order_id}"): rule("an order and every ledger entry it produced", **FIN),
        ("GET", "/partners/{partner_id}/periods"): rule("a partner's volumes, lines and carried balance", **FIN),
        # ---- a partner's dashboard ------------------------------------------------------------------
        ("GET", "/partners/{partner_id}/funnel"): rule(
            "clicks, sign-ups, orders, earnings in a period", "partner_id", partner=OWN, admin=ALL
        ),
        ("GET", "/partners/{partner_id}/earnings"): rule(
            "earnings by month and state", "partner_id", kind=ACCOUNT, partner=OWN, admin=ALL
        ),
        ("GET", "/partners/{partner_id}/payouts"): rule(
            "a partner's payouts", "partner_id", kind=ACCOUNT, partner=OWN, admin=ALL
        ),
        ("GET", "/partners/{partner_id}/payouts/{period}/statement"): rule(
            "a partner's statement for a payout", "partner_id", kind=ACCOUNT, partner=OWN, admin=ALL
        ),
        ("GET", "/admin/partners"): rule("search partners", admin=ALL),
        # ---- members (issue 4) ----------------------------------------------------------------------
        ("POST", "/webhooks/members"): rule("the shop registers a member (HMAC-signed)", webhook=ALL),
        ("GET", "/i/{code}"): rule("follow a member's invite link (302)", **EVERYONE),
        ("GET", "/members/{member_id}"): rule("a member's profile", "member_id", kind=ACCOUNT, member=OWN, admin=ALL),
        ("GET", "/members/{member_id}/rewards"): rule(
            "a member's rewards and balance", "member_id", kind=ACCOUNT, member=OWN, admin=ALL
        ),
        ("GET", "/members/{member_id}/tier"): rule(
            "a member's tier and what the next needs", "member_id", member=OWN, admin=ALL
        ),
        ("POST", "/members/{member_id}/redemptions"): rule(
            "redeem points or credit", "member_id", member=OWN, admin=ALL
        ),
        ("POST", "/admin/reward-programs"): rule("publish a reward program version", admin=ALL),
        ("GET", "/admin/reward-programs"): rule("reward program versions", **FIN),
        ("GET", "/admin/members/refusals"): rule("refused invites and cancelled rewards, with reasons", admin=ALL),
        ("GET", "/admin/members/outbox"): rule("member notifications due", admin=ALL),
        # ---- the web portal (static pages; the data behind them is guarded by the rows above) -------
        ("GET", "/"): rule("redirect to the portal", **EVERYONE),
        ("GET", "/app"): rule("the portal", **EVERYONE),
        ("GET", "/app/assets/{name}"): rule("the portal's scripts and styles", **EVERYONE),
        ("GET", "/app/assets/{folder}/{name}"): rule("the portal's scripts and styles", **EVERYONE),
        ("GET", "/app/assets/{folder}/{sub}/{name}"): rule("the portal's scripts and styles", **EVERYONE),
    }
)


PREFLIGHT = Rule(MappingProxyType({r: ALL for r in ROLES}), None, "CORS preflight")


def rule_for(method: str, path: str) -> Rule | None:
    """A route's row; OPTIONS (the CORS preflight, answered with no data) is public on every route."""
    if method.upper() == "OPTIONS":
        return PREFLIGHT if any(p == path for _, p in MATRIX) else None
    return MATRIX.get((method.upper(), path))


def admit(rule_: Rule | None, role: str | None) -> Rule:
    """Refuse before the handler runs: 401 with no identity, 403 for a role the row does not allow.
    `role` is None for a caller with neither a token nor a signature. Returns the admitting row."""
    if rule_ is None:
        raise Forbidden("this route is not in the authorization matrix", code="route_not_authorized")
    if rule_.public:
        return rule_
    if role is None:
        if rule_.signed:
            raise Unauthorized("missing or malformed signature headers", code="bad_signature")
        raise Unauthorized("a bearer token is required")
    if role not in rule_.allowed:
        raise Forbidden(f"the {role} role may not call this", code="forbidden_role")
    return rule_


def admit_owner(rule_: Rule, role: str, own_id: str | None, path_params: Mapping[str, str]) -> None:
    """Refuse a caller limited to its own records that names another's (or names none)."""
    if rule_.owner and rule_.allowed.get(role) == OWN and own_id != path_params.get(rule_.owner):
        raise Forbidden("you can only see your own records")


def admit_standing(rule_: Rule, role: str, status: str | None) -> None:
    """Refuse a partner's or member's token whose own account (`status` as stored; None: there is no
    such account) may not take this kind of action. Other roles have no account to check."""
    if role not in STANDING:
        return
    if status is None:
        raise Forbidden(f"this token names no enrolled {role}", code="unknown_account")
    may = STANDING[role].get(status, frozenset())
    if rule_.kind not in may:
        hint = "; it may still read its statements and payouts" if may == {ACCOUNT} else ""
        raise Forbidden(f"a {status} {role} may not do this{hint}", code="account_status")


# The portal's pages, each with the route that decides who sees it and the scope the caller must
# have on it: a page about the caller's own account (OWN) or a staff page (ALL). `/me` answers the
# caller's pages from here, so the portal shows exactly what the matrix lets the caller use.
PAGES: Mapping[str, tuple[tuple[str, str], str]] = MappingProxyType(
    {
        "partner": (("POST", "/links"), OWN),
        "member": (("GET", "/members/{member_id}"), OWN),
        "admin": (("POST", "/admin/plans"), ALL),
        "finance": (("POST", "/settlements/run"), ALL),
        "analytics": (("GET", "/admin/analytics/{kpi}"), ALL),
        "compliance": (("GET", "/admin/compliance/report"), ALL),
    }
)


def pages_for(role: str) -> list[str]:
    """The portal pages a role may use, the first being its home page."""
    return [page for page, (key, scope) in PAGES.items() if MATRIX[key].allowed.get(role) == scope]
